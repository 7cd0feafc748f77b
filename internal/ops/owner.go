package ops

import (
	"context"
	"time"

	"github.com/hookrt/hookd/hook"
)

// OwnerBackend is what a domain's owner reaches of its own domain besides
// the delivery log: its settings, its plugin's versions, dry runs, logs,
// audit and summary, and the check of its token. The runtime implements
// it; every method takes the principal and answers a domain it may not
// see with an error matching [hook.ErrNotFound], so that the views (the
// API, the portal) decide nothing about visibility. The API adds the
// operator's methods (listing and deleting domains, tokens) to it.
type OwnerBackend interface {
	// AuthenticateDomainToken returns the principal of a domain token;
	// an unknown, revoked or expired one is an error matching
	// hook.ErrNotFound.
	AuthenticateDomainToken(ctx context.Context, token string) (hook.Principal, error)
	Domain(ctx context.Context, who hook.Principal, id string) (hook.DomainInfo, error)
	PutDomain(ctx context.Context, who hook.Principal, id string, spec []byte) (hook.DomainInfo, error)
	PushPlugin(ctx context.Context, who hook.Principal, domain string, module, settings []byte, activate bool) (hook.PluginVersion, error)
	PluginVersions(ctx context.Context, who hook.Principal, domain string) ([]hook.PluginVersion, error)
	ActivatePlugin(ctx context.Context, who hook.Principal, domain string, version int) (hook.PluginVersion, error)
	DeletePluginVersion(ctx context.Context, who hook.Principal, domain string, version int) error
	// DryRunPlugin runs a candidate on req's events and sign-ups;
	// nothing is delivered or stored.
	DryRunPlugin(ctx context.Context, who hook.Principal, domain string, req hook.DryRunRequest) (hook.DryRunReport, error)
	PluginLogs(ctx context.Context, who hook.Principal, domain string, limit int) ([]hook.PluginLogLine, error)
	DomainAudit(ctx context.Context, who hook.Principal, domain string, limit int) ([]hook.AuditEntry, error)
	DomainSummary(ctx context.Context, who hook.Principal, domain string) (hook.DomainSummary, error)
}

// DomainBackend is the operator's view of domains as data: what a domain
// owner reaches ([OwnerBackend]) plus listing and deleting domains and
// issuing and revoking their tokens. The API's domain routes and the
// admin page's Domains pages are two views of it; the runtime implements
// it, and its methods decide what who may do (an owner asking the
// operator's methods gets an error matching [hook.ErrNotFound]).
type DomainBackend interface {
	OwnerBackend
	Domains(ctx context.Context, who hook.Principal) ([]hook.DomainInfo, error)
	DeleteDomain(ctx context.Context, who hook.Principal, id string) error
	CreateDomainToken(ctx context.Context, who hook.Principal, domain, name string, ttl time.Duration) (hook.DomainToken, error)
	DomainTokens(ctx context.Context, who hook.Principal, domain string) ([]hook.DomainToken, error)
	RevokeDomainToken(ctx context.Context, who hook.Principal, domain, tokenID string) error
}
