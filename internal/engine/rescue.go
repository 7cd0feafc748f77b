package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// When a node dies (kill -9, a lost VM) its running jobs stay "running" in
// the shared PostgreSQL: no worker will finish or snooze them. River's own
// rescuer would release them, but only once they have run for
// RescueStuckJobsAfter and at its next pass, every 30 s (not
// configurable): minutes after the death. hookd rescues them itself.
//
// A live node never runs a hookd job longer than Engine.jobTimeout: River
// cancels it there, and the attempt inside is bounded by its target's
// timeout, shorter still. So a job running for jobTimeout + rescueGrace
// belongs to a dead node; every node checks for such jobs every
// rescueInterval and makes them available to the survivors. The rescue
// bound is thus the longest target timeout + jobSlack + rescueGrace +
// rescueInterval (10 s + 15 s with the defaults). The same loop gives jobs
// to direct deliveries whose lease (safetyDelay, the same jobTimeout +
// rescueGrace) ran out, so they keep the same bound (direct.go), plus
// queueAge for those that waited on the burst queue (memqueue.go). On
// SQLite, one process owns the file (it is locked): it releases every
// running job and every lease at start.
const (
	// jobSlack is River's JobTimeout above the longest attempt: time for
	// the worker's store reads and writes around the attempt.
	jobSlack = 5 * time.Second
	// rescueGrace is how long past jobTimeout a job must run to be taken
	// for a dead node's.
	rescueGrace = 5 * time.Second
	// rescueInterval is how often every node looks for such jobs.
	rescueInterval = 5 * time.Second
)

// jobKinds are the River job kinds of hookd.
var jobKinds = []string{deliveryArgs{}.Kind(), batchArgs{}.Kind(), orderArgs{}.Kind()}

// jobTimeout is the longest a live worker runs one job: the longest
// attempt of any target, plus jobSlack.
func (e *Engine) jobTimeout() time.Duration {
	longest := e.timeout
	for _, t := range e.current().order {
		longest = max(longest, t.Policy.Timeout)
	}
	return longest + jobSlack
}

// longestAttempt is the longest attempt of any of ts: the delivery
// timeout, or a target's own if longer.
func (e *Engine) longestAttempt(ts []hook.Target) time.Duration {
	longest := e.timeout
	for _, t := range ts {
		longest = max(longest, t.Policy.Timeout)
	}
	return longest
}

// RescueBound is the most time after a node dies before its running jobs
// and leased deliveries are available to the other nodes again
// (PostgreSQL). A delivery queued for a free slot (memqueue.go) holds a
// lease longer by queueAge, which covers its time on the queue: the bound
// includes it.
func (e *Engine) RescueBound() time.Duration {
	return e.jobTimeout() + rescueGrace + queueAge + rescueInterval
}

// rescuer runs the rescue pass every rescueInterval until stopped.
type rescuer struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// releaseOrphans, on SQLite, gives the deliveries an earlier process left
// unsettled back to the workers: its running River jobs, and the leases of
// its direct attempts (direct.go), however recent. The file lock proves
// that process is gone.
func (e *Engine) releaseOrphans(ctx context.Context) error {
	if e.db.Dialect() != store.SQLite {
		return nil
	}
	jobs, err := e.db.ReleaseOrphanedJobs(ctx)
	if err != nil {
		return err
	}
	leases, err := e.sweep(ctx, time.Now().Add(24*365*time.Hour))
	if err != nil {
		return err
	}
	if jobs+int64(leases) > 0 {
		e.log.InfoContext(ctx, "released deliveries interrupted by an earlier stop", slog.Int64("jobs", jobs), slog.Int("direct", leases))
	}
	return nil
}

// startRescue starts the rescue loop: every rescueInterval, the leases of
// direct deliveries that ran out get jobs (direct.go), the jobs of ordered
// keys woken while they ran are made due (order.go), and on PostgreSQL
// the jobs of dead nodes are made available.
func startRescue(e *Engine) *rescuer {
	ctx, cancel := context.WithCancel(context.Background())
	r := &rescuer{cancel: cancel}
	stuck := e.jobTimeout() + rescueGrace
	r.done.Go(func() {
		t := time.NewTicker(rescueInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := e.db.RescueStuckJobs(ctx, jobKinds, time.Now().Add(-stuck))
			switch {
			case err != nil && ctx.Err() == nil:
				e.log.WarnContext(ctx, "rescuing the jobs of dead nodes", slog.Any("error", err))
			case n > 0:
				e.log.InfoContext(ctx, "rescued deliveries left running by a node that stopped",
					slog.Int64("jobs", n), slog.Duration("running_longer_than", stuck))
			}
			if n, err := e.db.WakeOrders(ctx, orderArgs{}.Kind()); err != nil && ctx.Err() == nil {
				e.log.WarnContext(ctx, "waking the jobs of ordered keys replayed while they ran", slog.Any("error", err))
			} else if n > 0 {
				e.clock.Load().note(time.Now())
			}
			leases, err := e.sweep(ctx, time.Now())
			switch {
			case err != nil && ctx.Err() == nil:
				e.log.WarnContext(ctx, "taking over deliveries whose lease ran out", slog.Any("error", err))
			case leases > 0:
				e.log.InfoContext(ctx, "rescued deliveries left unsettled by a node that stopped",
					slog.Int("deliveries", leases), slog.Duration("leased_for", e.safetyDelay()))
			}
		}
	})
	return r
}

// stop ends the loop; a nil rescuer is a no-op.
func (r *rescuer) stop() {
	if r == nil {
		return
	}
	r.cancel()
	r.done.Wait()
}
