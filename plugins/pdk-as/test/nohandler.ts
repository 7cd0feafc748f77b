// A plugin that forgets pdk.handle: hookd must refuse to load it, saying why.
export { hookd_v1_on_event, hookd_v1_init } from "@hookrt/pdk-as";
