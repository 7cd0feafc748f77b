package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
	"weak"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Sign-up decisions (issue 17): a plugin may export hookd_v1_on_signup
// (hostapi.SignupExport) to decide, while the user waits, whether a
// sign-up to its domain is allowed. The call is an event call in every
// respect (CPU slots, the breaker, the deadline, discarding an instance
// that failed) but for the export it runs and the "event" it reads: the
// sign-up's fields.

// ErrSignupType: the plugin's hookd_v1_on_signup does not have the type
// () -> i32; also wraps ErrABI.
var ErrSignupType = errors.New("plugin's " + hostapi.SignupExport + " has the wrong type")

// HasSignup reports whether the running version of the plugin exports
// hookd_v1_on_signup: whether it takes part in sign-up decisions.
func (p *Plugin) HasSignup() bool {
	v := p.cur.Load()
	return v != nil && v.hasSignup()
}

// What a sign-up call looks up is cached per version and per instance:
// listing a module's exports builds a map, and looking a function up on
// an instance makes a new call engine (about 12 KB and 20 µs), which an
// event call avoids by caching its entry point in the instance. The
// caches are keyed weakly, so that an entry goes with its version or
// instance. (A field of version and of instance would do as well; see
// /work/notes/D.md.)
var (
	versionSignup  sync.Map // weak.Pointer[version] → bool
	instanceSignup sync.Map // weak.Pointer[instance] → api.Function (nil: no export)
)

// cached returns m's value for key k, computing it once with fn; the
// entry is deleted once k's object is collected.
func cached[T any, V any](m *sync.Map, obj *T, fn func() V) V {
	k := weak.Make(obj)
	if v, ok := m.Load(k); ok {
		return v.(V)
	}
	v := fn()
	if _, loaded := m.LoadOrStore(k, v); !loaded {
		runtime.AddCleanup(obj, func(k weak.Pointer[T]) { m.Delete(k) }, k)
	}
	return v
}

// hasSignup reports whether v exports hookd_v1_on_signup.
func (v *version) hasSignup() bool {
	return cached(&versionSignup, v, func() bool { return signupExported(v.compiled) })
}

// signupFunc returns inst's hookd_v1_on_signup, or nil.
func (i *instance) signupFunc() api.Function {
	return cached(&instanceSignup, i, func() api.Function { return i.mod.ExportedFunction(hostapi.SignupExport) })
}

// signupExported reports whether m exports hookd_v1_on_signup, whatever
// its type.
func signupExported(m wazero.CompiledModule) bool {
	_, ok := m.ExportedFunctions()[hostapi.SignupExport]
	return ok
}

// SignupProblem says what is wrong with m's hookd_v1_on_signup, or ""
// when it has none or it has the type () -> i32. checkABI lists it among
// a plugin's problems, so a plugin with a wrong one is refused at load;
// a call of it would fail with [ErrSignupType].
func SignupProblem(m wazero.CompiledModule) string {
	f, ok := m.ExportedFunctions()[hostapi.SignupExport]
	if !ok || signupTyped(f.ParamTypes(), f.ResultTypes()) {
		return ""
	}
	return fmt.Sprintf("its %s has type %s; it must be () -> i32", hostapi.SignupExport, signature(f.ParamTypes(), f.ResultTypes()))
}

func signupTyped(params, results []api.ValueType) bool {
	return len(params) == 0 && slices.Equal(results, []api.ValueType{api.ValueTypeI32})
}

// Signup asks the plugin whether a sign-up with fields (the names of
// hostapi.SignupUsername…) is allowed: the plan's short form of
// [Plugin.CallSignup]. decided is false when the plugin has no
// hookd_v1_on_signup or abstained; reason is the plugin's error_set
// message when it refused. An error means the plugin could not decide:
// the caller refuses the sign-up (fail closed).
func (p *Plugin) Signup(ctx context.Context, fields map[string]string) (decided, allow bool, reason string, err error) {
	out, err := p.CallSignup(ctx, fields)
	if err != nil {
		return false, false, "", err
	}
	return SignupVerdict(out)
}

// SignupVerdict reads the outcome of a hookd_v1_on_signup call: allowed,
// refused with a reason, abstained (decided false), or any other status,
// which is an error (the plugin could not decide).
func SignupVerdict(out Outcome) (decided, allow bool, reason string, err error) {
	switch out.Status {
	case hostapi.SignupAllow:
		return true, true, "", nil
	case hostapi.SignupRefuse:
		return true, false, out.Error, nil
	case hostapi.SignupAbstain:
		return false, false, "", nil
	}
	msg := fmt.Sprintf("plugin's %s returned %d, which is none of 0 (allow), 1 (refuse), 2 (abstain)", hostapi.SignupExport, out.Status)
	if out.Error != "" {
		msg += ": " + out.Error
	}
	return false, false, "", newError(msg, ErrRefused)
}

// CallSignup runs the plugin's hookd_v1_on_signup on a sign-up's fields,
// with an instance from the pool, as [Plugin.Call] runs an event: within
// the plugin's timeout (or ctx's deadline, if earlier), which starts now,
// with the same errors. The event functions read fields (no EVENT_ID);
// a reply the guest sets is ignored.
//
// A plugin (version) without the export answers at once with
// hostapi.SignupAbstain and no error, without taking a CPU slot.
//
//	out, err := p.CallSignup(ctx, map[string]string{"username": "ann", "domain": "acme", "email": "ann@acme.example"})
func (p *Plugin) CallSignup(ctx context.Context, fields map[string]string) (Outcome, error) {
	v, err := p.callable(ctx, hook.EventSize(fields), "sign-up")
	if err != nil {
		return Outcome{}, err
	}
	if !v.hasSignup() {
		return Outcome{Status: hostapi.SignupAbstain}, nil
	}
	return p.invoke(ctx, &hook.Event{Fields: fields}, exportSignup, nil)
}

// CallSignupMeasured is [Plugin.CallSignup], measuring the call too
// (CallStats): what a dry run shows a domain owner about a candidate's
// sign-up decisions. Measuring costs a little, so the live sign-up path
// uses CallSignup. A plugin without the export abstains unmeasured (the
// stats are zero: no instance ran).
func (p *Plugin) CallSignupMeasured(ctx context.Context, fields map[string]string) (Outcome, CallStats, error) {
	var st CallStats
	v, err := p.callable(ctx, hook.EventSize(fields), "sign-up")
	if err != nil {
		return Outcome{}, st, err
	}
	if !v.hasSignup() {
		return Outcome{Status: hostapi.SignupAbstain}, st, nil
	}
	out, err := p.invoke(ctx, &hook.Event{Fields: fields}, exportSignup, &st)
	return out, st, err
}

// runSignup is [version.run] for hookd_v1_on_signup, once inst is known
// to export it with the type () -> i32; it fills st, when not nil.
func (v *version) runSignup(ctx, cctx context.Context, inst *instance, ev *hook.Event, begin time.Time, st *CallStats) (Outcome, outcome, error) {
	fn := inst.signupFunc()
	if fn == nil { // taken from a version without it: cannot be, as the export is the compiled module's
		v.pool <- inst
		return Outcome{Status: hostapi.SignupAbstain}, neutral, nil
	}
	if d := fn.Definition(); !signupTyped(d.ParamTypes(), d.ResultTypes()) {
		v.pool <- inst
		return Outcome{}, neutral, newError("plugin does not fit ABI "+hostapi.ModuleName+": "+SignupProblem(v.compiled),
			ErrSignupType, ErrABI)
	}
	return v.run(ctx, cctx, inst, fn, false, ev, begin, st)
}
