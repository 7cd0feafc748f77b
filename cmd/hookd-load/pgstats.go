package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgSample is what PostgreSQL says of its work at one time: the WAL
// position (bytes since 0/0, cluster-wide), the commits and rollbacks of
// the database the DSN names (pg_stat_database), and the next transaction
// id, which every transaction that writes takes one of (read-only ones do
// not): its difference counts write transactions exactly and at once,
// where pg_stat_database's counters reach the view up to a second or more
// late (see pgStats.settle).
type pgSample struct {
	walBytes  int64
	commits   int64
	rollbacks int64
	nextXID   int64
	at        time.Time
}

// pgStats reads PostgreSQL's counters on a connection of its own.
type pgStats struct {
	conn *pgx.Conn
	db   string
	// settle is how long to wait after the run before reading the commit
	// counters: a backend publishes its counts at most once a second, and
	// one that went idle with counts pending publishes them 10 s later
	// (PostgreSQL 15's PGSTAT_IDLE_INTERVAL). The commits of that wait are
	// hookd's idle ones (its pollers: ~20/s), measured for as long before
	// the run (idle) and taken off.
	settle time.Duration
}

// idle measures hookd's idle commits: two samples settle apart, before
// the run. Zero settle measures nothing.
func (p *pgStats) idle(ctx context.Context) (a, b pgSample, err error) {
	if p.settle <= 0 {
		return a, b, nil
	}
	if a, err = p.sample(ctx); err != nil {
		return a, b, err
	}
	t := time.NewTimer(p.settle)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return a, b, ctx.Err()
	}
	b, err = p.sample(ctx)
	return a, b, err
}

const pgSampleSQL = `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
	d.xact_commit, d.xact_rollback,
	pg_snapshot_xmax(pg_current_snapshot())::text::bigint
	FROM pg_stat_database d WHERE d.datname = current_database()`

// openPGStats connects to dsn and checks that the counters can be read.
func openPGStats(ctx context.Context, dsn string, settle time.Duration) (*pgStats, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("-pg-dsn: %w", err)
	}
	p := &pgStats{conn: conn, settle: settle}
	if err := conn.QueryRow(cctx, `SELECT current_database()`).Scan(&p.db); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("-pg-dsn: %w", err)
	}
	if _, err := p.sample(ctx); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	return p, nil
}

func (p *pgStats) sample(ctx context.Context) (pgSample, error) {
	s := pgSample{at: time.Now()}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.conn.QueryRow(cctx, pgSampleSQL).Scan(&s.walBytes, &s.commits, &s.rollbacks, &s.nextXID); err != nil {
		return s, fmt.Errorf("-pg-dsn: reading pg_current_wal_lsn(), pg_stat_database and pg_current_snapshot() (PostgreSQL 13 or later, not a standby): %w", err)
	}
	return s, nil
}

// counters reads the commit counters after the settle time, or at once
// when ctx ends.
func (p *pgStats) counters(ctx context.Context) (pgSample, error) {
	if p.settle > 0 {
		t := time.NewTimer(p.settle)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	// ctx may be over (interrupted): the last reading is still wanted.
	return p.sample(context.WithoutCancel(ctx))
}

func (p *pgStats) close() { _ = p.conn.Close(context.Background()) }

// pgJS is the report's PostgreSQL section: differences over the run.
type pgJS struct {
	Database string `json:"database"`
	// WALBytes is the WAL written by the whole cluster from the first
	// request to the end of the drain.
	WALBytes            int64   `json:"wal_bytes"`
	WALBytesPerDelivery float64 `json:"wal_bytes_per_delivery"`
	// Commits is pg_stat_database.xact_commit of Database from the first
	// request to CountersSettleS after the drain.
	Commits int64 `json:"commits"`
	// CommitsPerDelivery is Commits less IdleCommitsPerS × CountersSettleS
	// (what hookd commits idle while the counters settle), per delivery.
	CommitsPerDelivery   float64 `json:"commits_per_delivery"`
	Rollbacks            int64   `json:"rollbacks"`
	WriteXacts           int64   `json:"write_xacts"` // transaction ids taken, cluster-wide
	WriteXactsPerDeliver float64 `json:"write_xacts_per_delivery"`
	// CountersSettleS is how long after the drain the commit counters
	// were read (they include that time's commits too).
	CountersSettleS float64 `json:"counters_settle_s"`
	// IdleS is how long hookd was watched idle before the run (-pg-settle),
	// and the commits and WAL it made per second meanwhile.
	IdleS            float64 `json:"idle_s,omitempty"`
	IdleCommitsPerS  float64 `json:"idle_commits_per_s"`
	IdleWALBytesPerS float64 `json:"idle_wal_bytes_per_s"`
}

// buildPG makes the report's section from the idle samples i0, i1 (zero
// when not measured), the run's start p0 and end p1, and the counters read
// after the settle, c1.
func buildPG(db string, i0, i1, p0, p1, c1 pgSample, delivered int) *pgJS {
	r := &pgJS{
		Database: db, WALBytes: p1.walBytes - p0.walBytes,
		Commits: c1.commits - p0.commits, Rollbacks: c1.rollbacks - p0.rollbacks,
		WriteXacts: p1.nextXID - p0.nextXID, CountersSettleS: round(c1.at.Sub(p1.at).Seconds(), 3),
	}
	if idle := i1.at.Sub(i0.at).Seconds(); !i0.at.IsZero() && idle > 0 {
		r.IdleS = round(idle, 3)
		r.IdleCommitsPerS = round(float64(i1.commits-i0.commits)/idle, 1)
		r.IdleWALBytesPerS = round(float64(i1.walBytes-i0.walBytes)/idle, 0)
	}
	if delivered > 0 {
		d := float64(delivered)
		r.WALBytesPerDelivery = round(float64(r.WALBytes)/d, 1)
		commits := max(0, float64(r.Commits)-r.IdleCommitsPerS*r.CountersSettleS)
		r.CommitsPerDelivery = round(commits/d, 3)
		r.WriteXactsPerDeliver = round(float64(r.WriteXacts)/d, 3)
	}
	return r
}
