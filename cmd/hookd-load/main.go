// Command hookd-load measures a running hookd: it POSTs events to its HTTP
// API (saturated, from N concurrent senders, or at a fixed rate), receives
// what hookd delivers on a loopback address of its own (the JWT webhook,
// verifying every token against hookd's JWKS, or strict HTTP events
// scripts, answering <nomessage/>), matches each arrival to its 202 by
// EVENT_ID, and reports accepted/s, delivered/s (overall and steady),
// accept→arrival latency, lost and duplicate deliveries, errors, the
// CPU hookd and the tool used, hookd's memory (RSS), and with -pg-dsn
// PostgreSQL's WAL bytes and commits per delivery.
//
//	hookd-load summarize DIR   one markdown table of medians of a
//	                           bench/scripts/system-runs.sh directory
//
//	go build -o /tmp/hookd ./cmd/hookd && /tmp/hookd serve -config cmd/hookd-load/configs/sqlite-eddsa.toml &
//	go run ./cmd/hookd-load -n 20000 -c 32 -pid $(pgrep -f 'hookd serve')
//	go run ./cmd/hookd-load sign -key cmd/hookd-load/configs/private/rsa2048.pem -seconds 5
//
// See docs/load.md for the standard scenarios.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the run could not be made, or lost deliveries or had errors
	exitUsage  = 2
)

// run is the program minus signals and exit, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "sign" {
		return runSign(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "summarize" {
		return runSummarize(args[1:], stdout, stderr)
	}
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "hookd-load:", err)
		return exitUsage
	}
	rep, err := load(ctx, opts, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "hookd-load:", err)
		return exitFailed
	}
	if opts.json {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(rep)
	} else {
		rep.print(stdout)
	}
	if rep.Lost > 0 || rep.Errors.Total > 0 || rep.Interrupted {
		return exitFailed
	}
	return exitOK
}

// options are the flags of a load run.
type options struct {
	hookd          string
	token          string
	tokenFile      string
	mode           string
	listen         string
	paths          []string
	event          string
	n              int
	duration       time.Duration
	senders        int
	rate           float64
	batch          int
	format         string
	drain          time.Duration
	timeout        time.Duration
	pid            int
	cpuComm        []string
	rawSign        string
	rawSignAlg     string
	rawSignSeconds float64
	jwks           string
	leeway         time.Duration
	json           bool
	progress       time.Duration
	pgDSN          string
	pgSettle       time.Duration
	rssEvery       time.Duration
	args           []string // as given, for the report

	// ready, when set, is called with the receiver's address once it
	// listens (tests listen on port 0).
	ready func(addr string)
}

const usageHead = `hookd-load drives a running hookd and receives what it delivers.

usage:
  hookd-load [flags]                 a load run (see docs/load.md)
  hookd-load sign -key FILE [flags]  the raw signing rate of a PEM key on all cores
  hookd-load summarize DIR           a markdown table of medians of system-runs.sh's reports

flags of a load run:
`

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var paths string
	fs := flag.NewFlagSet("hookd-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.hookd, "hookd", "http://127.0.0.1:7700", "hookd's base URL")
	fs.StringVar(&o.token, "token", "", "bearer token for /v1/ (hookd's [server] token_file)")
	fs.StringVar(&o.tokenFile, "token-file", "", "file holding the bearer token")
	fs.StringVar(&o.mode, "mode", modeJWT, "receiver: jwt (the JWT webhook: verify every token, answer 204) or events (strict HTTP events: answer 200 <nomessage/>)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8081", "the receiver's address: where the config's [jwt_webhook] url or [http_events] global_server points")
	fs.StringVar(&paths, "paths", "", "comma-separated paths every event must reach once each, e.g. /global,/domain/1 (default: one delivery per event, any path)")
	fs.StringVar(&o.event, "event", "", "user_create (ISL_CP USER_CREATE, for the JWT webhook) or newsession (ISL_LIGHT NEWSESSION, for HTTP events); default by -mode")
	fs.IntVar(&o.n, "n", 10000, "events to send (with -duration: at most this many; 0: no limit)")
	fs.DurationVar(&o.duration, "duration", 0, "send for this long instead of a number of events")
	fs.IntVar(&o.senders, "c", 32, "concurrent senders")
	fs.Float64Var(&o.rate, "rate", 0, "events per second; 0: saturated (every sender back to back)")
	fs.IntVar(&o.batch, "batch", 0, "events per request, as a JSON array (needs a hookd with batch ingest); 0 or 1: one event per request")
	fs.StringVar(&o.format, "format", "json", "body of a single event: json or form")
	fs.DurationVar(&o.drain, "drain", 60*time.Second, "after sending, how long to wait for deliveries still due; what has not arrived then is lost")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "one POST /v1/events, answer included")
	fs.IntVar(&o.pid, "pid", 0, "hookd's process id, for its CPU (Linux /proc); e.g. $(pgrep -f 'hookd serve')")
	var cpuComm string
	fs.StringVar(&cpuComm, "cpu-comm", "", "comma-separated process names (/proc/PID/comm) whose CPU is reported too, e.g. postgres for a PostgreSQL server on this machine")
	fs.StringVar(&o.rawSign, "raw-sign", "", "PEM key file (hookd's signing key): measure its raw signing rate on all cores before the load, to compare")
	fs.StringVar(&o.rawSignAlg, "raw-sign-alg", "", "alg for -raw-sign (default: the key's, RS256 for RSA; give hookd's [jwt_webhook] alg if set)")
	fs.Float64Var(&o.rawSignSeconds, "raw-sign-seconds", 3, "how long -raw-sign signs")
	fs.StringVar(&o.jwks, "jwks", "", "JWKS URL (default: <hookd>/.well-known/jwks.json)")
	fs.DurationVar(&o.leeway, "leeway", 60*time.Second, "clock skew allowed when checking a token's exp and iat")
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON object")
	fs.DurationVar(&o.progress, "progress", 5*time.Second, "progress line on stderr this often; 0: none")
	fs.StringVar(&o.pgDSN, "pg-dsn", "", "PostgreSQL DSN of hookd's database: report the WAL bytes (pg_current_wal_lsn()) and commits (pg_stat_database.xact_commit) per delivery")
	fs.DurationVar(&o.pgSettle, "pg-settle", 11*time.Second, "with -pg-dsn: wait this long after the drain before reading the commit counters, which backends publish up to 10 s late; and as long before the load, to measure hookd's idle commits (taken off); 0: neither")
	fs.DurationVar(&o.rssEvery, "rss-every", 10*time.Second, "with -pid: sample hookd's RSS this often for the report's series; 0: start and end only")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.args = slices.Clone(args)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q; all settings are flags (subcommand: sign)", fs.Args())
	}
	if o.duration > 0 && !set["n"] {
		o.n = 0
	}
	o.hookd = strings.TrimRight(o.hookd, "/")
	if o.jwks == "" {
		o.jwks = o.hookd + "/.well-known/jwks.json"
	}
	if paths != "" {
		for p := range strings.SplitSeq(paths, ",") {
			p = strings.TrimSpace(p)
			if !strings.HasPrefix(p, "/") || slices.Contains(o.paths, p) {
				return o, fmt.Errorf("-paths: %q must start with / and be given once", p)
			}
			o.paths = append(o.paths, p)
		}
		if len(o.paths) > maxPaths {
			return o, fmt.Errorf("-paths: at most %d paths", maxPaths)
		}
	}
	for c := range strings.SplitSeq(cpuComm, ",") {
		if c = strings.TrimSpace(c); c != "" {
			o.cpuComm = append(o.cpuComm, c)
		}
	}
	if o.event == "" {
		o.event = map[string]string{modeJWT: "user_create", modeEvents: "newsession"}[o.mode]
	}
	switch {
	case o.mode != modeJWT && o.mode != modeEvents:
		return o, fmt.Errorf("-mode %q: want jwt or events", o.mode)
	case eventKinds[o.event] == nil:
		return o, fmt.Errorf("-event %q: want user_create or newsession", o.event)
	case o.mode == modeJWT && o.event != "user_create":
		return o, fmt.Errorf("-event %s is not sent to the JWT webhook; use -event user_create with -mode jwt", o.event)
	case o.n < 0 || o.duration < 0:
		return o, errors.New("-n and -duration must not be negative")
	case o.n == 0 && o.duration == 0:
		return o, errors.New("give -n events or a -duration")
	case o.senders < 1:
		return o, errors.New("-c must be at least 1")
	case o.rate < 0:
		return o, errors.New("-rate must not be negative")
	case o.batch < 0:
		return o, errors.New("-batch must not be negative")
	case o.format != "json" && o.format != "form":
		return o, fmt.Errorf("-format %q: want json or form", o.format)
	case o.batch > 1 && set["format"] && o.format != "json":
		return o, errors.New("-batch sends a JSON array; -format form is for single events")
	case o.token != "" && o.tokenFile != "":
		return o, errors.New("give -token or -token-file, not both")
	case o.drain < 0 || o.timeout <= 0:
		return o, errors.New("-drain must not be negative and -timeout must be positive")
	case o.rawSign == "" && (set["raw-sign-alg"] || set["raw-sign-seconds"]):
		return o, errors.New("-raw-sign-alg and -raw-sign-seconds need -raw-sign KEYFILE")
	case o.rawSignSeconds <= 0:
		return o, errors.New("-raw-sign-seconds must be positive")
	case o.pgSettle < 0 || o.rssEvery < 0:
		return o, errors.New("-pg-settle and -rss-every must not be negative")
	case o.pgDSN == "" && set["pg-settle"]:
		return o, errors.New("-pg-settle needs -pg-dsn DSN")
	}
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return o, fmt.Errorf("-token-file: %w", err)
		}
		o.token = strings.TrimSpace(string(b))
		if o.token == "" {
			return o, fmt.Errorf("-token-file %s is empty", o.tokenFile)
		}
	}
	return o, nil
}

// load makes one run and returns its report. An error means the run could
// not be made or was stopped (a batch refused, hookd gone).
func load(ctx context.Context, o options, stderr io.Writer) (*report, error) {
	var warnings []string
	warn := func(msg string) {
		warnings = append(warnings, msg)
		fmt.Fprintln(stderr, "hookd-load: warning:", msg)
	}
	client := newHTTPClient(o.senders, o.timeout)
	defer client.CloseIdleConnections()

	// hookd is up, and the token is right.
	if err := checkHealth(ctx, client, o.hookd); err != nil {
		return nil, err
	}
	pending, err := pendingDeliveries(ctx, client, o.hookd, o.token)
	switch {
	case errors.Is(err, errUnauthorized):
		return nil, err
	case err != nil:
		warn("cannot read GET /v1/targets: " + err.Error())
	case pending > 0:
		warn(fmt.Sprintf("hookd has %d deliveries pending from before this run: they add to its load (arrivals of earlier runs are counted as stale); start from an empty store for a clean figure", pending))
	}
	var keys *keySet
	if o.mode == modeJWT {
		keys = newKeySet(o.jwks, client, time.Second)
		if err := keys.refresh(ctx); err != nil {
			return nil, fmt.Errorf("fetch hookd's JWKS (is the JWT webhook configured?): %w", err)
		}
	}
	ticks := clockTicks()
	if o.pid > 0 {
		w, err := checkHookdPid(o.pid)
		if err != nil {
			return nil, err
		}
		if w != "" {
			warn(w)
		}
	}
	var pg *pgStats
	if o.pgDSN != "" {
		if pg, err = openPGStats(ctx, o.pgDSN, o.pgSettle); err != nil {
			return nil, err
		}
		defer pg.close()
	}
	var pgIdle0, pgIdle1 pgSample
	if pg != nil && pg.settle > 0 {
		fmt.Fprintf(stderr, "hookd-load: watching hookd idle for %s: its commits while PostgreSQL's counters settle (-pg-settle)\n", pg.settle)
		if pgIdle0, pgIdle1, err = pg.idle(ctx); err != nil {
			return nil, err
		}
	}

	// The raw signing rate, while hookd is idle.
	var raw *signResult
	if o.rawSign != "" {
		key, err := loadSignKey(o.rawSign, o.rawSignAlg)
		if err != nil {
			return nil, fmt.Errorf("-raw-sign: %w", err)
		}
		fmt.Fprintf(stderr, "hookd-load: signing with %s (%s) on %d goroutines for %gs\n", o.rawSign, key.Alg(), runtime.GOMAXPROCS(0), o.rawSignSeconds)
		r, err := measureSign(ctx, key, runtime.GOMAXPROCS(0), time.Duration(o.rawSignSeconds*float64(time.Second)), eventKinds["user_create"])
		if err != nil {
			return nil, fmt.Errorf("-raw-sign: %w", err)
		}
		raw = &r
	}

	// The receiver.
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, fmt.Errorf("receiver: %w (the receiver must listen where hookd's config points)", err)
	}
	runID := newRunID()
	tr := newTracker(time.Now(), runID, o.paths)
	rc := newReceiver(o.mode, tr, keys, o.leeway)
	var conns activeConns
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second, ConnState: conns.track}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if o.ready != nil {
		o.ready(ln.Addr().String())
	}

	// The load.
	s := &sender{cfg: sendConfig{
		eventsURL: o.hookd + "/v1/events",
		token:     o.token,
		n:         o.n,
		duration:  o.duration,
		senders:   o.senders,
		rate:      o.rate,
		batch:     o.batch,
		format:    o.format,
		event:     eventKinds[o.event],
		run:       runID,
	}, client: client, tr: tr}

	mem0, mem0Err := procMem(o.pid)
	var pg0 pgSample
	if pg != nil {
		if pg0, err = pg.sample(ctx); err != nil {
			return nil, err
		}
	}
	cpu0 := sampleCPU(o.pid, o.cpuComm, ticks)
	start := tr.since()
	rss := startRSS(o.pid, o.rssEvery, func() time.Duration { return tr.since() - start })
	stopProgress := startProgress(o.progress, stderr, tr, rc, s, start)
	st, sendErr := s.run(ctx)
	tr.finishSending()
	interrupted := ctx.Err() != nil
	drainTimedOut := false
	if sendErr == nil && !interrupted {
		timer := time.NewTimer(o.drain)
		select {
		case <-tr.done:
		case <-timer.C:
			drainTimedOut = true
		case <-ctx.Done():
			interrupted = true
		}
		timer.Stop()
	}
	end := tr.since()
	cpu1 := sampleCPU(o.pid, o.cpuComm, ticks)
	mem1, mem1Err := procMem(o.pid)
	series := rss.stop()
	var pg1 pgSample
	var pgErr error
	if pg != nil {
		pg1, pgErr = pg.sample(context.WithoutCancel(ctx))
	}
	stopProgress()
	// The last arrival is recorded before its answer is written: let the
	// requests being served finish, then close. (Not srv.Shutdown: a
	// connection hookd opened but has not used yet would hold it for 5 s.)
	conns.wait(2 * time.Second)
	_ = srv.Close()
	if sendErr != nil {
		return nil, sendErr
	}
	if interrupted {
		warn("interrupted: the figures cover the run up to the interruption")
	}
	if drainTimedOut {
		warn(fmt.Sprintf("not everything arrived within -drain %s after sending stopped", o.drain))
	}
	rep := buildReport(o, runID, ln.Addr().String(), tr.tally(), st, rc, start, end, cpu0, cpu1, raw)
	if o.pid > 0 && mem0Err == nil && mem1Err == nil {
		rep.Memory = buildMemory(mem0, mem1, series)
	}
	if pg != nil {
		if pgErr == nil && !interrupted && pg.settle > 0 {
			fmt.Fprintf(stderr, "hookd-load: waiting %s for PostgreSQL's commit counters (-pg-settle)\n", pg.settle)
		}
		c1, err := pg1, pgErr
		if err == nil && !interrupted {
			c1, err = pg.counters(ctx)
		}
		if err != nil {
			warn(err.Error())
		} else {
			rep.Postgres = buildPG(pg.db, pgIdle0, pgIdle1, pg0, pg1, c1, rep.Delivered)
		}
	}
	if keys != nil {
		rep.JWKSAlgs = keys.algs()
		rep.JWKSFetches = keys.fetches.Load()
	}
	rep.Interrupted = interrupted
	if raw != nil && rep.Alg != "" && rep.Alg != raw.Alg {
		warn(fmt.Sprintf("hookd signed with %s but -raw-sign measured %s: give -raw-sign-alg %s", rep.Alg, raw.Alg, rep.Alg))
	}
	if rc.mixedAlg.Load() {
		warn("tokens arrived with more than one alg")
	}
	rep.Warnings = warnings
	return rep, nil
}

// activeConns counts the receiver's connections serving a request.
type activeConns struct {
	mu     sync.Mutex
	state  map[net.Conn]http.ConnState
	active int
}

func (a *activeConns) track(c net.Conn, st http.ConnState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == nil {
		a.state = map[net.Conn]http.ConnState{}
	}
	if a.state[c] == http.StateActive {
		a.active--
	}
	if st == http.StateActive {
		a.active++
	}
	if st == http.StateClosed || st == http.StateHijacked {
		delete(a.state, c)
	} else {
		a.state[c] = st
	}
}

// wait returns once no request is being served, or after at most d.
func (a *activeConns) wait(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		n := a.active
		a.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// newRunID names the run; events carry it in LOAD_RUN.
func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// errUnauthorized is hookd refusing the bearer token.
var errUnauthorized = errors.New("hookd refused the request: it requires a bearer token ([server] token_file); give -token or -token-file")

// checkHealth makes sure hookd answers GET /healthz with 200.
func checkHealth(ctx context.Context, c *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("-hookd %q: %w", base, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("hookd is not reachable at %s: %w", base, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("hookd at %s is not healthy: GET /healthz answered %s %s", base, resp.Status, cut(body))
	}
	return nil
}

// pendingDeliveries sums the pending deliveries of every target.
func pendingDeliveries(ctx context.Context, c *http.Client, base, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/targets", nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return 0, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return 0, fmt.Errorf("%w (GET /v1/targets answered %s)", errUnauthorized, resp.Status)
	default:
		return 0, fmt.Errorf("%s %s", resp.Status, cut(body))
	}
	var doc struct {
		Targets []struct {
			Pending int `json:"pending"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return 0, err
	}
	n := 0
	for _, t := range doc.Targets {
		n += t.Pending
	}
	return n, nil
}

// cpuSample is the CPU hookd, this process and the -cpu-comm processes
// had used at one time.
type cpuSample struct {
	hookd, self       time.Duration
	hookdErr, selfErr error
	comm              []commSample // in -cpu-comm order
}

type commSample struct {
	cpu   time.Duration
	procs int
	err   error
}

func sampleCPU(pid int, comms []string, ticks int) cpuSample {
	var s cpuSample
	s.self, s.selfErr = selfCPU()
	if pid > 0 {
		s.hookd, s.hookdErr = procCPU(pid, ticks)
	} else {
		s.hookdErr = errors.New("no -pid")
	}
	for _, c := range comms {
		var cs commSample
		cs.cpu, cs.procs, cs.err = commCPU(c, ticks)
		s.comm = append(s.comm, cs)
	}
	return s
}

// startProgress prints a progress line every interval until stopped.
func startProgress(every time.Duration, w io.Writer, tr *tracker, rc *receiver, s *sender, start time.Duration) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p := tr.progress()
				fmt.Fprintf(w, "hookd-load: %5.1fs sent %d accepted %d delivered %d duplicates %d refused %d\n",
					(tr.since() - start).Seconds(), s.sentEvents.Load(), p.accepted, p.arrived, p.dups,
					rc.badToken.Load()+rc.badRequest.Load()+rc.badPath.Load())
			}
		}
	}()
	return func() { close(done); <-finished }
}
