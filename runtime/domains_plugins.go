package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// Plugins domain owners upload: stored as numbered versions with their
// settings, checked exactly as serve would check a plugin file (the same
// build, httpevents' BuildDomain), activated on every node by the node
// watcher. A stored domain whose script is "" runs its active version; a
// version's settings ({"plugin": {...}, "config": {...}}) are the plugin's,
// and where a version has none, the domain's own plugin and config keys
// apply.

// pluginSettings are a version's settings as uploaded.
type pluginSettings struct {
	Plugin *wasmscript.Settings `json:"plugin,omitempty"`
	Config map[string]any       `json:"config,omitempty"`
}

// decodePluginSettings decodes a version's settings strictly.
func decodePluginSettings(domain string, raw []byte) (pluginSettings, error) {
	var ps pluginSettings
	if len(bytes.TrimSpace(raw)) == 0 {
		return ps, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ps); err != nil {
		return ps, hook.Invalid("domain %q: plugin settings: %s (expected {\"plugin\": {…the [domain.plugin] keys…}, \"config\": {…}})",
			domain, strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ps, hook.Invalid("domain %q: plugin settings: one JSON object expected, found more after it", domain)
	}
	return ps, nil
}

// withPlugin returns d as it would run: with a URL script, as it is;
// with script "", with the plugin module (module, or the stored version's)
// and the settings (settings, or the stored version's) applied.
func (s *domainsState) withPlugin(ctx context.Context, d httpevents.Domain, version int, module, settings []byte) (httpevents.Domain, error) {
	if module == nil {
		if d.Script != "" {
			return d, nil
		}
		if version == 0 {
			return d, hook.Invalid("domain %q: script is \"\" (run the active stored plugin) but the domain has no active plugin version", d.ID)
		}
		v, m, err := s.db.PluginVersion(ctx, d.ID, version)
		if err != nil {
			return d, err
		}
		s.pre.wait(ctx, v.SHA256) // being compiled ahead here: read it back rather than compile it twice
		module, settings = m, v.Settings
	}
	ps, err := decodePluginSettings(d.ID, settings)
	if err != nil {
		return d, err
	}
	if ps.Plugin != nil {
		d.Plugin = *ps.Plugin
	}
	if ps.Config != nil {
		d.Config = ps.Config
	}
	d.Script, d.Module = "", module
	return d, nil
}

// storedOrNew returns domain's stored settings (decoded), whether it is
// stored, and its active version.
func (s *domainsState) storedOrNew(ctx context.Context, domain string) (httpevents.Domain, bool, int, error) {
	row, err := s.db.StoredDomain(ctx, domain)
	if errors.Is(err, hook.ErrNotFound) {
		return httpevents.Domain{ID: domain}, false, 0, nil
	}
	if err != nil {
		return httpevents.Domain{}, false, 0, err
	}
	d, _, err := decodeDomain(domain, row.Spec)
	return d, true, row.ActiveVersion, err
}

// pluginSpec is the stored settings of a domain that runs its plugin:
// d's, with script "".
func pluginSpec(d httpevents.Domain) ([]byte, error) {
	d.ID, d.Script, d.Module = "", "", nil
	return json.Marshal(d)
}

// PushPlugin stores module (a .wasm binary) with its settings as domain's
// next plugin version, after checking it exactly as serve would (compile,
// limits, imports, ABI version), and activates it on every node if asked
// (a domain whose script was a URL then runs the plugin). A domain with
// no stored record gets one. Bounded by [domains] max_plugin_size and
// max_plugin_versions.
func (rt *Runtime) PushPlugin(ctx context.Context, who hook.Principal, domain string, module, settings []byte, activate bool) (hook.PluginVersion, error) {
	s, err := rt.domainState()
	if err != nil {
		return hook.PluginVersion{}, err
	}
	if !who.Sees(domain) {
		return hook.PluginVersion{}, notFound(domain)
	}
	if err := checkDomainID(domain); err != nil {
		return hook.PluginVersion{}, err
	}
	if err := s.writable(domain); err != nil {
		return hook.PluginVersion{}, err
	}
	switch {
	case len(module) == 0:
		return hook.PluginVersion{}, hook.Invalid("domain %q: plugin: the module is empty; upload a .wasm binary", domain)
	case int64(len(module)) > s.limits.MaxPluginSize:
		return hook.PluginVersion{}, hook.Invalid("domain %q: plugin: %d bytes is more than the %d allowed ([domains] max_plugin_size)",
			domain, len(module), s.limits.MaxPluginSize)
	}
	if settings, err = s.keepVersionSecrets(ctx, domain, 0, settings); err != nil {
		return hook.PluginVersion{}, err
	}
	ps, err := decodePluginSettings(domain, settings)
	if err != nil {
		return hook.PluginVersion{}, err
	}
	if ps.Plugin != nil {
		if err := s.checkOwnerGrants(ctx, who, domain, *ps.Plugin); err != nil {
			return hook.PluginVersion{}, err
		}
	}
	d, stored, _, err := s.storedOrNew(ctx, domain)
	if err != nil {
		return hook.PluginVersion{}, err
	}
	if !activate {
		err = s.check(ctx, d, 0, module, settings)
	} else {
		var key string
		key, err = s.checkKeep(ctx, d, 0, module, settings)
		defer s.trials.drop(ctx, key)
	}
	if err != nil {
		return hook.PluginVersion{}, err
	}
	var spec []byte
	if !stored || (activate && d.Script != "") {
		if spec, err = pluginSpec(d); err != nil {
			return hook.PluginVersion{}, err
		}
	}
	sum := sha256.Sum256(module)
	v, err := s.db.AddPluginVersion(ctx, storeNewVersion(domain, module, hex.EncodeToString(sum[:]), settings, activate, spec, s.limits.MaxPluginVersions),
		who.String(), time.Now())
	if err != nil {
		return hook.PluginVersion{}, err
	}
	if activate {
		s.syncNow(ctx)
	} else {
		s.announceVersion(ctx) // the other nodes compile it now, not when it is activated
	}
	return redactVersion(v), nil
}

// PluginVersions lists domain's stored plugin versions, newest first (a
// TOML domain has none).
func (rt *Runtime) PluginVersions(ctx context.Context, who hook.Principal, domain string) ([]hook.PluginVersion, error) {
	s, err := rt.domainState()
	if err != nil {
		return nil, err
	}
	if !who.Sees(domain) {
		return nil, notFound(domain)
	}
	vs, err := s.db.PluginVersions(ctx, domain)
	return redactVersions(vs), err
}

// ActivatePlugin makes version the one domain runs, on every node:
// activating an older one is a rollback. The version is judged again as
// serve would (the node's keys or limits may have changed since it was
// pushed).
func (rt *Runtime) ActivatePlugin(ctx context.Context, who hook.Principal, domain string, version int) (hook.PluginVersion, error) {
	s, err := rt.domainState()
	if err != nil {
		return hook.PluginVersion{}, err
	}
	if !who.Sees(domain) {
		return hook.PluginVersion{}, notFound(domain)
	}
	if err := s.writable(domain); err != nil {
		return hook.PluginVersion{}, err
	}
	d, stored, _, err := s.storedOrNew(ctx, domain)
	if err != nil {
		return hook.PluginVersion{}, err
	}
	if !stored {
		return hook.PluginVersion{}, notFound(domain)
	}
	plain := d
	plain.Script = ""
	key, err := s.checkKeep(ctx, plain, version, nil, nil)
	if err != nil {
		return hook.PluginVersion{}, err
	}
	defer s.trials.drop(ctx, key)
	var spec []byte
	if d.Script != "" {
		if spec, err = pluginSpec(d); err != nil {
			return hook.PluginVersion{}, err
		}
	}
	v, err := s.db.ActivatePluginVersion(ctx, domain, version, spec, who.String(), time.Now())
	if err != nil {
		return hook.PluginVersion{}, err
	}
	s.syncNow(ctx)
	return redactVersion(v), nil
}

// DeletePluginVersion deletes a stored version domain does not run (the
// running one: hook.ErrConflict).
func (rt *Runtime) DeletePluginVersion(ctx context.Context, who hook.Principal, domain string, version int) error {
	s, err := rt.domainState()
	if err != nil {
		return err
	}
	if !who.Sees(domain) {
		return notFound(domain)
	}
	if err := s.writable(domain); err != nil {
		return err
	}
	if err := s.db.DeletePluginVersion(ctx, domain, version, who.String(), time.Now()); err != nil {
		return err
	}
	s.afterDelete() // its module file and compiled code may go now (domains_prune.go)
	return nil
}

// DomainAudit returns domain's audit records, newest first.
func (rt *Runtime) DomainAudit(ctx context.Context, who hook.Principal, domain string, limit int) ([]hook.AuditEntry, error) {
	s, err := rt.domainState()
	if err != nil {
		return nil, err
	}
	if !who.Sees(domain) {
		return nil, notFound(domain)
	}
	es, err := s.db.DomainAudit(ctx, domain, limit)
	return redactAudit(es), err
}

// DomainSummary returns domain's deliveries by state and its plugin's
// calls by outcome on this node.
func (rt *Runtime) DomainSummary(ctx context.Context, who hook.Principal, domain string) (hook.DomainSummary, error) {
	s, err := rt.domainState()
	if err != nil {
		return hook.DomainSummary{}, err
	}
	if !who.Sees(domain) {
		return hook.DomainSummary{}, notFound(domain)
	}
	target := httpevents.DomainTargetPrefix + domain
	counts, err := s.db.TargetCounts(ctx, target)
	if err != nil {
		return hook.DomainSummary{}, err
	}
	out := hook.DomainSummary{Domain: domain, Target: target, Deliveries: counts}
	for _, m := range rt.mods.list {
		pr, ok := m.(hook.PluginReporter)
		if !ok {
			continue
		}
		for _, p := range pr.Plugins() {
			if p.Domain != domain {
				continue
			}
			if out.PluginCalls == nil {
				out.PluginCalls = map[string]int{}
			}
			for k, n := range p.Calls {
				out.PluginCalls[k] += int(n)
			}
		}
	}
	return out, nil
}

// errNoDryRun is TestPlugin's answer while the http_events module cannot
// dry-run.
var errNoDryRun = errors.New("plugin dry runs are not built into this hookd yet (httpevents has no DryRunReport)")

// domainDryRunner runs a candidate plugin on events and sign-ups without
// delivering or storing anything ((*httpevents.Events).DryRunReport).
type domainDryRunner interface {
	DryRunReport(ctx context.Context, d httpevents.Domain, in wasmscript.DryRunInput) (hook.DryRunReport, error)
}

// maxDryRunEvents bounds the events of one dry run.
const maxDryRunEvents = 100

// TestPlugin dry-runs a candidate plugin (req.Module, a stored
// req.Version, or the active version) against req.Events or the domain's
// last req.Last recorded events (10 when neither is given): nothing is
// delivered, nothing is stored. It answers for the events only;
// [Runtime.DryRunPlugin] answers for req.Signups too.
func (rt *Runtime) TestPlugin(ctx context.Context, who hook.Principal, domain string, req hook.DryRunRequest) ([]hook.DryRunResult, error) {
	rep, err := rt.DryRunPlugin(ctx, who, domain, req)
	if err != nil {
		return nil, err
	}
	return rep.Results, nil
}

// DryRunPlugin is TestPlugin's dry run, asking the candidate's
// hookd_v1_on_signup about req.Signups as well (after the events, with
// the same state in memory): per sign-up, what it would decide while the
// user waits (see [hook.DryRunSignupResult]), each in the language a
// live sign-up would be decided in (webapi.Service.SignupLanguage).
// With sign-ups and neither req.Events nor req.Last, no event runs.
func (rt *Runtime) DryRunPlugin(ctx context.Context, who hook.Principal, domain string, req hook.DryRunRequest) (hook.DryRunReport, error) {
	var rep hook.DryRunReport
	s, err := rt.domainState()
	if err != nil {
		return rep, err
	}
	if !who.Sees(domain) {
		return rep, notFound(domain)
	}
	if err := checkDomainID(domain); err != nil {
		return rep, err
	}
	if s.off != "" {
		return rep, fmt.Errorf("%w: stored domains: %s", hook.ErrConflict, s.off)
	}
	dr, ok := any(s.builder).(domainDryRunner)
	if !ok {
		return rep, errNoDryRun
	}
	if int64(len(req.Module)) > s.limits.MaxPluginSize {
		return rep, hook.Invalid("domain %q: module: %d bytes is more than the %d allowed ([domains] max_plugin_size)", domain, len(req.Module), s.limits.MaxPluginSize)
	}
	if len(req.Events) > maxDryRunEvents || req.Last > maxDryRunEvents || req.Last < 0 {
		return rep, hook.Invalid("domain %q: a dry run takes at most %d events (events or last)", domain, maxDryRunEvents)
	}
	signups, err := dryRunSignups(domain, req.Signups, rt.webapi().SignupLanguage)
	if err != nil {
		return rep, err
	}
	d, _, active, err := s.storedOrNew(ctx, domain)
	if err != nil {
		return rep, err
	}
	if cd, ok := s.configDomain(domain); ok {
		d = cd
	}
	d.Script = ""
	settings := []byte(req.Settings)
	if settings != nil {
		if settings, err = s.keepVersionSecrets(ctx, domain, req.Version, settings); err != nil {
			return rep, err
		}
	}
	if settings != nil {
		ps, err := decodePluginSettings(domain, settings)
		if err != nil {
			return rep, err
		}
		if ps.Plugin != nil {
			if err := s.checkOwnerGrants(ctx, who, domain, *ps.Plugin); err != nil {
				return rep, err
			}
		}
	}
	module := req.Module
	switch {
	case module != nil:
	case req.Version != 0 || active != 0:
		v := req.Version
		if v == 0 {
			v = active
		}
		pv, m, err := s.db.PluginVersion(ctx, domain, v)
		if err != nil {
			return rep, err
		}
		module = m
		if settings == nil {
			settings = pv.Settings
		}
	default:
		return rep, hook.Invalid("domain %q: nothing to test: upload a module, or name a stored version (the domain has none active)", domain)
	}
	d, err = s.withPlugin(ctx, d, 0, module, settings)
	if err != nil {
		return rep, err
	}
	if err := (&httpevents.Domains{d}).Validate(); err != nil {
		return rep, hook.Invalid("%s", err.Error())
	}
	evs, err := s.dryRunEvents(ctx, domain, req)
	if err != nil {
		return rep, err
	}
	rep, err = dr.DryRunReport(ctx, d, wasmscript.DryRunInput{Events: evs, Signups: signups, Stubs: req.Stubs, Live: req.LiveHTTP})
	if err != nil {
		return hook.DryRunReport{}, err
	}
	if rep.Results == nil {
		rep.Results = []hook.DryRunResult{}
	}
	return rep, nil
}

// dryRunSignups checks a dry run's sign-ups: at most maxDryRunEvents,
// each with a username, signing up to the domain (DOMAIN "" is set to it).
// Each one's language becomes lang's (webapi.Service.SignupLanguage: "de"
// of "de-AT", the configured [webapi] language for none), as a live
// sign-up's is before its plugin is asked, so that the candidate reads
// what it would read then; each result shows its sign-up as the plugin
// read it.
func dryRunSignups(domain string, in []hook.DryRunSignup, lang func(string) string) ([]hook.DryRunSignup, error) {
	if len(in) > maxDryRunEvents {
		return nil, hook.Invalid("domain %q: a dry run takes at most %d sign-ups, got %d", domain, maxDryRunEvents, len(in))
	}
	out := make([]hook.DryRunSignup, 0, len(in))
	for i, su := range in {
		switch {
		case strings.TrimSpace(su.Username) == "":
			return nil, hook.Invalid("signups[%d].username: empty; give the user name that signs up", i)
		case su.Domain == "":
			su.Domain = domain
		case su.Domain != domain:
			return nil, hook.Invalid("signups[%d].domain: %q is not the domain tested (%q); leave it empty or give %q", i, su.Domain, domain, domain)
		}
		su.Language = lang(su.Language)
		out = append(out, su)
	}
	return out, nil
}

// dryRunEvents are the events of a dry run: the request's (each checked
// as an emitted event is, with DOMAIN_ID set to the domain if missing),
// or the domain's last recorded ones.
func (s *domainsState) dryRunEvents(ctx context.Context, domain string, req hook.DryRunRequest) ([]*hook.Event, error) {
	fields := req.Events
	if len(fields) == 0 && req.Last == 0 && len(req.Signups) > 0 {
		return nil, nil // sign-ups only
	}
	if len(fields) == 0 {
		n := req.Last
		if n == 0 {
			n = 10
		}
		recorded, err := s.db.TargetEvents(ctx, httpevents.DomainTargetPrefix+domain, n)
		if err != nil {
			return nil, err
		}
		if len(recorded) == 0 {
			return nil, hook.Invalid("domain %q: no recorded events to replay; give events in the request", domain)
		}
		evs := make([]*hook.Event, 0, len(recorded))
		for _, f := range recorded { // checked when they were emitted
			evs = append(evs, &hook.Event{ID: f[hook.FieldEventID], Fields: f})
		}
		return evs, nil
	}
	evs := make([]*hook.Event, 0, len(fields))
	for i, f := range fields {
		c := make(map[string]string, len(f)+1)
		for k, v := range f {
			c[k] = v
		}
		if c["DOMAIN_ID"] == "" {
			c["DOMAIN_ID"] = domain
		}
		if c["DOMAIN_ID"] != domain {
			return nil, hook.Invalid("event %d of %d: DOMAIN_ID %q is not the domain's (%q)", i+1, len(fields), c["DOMAIN_ID"], domain)
		}
		ev, err := hook.NewEvent(c, time.Now(), "dry-run")
		if err != nil {
			return nil, hook.Invalid("event %d of %d: %s", i+1, len(fields), err.Error())
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// PluginLogs returns the last lines domain's plugin wrote on every node,
// merged by time, oldest first (at most limit; 0: 200).
func (rt *Runtime) PluginLogs(ctx context.Context, who hook.Principal, domain string, limit int) ([]hook.PluginLogLine, error) {
	s, err := rt.domainState()
	if err != nil {
		return nil, err
	}
	if !who.Sees(domain) {
		return nil, notFound(domain)
	}
	s.flushLogs(ctx) // this node's newest lines too
	return s.db.PluginLog(ctx, domain, limit)
}

// flushLogs copies this node's plugin log rings that changed since the
// last flush to the store.
func (s *domainsState) flushLogs(ctx context.Context) {
	if s.logs == nil {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	domains, seq := s.logDomains()
	if seq != 0 && seq == s.logSeq {
		return // nothing logged since the last flush
	}
	flushed := true
	for _, domain := range domains {
		lines := s.logs.PluginLogs(domain)
		if len(lines) == 0 {
			continue
		}
		last := lines[len(lines)-1]
		fp := fmt.Sprint(len(lines), last.At.UnixNano(), last.EventID, last.Line)
		if s.logSeen[domain] == fp {
			continue
		}
		for i := range lines {
			lines[i].Node, lines[i].Domain = s.node, domain
		}
		if err := s.db.ReplacePluginLog(ctx, s.node, domain, lines); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("plugin logs: write", slog.String("domain", domain), slog.Any("error", err))
			}
			flushed = false
			continue
		}
		s.logSeen[domain] = fp
	}
	if flushed {
		s.logSeq = seq
	}
}

// logDomainLister lists the domains whose plugins logged on this node,
// and how many lines were added ever ((*httpevents.Events).LogDomains).
type logDomainLister interface {
	LogDomains() ([]string, uint64)
}

// logDomains are the domains whose log rings to look at, and the count
// of lines logged ever (0: unknown): those that logged (when the module
// says), else every TOML and stored domain.
func (s *domainsState) logDomains() ([]string, uint64) {
	if l, ok := s.logs.(logDomainLister); ok {
		return l.LogDomains()
	}
	var ds []string
	for _, d := range s.config {
		ds = append(ds, d.ID)
	}
	s.mu.Lock()
	for id := range s.applied {
		ds = append(ds, id)
	}
	s.mu.Unlock()
	return ds, 0
}

// storeNewVersion is the store's record of a pushed version.
func storeNewVersion(domain string, module []byte, sum string, settings []byte, activate bool, spec []byte, max int) store.NewPluginVersion {
	return store.NewPluginVersion{Domain: domain, Module: module, SHA256: sum, Settings: settings, Activate: activate, Spec: spec, MaxVersions: max}
}
