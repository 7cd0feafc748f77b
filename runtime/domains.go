package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/store"
)

// Domains as data (issue 17): a domain's integration stored through the
// API as well as in [[domain]], shared by every node. The store holds the
// domains, their plugin versions, tokens and audit trail
// (internal/store/domains.go); this file judges a change exactly as start
// would and writes it, and the node watcher (domains_watch.go) applies it
// on every node.
//
// Every method takes who asks: the operator sees every domain, a domain
// token only its own, and a domain the principal may not see is
// hook.ErrNotFound, never a "forbidden" that would say it exists.

// errDomainsOff is the error of every domains method on a runtime that
// has not started domains as data (Check's modules, a runtime built
// before the node watcher is wired).
var errDomainsOff = errors.New("domains as data are not running on this runtime (the node watcher was not started)")

// state returns the runtime's domains state, or errDomainsOff.
func (rt *Runtime) domainState() (*domainsState, error) {
	if rt == nil || rt.domains == nil {
		return nil, errDomainsOff
	}
	return rt.domains, nil
}

// notFound is the answer about a domain who may not see, or that does not
// exist: the same text either way.
func notFound(id string) error {
	return fmt.Errorf("domain %q: %w", id, hook.ErrNotFound)
}

// Domains returns the domains who may see, TOML [[domain]] entries
// (source "config", read-only) and stored ones, by id.
func (rt *Runtime) Domains(ctx context.Context, who hook.Principal) ([]hook.DomainInfo, error) {
	s, err := rt.domainState()
	if err != nil {
		return nil, err
	}
	stored, err := s.db.StoredDomains(ctx)
	if err != nil {
		return nil, err
	}
	var out []hook.DomainInfo
	for _, d := range s.config {
		if who.Sees(d.ID) {
			out = append(out, configInfo(d))
		}
	}
	for _, d := range stored {
		if who.Sees(d.ID) && !s.isConfig(d.ID) { // the file's entry wins (it is what runs)
			info, err := s.info(ctx, d)
			if err != nil {
				return nil, err
			}
			out = append(out, info)
		}
	}
	sortInfos(out)
	return out, nil
}

// Domain returns one domain who may see.
func (rt *Runtime) Domain(ctx context.Context, who hook.Principal, id string) (hook.DomainInfo, error) {
	s, err := rt.domainState()
	if err != nil {
		return hook.DomainInfo{}, err
	}
	if !who.Sees(id) {
		return hook.DomainInfo{}, notFound(id)
	}
	if d, ok := s.configDomain(id); ok {
		return configInfo(d), nil
	}
	d, err := s.db.StoredDomain(ctx, id)
	if errors.Is(err, hook.ErrNotFound) {
		return hook.DomainInfo{}, notFound(id)
	}
	if err != nil {
		return hook.DomainInfo{}, err
	}
	return s.info(ctx, d)
}

// PutDomain stores domain id's settings (JSON with the keys of a
// [[domain]] entry: script, strict, combine_interval, plugin, config; an
// "id" must be id), creating or replacing them, after judging them as
// start would (the same Validate, the same build: a plugin is compiled
// and checked as serve would). It returns once the change is committed
// and running on this node; the other nodes follow within their next poll
// (domains_watch.go). A domain token may put only its own domain, and may
// not grant its plugin the operator's keys or private networks, nor name
// files or a proxy in its delivery settings (checkOwnerDelivery). Every
// view shows secrets as "<redacted>"; one sent back where the stored
// settings hold a secret at the same place keeps it, so that a GET, edit,
// PUT round trip changes only what was edited (keepSecrets).
func (rt *Runtime) PutDomain(ctx context.Context, who hook.Principal, id string, spec []byte) (hook.DomainInfo, error) {
	s, err := rt.domainState()
	if err != nil {
		return hook.DomainInfo{}, err
	}
	if !who.Sees(id) {
		return hook.DomainInfo{}, notFound(id)
	}
	if err := s.writable(id); err != nil {
		return hook.DomainInfo{}, err
	}
	// What is stored: the secrets a "<redacted>" of a GET, edit, PUT round
	// trip stands for (domains_redact.go), and the active plugin version.
	var (
		active int
		stored *httpevents.Domain
	)
	if cur, err := s.db.StoredDomain(ctx, id); err == nil {
		active = cur.ActiveVersion
		if sd, _, err := decodeDomain(id, cur.Spec); err == nil {
			stored = &sd
		}
	} else if !errors.Is(err, hook.ErrNotFound) {
		return hook.DomainInfo{}, err
	}
	d, norm, err := decodeDomainWith(id, spec, func(d *httpevents.Domain) error { return keepSecrets(id, d, stored) })
	if err != nil {
		return hook.DomainInfo{}, err
	}
	if err := s.checkOwnerGrants(ctx, who, id, d.Plugin); err != nil {
		return hook.DomainInfo{}, err
	}
	if err := s.checkOwnerDelivery(ctx, who, id, d.Delivery); err != nil {
		return hook.DomainInfo{}, err
	}
	// Judge it with what it would run: its active stored plugin, if its
	// script is "".
	if d.Script == "" && active == 0 {
		return hook.DomainInfo{}, hook.Invalid("domain %q: script: \"\" runs the domain's active stored plugin, and it has none; "+
			"upload one first (PUT /v1/domains/%s/plugin, hookd plugin push -domain %s), or set an http(s) URL", id, id, id)
	}
	// The build that judged it is the one this node runs (domains_trial.go).
	key, err := s.checkKeep(ctx, d, active, nil, nil)
	if err != nil {
		return hook.DomainInfo{}, err
	}
	defer s.trials.drop(ctx, key)
	row, err := s.db.PutDomain(ctx, id, norm, who.String(), time.Now())
	if err != nil {
		return hook.DomainInfo{}, err
	}
	s.syncNow(ctx)
	return s.info(ctx, row)
}

// DeleteDomain deletes a stored domain with its plugin versions and
// tokens (operator only; its audit trail stays). Its target leaves every
// node, and its live deliveries are discarded: nothing would ever deliver
// them, and a pending delivery is never pruned. They stay in the log as
// discarded, and can be replayed if the domain comes back.
func (rt *Runtime) DeleteDomain(ctx context.Context, who hook.Principal, id string) error {
	s, err := rt.domainState()
	if err != nil {
		return err
	}
	if !who.IsOperator() {
		return notFound(id)
	}
	if err := s.writable(id); err != nil {
		return err
	}
	if err := s.db.DeleteDomain(ctx, id, who.String(), time.Now()); err != nil {
		if errors.Is(err, hook.ErrNotFound) {
			return notFound(id)
		}
		return err
	}
	s.syncNow(ctx)
	s.afterDelete() // its versions' module files and compiled code may go now (domains_prune.go)
	if d, ok := any(rt.eng).(targetDiscarder); ok {
		if _, err := d.DiscardTarget(ctx, httpevents.DomainTargetPrefix+id, "domain "+id+" deleted by "+who.String()); err != nil {
			return fmt.Errorf("domain %q deleted, but its waiting deliveries were not all discarded (discard them with the deliveries routes): %w", id, err)
		}
	}
	return nil
}

// targetDiscarder discards a target's live deliveries
// ((*engine.Engine).DiscardTarget).
type targetDiscarder interface {
	DiscardTarget(ctx context.Context, name, reason string) (int, error)
}

// domainKeys are the keys a stored domain's settings may have, for the
// error that names an unknown one.
const domainKeys = "id, script, strict, combine_interval, plugin, config, delivery"

// decodeDomain decodes a stored domain's settings strictly (an unknown key
// is refused, naming it and the allowed ones) and returns the entry, with
// id set, and its settings re-encoded without the id (what is stored).
func decodeDomain(id string, spec []byte) (httpevents.Domain, []byte, error) {
	return decodeDomainWith(id, spec, nil)
}

// decodeDomainWith is decodeDomain with fill, when not nil, applied to the
// decoded entry before it is judged: a PUT puts the stored secrets back in
// place of their "<redacted>" (keepSecrets), which the checks would
// refuse (a signing secret must start with whsec_). Settings read back
// from the store are decoded without it: they were filled when written.
func decodeDomainWith(id string, spec []byte, fill func(*httpevents.Domain) error) (httpevents.Domain, []byte, error) {
	var d httpevents.Domain
	if len(bytes.TrimSpace(spec)) == 0 {
		spec = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(spec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		return d, nil, hook.Invalid("domain %q: settings: %s (the keys are those of a [[domain]] entry: %s)", id, msg, domainKeys)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return d, nil, hook.Invalid("domain %q: settings: one JSON object expected, found more after it", id)
	}
	if d.ID != "" && d.ID != id {
		return d, nil, hook.Invalid("domain %q: settings: id %q differs from the domain's id %q (leave it out, or make it %q)", id, d.ID, id, id)
	}
	if err := checkDomainID(id); err != nil {
		return d, nil, err
	}
	d.ID = id
	if fill != nil {
		if err := fill(&d); err != nil {
			return d, nil, err
		}
	}
	if d.Script != "" && !strings.HasPrefix(d.Script, "http://") && !strings.HasPrefix(d.Script, "https://") {
		return d, nil, hook.Invalid("domain %q: script: a stored domain's script is an http:// or https:// URL, or \"\" to run its active "+
			"stored plugin (uploaded with PUT /v1/domains/%s/plugin); a file on the node's disk is for config.toml's [[domain]], got %q", id, id, d.Script)
	}
	if err := (&httpevents.Domains{d}).Validate(); err != nil && d.Script != "" {
		return d, nil, hook.Invalid("%s", err.Error())
	}
	if err := d.ValidateDelivery(); err != nil && d.Script == "" { // the rest is judged with the stored plugin it runs
		return d, nil, hook.Invalid("%s", err.Error())
	}
	norm := d
	norm.ID = ""
	out, err := json.Marshal(norm)
	if err != nil {
		return d, nil, fmt.Errorf("domain %q: encode settings: %w", id, err)
	}
	return d, out, nil
}

// checkGrants refuses, for a domain token, the plugin settings p that
// reach beyond the domain and that the operator has not granted it
// already (base: what the domain's stored settings and active version
// hold): the operator's key files (plugin.keys), private networks past
// the SSRF guard (plugin.allow_private), and more of the node's memory or
// state than a plugin gets by default (memory_pages, instances,
// state_max_keys, state_max_bytes): one domain must not be able to take
// the node from the others. The operator may set them all; an owner may
// keep what the operator set (a GET, edit, PUT round trip works).
func checkGrants(who hook.Principal, id string, p, base wasmscript.Settings) error {
	if who.IsOperator() {
		return nil
	}
	for _, k := range p.Keys {
		if !slices.Contains(base.Keys, k) {
			return hook.Invalid("domain %q: plugin.keys: the operator's key files can be granted only by the operator (%q is not granted to this domain)", id, k)
		}
	}
	for _, a := range p.AllowPrivate {
		if !slices.Contains(base.AllowPrivate, a) {
			return hook.Invalid("domain %q: plugin.allow_private: private networks can be opened only by the operator (%q is not granted to this domain)", id, a)
		}
	}
	for _, c := range []struct {
		key             string
		got, most, base int64
	}{
		{"memory_pages", int64(p.MemoryPages), hostapi.DefaultMemoryPages, int64(base.MemoryPages)},
		{"instances", int64(p.Instances), hostapi.DefaultInstances, int64(base.Instances)},
		{"state_max_keys", int64(p.StateMaxKeys), hostapi.DefaultStateMaxKeys, int64(base.StateMaxKeys)},
		{"state_max_bytes", p.StateMaxBytes, hostapi.DefaultStateMaxBytes, base.StateMaxBytes},
	} {
		if most := max(c.most, c.base); c.got > most {
			return hook.Invalid("domain %q: plugin.%s: a domain token may set at most %d (the default, or what the operator granted), got %d; the operator may grant more",
				id, c.key, most, c.got)
		}
	}
	return nil
}

// granted returns what the operator has granted domain id's plugin so
// far: the union of the stored settings' plugin table and the active
// version's (keys, private networks, the largest limits).
func (s *domainsState) granted(ctx context.Context, id string) (wasmscript.Settings, error) {
	var out wasmscript.Settings
	row, err := s.db.StoredDomain(ctx, id)
	if errors.Is(err, hook.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	var all []wasmscript.Settings
	if d, _, err := decodeDomain(id, row.Spec); err == nil {
		all = append(all, d.Plugin)
	}
	if row.ActiveVersion != 0 {
		v, _, err := s.db.PluginVersion(ctx, id, row.ActiveVersion)
		if err != nil {
			return out, err
		}
		if ps, err := decodePluginSettings(id, v.Settings); err == nil && ps.Plugin != nil {
			all = append(all, *ps.Plugin)
		}
	}
	for _, p := range all {
		out.Keys = append(out.Keys, p.Keys...)
		out.AllowPrivate = append(out.AllowPrivate, p.AllowPrivate...)
		out.MemoryPages = max(out.MemoryPages, p.MemoryPages)
		out.Instances = max(out.Instances, p.Instances)
		out.StateMaxKeys = max(out.StateMaxKeys, p.StateMaxKeys)
		out.StateMaxBytes = max(out.StateMaxBytes, p.StateMaxBytes)
	}
	return out, nil
}

// checkOwnerGrants is checkGrants against what domain id holds now.
func (s *domainsState) checkOwnerGrants(ctx context.Context, who hook.Principal, id string, p wasmscript.Settings) error {
	if who.IsOperator() {
		return nil
	}
	base, err := s.granted(ctx, id)
	if err != nil {
		return err
	}
	return checkGrants(who, id, p, base)
}

// configInfo shows a [[domain]] entry of the TOML file, its secrets
// redacted as `hookd config` redacts them (a plugin's config may hold the
// proxy's XMLMSG secret, which is the operator's, not the domain's).
func configInfo(d httpevents.Domain) hook.DomainInfo {
	spec, _ := marshalShown(redact(reflect.ValueOf(d), redactPath).Interface())
	return hook.DomainInfo{ID: d.ID, Source: hook.DomainFromConfig, Spec: spec, Target: httpevents.DomainTargetPrefix + d.ID}
}

// info shows a stored domain, with its active plugin version, their
// secrets redacted by the same rule as a TOML domain's (redactSpec): a
// domain's header values and signing secrets, and what the operator put
// in its config, are shown to no one, its owner included; a PUT may send
// "<redacted>" back to keep them.
func (s *domainsState) info(ctx context.Context, d store.StoredDomain) (hook.DomainInfo, error) {
	out := hook.DomainInfo{ID: d.ID, Source: hook.DomainFromStore, Spec: redactSpec(d.Spec), Revision: d.Revision,
		UpdatedAt: d.UpdatedAt, UpdatedBy: d.UpdatedBy, Target: httpevents.DomainTargetPrefix + d.ID}
	if d.ActiveVersion != 0 {
		v, _, err := s.db.PluginVersion(ctx, d.ID, d.ActiveVersion)
		if err != nil {
			return out, err
		}
		v = redactVersion(v)
		out.Plugin = &v
	}
	return out, nil
}

func sortInfos(ds []hook.DomainInfo) {
	slices.SortFunc(ds, func(a, b hook.DomainInfo) int { return strings.Compare(a.ID, b.ID) })
}
