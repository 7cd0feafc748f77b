// Package pdk is the Go SDK for hookd plugins: WebAssembly modules that
// answer a domain's HTTP events in-process, in place of its script. It
// implements the hookd_v1 ABI (hostapi/ABI.md) completely; a plugin never
// sees a pointer, a status code or a buffer size.
//
// A plugin is a package main that registers a handler from an init
// function:
//
//	package main
//
//	import "github.com/hookrt/hookd/plugins/pdk"
//
//	func init() {
//		pdk.Handle(func(ev *pdk.Event) pdk.Reply {
//			if ev.Name() == "NEWSESSION" && ev.Get("reasonAddress") == "192.0.2.7" {
//				return pdk.Drop(ev.Get("SESSIONID"))
//			}
//			return pdk.NoMessage()
//		})
//	}
//
//	func main() {}
//
// built as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o guard.wasm ./guard
//
// and named as a domain's script in hookd's config.toml, with its
// capabilities in [domain.plugin] and its own settings in [domain.config]:
//
//	[[domain]]
//	id = "1"
//	script = "plugins/guard.wasm"
//
//	[domain.plugin]
//	memory_pages = 256   # Go plugins need at least 64; 256 (16 MiB) is the default
//	keys = ["relay.pem"] # for SignJWT
//	http_allow = ["https://api.example.com"] # for Fetch
//
//	[domain.config]
//	block = ["10.0.0.0/8"] # read with pdk.Config
//
// `hookd plugin check guard.wasm -config config.toml` loads a binary as
// `hookd serve` would (the ABI, its memory, its init, its grants);
// `hookd plugin run guard.wasm -event ev.json -config config.toml` runs
// one event through it.
//
// # What a handler gets
//
//   - [Event]: the event's fields, one at a time ([Event.Get]) or all
//     ([Event.Fields]).
//   - [Config]: the plugin's own config, decoded like JSON into a struct.
//   - [Log], [Logf]: lines recorded with the call.
//   - [Now], [Deadline]: the host's clock and the time left in the call
//     (250 ms by default).
//   - [SignJWT]: a token signed with a key the host holds.
//   - [Fetch]: outbound HTTP to the origins the plugin is allowed.
//
// # What a handler answers
//
// A [Reply]: [NoMessage] (nothing to do), XMLMSG commands for the proxy
// ([Drop], [MessageBox], [Chat], combined with [Commands]), a document of
// its own ([XML]), or a failure: [Fail] (hookd retries the delivery) or
// [FailPermanently] (it dead-letters it). A panic is a [Fail].
//
// # Sign-ups
//
// A plugin may also decide, while the user waits, whether a sign-up to
// its domain is allowed: [HandleSignup] registers a handler given the
// [Signup] (user name, e-mail, full name, language; never the password)
// that answers [Allow], [Refuse] with a reason the user is shown,
// [Abstain] (hookd's External WebAPI decides) or [CannotDecide] (hookd
// refuses, fail closed). hookd asks it when [webapi] signup is on and
// signup_plugin is "before" (the default) or "instead" (see
// plugins/examples/signup-guard).
//
// # Instances and state
//
// hookd keeps a few warm instances of a plugin (4 by default) and calls
// each on one goroutine, one event at a time. Package variables live as
// long as the instance: good for a parsed config, not for anything that
// must be shared between events, since each instance has its own and
// hookd replaces an instance whenever a call fails at the wasm level (a
// trap, a deadline overrun, a fatal Go error). A recovered panic does not
// replace it. State shared between events, instances and nodes (a counter,
// a dedupe window) goes through [GetState], [SetState], [IncrState] and
// [DeleteState], kept by hookd in its store when the domain's config says
// state = true (see plugins/examples/rate-limit).
//
// # Size and speed
//
// A Go reactor is about 1.9 MB before it does anything; a plugin that only
// answers NoMessage is 2.3 MB, the examples 3.0–3.1 MB. The package
// avoids encoding/json, whose import alone would add about 0.3 MB and
// whose use about 1 MB more: [Config], [SignJWT] and [Fetch] use a small
// JSON codec of its own. fmt (for [Logf]) and time are linked.
//
// hookd stops a runaway guest by checking for its deadline on every
// branch back in the code, which Go's WebAssembly output takes often: a
// loop iteration costs about 30 ns, an allocation about 1 µs. A call
// that answers NoMessage takes about 2 µs on a warm instance, one that
// reads two fields with [Event.Get] about 6 µs, one that decodes the whole
// event with [Event.Fields] about 60 µs, and decoding a small config with
// [Config] about 65 µs: decode it once per instance, not per event.
//
// # Other platforms
//
// The package compiles on every platform, for documentation, editors and
// go vet, but it does something only in a wasip1 plugin running in hookd:
// elsewhere, every host function fails as if no call were running.
package pdk
