// A plugin that uses what AssemblyScript takes from a JavaScript host
// (Date.now): hookd must refuse to load it, naming the import.
import * as pdk from "@hookrt/pdk-as";
export { hookd_v1_on_event, hookd_v1_init } from "@hookrt/pdk-as";

pdk.handle((ev: pdk.Event): pdk.Reply => pdk.xml(Date.now().toString()));
