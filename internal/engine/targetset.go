package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrt/hookd/hook"
)

// The target set can change while the engine runs (domains stored as
// data come and go on every node), so it is copy-on-write: readers load
// the current set once and use it without a lock; SetTargets builds a new
// set and swaps it in whole. A delivery names its target; it finds the
// target in whichever set is current when its job runs.
//
// A target being used by an attempt (or reserved for a direct one) is
// "in use"; SetTargets waits for the targets it replaced or removed to be
// out of use before it returns, so that its caller may close their
// handlers. acquire and retire order this: once a target is retired, no
// new use begins, and its retirement waits for those under way.

// targetSet is one version of the engine's targets.
type targetSet struct {
	byName map[string]*target
	order  []*target // routing order
}

// unknownWait is how long the job of a delivery whose target this node
// does not know waits before it looks again: its domain may be loading
// here (the node watcher applies changes within a second), or deleted
// (its owner's deliveries wait until the domain is back or they are
// discarded). Long enough that a deleted domain's deliveries do not keep
// the workers busy.
const unknownWait = 30 * time.Second

// current returns the target set in force now.
func (e *Engine) current() *targetSet { return e.set.Load() }

// lookup returns the target name of the current set, or nil.
func (e *Engine) lookup(name string) *target { return e.current().byName[name] }

// acquire returns the current target name, in use (the caller must call
// its done), or nil when this node does not know it.
func (e *Engine) acquire(name string) *target {
	for {
		t := e.lookup(name)
		if t == nil || t.use() {
			return t
		}
		// Retired after the swap: the current set has its successor, or
		// no longer has it.
	}
}

// use marks t in use, unless it is retired.
func (t *target) use() bool {
	t.life.RLock()
	defer t.life.RUnlock()
	if t.retired {
		return false
	}
	t.users.Add(1)
	return true
}

// done ends a use of t begun by use or acquire. nil is a no-op.
func (t *target) done() {
	if t != nil {
		t.users.Done()
	}
}

// retire stops new uses of t and waits for those under way, or for ctx.
func (t *target) retire(ctx context.Context) error {
	t.life.Lock()
	t.retired = true
	t.life.Unlock()
	idle := make(chan struct{})
	go func() { t.users.Wait(); close(idle) }()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("target %q still has attempts in flight: %w", t.Name, context.Cause(ctx))
	}
}

// SetTargets changes the target set in one swap: each target of add
// replaces the one of the same name, or joins the set (at the end of the
// routing order); each name of remove leaves it. The resulting set is
// checked with [CheckTargets]; on error nothing changes. A name in both
// add and remove, or removed but unknown, is an error too.
//
// Emits that begin after it returns route with the new set; deliveries
// already stored for a removed target wait (see unknownWait) until a
// target of that name is back or they are discarded ([Engine.DiscardTarget]).
// It returns once no attempt of a replaced or removed target is in
// flight any more, so that the caller may close their handlers; if ctx
// ends first the set has changed and the error says which target is still
// busy. Safe before and after Start, and concurrently with everything else
// (calls to SetTargets are serialized).
func (e *Engine) SetTargets(ctx context.Context, add []hook.Target, remove []string) error {
	e.setMu.Lock()
	defer e.setMu.Unlock()
	old := e.current()
	gone := make(map[string]bool, len(remove))
	for _, name := range remove {
		if old.byName[name] == nil {
			return fmt.Errorf("remove target %q: %w; configured: %v", name, hook.ErrNotFound, e.Targets())
		}
		gone[name] = true
	}
	adding := make(map[string]hook.Target, len(add))
	for _, t := range add {
		if gone[t.Name] {
			return fmt.Errorf("target %q is both added and removed", t.Name)
		}
		adding[t.Name] = t
	}
	// The resulting set, in routing order: the kept and replaced targets
	// where they were, then the new ones in the order given.
	var next []hook.Target
	for _, t := range old.order {
		switch nt, ok := adding[t.Name]; {
		case gone[t.Name]:
		case ok:
			next = append(next, nt)
		default:
			next = append(next, t.Target)
		}
	}
	for _, t := range add {
		if old.byName[t.Name] == nil {
			next = append(next, t)
		}
	}
	if err := CheckTargets(next); err != nil {
		return err
	}
	if longest := e.longestAttempt(next); e.queueJobTimeout > 0 && longest+jobSlack > e.queueJobTimeout {
		return fmt.Errorf("the targets' longest timeout %s is above %s, the longest this node's workers were started with; "+
			"restart the node to use it", longest, e.queueJobTimeout-jobSlack)
	}
	set := &targetSet{byName: make(map[string]*target, len(next)), order: make([]*target, 0, len(next))}
	var retired []*target
	for _, t := range next {
		tt := old.byName[t.Name]
		if _, replaced := adding[t.Name]; replaced || tt == nil {
			if tt != nil {
				retired = append(retired, tt)
			}
			var err error
			if tt, err = e.newTarget(t); err != nil {
				return err // nothing changed yet
			}
		}
		set.byName[t.Name] = tt
		set.order = append(set.order, tt)
	}
	for name := range gone {
		retired = append(retired, old.byName[name])
	}
	e.set.Store(set)
	var firstErr error
	for _, t := range retired {
		if err := t.retire(ctx); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("targets changed, but %w", err)
		}
	}
	return firstErr
}

// Handler returns the current handler of the target name: how a module
// finds, say, a domain's plugin to ask it something other than a
// delivery. The handler may be replaced by SetTargets at any time.
func (e *Engine) Handler(name string) (hook.Handler, bool) {
	t := e.lookup(name)
	if t == nil {
		return nil, false
	}
	return t.Handler, true
}

// DiscardTarget discards every live (pending or retrying) delivery of the
// target name, known here or not, and returns how many: what deleting a
// stored domain does when its owner does not want its waiting deliveries
// kept. They stay in the log as discarded (and can be replayed); reason is
// logged with the count.
func (e *Engine) DiscardTarget(ctx context.Context, name, reason string) (int, error) {
	total := 0
	for _, state := range []hook.DeliveryState{hook.StatePending, hook.StateRetrying} {
		for {
			ds, err := e.db.ListDeliveries(ctx, hook.DeliveryFilter{Target: name, State: state, Limit: 1000})
			if err != nil {
				return total, err
			}
			n := 0
			for _, d := range ds {
				switch err := e.db.Discard(ctx, d.ID); {
				case errors.Is(err, hook.ErrConflict): // finished meanwhile
				case err != nil:
					return total, err
				default:
					n++
				}
			}
			total += n
			if len(ds) == 0 {
				break
			}
		}
	}
	e.log.InfoContext(ctx, "deliveries of a target discarded", slog.String("target", name),
		slog.Int("count", total), slog.String("reason", reason))
	return total, nil
}
