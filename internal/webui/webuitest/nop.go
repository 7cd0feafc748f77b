package webuitest

import (
	"context"

	"github.com/hookrt/hookd/hook"
)

// NopBackend has nothing and changes nothing: the part of a backend that
// the admin page and the portal share (deliveries, sessions, targets,
// plugins). Each page's tests embed it in a nopBackend that adds the
// methods only that page asks for.
type NopBackend struct{}

func (NopBackend) ListDeliveries(context.Context, hook.DeliveryFilter) ([]hook.Delivery, error) {
	return nil, nil
}
func (NopBackend) Delivery(context.Context, int64) (*hook.Delivery, error) {
	return nil, hook.ErrNotFound
}
func (NopBackend) Retry(context.Context, int64) error       { return nil }
func (NopBackend) RetryForced(context.Context, int64) error { return nil }
func (NopBackend) Discard(context.Context, int64) error     { return nil }
func (NopBackend) RetryMatching(context.Context, hook.DeliveryFilter) (int, error) {
	return 0, nil
}
func (NopBackend) RetryMatchingForced(context.Context, hook.DeliveryFilter) (int, error) {
	return 0, nil
}
func (NopBackend) SessionEvents(context.Context, string) ([]hook.SessionEvent, error) {
	return nil, nil
}
func (NopBackend) TargetStatuses(context.Context) ([]hook.TargetStatus, error) { return nil, nil }
func (NopBackend) Plugins() []hook.PluginStatus                                { return nil }
