// Package wasmscript runs a domain's events script as a WebAssembly plugin:
// a [[domain]] whose script is a .wasm file is run in-process by wazero,
// through the hookd_v1 ABI (hostapi/ABI.md), instead of being POSTed to a
// URL. Its answer means what a script's reply means: <nomessage/> (or no
// reply), an XMLMSG document whose commands go to the command sink, or a
// failure, retried in strict mode and dead-lettered when the plugin says it
// failed for good.
//
// # Configuration
//
//	[plugins]
//	cache_dir = "data/wasm-cache"    # compiled plugins kept across restarts
//	reload_interval = "2s"           # 0 = off; SIGHUP reloads too
//
//	[[domain]]
//	id = "5"
//	script = "plugins/session-guard.wasm"
//	strict = true
//	[domain.plugin]                  # limits and capabilities: [Settings]
//	memory_pages = 256
//	timeout = "250ms"
//	keys = ["relay.pem"]             # jwt_sign by key name
//	state = true                     # state_get/set/incr/delete, kept in the store
//	http_allow = ["https://api.example.com"]
//	[domain.config]                  # the plugin's own config (config_read)
//	block = ["10.0.0.0/8"]
//
// The [[domain]] list belongs to http_events, which asks a [Host] to load
// each .wasm script ([Host.Load]) and uses the returned [Script] as the
// domain's handler. `hookd plugin check` and `hookd plugin run` load a
// plugin through the same [Host.Load], with the same settings, so that
// they judge a module exactly as `hookd serve` does.
//
// A domain's plugin may also be stored (issue 17: uploaded through the
// API, one version active): http_events builds it with the same
// [Host.Load], from [Spec] Module, the bytes, which the host writes once
// to <cache dir>/modules/<sha256>.wasm and loads as a file. Whatever its
// source, a plugin is assembled here, judged by the same checks.
//
// [Host.DryRun] runs a candidate (an upload, a version not active) on
// events without delivering or storing anything: HTTP answered by stubs,
// state in memory, each answer judged as a delivery's would be. The last
// lines each domain's plugin logged are kept per domain ([Host.Logs]).
//
// # Execution
//
// Compiled once per binary (SHA-256 keyed, wazero's on-disk compilation
// cache), never on the event path; a warm pool of instances per plugin; an
// instance that traps, overruns its deadline, hits its memory limit or
// breaks a limit is closed and replaced, never reused. A changed file is
// compiled and warmed off to the side and swapped in atomically
// ([Host.Watch], [Host.Reload]); a broken new version is refused and the
// old one keeps serving.
package wasmscript
