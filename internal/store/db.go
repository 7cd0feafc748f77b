package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"modernc.org/sqlite"

	"github.com/hookrt/hookd/hook"
)

// Dialect names the database behind a [DB].
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a connection to hookd's store.
type DB struct {
	dialect Dialect
	sqldb   *sql.DB       // SQLite
	pool    *pgxpool.Pool // PostgreSQL
	lock    *os.File      // SQLite: exclusive lock held while open
	// lost: the SQLite file was missing although a store had been
	// created at its path before (its marker file exists).
	lost bool
	// marker is the file that records a SQLite store was created.
	marker string
	// ckpt keeps a SQLite store's write-ahead log small (wal.go); nil
	// for PostgreSQL.
	ckpt *checkpointer
	// counts are the statements and transactions sent (sqlcounts.go).
	counts *sqlCounters
}

// SQLiteOptions tune a SQLite store.
type SQLiteOptions struct {
	// Synchronous is SQLite's synchronous pragma: "normal" (a commit
	// survives a crash of the process, not of the machine) or "full" (it
	// survives a power loss too, at the cost of a sync per commit).
	// Defaults to "normal".
	Synchronous string
	// CacheSize bounds SQLite's page cache, in bytes (its cache_size
	// pragma, in KiB): the cache is the connection's own memory, so it
	// counts in the process's RSS once filled. 0: DefaultCacheSize.
	CacheSize int64
	// MmapSize is how much of the database file SQLite reads through a
	// memory map, in bytes (its mmap_size pragma); the pages read that
	// way count in the process's RSS (as file pages) for as long as the
	// kernel keeps them. 0 (the default) reads with pread instead.
	MmapSize int64
}

// The defaults of [SQLiteOptions], and what the runtime's [store] section
// shows. The page cache keeps the hot pages of an insert-mostly workload
// (appended rows, the right edges of the indexes: event IDs are UUIDv7,
// time-ordered) with room to spare; reads beyond it come from the
// kernel's page cache, which is shared and reclaimable, rather than from
// memory the process keeps (a 64 MiB cache was most of the growth of a
// node's RSS to 163 MB at 200 events/s, issue 19). No memory map: a page
// read through one counts in hookd's RSS while the kernel keeps it, so a
// scan of the whole file (a large listing, a prune) would bring the file
// into the RSS.
const (
	DefaultCacheSize int64 = 4 << 20
	DefaultMmapSize  int64 = 0
	// MinCacheSize and MaxCacheSize bound CacheSize; MaxMmapSize bounds
	// MmapSize (SQLite itself caps the map at its compile-time maximum).
	MinCacheSize int64 = 256 << 10
	MaxCacheSize int64 = 16 << 30
	MaxMmapSize  int64 = 1 << 40
)

// sqlitePragmas returns the cache_size and mmap_size pragmas of o, or an
// error naming what is wrong and what is allowed.
func (o SQLiteOptions) sqlitePragmas() (string, error) {
	cache := o.CacheSize
	if cache == 0 {
		cache = DefaultCacheSize
	}
	if cache < MinCacheSize || cache > MaxCacheSize {
		return "", fmt.Errorf("store: cache_size must be between %d (256 KiB) and %d (16 GiB) bytes, got %d", MinCacheSize, MaxCacheSize, o.CacheSize)
	}
	if o.MmapSize < 0 || o.MmapSize > MaxMmapSize {
		return "", fmt.Errorf("store: mmap_size must be between 0 (no memory map) and %d (1 TiB) bytes, got %d", MaxMmapSize, o.MmapSize)
	}
	// A negative cache_size is in KiB rather than pages.
	return "&_pragma=mmap_size(" + strconv.FormatInt(o.MmapSize, 10) + ")&_pragma=cache_size(-" + strconv.FormatInt(cache>>10, 10) + ")", nil
}

// OpenSQLite opens (creating if needed) the SQLite database at path, in WAL
// mode with one connection: SQLite has one writer, and River's SQLite driver
// asks for a single connection to avoid SQLITE_BUSY.
//
// The file is locked for the life of the DB, so that two hookd processes
// cannot run on one file: that is what lets [DB.ReleaseOrphanedJobs] treat
// every running job left in the file as orphaned by a crash.
func OpenSQLite(ctx context.Context, path string, o SQLiteOptions) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: sqlite path is empty")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: sqlite path %q must not contain ? or # (they end a SQLite file URI)", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	sync := "NORMAL"
	switch strings.ToLower(o.Synchronous) {
	case "", "normal":
	case "full":
		sync = "FULL"
	default:
		lock.Close()
		return nil, fmt.Errorf("store: synchronous must be normal or full, got %q", o.Synchronous)
	}
	mem, err := o.sqlitePragmas()
	if err != nil {
		lock.Close()
		return nil, err
	}
	marker := path + ".created"
	_, statErr := os.Stat(path)
	_, markErr := os.Stat(marker)
	lost := errors.Is(statErr, fs.ErrNotExist) && markErr == nil
	// The WAL is bounded (wal.go): checkpointed every walAutoCheckpoint
	// pages and by the checkpointer, and truncated back to walSizeLimit
	// after a checkpoint, so it does not keep its largest size for ever.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)" +
		"&_pragma=wal_autocheckpoint(" + strconv.Itoa(walAutoCheckpoint) + ")&_pragma=journal_size_limit(" + strconv.Itoa(walSizeLimit) + ")" +
		mem + "&_txlock=immediate"
	counts := &sqlCounters{}
	sqldb := sql.OpenDB(cachingConnector{dsn: dsn, drv: &sqlite.Driver{}, counts: counts})
	sqldb.SetMaxOpenConns(1)
	sqldb.SetMaxIdleConns(1)
	sqldb.SetConnMaxLifetime(0)
	sqldb.SetConnMaxIdleTime(0)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		lock.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, errors.Join(hook.ErrUnavailable, err))
	}
	db := &DB{dialect: SQLite, sqldb: sqldb, lock: lock, lost: lost, marker: marker, counts: counts}
	db.ckpt = startCheckpointer(db, path+"-wal", walCheckpointEvery, walRetryEvery)
	return db, nil
}

// Lost reports whether the SQLite file was missing at open although a
// store had been created at its path before: everything it held is gone.
func (db *DB) Lost() bool { return db.lost }

// MarkCreated records (once migrated) that a SQLite store exists at its
// path, so that a later open that finds the file gone can say so.
func (db *DB) MarkCreated() error {
	if db.marker == "" {
		return nil
	}
	if _, err := os.Stat(db.marker); err == nil {
		return nil
	}
	f, err := os.OpenFile(db.marker, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: marker %s: %w", db.marker, err)
	}
	_, err = f.WriteString("hookd created its SQLite store here on " + time.Now().UTC().Format(time.RFC3339) +
		"; if the database file goes missing, hookd says so at start\n")
	return errors.Join(err, f.Close())
}

// WriteProbe writes one row, to tell whether the store can take writes (a
// full disk fails here when reads still work).
func (db *DB) WriteProbe(ctx context.Context) error {
	_, err := db.conn().exec(ctx, `INSERT INTO hookd_health (id, at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET at = excluded.at`, micros(time.Now()))
	if err != nil {
		db.ckpt.writeFailed(err)
		return fmt.Errorf("store: write probe: %w", unavailable(err))
	}
	return nil
}

// OpenPostgres connects to PostgreSQL with a pgx pool.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres dsn: %w", err)
	}
	counts := &sqlCounters{}
	cfg.ConnConfig.Tracer = pgCounter{counts}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect postgres: %w", errors.Join(hook.ErrUnavailable, err))
	}
	return &DB{dialect: Postgres, pool: pool, counts: counts}, nil
}

// Dialect reports which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL returns the *sql.DB of a SQLite store (nil for PostgreSQL).
func (db *DB) SQL() *sql.DB { return db.sqldb }

// Pool returns the pgx pool of a PostgreSQL store (nil for SQLite).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close closes the connections and releases the file lock.
func (db *DB) Close() error {
	var err error
	if db.ckpt != nil {
		db.ckpt.close()
	}
	if db.sqldb != nil {
		err = db.sqldb.Close()
	}
	if db.pool != nil {
		db.pool.Close()
	}
	if db.lock != nil {
		err = errors.Join(err, db.lock.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var err error
	if db.dialect == SQLite {
		err = db.sqldb.PingContext(ctx)
	} else {
		err = db.pool.Ping(ctx)
	}
	return unavailable(err)
}

// InTx runs fn in a transaction, committing when fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx Tx) error) error {
	if db.dialect == SQLite {
		err := db.inSQLiteTx(ctx, fn)
		db.ckpt.writeFailed(err)
		return err
	}
	pgtx, err := db.pool.Begin(ctx)
	if err != nil {
		return unavailable(err)
	}
	if err := fn(PgxTx(pgtx)); err != nil {
		_ = pgtx.Rollback(ctx)
		return err
	}
	return unavailable(pgtx.Commit(ctx))
}

// inSQLiteTx is InTx on SQLite.
func (db *DB) inSQLiteTx(ctx context.Context, fn func(tx Tx) error) error {
	sqltx, err := db.sqldb.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	if err := fn(SQLTx(sqltx)); err != nil {
		_ = sqltx.Rollback()
		return err
	}
	return unavailable(sqltx.Commit())
}

// conn returns a non-transactional querier.
func (db *DB) conn() Tx {
	if db.dialect == SQLite {
		return sqlQuerier{db.sqldb, nil}
	}
	return pgxQuerier{db.pool, nil}
}

// unavailable marks errors that mean the database could not be used (as
// opposed to a query that found nothing) with hook.ErrUnavailable.
func unavailable(err error) error {
	if err == nil || errors.Is(err, hook.ErrUnavailable) || errors.Is(err, hook.ErrNotFound) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57") && !strings.HasPrefix(pgErr.Code, "53") {
		return err // a real SQL error: a bug, not an outage
	}
	return fmt.Errorf("%w: %w", hook.ErrUnavailable, err)
}

// rebind turns "?" placeholders into "$1", "$2", … for PostgreSQL. Queries
// in this package never contain "?" in literals.
func rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Probe checks, without creating or migrating anything, that a store could
// be opened: for SQLite that the file (or, before the first start, its
// directory) can be written; for PostgreSQL that the DSN connects and
// answers. It is what `hookd check` runs for the store.
func Probe(ctx context.Context, driver, path, dsn string) error {
	if driver == string(Postgres) {
		db, err := OpenPostgres(ctx, dsn)
		if err != nil {
			return err
		}
		return db.Close()
	}
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("store: %s is not a regular file", path)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("store: cannot open %s for writing: %w", path, err)
		}
		return f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %s: %w", path, err)
	}
	// Before the first start: the nearest existing directory must take
	// the directories and the file serve would create.
	dir := filepath.Dir(path)
	for {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	f, err := os.CreateTemp(dir, ".hookd-check-*")
	if err != nil {
		return fmt.Errorf("store: cannot create %s: %s is not writable: %w", path, dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
