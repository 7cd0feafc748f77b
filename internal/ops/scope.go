package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
)

// Backend is what operations read and act on; the runtime implements it.
// Every method may be called from many goroutines at once.
type Backend interface {
	// ListDeliveries returns deliveries, newest first, without Event and History.
	ListDeliveries(ctx context.Context, f hook.DeliveryFilter) ([]hook.Delivery, error)
	// Delivery returns one delivery with its Event and History filled.
	Delivery(ctx context.Context, id int64) (*hook.Delivery, error)
	// Retry replays one delivery, refusing (hook.ErrConflict) one of a
	// disabled or paused target; RetryForced replays it anyway.
	Retry(ctx context.Context, id int64) error
	RetryForced(ctx context.Context, id int64) error
	// Discard stops further attempts of a delivery.
	Discard(ctx context.Context, id int64) error
	// RetryMatching replays the deliveries a filter selects (State,
	// Target, Since, Limit) and returns how many; RetryMatchingForced
	// also into a disabled or paused target.
	RetryMatching(ctx context.Context, f hook.DeliveryFilter) (int, error)
	RetryMatchingForced(ctx context.Context, f hook.DeliveryFilter) (int, error)
	// SessionEvents returns a session's record.
	SessionEvents(ctx context.Context, sessionID string) ([]hook.SessionEvent, error)
	// TargetStatuses returns every target's state, breaker and load.
	TargetStatuses(ctx context.Context) ([]hook.TargetStatus, error)
	// Plugins returns where every WASM plugin stands.
	Plugins() []hook.PluginStatus
}

// Options configure [New]. The zero value is usable.
type Options struct {
	// Stats returns the recent delivery outcomes (a [Recorder]'s
	// Snapshot). nil: an empty window.
	Stats func() Stats
	// Config returns the effective config with its secrets redacted
	// (hookrt.Config.Redacted). nil: there is none to show.
	Config func() ([]byte, error)
}

// Ops is the operations room over a backend. It is safe for concurrent
// use.
type Ops struct {
	b      Backend
	stats  func() Stats
	config func() ([]byte, error)
}

// New returns the operations room over b. It panics if b is nil: that is
// a programming error.
func New(b Backend, opts Options) *Ops {
	if b == nil {
		panic("ops: New needs a Backend")
	}
	return &Ops{b: b, stats: opts.Stats, config: opts.Config}
}

// Scope is what one principal may see and do: the operator everything;
// a domain's owner only its domain's target. It is a small value; make
// one per request.
type Scope struct {
	o   *Ops
	who hook.Principal
}

// Scope narrows every query and action to what who may see.
func (o *Ops) Scope(who hook.Principal) Scope { return Scope{o: o, who: who} }

// Principal is who the scope is for.
func (s Scope) Principal() hook.Principal { return s.who }

// Target is the one target a domain's owner sees ("" for the operator,
// who sees every target).
func (s Scope) Target() string { return DomainTarget(s.who.Domain) }

// DomainTarget is the name of a domain's delivery target ("" for "").
func DomainTarget(domain string) string {
	if domain == "" {
		return ""
	}
	return httpevents.DomainTargetPrefix + domain
}

// sees reports whether the scope may see target's deliveries.
func (s Scope) sees(target string) bool { return s.who.IsOperator() || target == s.Target() }

// narrow fixes f's target to the scope's; a domain's owner asking for
// another target gets hook.ErrNotFound, as for a target that does not
// exist.
func (s Scope) narrow(f hook.DeliveryFilter) (hook.DeliveryFilter, error) {
	if s.who.IsOperator() {
		return f, nil
	}
	if f.Target != "" && f.Target != s.Target() {
		return f, fmt.Errorf("target %s: %w", Quote(f.Target), hook.ErrNotFound)
	}
	f.Target = s.Target()
	return f, nil
}

// Deliveries lists the deliveries f selects that the scope sees, newest
// first.
func (s Scope) Deliveries(ctx context.Context, f hook.DeliveryFilter) ([]hook.Delivery, error) {
	f, err := s.narrow(f)
	if err != nil {
		return nil, err
	}
	ds, err := s.o.b.ListDeliveries(ctx, f)
	if err != nil || s.who.IsOperator() {
		return ds, s.clean(err, "target "+Quote(f.Target))
	}
	// The filter already narrows; this keeps a backend that ignored it
	// from leaking.
	return slices.DeleteFunc(ds, func(d hook.Delivery) bool { return !s.sees(d.Target) }), nil
}

// Delivery returns one delivery with its event and attempts; one the scope
// does not see is hook.ErrNotFound, as an unknown id.
func (s Scope) Delivery(ctx context.Context, id int64) (*hook.Delivery, error) {
	d, err := s.o.b.Delivery(ctx, id)
	if err == nil && (d == nil || !s.sees(d.Target)) {
		d, err = nil, fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
	return d, s.clean(err, fmt.Sprintf("delivery %d", id))
}

// Retry replays one delivery (force: also into a disabled or paused
// target).
func (s Scope) Retry(ctx context.Context, id int64, force bool) error {
	if err := s.check(ctx, id); err != nil {
		return err
	}
	retry := s.o.b.Retry
	if force {
		retry = s.o.b.RetryForced
	}
	return s.clean(retry(ctx, id), fmt.Sprintf("delivery %d", id))
}

// Discard stops a delivery's attempts.
func (s Scope) Discard(ctx context.Context, id int64) error {
	if err := s.check(ctx, id); err != nil {
		return err
	}
	return s.clean(s.o.b.Discard(ctx, id), fmt.Sprintf("delivery %d", id))
}

// check refuses, as unknown, a delivery a domain's owner does not see. A
// delivery's target never changes, so checking first is not a race.
func (s Scope) check(ctx context.Context, id int64) error {
	if s.who.IsOperator() {
		return nil
	}
	_, err := s.Delivery(ctx, id)
	return err
}

// Replay replays the deliveries f selects (see [ParseReplay]) and
// returns how many.
func (s Scope) Replay(ctx context.Context, f hook.DeliveryFilter, force bool) (int, error) {
	f, err := s.narrow(f)
	if err != nil {
		return 0, err
	}
	replay := s.o.b.RetryMatching
	if force {
		replay = s.o.b.RetryMatchingForced
	}
	n, err := replay(ctx, f)
	if !s.who.IsOperator() && errors.Is(err, hook.ErrNotFound) {
		// The domain's own target is not configured on this node (no
		// script or plugin stored yet): nothing of its to replay. The
		// engine's words would list every configured target, other
		// domains' among them.
		return 0, nil
	}
	return n, s.clean(err, "target "+Quote(f.Target))
}

// clean keeps the backend's words about what was not found from a
// domain's owner: they may name other domains' targets (the engine lists
// the configured ones). The error still matches hook.ErrNotFound, with
// words of the scope's own (what), the same for every domain.
func (s Scope) clean(err error, what string) error {
	if err == nil || s.who.IsOperator() || !errors.Is(err, hook.ErrNotFound) {
		return err
	}
	return fmt.Errorf("%s: %w", what, hook.ErrNotFound)
}

// SessionEvents returns a session's record. A domain's owner sees only
// the events that went to its target, each with only its target's
// outcome; a session with none of them is hook.ErrNotFound.
func (s Scope) SessionEvents(ctx context.Context, sessionID string) ([]hook.SessionEvent, error) {
	evs, err := s.o.b.SessionEvents(ctx, sessionID)
	if err != nil || s.who.IsOperator() {
		return evs, s.clean(err, "session "+Quote(sessionID))
	}
	var out []hook.SessionEvent
	for _, ev := range evs {
		var mine []hook.TargetOutcome
		for _, t := range ev.Targets {
			if s.sees(t.Target) {
				mine = append(mine, t)
			}
		}
		if len(mine) > 0 {
			ev.Targets = mine
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("session %s: %w", Quote(sessionID), hook.ErrNotFound)
	}
	return out, nil
}

// Targets returns where the targets the scope sees stand.
func (s Scope) Targets(ctx context.Context) ([]hook.TargetStatus, error) {
	ts, err := s.o.b.TargetStatuses(ctx)
	if err != nil || s.who.IsOperator() {
		return ts, err
	}
	return slices.DeleteFunc(ts, func(t hook.TargetStatus) bool { return !s.sees(t.Name) }), nil
}

// TargetNames lists the names of the targets the scope sees, with
// selected among them even when it is not configured (any more), for a
// filter's menu.
func (s Scope) TargetNames(ctx context.Context, selected string) ([]string, error) {
	ts, err := s.Targets(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ts)+1)
	for _, t := range ts {
		names = append(names, t.Name)
	}
	if selected != "" && s.sees(selected) && !slices.Contains(names, selected) {
		names = append(names, selected)
	}
	return names, nil
}

// Plugins returns where the plugins the scope sees stand: every one for
// the operator, its domain's for a domain's owner.
func (s Scope) Plugins() []hook.PluginStatus {
	ps := s.o.b.Plugins()
	if s.who.IsOperator() {
		return ps
	}
	return slices.DeleteFunc(ps, func(p hook.PluginStatus) bool { return p.Domain != s.who.Domain })
}

// Stats returns this node's recent delivery outcomes, of every target:
// the operator's only (hook.ErrNotFound for a domain's owner).
func (s Scope) Stats() (Stats, error) {
	if !s.who.IsOperator() {
		return Stats{}, fmt.Errorf("stats: %w", hook.ErrNotFound)
	}
	if s.o.stats == nil {
		return Stats{Interval: StatsInterval}, nil
	}
	return s.o.stats(), nil
}

// Config returns the effective config, secrets redacted: the operator's
// only (hook.ErrNotFound for a domain's owner, and when there is none to
// show).
func (s Scope) Config() ([]byte, error) {
	if !s.who.IsOperator() || s.o.config == nil {
		return nil, fmt.Errorf("config: %w", hook.ErrNotFound)
	}
	return s.o.config()
}
