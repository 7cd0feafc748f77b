package wasmhost

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// version is one binary of a plugin: its runtime, compiled module and pool
// of warm instances. A Reload makes a new version and retires the old one.
type version struct {
	p        *Plugin
	sha      string
	entry    *cacheEntry // its compilation cache, released at shutdown
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	pool     chan *instance

	// refs counts the calls holding the version; once retired and at zero,
	// drained is closed and the version can be shut down.
	refs      atomic.Int64
	retired   atomic.Bool
	done      chan struct{} // closed on retire
	drained   chan struct{}
	retireOne sync.Once
	drainOne  sync.Once

	// ctx bounds the instantiation of replacements; canceled on retire.
	ctx    context.Context
	cancel context.CancelFunc
	fill   sync.WaitGroup // replacement goroutines
}

// instance is one warm wazero instance of a version.
type instance struct {
	mod    api.Module
	entry  api.Function // cached: looking it up per call costs ~9 µs
	stack  []uint64
	stdout *logWriter
	stderr *logWriter
	mem    *instanceMemory // its linear memory (memory.go)
}

// newVersion compiles wasm in a runtime of its own, checks it and starts
// its instances.
func (p *Plugin) newVersion(ctx context.Context, wasm []byte, sha string) (*version, error) {
	entry, err := p.e.acquireCache(sha)
	if err != nil {
		return nil, newError(err.Error(), ErrRefused, err)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, p.e.runtimeConfig(p.lim.MemoryPages, entry.cache))
	v := &version{
		p:       p,
		sha:     sha,
		entry:   entry,
		rt:      rt,
		pool:    make(chan *instance, p.lim.Instances),
		done:    make(chan struct{}),
		drained: make(chan struct{}),
	}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	fail := func(err error) (*version, error) {
		v.cancel()
		_ = rt.Close(context.WithoutCancel(ctx))
		if v.compiled != nil {
			_ = v.compiled.Close(context.WithoutCancel(ctx))
		}
		p.e.releaseCache(entry)
		return nil, err
	}
	if err := instantiateHostModules(ctx, rt); err != nil {
		return fail(err)
	}
	compiled, err := p.e.compile(ctx, rt, wasm, sha)
	if err != nil {
		return fail(newError("plugin does not compile: "+err.Error(), ErrRefused, err))
	}
	v.compiled = compiled
	if err := checkABI(compiled); err != nil {
		return fail(err)
	}
	v.modCfg = wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(hostapi.ReactorInit).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	for range p.lim.Instances {
		inst, err := v.newInstance(ctx)
		if err != nil {
			for len(v.pool) > 0 {
				(<-v.pool).close()
			}
			return fail(err)
		}
		v.pool <- inst
	}
	p.e.used(entry, p.path)
	return v, nil
}

// newInstance instantiates the plugin (running _initialize) and calls its
// hookd_v1_init, within initTimeout. Host functions called meanwhile see an
// empty event; their log lines go to the engine's logger.
func (v *version) newInstance(ctx context.Context) (*instance, error) {
	ctx, cancel := context.WithTimeout(ctx, initTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	call := hostfn.NewCall(nil, deadline, v.p.lim.MaxReply, v.p.grants)
	inst := &instance{
		stack:  make([]uint64, 1),
		stdout: &logWriter{source: "stdout", level: hostapi.LevelInfo},
		stderr: &logWriter{source: "stderr", level: hostapi.LevelWarn},
	}
	inst.setCall(call)
	defer v.logInit(ctx, call)
	defer inst.setCall(nil)

	cctx := hostfn.WithCall(ctx, call)
	mctx, mem := withMemory(cctx, v.p.e.heapMemory)
	inst.mem = mem
	defer mem.exit() // the instantiation's use of the memory ends here
	mod, err := v.rt.InstantiateModule(mctx, v.compiled, v.modCfg.WithStdout(inst.stdout).WithStderr(inst.stderr))
	if err != nil {
		return nil, newError("plugin does not start: "+err.Error(), ErrRefused, err)
	}
	inst.mod = mod
	inst.entry = mod.ExportedFunction(hostapi.EntryPoint)
	if init := mod.ExportedFunction(hostapi.InitExport); init != nil {
		if err := init.CallWithStack(cctx, inst.stack); err != nil {
			inst.close()
			return nil, newError("plugin does not start: "+hostapi.InitExport+": "+err.Error(), ErrRefused, err)
		}
		if st := api.DecodeI32(inst.stack[0]); st != 0 {
			inst.close()
			msg := fmt.Sprintf("plugin refused to start: %s returned %d", hostapi.InitExport, st)
			if m := call.ErrorMessage(); m != "" {
				msg += ": " + m
			}
			return nil, newError(msg, ErrRefused)
		}
	}
	return inst, nil
}

// logInit passes the log lines of an instance's start to the logger.
func (v *version) logInit(ctx context.Context, call *hostfn.Call) {
	for _, l := range call.Logs() {
		v.p.logger.Log(ctx, hostfn.SlogLevel(l.Level), "plugin log", "source", l.Source, "text", l.Text, "during", "start")
	}
}

// acquire takes a reference on v for one call; false if v is retired.
func (v *version) acquire() bool {
	v.refs.Add(1)
	if v.retired.Load() {
		v.release()
		return false
	}
	return true
}

// release drops a reference; the last one of a retired version drains it.
func (v *version) release() {
	if v.refs.Add(-1) == 0 && v.retired.Load() {
		v.drainOne.Do(func() { close(v.drained) })
	}
}

// retire stops v from taking new calls and new instances.
func (v *version) retire() {
	v.retireOne.Do(func() {
		v.retired.Store(true)
		close(v.done)
		v.cancel()
		if v.refs.Load() == 0 {
			v.drainOne.Do(func() { close(v.drained) })
		}
	})
}

// shutdown retires v, waits for its calls to finish (once ctx is done or
// stop is closed, it closes the runtime under them instead), waits for
// replacements in progress, and closes everything.
func (v *version) shutdown(ctx context.Context, stop <-chan struct{}) {
	v.retire()
	select {
	case <-v.drained:
	case <-ctx.Done():
		_ = v.rt.Close(context.Background())
		<-v.drained
	case <-stop:
		_ = v.rt.Close(context.Background())
		<-v.drained
	}
	v.fill.Wait()
	for len(v.pool) > 0 {
		(<-v.pool).close()
	}
	_ = v.rt.Close(context.Background())
	_ = v.compiled.Close(context.Background()) // frees its code, unless another version shares it
	v.p.e.releaseCache(v.entry)
}

// discard closes a failed instance and starts building its replacement.
// The caller holds a reference on v.
func (v *version) discard(inst *instance) {
	inst.close()
	if v.retired.Load() {
		return
	}
	v.fill.Add(1)
	go v.refill()
}

// refill builds one instance for the pool, retrying with backoff until it
// succeeds or v is retired.
func (v *version) refill() {
	defer v.fill.Done()
	backoff := 10 * time.Millisecond
	for {
		inst, err := v.newInstance(v.ctx)
		if err == nil {
			if v.retired.Load() {
				inst.close()
				return
			}
			v.pool <- inst // never blocks: at most lim.Instances exist
			return
		}
		if v.ctx.Err() != nil {
			return
		}
		v.p.logger.Error("plugin instance not replaced; retrying", "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-v.done:
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// setCall points the instance's stdout and stderr at call (nil: none),
// first flushing any partial line into the previous call.
func (i *instance) setCall(c *hostfn.Call) {
	i.stdout.setCall(c)
	i.stderr.setCall(c)
}

func (i *instance) close() {
	if i.mod != nil {
		_ = i.mod.Close(context.Background())
	}
}
