package runtime

import (
	"context"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
)

// ListDeliveries returns the deliveries f selects, newest first, without
// their events and attempts (see [Runtime.Delivery]).
//
//	dead, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{State: hook.StateDead, Target: "jwt_webhook"})
func (rt *Runtime) ListDeliveries(ctx context.Context, f hook.DeliveryFilter) ([]hook.Delivery, error) {
	return rt.eng.ListDeliveries(ctx, f)
}

// Delivery returns one delivery with its event and every attempt; an
// unknown id is an error matching [hook.ErrNotFound].
func (rt *Runtime) Delivery(ctx context.Context, id int64) (*hook.Delivery, error) {
	return rt.eng.Delivery(ctx, id)
}

// Retry replays a delivery now: a dead or discarded one gets a fresh
// attempt budget and age; a retrying one is attempted at once instead of
// at its scheduled time. A delivered one cannot be replayed (an error
// matching [hook.ErrConflict]); neither can one of a disabled or paused
// target, whose replay would not deliver it (the error names the target's
// state; [Runtime.RetryForced] replays it anyway).
func (rt *Runtime) Retry(ctx context.Context, id int64) error { return rt.eng.Retry(ctx, id, false) }

// ErrReplayRefused is matched by the error of [Runtime.Retry] and
// [Runtime.RetryMatching] when they refuse a disabled or paused target
// (the error also matches [hook.ErrConflict]); the Forced variants replay
// anyway.
var ErrReplayRefused = engine.ErrReplayRefused

// RetryForced is [Runtime.Retry], also for a delivery of a disabled or
// paused target (it goes back to dead, or waits for the resume).
func (rt *Runtime) RetryForced(ctx context.Context, id int64) error {
	return rt.eng.Retry(ctx, id, true)
}

// Discard stops a live or dead delivery for good (it can still be
// replayed); a delivered or discarded one is an error matching
// [hook.ErrConflict].
func (rt *Runtime) Discard(ctx context.Context, id int64) error { return rt.eng.Discard(ctx, id) }

// RetryMatching replays every delivery f selects by State (dead,
// discarded or retrying; "" means dead), Target ("" for all) and Since
// (created at or after), as [Runtime.Retry] does for one, and returns how
// many. Limit > 0 stops after that many, oldest first (a caller replays a
// large set in rounds this way); 0 replays all of them. EventID and
// BeforeID are not used.
//
//	n, err := rt.RetryMatching(ctx, hook.DeliveryFilter{Target: "jwt_webhook", Since: time.Now().Add(-24 * time.Hour)})
//
// # Notes
//
//   - Unlike [Runtime.ListDeliveries], Limit has no maximum here and 0
//     means no limit.
//   - A negative Limit is an error.
//   - Nothing is replayed, and the error (matching [hook.ErrConflict])
//     names the target's state, when a target of the selected deliveries
//     is disabled or paused: [Runtime.RetryMatchingForced] replays anyway.
func (rt *Runtime) RetryMatching(ctx context.Context, f hook.DeliveryFilter) (int, error) {
	return rt.retryMatching(ctx, f, false)
}

// RetryMatchingForced is [Runtime.RetryMatching], also into a disabled or
// paused target.
func (rt *Runtime) RetryMatchingForced(ctx context.Context, f hook.DeliveryFilter) (int, error) {
	return rt.retryMatching(ctx, f, true)
}

func (rt *Runtime) retryMatching(ctx context.Context, f hook.DeliveryFilter, force bool) (int, error) {
	if f.State == "" {
		f.State = hook.StateDead
	}
	return rt.eng.RetryMatching(ctx, f.State, f.Target, f.Since, f.Limit, force)
}

// SessionEvents returns the record of a session: its events in order, each
// with the outcome at every target. Empty unless a module saves sessions
// ([http_events] save_to_session = true).
func (rt *Runtime) SessionEvents(ctx context.Context, sessionID string) ([]hook.SessionEvent, error) {
	return rt.eng.SessionEvents(ctx, sessionID)
}

// Targets returns the names of the configured targets, in routing order.
func (rt *Runtime) Targets() []string { return rt.eng.Targets() }

// TargetStatuses returns where every target stands: enabled, disabled or
// paused (and why, by whom, since when), its breaker and attempts in
// flight on this node, its live deliveries and the oldest of them, and its
// latest error.
func (rt *Runtime) TargetStatuses(ctx context.Context) ([]hook.TargetStatus, error) {
	return rt.eng.TargetStatuses(ctx)
}

// DisableTarget disables a target on every node: its deliveries go to the
// dead-letter list until it is enabled. (hookd disables a target itself
// when it answers 410 Gone, or fails every attempt for
// delivery.disable_after.) An unknown name matches [hook.ErrNotFound].
func (rt *Runtime) DisableTarget(ctx context.Context, name, reason string) error {
	return rt.eng.DisableTarget(ctx, name, reason, "operator")
}

// PauseTarget pauses a target on every node: its deliveries wait,
// undelivered, until [Runtime.ResumeTarget].
func (rt *Runtime) PauseTarget(ctx context.Context, name, reason string) error {
	return rt.eng.PauseTarget(ctx, name, reason)
}

// EnableTarget enables a disabled or paused target (an enabled one stays
// as it is). The dead deliveries of a disabled one stay dead until
// replayed ([Runtime.RetryMatching]); those of a paused one resume.
func (rt *Runtime) EnableTarget(ctx context.Context, name string) error {
	return rt.eng.EnableTarget(ctx, name, false)
}

// ResumeTarget resumes a paused target: its waiting deliveries are
// attempted at once, or when their next attempt is due. A target that is
// not paused is an error matching [hook.ErrConflict].
func (rt *Runtime) ResumeTarget(ctx context.Context, name string) error {
	return rt.eng.EnableTarget(ctx, name, true)
}

// JWKS returns the public keys of every module that signs, as a JWK set
// ({"keys":[…]}), for receivers to verify tokens with.
func (rt *Runtime) JWKS() []byte { return rt.mods.jwks }

// Routes returns the HTTP routes modules serve themselves (the External
// WebAPI's sign-up and forgotten password), for a daemon or proxy to
// mount; see [hook.RouteProvider].
func (rt *Runtime) Routes() []hook.Route { return rt.mods.routes }

// Reload asks every module that can (plugins) to pick up changed files. A
// module whose reload fails keeps what it had; the errors are joined.
func (rt *Runtime) Reload(ctx context.Context) error { return rt.mods.reload(ctx) }

// Health reports whether the store answers.
func (rt *Runtime) Health(ctx context.Context) error { return rt.eng.Health(ctx) }

// Ready reports whether the runtime should get traffic: healthy, and not
// closing. The daemon's /readyz answers it, so that a load balancer stops
// sending events to a node as soon as it begins to stop.
func (rt *Runtime) Ready(ctx context.Context) error { return rt.eng.Ready(ctx) }
