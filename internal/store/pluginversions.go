package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Plugin versions (hookd_plugin_version, migration 6): the modules domain
// owners upload, numbered per domain from 1, kept with their settings
// until deleted. The domain's active_version says which one runs; moving
// it is a change like any other (audited, the revision bumped), which is
// what makes a rollback one call that every node follows.

// NewPluginVersion is a plugin version to store, checked by the caller
// (compiled and judged as serve would).
type NewPluginVersion struct {
	Domain   string
	Module   []byte
	SHA256   string // hex SHA-256 of Module
	Settings []byte // JSON {"plugin": {...}, "config": {...}}; nil: none
	// Activate makes it the domain's running version.
	Activate bool
	// Spec is the domain's settings if it is not stored yet (a push to a
	// domain with no record creates it), or, when activating, its new
	// settings (a URL script gives way to the plugin); nil: unchanged.
	Spec []byte
	// MaxVersions bounds the domain's stored versions (0: no bound).
	MaxVersions int
}

// ErrTooManyVersions is wrapped by AddPluginVersion when the domain holds
// its most versions; it matches hook.ErrConflict.
var ErrTooManyVersions = fmt.Errorf("%w: too many plugin versions", hook.ErrConflict)

const versionCols = `v.domain, v.version, v.sha256, v.size, v.settings, v.created_at, v.created_by,
	CASE WHEN d.active_version = v.version THEN 1 ELSE 0 END`

func scanVersion(r row) (hook.PluginVersion, error) {
	var (
		v        hook.PluginVersion
		settings string
		created  int64
		active   int
	)
	if err := r.Scan(&v.Domain, &v.Version, &v.SHA256, &v.Size, &settings, &created, &v.CreatedBy, &active); err != nil {
		return v, err
	}
	if settings != "" && settings != "null" {
		v.Settings = json.RawMessage(settings)
	}
	v.CreatedAt, v.Active = fromMicros(created), active == 1
	return v, nil
}

// VersionStored is the payload of the DomainsChannel notification sent
// when a plugin version is stored without being activated.
const VersionStored = "version"

// AddPluginVersion stores nv as domain's next version (creating the
// domain with nv.Spec if it is not stored), activating it if asked, as
// actor.
func (db *DB) AddPluginVersion(ctx context.Context, nv NewPluginVersion, actor string, now time.Time) (hook.PluginVersion, error) {
	var out hook.PluginVersion
	c := Change{Actor: actor, Domain: nv.Domain, Action: "plugin.push"}
	err := db.change(ctx, now, c, nv.Activate, func(tx Tx, stamp int64) (any, error) {
		var n, max int
		if err := tx.queryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(version), 0) FROM hookd_plugin_version WHERE domain = ?`, nv.Domain).Scan(&n, &max); err != nil {
			return nil, fmt.Errorf("store: plugin versions of %q: %w", nv.Domain, err)
		}
		if nv.MaxVersions > 0 && n >= nv.MaxVersions {
			return nil, fmt.Errorf("%w: domain %q holds %d plugin versions, the most allowed ([domains] max_plugin_versions = %d); delete one it does not run first",
				ErrTooManyVersions, nv.Domain, n, nv.MaxVersions)
		}
		old, err := storedDomain(ctx, tx, nv.Domain)
		created := errors.Is(err, hook.ErrNotFound)
		switch {
		case created:
			spec := nv.Spec
			if spec == nil {
				spec = []byte("{}")
			}
			if _, err := tx.exec(ctx, `INSERT INTO hookd_domain (id, spec, active_version, revision, stamp, created_at, updated_at, updated_by)
				VALUES (?, ?, NULL, 1, ?, ?, ?, ?)`, nv.Domain, string(spec), stamp, micros(now), micros(now), actor); err != nil {
				return nil, fmt.Errorf("store: create domain %q: %w", nv.Domain, err)
			}
		case err != nil:
			return nil, err
		}
		// After a domain's deletion its numbers start again; never reuse
		// one while the domain lives, so that "version 3" means one module.
		version := max + 1
		settings := nv.Settings
		if settings == nil {
			settings = []byte("{}")
		}
		if _, err := tx.exec(ctx, `INSERT INTO hookd_plugin_version (domain, version, sha256, size, module, settings, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, nv.Domain, version, nv.SHA256, len(nv.Module), nv.Module, string(settings), micros(now), actor); err != nil {
			return nil, fmt.Errorf("store: store plugin version: %w", err)
		}
		switch {
		case nv.Activate:
			if err := activate(ctx, tx, nv.Domain, version, nv.Spec, stamp, actor, now); err != nil {
				return nil, err
			}
		case tx.Dialect() == Postgres:
			// Nothing that runs changed, so no revision moves; tell the
			// other nodes anyway, so that they compile the version now
			// rather than when it is activated (payload "version").
			if _, err := tx.exec(ctx, `SELECT pg_notify(?, ?)`, DomainsChannel, VersionStored); err != nil {
				return nil, fmt.Errorf("store: notify plugin version: %w", err)
			}
		}
		out, err = pluginVersion(ctx, tx, nv.Domain, version)
		return map[string]any{"version": version, "sha256": nv.SHA256, "size": len(nv.Module), "activated": nv.Activate,
			"previous_version": old.ActiveVersion, "domain_created": created, "settings": json.RawMessage(settings)}, err
	})
	return out, err
}

func pluginVersion(ctx context.Context, tx Tx, domain string, version int) (hook.PluginVersion, error) {
	v, err := scanVersion(tx.queryRow(ctx, `SELECT `+versionCols+` FROM hookd_plugin_version v JOIN hookd_domain d ON d.id = v.domain
		WHERE v.domain = ? AND v.version = ?`, domain, version))
	if errors.Is(err, hook.ErrNotFound) {
		return v, fmt.Errorf("domain %q has no plugin version %d: %w", domain, version, hook.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("store: plugin version: %w", err)
	}
	return v, nil
}

// PluginVersions returns domain's stored plugin versions, newest first.
func (db *DB) PluginVersions(ctx context.Context, domain string) ([]hook.PluginVersion, error) {
	rs, err := db.conn().query(ctx, `SELECT `+versionCols+` FROM hookd_plugin_version v JOIN hookd_domain d ON d.id = v.domain
		WHERE v.domain = ? ORDER BY v.version DESC`, domain)
	if err != nil {
		return nil, fmt.Errorf("store: plugin versions of %q: %w", domain, err)
	}
	defer rs.Close()
	var out []hook.PluginVersion
	for rs.Next() {
		v, err := scanVersion(rs)
		if err != nil {
			return nil, fmt.Errorf("store: plugin versions of %q: %w", domain, err)
		}
		out = append(out, v)
	}
	return out, unavailable(rs.Err())
}

// PluginVersion returns one stored version with its module's bytes, or
// an error matching hook.ErrNotFound.
func (db *DB) PluginVersion(ctx context.Context, domain string, version int) (hook.PluginVersion, []byte, error) {
	v, err := pluginVersion(ctx, db.conn(), domain, version)
	if err != nil {
		return v, nil, err
	}
	var module []byte
	if err := db.conn().queryRow(ctx, `SELECT module FROM hookd_plugin_version WHERE domain = ? AND version = ?`, domain, version).Scan(&module); err != nil {
		return v, nil, fmt.Errorf("store: plugin module: %w", err)
	}
	return v, module, nil
}

// activate makes version the one domain runs, with spec as its settings
// (nil: unchanged).
func activate(ctx context.Context, tx Tx, domain string, version int, spec []byte, stamp int64, actor string, now time.Time) error {
	q, args := `UPDATE hookd_domain SET active_version = ?, revision = revision + 1, stamp = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
		[]any{version, stamp, micros(now), actor, domain}
	if spec != nil {
		q, args = `UPDATE hookd_domain SET active_version = ?, spec = ?, revision = revision + 1, stamp = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
			[]any{version, string(spec), stamp, micros(now), actor, domain}
	}
	if _, err := tx.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("store: activate plugin version: %w", err)
	}
	return nil
}

// ActivatePluginVersion makes version the one domain runs (an older one:
// a rollback), with spec as the domain's settings (nil: unchanged), as
// actor.
func (db *DB) ActivatePluginVersion(ctx context.Context, domain string, version int, spec []byte, actor string, now time.Time) (hook.PluginVersion, error) {
	var out hook.PluginVersion
	err := db.change(ctx, now, Change{Actor: actor, Domain: domain, Action: "plugin.activate"}, true, func(tx Tx, stamp int64) (any, error) {
		old, err := storedDomain(ctx, tx, domain)
		if err != nil {
			return nil, err
		}
		if _, err := pluginVersion(ctx, tx, domain, version); err != nil {
			return nil, err
		}
		if err := activate(ctx, tx, domain, version, spec, stamp, actor, now); err != nil {
			return nil, err
		}
		out, err = pluginVersion(ctx, tx, domain, version)
		return map[string]any{"version": version, "previous_version": old.ActiveVersion, "sha256": out.SHA256}, err
	})
	return out, err
}

// DeletePluginVersion deletes a version domain does not run, as actor; the
// running one is an error matching hook.ErrConflict, an unknown one
// hook.ErrNotFound.
func (db *DB) DeletePluginVersion(ctx context.Context, domain string, version int, actor string, now time.Time) error {
	return db.change(ctx, now, Change{Actor: actor, Domain: domain, Action: "plugin.delete"}, false, func(tx Tx, _ int64) (any, error) {
		v, err := pluginVersion(ctx, tx, domain, version)
		if err != nil {
			return nil, err
		}
		if v.Active {
			return nil, fmt.Errorf("%w: plugin version %d is the one domain %q runs; activate another first", hook.ErrConflict, version, domain)
		}
		if _, err := tx.exec(ctx, `DELETE FROM hookd_plugin_version WHERE domain = ? AND version = ?`, domain, version); err != nil {
			return nil, fmt.Errorf("store: delete plugin version: %w", err)
		}
		return map[string]any{"version": version, "sha256": v.SHA256}, nil
	})
}
