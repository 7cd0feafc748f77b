package portal

import (
	"context"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/webui/webuitest"
)

// nopBackend knows no domain and no token: for the tests of what happens
// before a login. The part it shares with the admin page's is
// webuitest.NopBackend.
type nopBackend struct{ webuitest.NopBackend }

func (nopBackend) AuthenticateDomainToken(context.Context, string) (hook.Principal, error) {
	return hook.Principal{}, hook.ErrNotFound
}
func (nopBackend) Domain(context.Context, hook.Principal, string) (hook.DomainInfo, error) {
	return hook.DomainInfo{}, hook.ErrNotFound
}
func (nopBackend) PutDomain(context.Context, hook.Principal, string, []byte) (hook.DomainInfo, error) {
	return hook.DomainInfo{}, hook.ErrNotFound
}
func (nopBackend) PushPlugin(context.Context, hook.Principal, string, []byte, []byte, bool) (hook.PluginVersion, error) {
	return hook.PluginVersion{}, hook.ErrNotFound
}
func (nopBackend) PluginVersions(context.Context, hook.Principal, string) ([]hook.PluginVersion, error) {
	return nil, hook.ErrNotFound
}
func (nopBackend) ActivatePlugin(context.Context, hook.Principal, string, int) (hook.PluginVersion, error) {
	return hook.PluginVersion{}, hook.ErrNotFound
}
func (nopBackend) DeletePluginVersion(context.Context, hook.Principal, string, int) error {
	return hook.ErrNotFound
}
func (nopBackend) DryRunPlugin(context.Context, hook.Principal, string, hook.DryRunRequest) (hook.DryRunReport, error) {
	return hook.DryRunReport{}, hook.ErrNotFound
}
func (nopBackend) PluginLogs(context.Context, hook.Principal, string, int) ([]hook.PluginLogLine, error) {
	return nil, hook.ErrNotFound
}
func (nopBackend) DomainAudit(context.Context, hook.Principal, string, int) ([]hook.AuditEntry, error) {
	return nil, hook.ErrNotFound
}
func (nopBackend) DomainSummary(context.Context, hook.Principal, string) (hook.DomainSummary, error) {
	return hook.DomainSummary{}, hook.ErrNotFound
}
