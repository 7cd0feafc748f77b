// The smallest plugin: it answers <nomessage/> to every event. For the
// benchmarks (module size, instantiate, call) beside the Go SDK's
// nopguest.
import * as pdk from "@hookrt/pdk-as";
export { hookd_v1_on_event, hookd_v1_init } from "@hookrt/pdk-as";

const handler: pdk.Handler = (ev: pdk.Event): pdk.Reply => pdk.noMessage();
pdk.handle(handler);
