package main

import (
	"math/bits"
	"slices"
	"sync"
	"time"
)

// maxPaths bounds the delivery paths one run expects (the global script
// and a domain's script are two).
const maxPaths = 8

// tracker matches what hookd accepted (the 202s, with their EVENT_IDs) with
// what reached the receiver (the jti claims or EVENT_ID fields). Times are
// durations since start, on the monotonic clock.
//
// An event may arrive before its 202 has been read (hookd commits, delivers
// and only then does the sender's goroutine run), so either side may come
// first; a record is made by whichever does.
type tracker struct {
	start time.Time
	run   string
	// paths are the delivery paths each event must reach; nil: one
	// delivery per event, at any path.
	paths []string
	full  uint8 // the mask of an event that reached every path

	mu          sync.Mutex
	events      map[string]*eventRec
	accepted    int // events whose 202 came back
	complete    int // accepted events that reached every path
	arrived     int // distinct (event, path) arrivals of this run, accepted or not
	dups        int // arrivals at a path the event had reached already
	stale       int // arrivals of events from another run
	sendingDone bool
	done        chan struct{} // closed once sending is done and every accepted event is complete
	closed      bool
}

// eventRec is one event of this run.
type eventRec struct {
	sentAt     time.Duration // when the POST that carried it started
	acceptedAt time.Duration // when its 202 was read
	isAccepted bool
	mask       uint8                   // paths reached
	arrivedAt  [maxPaths]time.Duration // first arrival per path
}

func newTracker(start time.Time, run string, paths []string) *tracker {
	n := max(len(paths), 1)
	return &tracker{
		start:  start,
		run:    run,
		paths:  paths,
		full:   uint8(1<<n - 1),
		events: make(map[string]*eventRec, 1<<14),
		done:   make(chan struct{}),
	}
}

// targets is the number of deliveries each event should make.
func (t *tracker) targets() int { return max(len(t.paths), 1) }

// pathIndex returns the index of path among the expected ones, or -1.
func (t *tracker) pathIndex(path string) int {
	if t.paths == nil {
		return 0
	}
	for i, p := range t.paths {
		if p == path {
			return i
		}
	}
	return -1
}

// since is the time now, relative to start.
func (t *tracker) since() time.Duration { return time.Since(t.start) }

// rec returns id's record, making it; t.mu is held.
func (t *tracker) rec(id string) *eventRec {
	r := t.events[id]
	if r == nil {
		r = &eventRec{}
		t.events[id] = r
	}
	return r
}

// accept records a 202 for id, read at time at, to a POST started at sent.
func (t *tracker) accept(id string, sent, at time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rec(id)
	if r.isAccepted {
		return // the same id twice: cannot happen with hookd; count it once
	}
	r.isAccepted, r.sentAt, r.acceptedAt = true, sent, at
	t.accepted++
	if r.mask == t.full {
		t.complete++
	}
	t.checkDone()
}

// arrivalKind is what an arrival turned out to be.
type arrivalKind int

const (
	arrivalNew       arrivalKind = iota // the first at this path
	arrivalDuplicate                    // the event had reached this path already
	arrivalStale                        // an event of another run
)

// arrive records that event id of run reached path number pathIdx at time
// at.
func (t *tracker) arrive(id, run string, pathIdx int, at time.Duration) arrivalKind {
	t.mu.Lock()
	defer t.mu.Unlock()
	if run != t.run {
		t.stale++
		return arrivalStale
	}
	r := t.rec(id)
	bit := uint8(1) << pathIdx
	if r.mask&bit != 0 {
		t.dups++
		return arrivalDuplicate
	}
	r.mask |= bit
	r.arrivedAt[pathIdx] = at
	t.arrived++
	if r.isAccepted && r.mask == t.full {
		t.complete++
		t.checkDone()
	}
	return arrivalNew
}

// finishSending says no more 202s will come.
func (t *tracker) finishSending() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sendingDone = true
	t.checkDone()
}

// checkDone closes done when everything accepted has arrived; t.mu is held.
func (t *tracker) checkDone() {
	if t.sendingDone && !t.closed && t.complete == t.accepted {
		t.closed = true
		close(t.done)
	}
}

// progress is a snapshot for the progress line.
type progress struct{ accepted, arrived, dups, stale int }

func (t *tracker) progress() progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return progress{t.accepted, t.arrived, t.dups, t.stale}
}

// tally is what the tracker knows at the end of a run.
type tally struct {
	accepted   int
	delivered  int             // distinct deliveries of accepted events
	lost       int             // deliveries of accepted events that never came
	lostIDs    []string        // a few of them, for the report
	dups       int             // arrivals beyond the first, per path
	stale      int             // arrivals of other runs' events
	unmatched  int             // deliveries of this run's events whose 202 never came back
	early      int             // deliveries that arrived before their 202 was read
	arrivals   []time.Duration // first arrival of each delivery of an accepted event, sorted
	latencies  []time.Duration // arrival - accept, per delivery, sorted
	postLat    []time.Duration // arrival - start of the POST, per delivery, sorted
	lastAccept time.Duration
	perPath    []pathTally
}

// pathTally is one path's share, when a run expects several.
type pathTally struct {
	path      string
	delivered int
	lost      int
	latencies []time.Duration // sorted
}

// maxLostIDs bounds the lost EVENT_IDs a report lists.
const maxLostIDs = 5

// tally computes the outcome. It may be called while arrivals still come
// in (they are counted up to the call).
func (t *tracker) tally() tally {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.targets()
	out := tally{accepted: t.accepted, dups: t.dups, stale: t.stale, perPath: make([]pathTally, n)}
	for i := range out.perPath {
		if t.paths != nil {
			out.perPath[i].path = t.paths[i]
		}
	}
	for id, r := range t.events {
		if !r.isAccepted {
			out.unmatched += bits.OnesCount8(r.mask)
			continue
		}
		out.lastAccept = max(out.lastAccept, r.acceptedAt)
		for i := range n {
			p := &out.perPath[i]
			if r.mask&(1<<i) == 0 {
				out.lost++
				p.lost++
				if len(out.lostIDs) < maxLostIDs {
					out.lostIDs = append(out.lostIDs, id)
				}
				continue
			}
			lat := r.arrivedAt[i] - r.acceptedAt
			if lat < 0 {
				out.early++
			}
			out.delivered++
			p.delivered++
			out.arrivals = append(out.arrivals, r.arrivedAt[i])
			out.latencies = append(out.latencies, lat)
			out.postLat = append(out.postLat, r.arrivedAt[i]-r.sentAt)
			if n > 1 {
				p.latencies = append(p.latencies, lat)
			}
		}
	}
	slices.Sort(out.arrivals)
	slices.Sort(out.latencies)
	slices.Sort(out.postLat)
	slices.Sort(out.lostIDs)
	for i := range out.perPath {
		slices.Sort(out.perPath[i].latencies)
	}
	if n == 1 {
		out.perPath[0].latencies = out.latencies
	}
	return out
}
