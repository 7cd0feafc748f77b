// Package wasmhost runs hookd's WebAssembly plugins: it compiles a plugin
// once, keeps a pool of warm instances, calls one per event under a
// deadline and a memory limit, throws away any instance that failed, and
// swaps in a new version of the binary without stopping.
//
//	e, err := wasmhost.NewEngine(ctx, wasmhost.Options{CacheDir: dir, Logger: logger})
//	defer e.Close(ctx)
//	p, err := e.Load(ctx, "/etc/hookd/plugins/acme.wasm", wasmhost.Limits{}, grants)
//	out, err := p.Call(ctx, ev) // out.Status, out.Reply, out.Error, out.Logs
//
// The contract with the guest is hostapi/ABI.md; this package is the host
// side of it, on wazero.
//
// # One runtime per plugin
//
// wazero's memory limit is a property of the runtime, so each plugin version
// gets its own wazero.Runtime (with the WASI and hookd_v1 host modules),
// while the compiled code is shared through the Engine's compilation cache
// (in memory, and on disk when [Options.CacheDir] is set). Compiling happens
// in [Engine.Load] and [Plugin.Reload], never on the event path.
//
// # Deadlines
//
// Runtimes are made with WithCloseOnContextDone: a guest that loops is
// stopped within a few milliseconds of its deadline, and its instance is
// closed by wazero. Without it a looping guest runs on forever and stalls the
// Go garbage collector of the whole process.
//
// # Instances are discarded after any failure
//
// A trap does not close a wazero instance: the next call would run on
// whatever state the failed one left (a Go guest's runtime after a fatal
// error, a half-updated allocator). [Plugin.Call] therefore puts an instance
// back into the pool only after a clean return; after a trap, a deadline, an
// oversize reply or any other error it closes the instance and builds a
// replacement in the background.
//
// # Concurrency
//
// A wazero instance must not run two calls at once. The pool hands each
// call an instance of its own; calls beyond [Limits.Instances] wait for one,
// bounded by their ctx. An [Engine] and its [Plugin]s are safe for
// concurrent use.
//
// # Costs
//
// Measured on a 2-core x86-64 with wazero v1.12.0 (BenchmarkCall and
// friends; re-measure on deployment hardware): a call of a minimal guest on
// a warm instance about 2 µs with the deadline enforced, a guest that reads
// and logs a 300-byte event about 8 µs; starting a small instance 25–70 µs
// and 80–280 KiB of heap (mostly its linear memory); a looping guest is
// stopped about 0.5 ms (p50) after its deadline.
//
// wazero watches each call's ctx from a goroutine of its own. The
// goroutine ends with the call, but must be scheduled once to do so: callers
// that spin on Call without ever blocking (a benchmark, not a delivery
// worker waiting on its database) can pile up thousands of them, and the Go
// runtime keeps the memory of its goroutine records afterwards.
package wasmhost
