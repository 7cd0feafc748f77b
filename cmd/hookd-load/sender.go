package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxAnswerBytes bounds what is read of hookd's answers.
const maxAnswerBytes = 1 << 20

// sendConfig is what the senders do.
type sendConfig struct {
	eventsURL string // hookd's POST /v1/events
	token     string
	n         int           // events to send; 0: until duration
	duration  time.Duration // how long to send; 0: until n
	senders   int
	rate      float64 // events/s; 0: saturated
	batch     int     // events per request; ≤ 1: one event per request, as an object
	format    string  // "json" or "form" (single events)
	event     func(run string, seq int) []field
	run       string
}

// errBatchUnsupported is the answer to a batch that hookd refused as a
// request (a 4xx): this hookd takes one event per request.
var errBatchUnsupported = errors.New("batch ingest not supported by this hookd")

// errBatchTooLarge is a 413 to a batch: hookd takes batches, but not this
// large (it takes at most 1000 events, 1 MiB, per request by default).
var errBatchTooLarge = errors.New("batch too large for this hookd")

// maxConsecutiveTransportErrors stops a run against a hookd that went away.
const maxConsecutiveTransportErrors = 200

// sendStats is what the senders saw. Times are durations since the
// tracker's start.
type sendStats struct {
	sent       int         // events in requests that were made
	accepted   int         // events answered 202
	non202     map[int]int // events by answer status
	transport  int         // events whose request failed (no answer)
	badAnswer  int         // events of a 202 whose body could not be matched to them
	requests   int
	firstSend  time.Duration
	lastAnswer time.Duration
	maxLag     time.Duration // fixed rate: the latest a request started after it was due
	samples    map[string]int
}

func (s *sendStats) merge(o *sendStats) {
	if o.requests == 0 && o.sent == 0 {
		return
	}
	if s.requests == 0 || o.firstSend < s.firstSend {
		s.firstSend = o.firstSend
	}
	s.lastAnswer = max(s.lastAnswer, o.lastAnswer)
	s.maxLag = max(s.maxLag, o.maxLag)
	s.sent += o.sent
	s.accepted += o.accepted
	s.transport += o.transport
	s.badAnswer += o.badAnswer
	s.requests += o.requests
	for k, v := range o.non202 {
		s.non202[k] += v
	}
	for k, v := range o.samples {
		if _, ok := s.samples[k]; ok || len(s.samples) < maxErrSamples {
			s.samples[k] += v
		}
	}
}

func newSendStats() *sendStats {
	return &sendStats{non202: map[int]int{}, samples: map[string]int{}}
}

// sender drives hookd's POST /v1/events from cfg.senders goroutines.
type sender struct {
	cfg    sendConfig
	client *http.Client
	tr     *tracker

	next        atomic.Int64 // the next event's sequence number (saturated)
	consecutive atomic.Int64 // transport errors in a row
	sentEvents  atomic.Int64 // for the progress line

	fatalOnce sync.Once
	fatalErr  error
	cancel    context.CancelFunc
}

// newHTTPClient is a keep-alive client with enough idle connections for
// every sender, ignoring proxy settings (hookd is on loopback).
func newHTTPClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns + 8,
			MaxIdleConnsPerHost: conns + 8,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// run sends until n events or the duration, and returns what it saw. An
// error means the run was stopped: a batch refused, hookd unreachable.
// ctx ending stops sending without an error.
func (s *sender) run(ctx context.Context) (*sendStats, error) {
	ctx, s.cancel = context.WithCancel(ctx)
	defer s.cancel()
	b := max(s.cfg.batch, 1)
	start := s.tr.since()
	stats := make([]*sendStats, s.cfg.senders)
	var wg sync.WaitGroup
	var jobs chan job
	if s.cfg.rate > 0 {
		jobs = make(chan job)
		wg.Go(func() { s.schedule(ctx, start, b, jobs) })
	}
	for i := range stats {
		st := newSendStats()
		stats[i] = st
		wg.Go(func() {
			if jobs != nil {
				for j := range jobs {
					st.maxLag = max(st.maxLag, s.tr.since()-j.due)
					s.send(ctx, st, j.first, j.count)
				}
				return
			}
			s.saturate(ctx, st, start, b)
		})
	}
	wg.Wait()
	total := newSendStats()
	for _, st := range stats {
		total.merge(st)
	}
	return total, s.fatalErr
}

// job is one request of a fixed-rate run: events first to first+count-1,
// due at due.
type job struct {
	first, count int
	due          time.Duration
}

// schedule hands out requests at the fixed rate: request k is due at
// start + k·batch/rate, whatever happened to the ones before, so a slow
// answer does not lower the rate as long as a sender is free. When every
// sender is busy the request waits, and the lag is reported.
func (s *sender) schedule(ctx context.Context, start time.Duration, b int, jobs chan<- job) {
	defer close(jobs)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for first := 0; s.cfg.n == 0 || first < s.cfg.n; first += b {
		offset := time.Duration(float64(first) / s.cfg.rate * float64(time.Second))
		if s.cfg.duration > 0 && offset >= s.cfg.duration {
			return
		}
		due := start + offset
		if wait := due - s.tr.since(); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		count := b
		if s.cfg.n > 0 {
			count = min(b, s.cfg.n-first)
		}
		select {
		case jobs <- job{first: first, count: count, due: due}:
		case <-ctx.Done():
			return
		}
	}
}

// saturate sends back to back until the events or the time run out.
func (s *sender) saturate(ctx context.Context, st *sendStats, start time.Duration, b int) {
	for ctx.Err() == nil {
		if s.cfg.duration > 0 && s.tr.since()-start >= s.cfg.duration {
			return
		}
		first := int(s.next.Add(int64(b))) - b
		count := b
		if s.cfg.n > 0 {
			if first >= s.cfg.n {
				return
			}
			count = min(b, s.cfg.n-first)
		}
		s.send(ctx, st, first, count)
	}
}

// fatal stops the run with err (the first one wins).
func (s *sender) fatal(err error) {
	s.fatalOnce.Do(func() {
		s.fatalErr = err
		s.cancel()
	})
}

// body encodes events first to first+count-1, and returns the body and
// its Content-Type.
func (s *sender) body(first, count int) ([]byte, string) {
	buf := make([]byte, 0, 400*count)
	if s.cfg.batch > 1 {
		buf = append(buf, '[')
		for i := range count {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONObject(buf, s.cfg.event(s.cfg.run, first+i))
		}
		return append(buf, ']'), "application/json"
	}
	fs := s.cfg.event(s.cfg.run, first)
	if s.cfg.format == "form" {
		return appendForm(buf, fs), "application/x-www-form-urlencoded"
	}
	return appendJSONObject(buf, fs), "application/json"
}

// answer is hookd's answer to POST /v1/events.
type answer struct {
	EventID  string   `json:"event_id"`
	EventIDs []string `json:"event_ids"`
	Error    string   `json:"error"`
}

// send makes one request and records its outcome.
func (s *sender) send(ctx context.Context, st *sendStats, first, count int) {
	body, ctype := s.body(first, count)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.eventsURL, bytes.NewReader(body))
	if err != nil {
		s.fatal(err)
		return
	}
	req.Header.Set("Content-Type", ctype)
	if s.cfg.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.token)
	}
	t0 := s.tr.since()
	if st.requests == 0 {
		st.firstSend = t0
	}
	st.requests++
	st.sent += count
	s.sentEvents.Add(int64(count))
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			st.sent -= count // stopped, not failed
			s.sentEvents.Add(-int64(count))
			st.requests--
			return
		}
		st.transport += count
		st.note("transport: " + err.Error())
		if s.consecutive.Add(1) >= maxConsecutiveTransportErrors {
			s.fatal(fmt.Errorf("hookd unreachable: %d requests in a row failed, the last with %w", maxConsecutiveTransportErrors, err))
		}
		return
	}
	at := s.tr.since() // the answer's header is in: that is when the 202 came back
	s.consecutive.Store(0)
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	st.lastAnswer = max(st.lastAnswer, at)
	if err != nil {
		st.transport += count
		st.note("reading the answer: " + err.Error())
		return
	}
	if resp.StatusCode != http.StatusAccepted {
		switch {
		case s.cfg.batch <= 1 || resp.StatusCode < 400 || resp.StatusCode > 499 || resp.StatusCode == http.StatusUnauthorized:
		case resp.StatusCode == http.StatusRequestEntityTooLarge:
			s.fatal(fmt.Errorf("%w: POST %s with a JSON array of %d events answered %s %s; give a smaller -batch",
				errBatchTooLarge, s.cfg.eventsURL, count, resp.Status, cut(raw)))
		default:
			s.fatal(fmt.Errorf("%w: POST %s with a JSON array of %d events answered %s %s; this hookd takes one event per request: run without -batch",
				errBatchUnsupported, s.cfg.eventsURL, count, resp.Status, cut(raw)))
		}
		st.non202[resp.StatusCode] += count
		st.note(fmt.Sprintf("HTTP %d: %s", resp.StatusCode, cut(raw)))
		return
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		st.badAnswer += count
		st.note("202 with a body that is not JSON: " + cut(raw))
		return
	}
	ids := a.EventIDs
	if s.cfg.batch <= 1 {
		ids = []string{a.EventID}
	}
	if len(ids) != count || slicesHasEmpty(ids) {
		st.badAnswer += count
		st.note(fmt.Sprintf("202 for %d events with %d event ids: %s", count, len(ids), cut(raw)))
		return
	}
	for _, id := range ids {
		s.tr.accept(id, t0, at)
	}
	st.accepted += count
}

func slicesHasEmpty(ids []string) bool {
	for _, id := range ids {
		if id == "" {
			return true
		}
	}
	return false
}

// note keeps a few distinct error messages.
func (st *sendStats) note(msg string) {
	if _, ok := st.samples[msg]; ok || len(st.samples) < maxErrSamples {
		st.samples[msg]++
	}
}

// cut shortens an answer body for a message.
func cut(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strconv.Quote(s)
}
