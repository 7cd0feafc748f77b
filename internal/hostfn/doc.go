// Package hostfn is the host side of hookd's plugin ABI (hostapi, ABI.md):
// the Go functions behind the hostapi.ModuleName imports, the per-call
// state they read and record ([Call]), and the capabilities a plugin is
// granted ([Grants]: its config, JWT signing by key name, allow-listed
// outbound HTTP, durable state).
//
// It is modelled on wazero's imports/wasi_snapshot_preview1: call
// [Instantiate] once per wazero.Runtime, before instantiating plugins.
//
//	r := wazero.NewRuntime(ctx)
//	defer r.Close(ctx)
//	wasi_snapshot_preview1.MustInstantiate(ctx, r)
//	if _, err := hostfn.Instantiate(ctx, r); err != nil {
//		return err
//	}
//	mod, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(""))
//	…
//	call := hostfn.NewCall(ev, deadline, hostapi.DefaultMaxReply, grants)
//	status, err := mod.ExportedFunction(hostapi.EntryPoint).Call(hostfn.WithCall(ctx, call))
//	reply, _ := call.Reply()
//
// # Per-call state
//
// Host functions find the state of the call they serve (the event, the
// deadline, the reply the guest sets, its logs, the plugin's [Grants])
// through their context: [WithCall] puts a [*Call] there and [CallFrom] gets
// it back. A host function called without one (from a start function, or by
// a host that forgot) returns hostapi.ErrBadArgument; it never panics.
//
// # Guest memory
//
// Every pointer and length the guest passes is checked against the guest's
// memory before use, through api.Memory's bounds-checked Read and Write;
// data is copied in and copied out, never retained. A pointer or length
// outside memory, or a negative length, is hostapi.ErrMemory. The host never
// allocates in guest memory: readers return the length of their data and
// write it only into a buffer the guest made big enough (see ABI.md,
// "Reading variable-length data").
//
// # Capabilities
//
// log, the clocks, the event, the reply, the error message and the plugin's
// config are always available. jwt_sign needs [Grants.Sign] and the key in
// [Grants.Keys]; http_request needs [Grants.HTTP]; state_get, state_set,
// state_incr and state_delete need [Grants.State]. Without them the call
// returns hostapi.ErrDenied: the import itself always resolves, so one
// binary runs under any configuration.
//
// # Plugin state
//
// A [State] binds a plugin to a hook.StateStore (the runtime's store, or
// one in memory for `hookd plugin run`), to its domain's namespace and to
// its limits. The host functions check the key (1 to 256 bytes of
// printable ASCII), the TTL and the value's size before the store is
// called, and map the store's errors to statuses: hook.ErrNotFound to
// ErrNotFound, ErrStateTooLarge to ErrTooLarge, ErrStateFull to ErrLimit,
// ErrStateNotInteger to ErrBadArgument, a passed deadline to ErrTimeout,
// anything else to ErrFailed, each with a host log line saying why.
package hostfn
