package engine

import (
	"fmt"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
)

// The engine applies three of a target's delivery settings itself: the
// filter (with Match, in routing: Wants), the rate limit (ratelimit.go)
// and the order (order.go). internal/delivery owns their meaning and
// checks; the engine refuses a target whose settings it could not apply,
// so that SetTargets, Open and `hookd check` (through CheckTargets) refuse
// the same.

// checkDelivery refuses delivery settings of t the engine cannot apply.
func checkDelivery(t hook.Target) error {
	s := t.Delivery
	if s == nil {
		return nil
	}
	if err := delivery.Validate(s); err != nil {
		return fmt.Errorf("target %q: delivery: %w", t.Name, err)
	}
	if err := delivery.CheckCombine(s, t.Policy.Combine); err != nil {
		return fmt.Errorf("target %q: delivery: %w", t.Name, err)
	}
	return nil
}

// compileFilter is t's filter (Validate checked it), nil when it has none.
func compileFilter(s *hook.DeliverySettings) (func(*hook.Event) bool, error) {
	return delivery.Filter(s)
}

// deliveryView is t's delivery settings as TargetStatus shows them, the
// rate limit with this node's share when the nodes divide it; nil when t
// sets nothing and there is no default proxy.
func (e *Engine) deliveryView(t *target) *hook.DeliveryView {
	v := delivery.ViewEnv(t.Delivery, delivery.Env{PrivateDir: e.privateDir, Proxy: e.deliveryProxy})
	if v != nil && v.RateLimit != "" {
		v.RateLimit += t.rate.shareNote()
	}
	return v
}
