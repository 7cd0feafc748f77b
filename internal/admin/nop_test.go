package admin

import (
	"context"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
)

// nopBackend has nothing: for the package's internal tests.
type nopBackend struct{}

func (nopBackend) ListDeliveries(context.Context, hook.DeliveryFilter) ([]hook.Delivery, error) {
	return nil, nil
}
func (nopBackend) Delivery(context.Context, int64) (*hook.Delivery, error) {
	return nil, hook.ErrNotFound
}
func (nopBackend) Retry(context.Context, int64) error   { return nil }
func (nopBackend) Discard(context.Context, int64) error { return nil }
func (nopBackend) RetryMatching(context.Context, hook.DeliveryFilter) (int, error) {
	return 0, nil
}
func (nopBackend) SessionEvents(context.Context, string) ([]hook.SessionEvent, error) {
	return nil, nil
}
func (nopBackend) TargetStatuses(context.Context) ([]hook.TargetStatus, error) { return nil, nil }
func (nopBackend) DisableTarget(context.Context, string, string) error         { return nil }
func (nopBackend) PauseTarget(context.Context, string, string) error           { return nil }
func (nopBackend) EnableTarget(context.Context, string) error                  { return nil }
func (nopBackend) ResumeTarget(context.Context, string) error                  { return nil }
func (nopBackend) Reload(context.Context) error                                { return nil }
func (nopBackend) Plugins() []hook.PluginStatus                                { return nil }
func (nopBackend) Stats() ops.Stats                                            { return ops.Stats{} }
func (nopBackend) RetryForced(context.Context, int64) error                    { return nil }
func (nopBackend) RetryMatchingForced(context.Context, hook.DeliveryFilter) (int, error) {
	return 0, nil
}
