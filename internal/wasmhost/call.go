package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// Outcome is what one call of a plugin produced (hostapi.Outcome). The
// host does not check the reply: that is the caller's job, as for a
// script's reply; nor does it route the logs.
type Outcome = hostapi.Outcome

// Call runs the plugin on ev with an instance from the pool, within the
// plugin's timeout (or ctx's deadline, if earlier), which starts now:
// waiting for a CPU slot or an instance counts.
//
//	out, err := p.Call(ctx, ev)
//	if err != nil { … } // the plugin failed: retried in strict mode
//	switch out.Status { … }
//
// A nil error means the guest returned a status; the Outcome says which.
// An error means the call failed: the guest trapped ([ErrTrap],
// [ErrMemoryLimit]), ran past its deadline ([ErrDeadline]), was canceled
// ([ErrCanceled]), tried to set an oversize reply ([ErrReplyTooLarge]), no
// CPU slot or instance was free before its deadline ([ErrBusy], with
// [ErrDeadline]), the plugin is backed off after running past its
// deadline again and again ([ErrBackedOff]), the event is too large
// ([ErrEventTooLarge]) or the plugin is closed ([ErrClosed]). The Outcome
// still holds the logs and host calls made until then. An instance that
// failed is closed and replaced in the background, never reused.
//
// # Notes
//
//   - Safe for concurrent use; at most Limits.Concurrency calls run guest
//     code at once, the others wait, within their deadline (fair.go).
//   - ev is only read, and only until Call returns.
func (p *Plugin) Call(ctx context.Context, ev *hook.Event) (Outcome, error) {
	return p.call(ctx, ev, nil)
}

// CallStats measure one call beyond its [Outcome]: what a dry run shows
// a domain owner about their candidate plugin.
type CallStats struct {
	// Memory is the size of the instance's linear memory when the guest
	// returned (or failed), in bytes: what the call made it grow to.
	Memory int64
}

// CallMeasured is [Plugin.Call], measuring the call too (CallStats).
// Measuring costs a little, so the event path uses Call.
func (p *Plugin) CallMeasured(ctx context.Context, ev *hook.Event) (Outcome, CallStats, error) {
	var st CallStats
	out, err := p.call(ctx, ev, &st)
	return out, st, err
}

func (p *Plugin) call(ctx context.Context, ev *hook.Event, st *CallStats) (Outcome, error) {
	if _, err := p.callable(ctx, eventSize(ev), "event"); err != nil {
		return Outcome{}, err
	}
	return p.invoke(ctx, ev, exportEvent, st)
}

// export names the guest function a call runs.
type export uint8

const (
	exportEvent  export = iota // hookd_v1_handle (hostapi.EntryPoint), whose reply counts
	exportSignup               // hookd_v1_on_signup (signup.go), whose reply is ignored
)

// callable refuses a call before it starts: ctx is done, the input (an
// event's or a sign-up's fields, size bytes) is too large, or the plugin
// is closed. It returns the current version, not held.
func (p *Plugin) callable(ctx context.Context, size int, what string) (*version, error) {
	if err := ctx.Err(); err != nil {
		return nil, newError("plugin not called: "+context.Cause(ctx).Error(), ErrCanceled, err)
	}
	if size > hostapi.MaxEvent {
		return nil, newError(fmt.Sprintf("%s too large for a plugin: %d bytes, limit %d", what, size, hostapi.MaxEvent),
			ErrEventTooLarge, hook.ErrInvalidEvent)
	}
	v := p.cur.Load()
	if v == nil {
		return nil, newError("plugin "+p.path+" is closed", ErrClosed)
	}
	return v, nil
}

// invoke runs fn of the plugin on ev, as every call runs: within the
// plugin's timeout (or ctx's deadline, if earlier), which starts now,
// after waiting for a CPU slot (the breaker is told how the call ended)
// and an instance of the current version.
func (p *Plugin) invoke(ctx context.Context, ev *hook.Event, fn export, st *CallStats) (Outcome, error) {
	begin := time.Now()
	cctx, release := p.withDeadline(ctx, begin)
	defer release()
	deadline, _ := cctx.Deadline()
	t, err := p.gate.admit(cctx, time.Until(deadline).Round(time.Millisecond))
	if err != nil {
		return Outcome{}, err
	}
	ran := neutral
	defer func() { t.done(ran) }()
	v, inst, err := p.take(cctx)
	if err != nil {
		return Outcome{}, err
	}
	defer v.release()
	var out Outcome
	if fn == exportSignup {
		out, ran, err = v.runSignup(ctx, cctx, inst, ev, begin, st)
	} else {
		out, ran, err = v.run(ctx, cctx, inst, inst.entry, true, ev, begin, st)
	}
	return out, err
}

// withDeadline returns ctx with the call's deadline, the plugin's timeout
// after begin (or ctx's, if earlier), enforced by the engine's watchdog
// (deadline.go); release it when the call is over.
func (p *Plugin) withDeadline(ctx context.Context, begin time.Time) (context.Context, context.CancelFunc) {
	if p.e.timerDeadlines {
		return context.WithDeadline(ctx, begin.Add(p.lim.Timeout))
	}
	return p.e.deadlines.withDeadline(ctx, begin.Add(p.lim.Timeout))
}

// eventSize is the size of the event's names and values, as hook.NewEvent
// bounds it.
func eventSize(ev *hook.Event) int {
	if ev == nil {
		return 0
	}
	return hook.EventSize(ev.Fields)
}

// take returns the current version, with a reference held, and a free
// instance of it. Waiting for an instance ends with ctx, or moves to the new
// version when a reload retires this one.
func (p *Plugin) take(ctx context.Context) (*version, *instance, error) {
	for {
		v := p.cur.Load()
		if v == nil {
			return nil, nil, newError("plugin "+p.path+" is closed", ErrClosed)
		}
		if !v.acquire() {
			continue // retired between Load and acquire: the new one is in cur
		}
		select {
		case inst := <-v.pool:
			return v, inst, nil
		default:
		}
		select {
		case inst := <-v.pool:
			return v, inst, nil
		case <-v.done:
			v.release()
		case <-ctx.Done():
			v.release()
			errs := []error{ErrBusy, ctx.Err()}
			if ctx.Err() == context.DeadlineExceeded {
				errs = append(errs, ErrDeadline)
			}
			return nil, nil, newError(fmt.Sprintf("plugin busy: no instance of %d free before the call's end (%v)",
				p.lim.Instances, context.Cause(ctx)), errs...)
		}
	}
}

// run calls fn, a function exported by inst (its entry point, or
// another export), under cctx (ctx with the call's deadline, set when the
// call began) and puts inst back, or discards it. The guest's reply is
// read only when reply is set (an event call's; a sign-up ignores it). It
// reports whether the guest ran out its deadline, for the breaker, and
// fills st, when not nil.
func (v *version) run(ctx, cctx context.Context, inst *instance, fn api.Function, reply bool, ev *hook.Event, begin time.Time, st *CallStats) (Outcome, outcome, error) {
	lim := v.p.lim
	deadline, _ := cctx.Deadline()
	if !inst.mem.enter() {
		v.discard(inst)
		return Outcome{}, neutral, newError("plugin stopped: its instance was closed", ErrClosed)
	}
	call := hostfn.NewCall(ev, deadline, lim.MaxReply, v.p.grants)
	inst.setCall(call)

	start := time.Now()
	err := fn.CallWithStack(hostfn.WithCall(cctx, call), inst.stack)
	d := time.Since(start)

	inst.setCall(nil)
	out := Outcome{Logs: call.Logs(), HostCalls: call.HostCalls(), Duration: d}
	ran := ended
	if err == nil {
		out.Status = api.DecodeI32(inst.stack[0])
		out.Error = call.ErrorMessage()
		if reply {
			out.Reply, _ = call.Reply()
			if n := call.ReplyRefused(); n > 0 {
				out.Reply = nil
				err = newError(fmt.Sprintf("plugin reply too large: it tried to set %d bytes, limit %d", n, lim.MaxReply), ErrReplyTooLarge)
			}
		}
	} else {
		err = v.callError(ctx, inst, err, begin, deadline)
	}
	if cerr := cctx.Err(); cerr != nil && (err == nil || errors.Is(err, ErrReplyTooLarge)) {
		// The deadline (or a cancellation) came before the guest's return
		// was seen: it did not finish in time, and wazero's watcher may
		// close its module any moment now, so the instance is not reused.
		code := uint32(sys.ExitCodeContextCanceled)
		if errors.Is(cerr, context.DeadlineExceeded) {
			code = sys.ExitCodeDeadlineExceeded
		}
		err = v.exitError(ctx, code, begin, deadline)
	}
	switch {
	case errors.Is(err, ErrDeadline):
		ran = ranOut
	case errors.Is(err, ErrCanceled):
		ran = neutral
	}
	if st != nil {
		if m := inst.mod.Memory(); m != nil {
			st.Memory = int64(m.Size()) // still ours: the memory is freed after exit at the earliest
		}
	}
	inst.mem.exit()
	if err != nil {
		v.discard(inst)
		return out, ran, err
	}
	v.pool <- inst
	return out, ran, nil
}

// exitError is the error of a call that ended with a wazero exit code:
// its deadline, a cancellation, or the guest's proc_exit.
func (v *version) exitError(ctx context.Context, code uint32, start, deadline time.Time) error {
	switch code {
	case sys.ExitCodeDeadlineExceeded:
		over := time.Since(deadline).Round(100 * time.Microsecond)
		if pd, ok := ctx.Deadline(); ok && !pd.After(deadline) {
			return newError(fmt.Sprintf("plugin exceeded the call's deadline of %s (stopped %s after it)",
				deadline.Sub(start).Round(time.Millisecond), over), ErrDeadline, context.DeadlineExceeded)
		}
		return newError(fmt.Sprintf("plugin exceeded its %s deadline (stopped %s after it)", v.p.lim.Timeout, over),
			ErrDeadline, context.DeadlineExceeded)
	case sys.ExitCodeContextCanceled:
		return newError("plugin call canceled: "+context.Cause(ctx).Error(), ErrCanceled, context.Canceled)
	default:
		return newError(fmt.Sprintf("plugin trapped: it exited with code %d (proc_exit)", code), ErrTrap, sys.NewExitError(code))
	}
}

// callError turns what the entry point's call returned into our error.
func (v *version) callError(ctx context.Context, inst *instance, err error, begin, deadline time.Time) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return v.exitError(ctx, exit.ExitCode(), begin, deadline)
	}
	text := trapText(err)
	if mem := inst.mod.Memory(); mem != nil {
		// wazero does not report a failed memory.grow, so a trap with the
		// memory within an allocator's growth step of the limit is taken
		// for a guest that ran out of memory.
		pages, limit := mem.Size()>>16, v.p.lim.MemoryPages
		if pages+max(limit/8, 16) > limit {
			return newError(fmt.Sprintf("plugin trapped near its memory limit (%d of %d pages in use): %s", pages, limit, text),
				ErrMemoryLimit, ErrTrap, err)
		}
	}
	if inst.mod.IsClosed() {
		return newError("plugin stopped: "+text, ErrTrap, err)
	}
	return newError("plugin trapped: "+text, ErrTrap, err)
}

// trapText shortens wazero's trap text to one line: the cause and the
// innermost function of the wasm stack trace.
func trapText(err error) string {
	lines := strings.Split(err.Error(), "\n")
	text := strings.TrimSpace(lines[0])
	for i, l := range lines {
		if strings.TrimSpace(l) == "wasm stack trace:" && i+1 < len(lines) {
			text += " (in " + strings.TrimSpace(lines[i+1]) + ")"
			break
		}
	}
	return text
}
