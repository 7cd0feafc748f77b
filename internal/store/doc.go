// Package store keeps hookd's own records (events, deliveries, attempts,
// disabled targets, session records) in SQLite or PostgreSQL, beside
// River's job tables. The records it returns are hook's types (hook.Delivery,
// hook.Attempt, …) and its errors hook's (hook.ErrNotFound, …), so that
// the public runtime hands them on as they are.
//
// One set of queries serves both databases: they are written with "?"
// placeholders and rebound to "$n" for PostgreSQL, and times are stored as
// unix microseconds so that neither database's time zone rules matter.
//
// Work that must be atomic with a River job insert goes through a [Tx], which
// wraps either a *sql.Tx (SQLite, via modernc.org/sqlite) or a pgx.Tx
// (PostgreSQL, via pgx): the engine hands the same native transaction to
// River, which is what makes Emit a transactional outbox.
package store
