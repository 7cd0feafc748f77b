package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// migrations are applied in order; each entry is one version. Both dialects
// share the statements, with the few type words that differ substituted:
// {{ID}} is the auto-increment key, {{BIGINT}} a 64-bit integer, {{BYTES}}
// a byte string.
var migrations = []string{
	// 1: events, deliveries, attempts, disabled targets.
	`CREATE TABLE hookd_event (
		id         TEXT PRIMARY KEY,
		created_at {{BIGINT}} NOT NULL,
		fields     TEXT NOT NULL
	);
	CREATE TABLE hookd_delivery (
		id              {{ID}},
		event_id        TEXT NOT NULL REFERENCES hookd_event (id),
		target          TEXT NOT NULL,
		state           TEXT NOT NULL,
		gen             INTEGER NOT NULL DEFAULT 0,
		attempts        INTEGER NOT NULL DEFAULT 0,
		base_attempts   INTEGER NOT NULL DEFAULT 0,
		since           {{BIGINT}} NOT NULL,
		created_at      {{BIGINT}} NOT NULL,
		updated_at      {{BIGINT}} NOT NULL,
		next_attempt_at {{BIGINT}},
		last_status     INTEGER NOT NULL DEFAULT 0,
		last_error      TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX hookd_delivery_state ON hookd_delivery (state, id);
	CREATE INDEX hookd_delivery_target ON hookd_delivery (target, id);
	CREATE INDEX hookd_delivery_event ON hookd_delivery (event_id);
	CREATE TABLE hookd_attempt (
		delivery_id {{BIGINT}} NOT NULL REFERENCES hookd_delivery (id),
		n           INTEGER NOT NULL,
		at          {{BIGINT}} NOT NULL,
		latency_us  {{BIGINT}} NOT NULL,
		status      INTEGER NOT NULL,
		error       TEXT NOT NULL,
		response    TEXT NOT NULL,
		PRIMARY KEY (delivery_id, n)
	);
	CREATE TABLE hookd_target (
		name        TEXT PRIMARY KEY,
		disabled_at {{BIGINT}} NOT NULL,
		reason      TEXT NOT NULL
	);`,
	// 2: reply summaries, session records, combined-delivery state.
	`ALTER TABLE hookd_delivery ADD COLUMN last_summary TEXT NOT NULL DEFAULT '';
	ALTER TABLE hookd_attempt ADD COLUMN summary TEXT NOT NULL DEFAULT '';
	CREATE TABLE hookd_session_event (
		session_id TEXT NOT NULL,
		event_id   TEXT NOT NULL REFERENCES hookd_event (id),
		PRIMARY KEY (session_id, event_id)
	);
	CREATE TABLE hookd_batch (
		target   TEXT PRIMARY KEY,
		has_job  INTEGER NOT NULL DEFAULT 0,
		failures INTEGER NOT NULL DEFAULT 0
	);`,
	// 3: target states (disabled or paused, by whom), idempotency keys,
	// the write-health probe, and an index for pruning by age.
	`ALTER TABLE hookd_target ADD COLUMN state TEXT NOT NULL DEFAULT 'disabled';
	ALTER TABLE hookd_target ADD COLUMN actor TEXT NOT NULL DEFAULT 'hookd';
	CREATE TABLE hookd_idempotency (
		key        TEXT PRIMARY KEY,
		event_id   TEXT NOT NULL,
		hash       TEXT NOT NULL,
		created_at {{BIGINT}} NOT NULL
	);
	CREATE INDEX hookd_idempotency_created ON hookd_idempotency (created_at);
	CREATE TABLE hookd_health (
		id INTEGER PRIMARY KEY,
		at {{BIGINT}} NOT NULL
	);
	CREATE INDEX hookd_event_created ON hookd_event (created_at, id);`,
	// 4: the lease of a delivery its emitting node attempts at once, with
	// no River job unless the lease runs out (engine/direct.go).
	`ALTER TABLE hookd_delivery ADD COLUMN held_until {{BIGINT}};
	CREATE INDEX hookd_delivery_held ON hookd_delivery (held_until) WHERE held_until IS NOT NULL;`,
	// 5: the durable state of WASM plugins, by domain and key, and each
	// domain's totals, which its writes lock (pluginstate.go).
	`CREATE TABLE hookd_plugin_state (
		domain     TEXT NOT NULL,
		key        TEXT NOT NULL,
		value      {{BYTES}} NOT NULL,
		size       {{BIGINT}} NOT NULL,
		expires_at {{BIGINT}},
		updated_at {{BIGINT}} NOT NULL,
		PRIMARY KEY (domain, key)
	);
	CREATE INDEX hookd_plugin_state_expires ON hookd_plugin_state (domain, expires_at) WHERE expires_at IS NOT NULL;
	CREATE TABLE hookd_plugin_state_usage (
		domain TEXT PRIMARY KEY,
		keys   {{BIGINT}} NOT NULL,
		bytes  {{BIGINT}} NOT NULL
	);`,
	// 6: domains as data (issue 17): stored domains, the revision every
	// node polls, plugin versions, domain tokens, the audit trail and
	// the plugin logs of every node (domains.go, domaintokens.go,
	// pluginversions.go, pluginlog.go).
	`CREATE TABLE hookd_domain (
		id             TEXT PRIMARY KEY,
		spec           TEXT NOT NULL,
		active_version INTEGER,
		revision       {{BIGINT}} NOT NULL,
		stamp          {{BIGINT}} NOT NULL,
		created_at     {{BIGINT}} NOT NULL,
		updated_at     {{BIGINT}} NOT NULL,
		updated_by     TEXT NOT NULL
	);
	CREATE TABLE hookd_domain_revision (
		id       INTEGER PRIMARY KEY,
		revision {{BIGINT}} NOT NULL
	);
	INSERT INTO hookd_domain_revision (id, revision) VALUES (1, 0);
	CREATE TABLE hookd_plugin_version (
		domain     TEXT NOT NULL,
		version    INTEGER NOT NULL,
		sha256     TEXT NOT NULL,
		size       {{BIGINT}} NOT NULL,
		module     {{BYTES}} NOT NULL,
		settings   TEXT NOT NULL,
		created_at {{BIGINT}} NOT NULL,
		created_by TEXT NOT NULL,
		PRIMARY KEY (domain, version)
	);
	CREATE TABLE hookd_domain_token (
		id         TEXT PRIMARY KEY,
		domain     TEXT NOT NULL,
		name       TEXT NOT NULL,
		hash       TEXT NOT NULL,
		created_at {{BIGINT}} NOT NULL,
		created_by TEXT NOT NULL,
		expires_at {{BIGINT}},
		revoked_at {{BIGINT}}
	);
	CREATE INDEX hookd_domain_token_domain ON hookd_domain_token (domain, created_at);
	CREATE TABLE hookd_audit (
		id     {{ID}},
		at     {{BIGINT}} NOT NULL,
		actor  TEXT NOT NULL,
		domain TEXT NOT NULL,
		action TEXT NOT NULL,
		detail TEXT NOT NULL
	);
	CREATE INDEX hookd_audit_domain ON hookd_audit (domain, id);
	CREATE TABLE hookd_plugin_log (
		node     TEXT NOT NULL,
		domain   TEXT NOT NULL,
		seq      {{BIGINT}} NOT NULL,
		at       {{BIGINT}} NOT NULL,
		event_id TEXT NOT NULL,
		level    TEXT NOT NULL,
		line     TEXT NOT NULL,
		PRIMARY KEY (node, domain, seq)
	);
	CREATE INDEX hookd_plugin_log_domain ON hookd_plugin_log (domain, at);
	CREATE INDEX hookd_plugin_log_at ON hookd_plugin_log (at);`,
	// 7: delivery settings (issue 18). order_key is the value of a target's
	// ordered_by field: a target's deliveries of one key are attempted one
	// at a time, oldest first, by that key's one job (hookd_order: the
	// epoch of the key's job, 0 for none, and whether a replay woke it;
	// order.go). hookd_node is each node's heartbeat: a
	// rate limit is divided between the nodes seen lately (nodes.go).
	`ALTER TABLE hookd_delivery ADD COLUMN order_key TEXT;
	CREATE INDEX hookd_delivery_order ON hookd_delivery (target, order_key, id) WHERE order_key IS NOT NULL AND state IN ('pending', 'retrying');
	CREATE TABLE hookd_order (
		target   TEXT NOT NULL,
		okey     TEXT NOT NULL,
		epoch    INTEGER NOT NULL DEFAULT 0,
		woken    INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (target, okey)
	);
	CREATE TABLE hookd_node (
		node    TEXT PRIMARY KEY,
		seen_at {{BIGINT}} NOT NULL
	);`,
	// 8: the state index leaves delivered deliveries out (issue 19).
	// Nothing looks deliveries up by state 'delivered' through it (the
	// gauges, replays and target loads ask for live, dead or discarded
	// ones; a listing of delivered ones walks the newest IDs, nearly all
	// delivered), so indexing them cost an index write per delivery and
	// an index as large as the table for no reader. Queries that want it
	// name its condition, state <> 'delivered' (liveState), for SQLite's
	// planner, which matches a partial index's condition by its terms.
	`DROP INDEX hookd_delivery_state;
	CREATE INDEX hookd_delivery_state ON hookd_delivery (state, id) WHERE state <> 'delivered';`,
}

// notDelivered is the condition of the partial index hookd_delivery_state
// (migration 8): a query on deliveries by a state other than delivered
// adds it, word for word, so that both planners use the index.
const notDelivered = `state <> 'delivered'`

func (db *DB) ddl(stmt string) string {
	r := strings.NewReplacer("{{ID}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{BIGINT}}", "INTEGER", "{{BYTES}}", "BLOB")
	if db.dialect == Postgres {
		r = strings.NewReplacer("{{ID}}", "BIGSERIAL PRIMARY KEY", "{{BIGINT}}", "BIGINT", "{{BYTES}}", "BYTEA")
	}
	return r.Replace(stmt)
}

// migrateLock is the PostgreSQL advisory lock key migrations run under;
// hookd versions before this one took it per transaction, so old and new nodes
// started together still wait for each other.
const migrateLock = 7700

// Migrate brings hookd's tables and River's (the job queue's) up to date.
//
// On PostgreSQL any number of nodes may start at once: the first takes a
// session advisory lock and runs both sets of migrations, the others wait
// for the lock and then find nothing left to do. River's migrator takes no
// lock of its own, so run unlocked beside each other its migrations fail
// with "relation already exists" and all but one node exit at a first
// rollout. The lock is held on one connection for both sets, because
// River's migrations commit in several transactions of their own.
func (db *DB) Migrate(ctx context.Context) error {
	if db.dialect != Postgres {
		// One process at a time opens a SQLite file (it is locked).
		if err := db.InTx(ctx, func(tx Tx) error { return db.migrateHookd(ctx, tx) }); err != nil {
			return err
		}
		return migrateRiver(ctx, riversqlite.New(db.sqldb))
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", unavailable(err))
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("store: migrate: wait for the migration lock: %w", unavailable(err))
	}
	defer func() {
		// A cancelled ctx must not leave the lock held by a pooled
		// connection: unlock without it, and close the connection (which
		// releases every session lock) if that fails.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrateLock); err != nil {
			_ = conn.Conn().Close(uctx)
		}
	}()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", unavailable(err))
	}
	if err := db.migrateHookd(ctx, PgxTx(tx)); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", unavailable(err))
	}
	return migrateRiver(ctx, riverpgxv5.New(db.pool))
}

// migrateRiver applies River's pending migrations. The engine runs River's
// migrator again when it builds its queue; by then there is nothing to do.
func migrateRiver[TTx any](ctx context.Context, drv riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("store: river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: migrate river tables: %w", unavailable(err))
	}
	return nil
}

// migrateHookd applies hookd's own pending migrations in tx.
func (db *DB) migrateHookd(ctx context.Context, tx Tx) error {
	if _, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS hookd_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	var version int
	if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM hookd_schema`).Scan(&version); err != nil {
		return fmt.Errorf("store: migrate: read version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("store: database schema version %d is newer than this hookd knows (%d); upgrade hookd", version, len(migrations))
	}
	for v := version + 1; v <= len(migrations); v++ {
		for _, stmt := range strings.Split(db.ddl(migrations[v-1]), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.exec(ctx, stmt); err != nil {
				return fmt.Errorf("store: migration %d: %w", v, err)
			}
		}
		if _, err := tx.exec(ctx, `INSERT INTO hookd_schema (version) VALUES (?)`, v); err != nil {
			return fmt.Errorf("store: migration %d: %w", v, err)
		}
	}
	return nil
}
