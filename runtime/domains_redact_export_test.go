package runtime

import (
	"context"

	"github.com/hookrt/hookd/hook"
)

// StoredSpec returns domain id's settings as stored, secrets and all:
// what the tests of the redacted views compare a round trip with.
func StoredSpec(ctx context.Context, rt *Runtime, id string) ([]byte, error) {
	s, err := rt.domainState()
	if err != nil {
		return nil, err
	}
	row, err := s.db.StoredDomain(ctx, id)
	return row.Spec, err
}

// RedactAudit, RedactVersions and KeepSettings are the redaction of audit
// details and plugin versions' settings, and the "<redacted>" filling of
// a version's settings, for the tests of runtime_test.
func RedactAudit(es []hook.AuditEntry) []hook.AuditEntry          { return redactAudit(es) }
func RedactVersions(vs []hook.PluginVersion) []hook.PluginVersion { return redactVersions(vs) }
func KeepSettings(domain string, settings, base []byte) ([]byte, error) {
	return keepSettings(domain, settings, base)
}

// KeepVersionSecrets is keepVersionSecrets of rt's domains.
func KeepVersionSecrets(ctx context.Context, rt *Runtime, domain string, version int, settings []byte) ([]byte, error) {
	s, err := rt.domainState()
	if err != nil {
		return nil, err
	}
	return s.keepVersionSecrets(ctx, domain, version, settings)
}

// StoredVersionSettings returns the settings of domain's plugin version
// as stored, secrets and all.
func StoredVersionSettings(ctx context.Context, rt *Runtime, domain string, version int) ([]byte, error) {
	s, err := rt.domainState()
	if err != nil {
		return nil, err
	}
	v, _, err := s.db.PluginVersion(ctx, domain, version)
	return v.Settings, err
}
