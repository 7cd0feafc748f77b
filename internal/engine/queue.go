package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// deliveryArgs is the River job of one delivery attempt series. The
// generation lets an operator's replay or discard retire a job that is
// already scheduled: a job whose Gen no longer matches the row does nothing.
type deliveryArgs struct {
	DeliveryID int64 `json:"d"`
	Gen        int   `json:"g"`
}

// Kind is stable: it is stored with every job.
func (deliveryArgs) Kind() string { return "hookd_delivery" }

// batchArgs is the River job that sends a combining target's pending
// deliveries together; at most one exists per target (see store.ArmBatch).
type batchArgs struct {
	Target string `json:"t"`
}

// Kind is stable: it is stored with every job.
func (batchArgs) Kind() string { return "hookd_batch" }

// job is one job to insert: its args, and when it is due (zero = now).
type job struct {
	args river.JobArgs
	at   time.Time
}

// jobQueue hides River's driver-specific transaction type (*sql.Tx for
// SQLite, pgx.Tx for PostgreSQL) from the rest of the engine.
type jobQueue interface {
	insert(ctx context.Context, tx store.Tx, jobs []job) error
	// start builds the client that works the jobs, from c (the
	// targets are known by then: c.jobTimeout), and starts it.
	start(ctx context.Context, c queueConfig) error
	stop(ctx context.Context) error
	// promote makes the scheduled jobs due by until available, keeping
	// their due time: River's scheduler pass, run when hookd needs it
	// (retryclock.go).
	promote(ctx context.Context, until time.Time) error
}

// riverQueue inserts jobs with an insert-only River client until start,
// then with the client that works them (both write the same tables).
type riverQueue[TTx any] struct {
	drv    riverdriver.Driver[TTx]
	exec   riverdriver.Executor
	client atomic.Pointer[river.Client[TTx]] // the one inserts use
	// working is the started client; nil before start.
	working *river.Client[TTx]
}

// promoteMax bounds the jobs one promotion statement moves.
const promoteMax = 1000

func (q *riverQueue[TTx]) promote(ctx context.Context, until time.Time) error {
	until = until.UTC()
	for {
		res, err := q.exec.JobSchedule(ctx, &riverdriver.JobScheduleParams{Max: promoteMax, Now: &until})
		if err != nil {
			return err
		}
		if len(res) < promoteMax {
			return nil
		}
	}
}

// insertOpts: hookd counts attempts itself and snoozes between them, so
// River's own attempt limit only guards against a worker that keeps
// returning store errors.
var insertOpts = &river.InsertOpts{MaxAttempts: 1000}

func (q *riverQueue[TTx]) insert(ctx context.Context, tx store.Tx, jobs []job) error {
	if len(jobs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		opts := insertOpts
		if !j.at.IsZero() {
			o := *insertOpts
			o.ScheduledAt = j.at
			opts = &o
		}
		params[i] = river.InsertManyParams{Args: j.args, InsertOpts: opts}
	}
	native, ok := tx.Native().(TTx)
	if !ok {
		return fmt.Errorf("enqueue delivery: a %T is not a transaction of the queue's driver", tx.Native())
	}
	if _, err := q.client.Load().InsertManyFastTx(ctx, native, params); err != nil {
		return fmt.Errorf("enqueue delivery: %w", errors.Join(hook.ErrUnavailable, err))
	}
	return nil
}

func (q *riverQueue[TTx]) start(ctx context.Context, c queueConfig) error {
	client, err := river.NewClient(q.drv, c.river())
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	q.working = client
	q.client.Store(client)
	return nil
}

func (q *riverQueue[TTx]) stop(ctx context.Context) error {
	if q.working == nil {
		return nil
	}
	if err := q.working.Stop(ctx); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// Soft stop ran out of time: cancel what is still running; those jobs
	// snooze themselves and are picked up again at the next start.
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return q.working.StopAndCancel(hard)
}

// queueConfig is what newQueue needs from the engine.
type queueConfig struct {
	workers      int
	pollInterval time.Duration
	jobTimeout   time.Duration // see Engine.jobTimeout
	logger       *slog.Logger
	worker       river.Worker[deliveryArgs]
	batchWorker  river.Worker[batchArgs]
	orderWorker  river.Worker[orderArgs]
	pruneWorker  river.Worker[pruneArgs]
	pruneEvery   time.Duration // 0: no pruning
	noWorkers    bool
}

func (c queueConfig) river() *river.Config {
	rc := &river.Config{
		Logger:            c.logger,
		FetchPollInterval: riverFetchInterval(c.pollInterval), // River adds up to 1/10 of it as jitter: retryclock.go
		FetchCooldown:     riverFetchCooldown(c.pollInterval),
		// The worker bounds every attempt by its target's timeout; River's
		// JobTimeout is a backstop above that, and must be set (-1 would make
		// River's rescuer skip hookd's jobs forever).
		JobTimeout:                  c.jobTimeout,
		RescueStuckJobsAfter:        c.jobTimeout + rescueGrace, // River's own rescuer: the slow backstop of rescue.go
		CompletedJobRetentionPeriod: time.Hour,                  // hookd's own tables keep the history
		MaxAttempts:                 insertOpts.MaxAttempts,
	}
	if !c.noWorkers {
		workers := river.NewWorkers()
		river.AddWorker(workers, c.worker)
		river.AddWorker(workers, c.batchWorker)
		if c.orderWorker != nil {
			river.AddWorker(workers, c.orderWorker)
		}
		river.AddWorker(workers, c.pruneWorker)
		rc.Workers = workers
		if c.pruneEvery > 0 {
			// Periodic jobs are inserted by the leader only: one node prunes.
			rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(c.pruneEvery),
				func() (river.JobArgs, *river.InsertOpts) { return pruneArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true})}
		}
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: c.workers}}
	}
	return rc
}

// newQueue migrates River's tables and builds an insert-only client on
// db's driver (c's workers are ignored until start).
func newQueue(ctx context.Context, db *store.DB, c queueConfig) (jobQueue, error) {
	switch db.Dialect() {
	case store.SQLite:
		return buildQueue[*sql.Tx](ctx, riversqlite.New(db.SQL()), c)
	case store.Postgres:
		return buildQueue[pgx.Tx](ctx, riverpgxv5.New(db.Pool()), c)
	}
	return nil, fmt.Errorf("unknown store dialect %q", db.Dialect())
}

func buildQueue[TTx any](ctx context.Context, drv riverdriver.Driver[TTx], c queueConfig) (jobQueue, error) {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: c.logger})
	if err != nil {
		return nil, fmt.Errorf("river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("migrate river tables: %w", err)
	}
	c.noWorkers = true
	client, err := river.NewClient(drv, c.river())
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	q := &riverQueue[TTx]{drv: drv, exec: drv.GetExecutor()}
	q.client.Store(client)
	return q, nil
}
