package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookrt/hookd/hook"
)

// A target's rate limit (delivery.rate_limit, delivery.burst) bounds the
// requests to it per second, across the nodes. Each node holds a token
// bucket (golang.org/x/time/rate) for its share: the limit and the burst
// divided by the nodes that beat lately (nodes.go; one on SQLite). So the
// limit is divided, not coordinated: no request waits for another node,
// and a node that dies hands its share to the others within the heartbeat
// window; while a node joins or leaves, the sum may pass the limit by one
// node's share for up to a beat.
//
// Admission (attempt.go) reserves a token. A reservation due within
// maxRateWait is waited for in place, holding the worker (or the direct
// attempt's slot); a later one is given back and the job waits instead: a
// River job snoozes, a direct delivery gets a job due then. Either way
// the delivery keeps its state and attempt count: it waits, it never
// fails for the limit.
//
// A backlog of thousands of jobs would all wake at the same moment if
// each were told only its own reservation's delay, and be told again to
// wait, over and over: every such round a fetch and a snooze in the store.
// So deferred jobs are given successive slots at the node's rate (after),
// and a backlog drains with about one look per job. Each comes back a
// little before its slot (lead) and waits for its token in place: a job
// that River hands out late then does not leave a token unused (with a
// small burst, a token nobody takes when it is due is lost, and the rate
// falls short of the limit). The lead is bounded by half the target's
// in-flight cap, which the waiters hold, so that they do not fill it.

// maxRateWait is the longest an attempt waits for the rate limit in place;
// longer, and its job waits instead (snoozed, or a job due later).
// maxRateLead is the longest a deferred job comes back before its slot.
const (
	maxRateWait = time.Second
	maxRateLead = maxRateWait / 2
)

// rateLimit is a target's rate limit on this node.
type rateLimit struct {
	perSecond float64 // the whole limit, across the nodes
	burst     int     // the whole burst (at least 1)
	lim       *rate.Limiter

	mu    sync.Mutex
	nodes int       // the nodes the limit is divided between now
	next  time.Time // the next free slot for a deferred attempt
}

// newRateLimit returns the limiter of s for a node of nodes, or nil when s
// sets no limit.
func newRateLimit(s *hook.DeliverySettings, nodes int) *rateLimit {
	if s == nil || s.RateLimit <= 0 {
		return nil
	}
	r := &rateLimit{perSecond: s.RateLimit, burst: max(1, s.Burst), nodes: max(1, nodes)}
	r.lim = rate.NewLimiter(r.shareLimit(r.nodes), r.shareBurst(r.nodes))
	return r
}

// shareLimit is this node's part of the limit when nodes share it.
func (r *rateLimit) shareLimit(nodes int) rate.Limit { return rate.Limit(r.perSecond / float64(nodes)) }

// shareBurst is this node's part of the burst when nodes share it: at
// least 1, or no request could ever go.
func (r *rateLimit) shareBurst(nodes int) int { return max(1, r.burst/nodes) }

// share divides the limit between nodes (at least 1), if they changed.
func (r *rateLimit) share(nodes int) {
	if r == nil {
		return
	}
	nodes = max(1, nodes)
	r.mu.Lock()
	defer r.mu.Unlock()
	if nodes == r.nodes {
		return
	}
	r.nodes = nodes
	now := time.Now()
	r.lim.SetLimitAt(now, r.shareLimit(nodes))
	r.lim.SetBurstAt(now, r.shareBurst(nodes))
}

// reserve takes a token: the attempt may go after the delay returned, when
// it is at most maxRateWait; otherwise the token is given back and the
// delay is how long the job waits before it asks again (its slot among
// the deferred ones, less the lead for a target that lets waiters hold
// inflight of its in-flight cap).
func (r *rateLimit) reserve(now time.Time, inflight int64) (delay time.Duration, deferred bool) {
	res := r.lim.ReserveN(now, 1)
	if !res.OK() { // cannot happen: the burst is at least 1
		return maxRateWait, true
	}
	delay = res.DelayFrom(now)
	if delay <= maxRateWait {
		return delay, false
	}
	res.CancelAt(now)
	return r.after(now, delay, inflight), true
}

// after returns the wait of a deferred attempt whose own reservation would
// be due after delay: the later of that and the next free slot (which
// then moves on by one interval of this node's rate), less the lead: the
// time half of inflight waiters take at this rate, at most maxRateLead.
func (r *rateLimit) after(now time.Time, delay time.Duration, inflight int64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	at := now.Add(delay)
	if r.next.After(at) {
		at = r.next
	}
	interval := time.Duration(float64(time.Second) / float64(r.lim.Limit()))
	r.next = at.Add(interval)
	lead := min(maxRateLead, time.Duration(inflight/2)*interval)
	return at.Sub(now) - lead
}

// shareNote says this node's share of the limit when the nodes divide it,
// after the limit as delivery.View says it: ": 25/s, burst 5 on this node
// of 2"; "" on a node alone, or without a limit.
func (r *rateLimit) shareNote() string {
	if r == nil {
		return ""
	}
	r.mu.Lock()
	nodes := r.nodes
	r.mu.Unlock()
	if nodes <= 1 {
		return ""
	}
	return fmt.Sprintf(": %s, burst %d on this node of %d", perSecond(r.perSecond/float64(nodes)), r.shareBurst(nodes), nodes)
}

// backlog returns when the last deferred attempt's slot comes, if that is
// after now: the target's rate limit has more waiting than it lets go at
// once, and a live delivery of it may be one of them (held.go).
func (r *rateLimit) backlog(now time.Time) (time.Time, bool) {
	if r == nil {
		return time.Time{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next, r.next.After(now)
}

// perSecond formats a rate: "50/s", "0.5/s", "33.33/s".
func perSecond(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) + "/s" }

// admitRate lets an attempt to t go when t's rate limit allows it: at
// once, or after waiting in place (up to maxRateWait). When it does not,
// wait is how long the job waits before it asks again; cut says that ctx
// ended while waiting in place (the node is stopping). Each attempt that
// did not go at once is counted, and how long it waited observed.
func (e *Engine) admitRate(ctx context.Context, t *target) (wait time.Duration, cut bool) {
	if t.rate == nil {
		return 0, false
	}
	delay, deferred := t.rate.reserve(time.Now(), t.maxInflight)
	if delay <= 0 {
		return 0, false
	}
	labels := e.metrics.labels(t.Name)
	e.metrics.rateLimited.WithLabelValues(labels...).Inc()
	e.metrics.rateWait.WithLabelValues(labels...).Observe(delay.Seconds())
	if deferred {
		return delay, false
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return 0, false
	case <-ctx.Done():
		return 0, true
	}
}
