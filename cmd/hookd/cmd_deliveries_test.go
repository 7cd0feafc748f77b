package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// countingReceiver answers 204 to every delivery and counts them by
// X-Event-Id.
type countingReceiver struct {
	mu  sync.Mutex
	got map[string]int
	ch  chan struct{}
}

func (r *countingReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	r.got[req.Header.Get("X-Event-Id")]++
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

// waitFor blocks until cond holds over what the receiver got.
func (r *countingReceiver) waitFor(t *testing.T, what string, cond func(got map[string]int) bool) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		r.mu.Lock()
		ok := cond(r.got)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; received %v", what, r.got)
		}
	}
}

// cliDaemon is hookd serving in-process with a token, its JWT webhook
// pointed at a counting receiver.
type cliDaemon struct {
	base, tokenFile string
	recv            *countingReceiver
}

func startCLIDaemon(t *testing.T, st hookrt.StoreConfig) *cliDaemon {
	t.Helper()
	dir := t.TempDir()
	recv := &countingReceiver{got: map[string]int{}, ch: make(chan struct{}, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: recv}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	listen := freeAddr(t)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, listen, "http://"+ln.Addr().String()+"/hook", "")
	data, _ := os.ReadFile(cfg)
	data = bytes.Replace(data, []byte("[server]\n"), []byte("[server]\ntoken_file = \"token\"\n"), 1)
	if st.Driver == hookrt.DriverPostgres {
		data = bytes.Replace(data, []byte("[store]\npath = \"data/hookd.db\"\n"), fmt.Appendf(nil, "[store]\ndriver = \"postgres\"\ndsn = %q\n", st.DSN), 1)
	}
	os.WriteFile(cfg, data, 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr lockedBuffer
	go func() { done <- run(ctx, []string{"serve", "-config", cfg}, io.Discard, &stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, stderr.String())
		}
	})
	waitHealthy(t, "http://"+listen, nil)
	return &cliDaemon{base: "http://" + listen, tokenFile: tokenFile, recv: recv}
}

// hookd runs the CLI in-process and returns its exit code and output.
func hookd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// mustHookd runs the CLI and fails the test unless it exits 0.
func mustHookd(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	code, out, errb := hookd(args...)
	if code != 0 {
		t.Fatalf("hookd %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errb)
	}
	return out, errb
}

// listed is the -json answer of deliveries list.
type listed struct {
	Deliveries []struct {
		ID       int64  `json:"id"`
		EventID  string `json:"event_id"`
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
	} `json:"deliveries"`
}

// waitListed lists with args (-json added) until cond holds.
func waitListed(t *testing.T, what string, cond func(listed) bool, args ...string) listed {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		out, _ := mustHookd(t, append([]string{"deliveries", "list", "-json"}, args...)...)
		var l listed
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatalf("deliveries list -json: %v\n%s", err, out)
		}
		if cond(l) {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, out)
		}
	}
}

// TestCLIDeliveriesTargetsReplay drives a real daemon through the CLI:
// a disabled target's events go dead; they are listed, shown, discarded,
// retried one by one and replayed in rounds once the target is enabled,
// and each reaches the receiver. Outputs and exit codes are checked on
// the way, with the token from $HOOKD_TOKEN and from -token-file; on
// SQLite and on PostgreSQL.
func TestCLIDeliveriesTargetsReplay(t *testing.T) {
	storetest.Run(t, testCLIDeliveriesTargetsReplay)
}

func testCLIDeliveriesTargetsReplay(t *testing.T, st hookrt.StoreConfig) {
	d := startCLIDaemon(t, st)
	t.Setenv("HOOKD_ADDR", d.base)
	t.Setenv("HOOKD_TOKEN", "")
	auth := []string{"-token-file", d.tokenFile}

	// Without the token: the API's 401, with a hint, exit 1.
	code, out, errb := hookd("targets", "list")
	if code != 1 || out != "" || !strings.Contains(errb, "GET /v1/targets: 401 Unauthorized") || !strings.Contains(errb, "$HOOKD_TOKEN") {
		t.Errorf("targets list without a token: exit %d, stdout %q, stderr %q", code, out, errb)
	}
	t.Setenv("HOOKD_TOKEN", "s3cret")

	out, _ = mustHookd(t, "targets", "list")
	if !regexp.MustCompile(`(?m)^NAME +STATE +BREAKER +IN_FLIGHT +PENDING +OLDEST_PENDING +REASON +LAST_ERROR\njwt_webhook +enabled +closed +0 +0 +- +- +-$`).MatchString(out) {
		t.Errorf("targets list:\n%s", out)
	}
	out, _ = mustHookd(t, "targets", "disable", "jwt_webhook", "-reason", "receiver moving")
	if out != "target jwt_webhook: disabled\n" {
		t.Errorf("targets disable: %q", out)
	}
	out, _ = mustHookd(t, "targets", "list", "-json")
	var ts struct {
		Targets []struct{ Name, State, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &ts); err != nil || len(ts.Targets) != 1 || ts.Targets[0].State != "disabled" || ts.Targets[0].Reason != "receiver moving" {
		t.Errorf("targets list -json: %v %s", err, out)
	}
	if code, _, errb := hookd("targets", "resume", "jwt_webhook"); code != 1 || !strings.Contains(errb, "409 Conflict") {
		t.Errorf("resume of a target that is not paused: exit %d, %s", code, errb)
	}
	if code, _, errb := hookd("targets", "enable", "nope"); code != 1 || !strings.Contains(errb, `404 Not Found: no target "nope"`) {
		t.Errorf("enable an unknown target: exit %d, %s", code, errb)
	}

	// Seven events for a disabled target: seven dead letters.
	const n = 7
	for i := range n {
		postEvent(t, d.base, "s3cret", map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3", "USERNAME": fmt.Sprintf("user%d", i)})
	}
	dead := waitListed(t, "7 dead deliveries", func(l listed) bool { return len(l.Deliveries) == n }, "-state", "dead")

	out, errb = mustHookd(t, append([]string{"deliveries", "list", "-state", "dead", "-target", "jwt_webhook", "-since", "1h"}, auth...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n+1 || !regexp.MustCompile(`^ID +STATE +TARGET +ATTEMPTS +CREATED +EVENT_ID +LAST$`).MatchString(lines[0]) ||
		!regexp.MustCompile(fmt.Sprintf(`^%d +dead +jwt_webhook +0 +\S+ +%s +gave up: target disabled: receiver moving$`, dead.Deliveries[0].ID, dead.Deliveries[0].EventID)).MatchString(lines[1]) ||
		errb != "" {
		t.Errorf("deliveries list:\n%s\nstderr: %s", out, errb)
	}
	out, errb = mustHookd(t, "deliveries", "list", "-state", "dead", "-limit", "3")
	if got := strings.Count(out, "\n"); got != 4 || !strings.Contains(errb, fmt.Sprintf("-before %d", dead.Deliveries[2].ID)) {
		t.Errorf("deliveries list -limit 3: %d lines\n%s\nstderr: %s", got, out, errb)
	}
	out, _ = mustHookd(t, "deliveries", "list", "-state", "dead", "-before", fmt.Sprint(dead.Deliveries[2].ID), "-event-id", dead.Deliveries[3].EventID)
	if !strings.Contains(out, dead.Deliveries[3].EventID) || strings.Count(out, "\n") != 2 {
		t.Errorf("deliveries list -before -event-id:\n%s", out)
	}
	out, _ = mustHookd(t, "deliveries", "list", "-state", "delivered")
	if out != "no deliveries match\n" {
		t.Errorf("an empty list: %q", out)
	}

	// show: the delivery, its event's fields, its attempts; -json the API's answer.
	first, second := dead.Deliveries[n-1], dead.Deliveries[n-2] // the oldest two
	out, _ = mustHookd(t, "deliveries", "show", fmt.Sprint(first.ID))
	for _, want := range []string{
		fmt.Sprintf(`(?m)^delivery +%d$`, first.ID), `(?m)^event_id +` + first.EventID + `$`, `(?m)^state +dead$`,
		`(?m)^last +gave up: target disabled: receiver moving$`, `(?m)^event \(\d+ fields\)$`, `(?m)^  USERNAME +user0$`,
		`(?m)^  EVENT_ID +` + first.EventID + `$`, `(?m)^attempts \(0 recorded\)$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("deliveries show lacks %s:\n%s", want, out)
		}
	}
	out, _ = mustHookd(t, "deliveries", "show", "-json", fmt.Sprint(first.ID))
	var shown struct {
		ID    int64             `json:"id"`
		Event map[string]string `json:"event"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.ID != first.ID || shown.Event["USERNAME"] != "user0" {
		t.Errorf("deliveries show -json: %v %s", err, out)
	}
	if code, out, errb := hookd("deliveries", "show", "999999"); code != 1 || out != "" || errb != "hookd: GET /v1/deliveries/999999: 404 Not Found: delivery 999999 not found\n" {
		t.Errorf("show an unknown delivery: exit %d, %q, %q", code, out, errb)
	}

	// discard one, twice (the second is a conflict); then enable the target.
	out, _ = mustHookd(t, "deliveries", "discard", fmt.Sprint(first.ID))
	if out != fmt.Sprintf("delivery %d: discarded\n", first.ID) {
		t.Errorf("discard: %q", out)
	}
	if code, _, errb := hookd("deliveries", "discard", fmt.Sprint(first.ID)); code != 1 || !strings.Contains(errb, "409 Conflict") {
		t.Errorf("discard a discarded delivery: exit %d, %s", code, errb)
	}
	// While the target is disabled, replays are refused before anything is
	// requeued, naming its state; -force replays anyway (back to dead).
	if code, out, errb := hookd("replay", "-target", "jwt_webhook", "-since", "1h"); code != 1 || out != "" ||
		!strings.Contains(errb, "409 Conflict: target jwt_webhook is disabled by operator (receiver moving)") ||
		!strings.Contains(errb, "(hookd replay -force …)") {
		t.Errorf("replay into a disabled target: exit %d, stdout %q, stderr %q", code, out, errb)
	}
	if code, _, errb := hookd("deliveries", "retry", fmt.Sprint(second.ID)); code != 1 ||
		!strings.Contains(errb, "target jwt_webhook is disabled by operator (receiver moving)") ||
		!strings.Contains(errb, fmt.Sprintf("(hookd deliveries retry -force %d)", second.ID)) {
		t.Errorf("retry into a disabled target: exit %d, %s", code, errb)
	}
	waitListed(t, "6 dead deliveries still", func(l listed) bool { return len(l.Deliveries) == n-1 }, "-state", "dead")
	if out, _ := mustHookd(t, "deliveries", "retry", "-force", fmt.Sprint(second.ID)); out != fmt.Sprintf("delivery %d: queued\n", second.ID) {
		t.Errorf("retry -force: %q", out)
	}
	waitListed(t, "the forced one dead again", func(l listed) bool { return len(l.Deliveries) == n-1 }, "-state", "dead")

	out, _ = mustHookd(t, "targets", "enable", "jwt_webhook")
	if out != "target jwt_webhook: enabled\n" {
		t.Errorf("targets enable: %q", out)
	}

	// retry one: it reaches the receiver.
	out, _ = mustHookd(t, "deliveries", "retry", fmt.Sprint(second.ID))
	if out != fmt.Sprintf("delivery %d: queued\n", second.ID) {
		t.Errorf("retry: %q", out)
	}
	d.recv.waitFor(t, "the retried delivery", func(got map[string]int) bool { return got[second.EventID] == 1 })

	// replay the other five dead ones, in rounds of two.
	if code, _, errb := hookd("replay", "-target", "nope", "-since", "1h"); code != 1 || !strings.Contains(errb, `no target "nope"; targets: jwt_webhook`) {
		t.Errorf("replay an unknown target: exit %d, %s", code, errb)
	}
	out, _ = mustHookd(t, "replay", "-target", "jwt_webhook", "-since", "1h", "-batch", "2", "-dry-run")
	if !strings.HasPrefix(out, "would replay 5 dead deliveries of jwt_webhook created since ") {
		t.Errorf("replay -dry-run: %q", out)
	}
	out, errb = mustHookd(t, "replay", "-target", "jwt_webhook", "-since", "1h", "-batch", "2")
	if !regexp.MustCompile(`^replayed 5 dead deliveries of jwt_webhook created since \S+ in 3 rounds \(\S+\)\n$`).MatchString(out) ||
		errb != "replayed 2 of 5\nreplayed 4 of 5\nreplayed 5 of 5\n" {
		t.Errorf("replay: stdout %q, stderr %q", out, errb)
	}
	d.recv.waitFor(t, "the replayed deliveries", func(got map[string]int) bool {
		for _, dl := range dead.Deliveries[:n-2] {
			if got[dl.EventID] == 0 {
				return false
			}
		}
		return true
	})
	out, _ = mustHookd(t, "replay", "-target", "jwt_webhook", "-since", "1h")
	if !strings.HasPrefix(out, "nothing to replay: no dead deliveries of jwt_webhook") {
		t.Errorf("a second replay: %q", out)
	}
	out, _ = mustHookd(t, "replay", "-target", "jwt_webhook", "-since", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "-state", "discarded")
	if !strings.HasPrefix(out, "replayed 1 discarded delivery of jwt_webhook") {
		t.Errorf("replay of the discarded one: %q", out)
	}
	d.recv.waitFor(t, "the discarded delivery, replayed", func(got map[string]int) bool { return got[first.EventID] == 1 })
	waitListed(t, "all delivered", func(l listed) bool { return len(l.Deliveries) == n }, "-state", "delivered")

	// A paused target's deliveries say they are held, and why.
	mustHookd(t, "targets", "pause", "jwt_webhook", "-reason", "maintenance")
	postEvent(t, d.base, "s3cret", map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3", "USERNAME": "held"})
	held := waitListed(t, "one pending delivery", func(l listed) bool { return len(l.Deliveries) == 1 }, "-state", "pending")
	out, _ = mustHookd(t, "deliveries", "list", "-state", "pending")
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^%d +pending +jwt_webhook +0 +\S+ +\S+ +held: target paused by operator: maintenance$`, held.Deliveries[0].ID)).MatchString(out) {
		t.Errorf("deliveries list of a held delivery:\n%s", out)
	}
	out, _ = mustHookd(t, "deliveries", "show", fmt.Sprint(held.Deliveries[0].ID))
	if !regexp.MustCompile(`(?m)^held +held: target paused by operator: maintenance$`).MatchString(out) {
		t.Errorf("deliveries show of a held delivery:\n%s", out)
	}
	mustHookd(t, "targets", "resume", "jwt_webhook")

	// health, here and where nothing listens.
	if out, _ := mustHookd(t, "health"); out != d.base+": ok\n" {
		t.Errorf("health: %q", out)
	}
	if code, _, errb := hookd("health", "-addr", freeAddr(t)); code != 1 || !strings.Contains(errb, "hookd: unhealthy: cannot reach hookd at http://127.0.0.1:") {
		t.Errorf("health of nothing: exit %d, %s", code, errb)
	}
}

// TestTargetsListBreakerChange: targets list prints the breaker's last
// change as the API words it, after its state.
func TestTargetsListBreakerChange(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/targets" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"targets":[{"name":"jwt_webhook","state":"enabled","breaker":"open","in_flight":0,"pending":3,`+
			`"breaker_change":"opened 05:37:34 UTC: HTTP 500: database is down (open until 05:38:04 UTC)","last_error":"HTTP 500: database is down"}]}`)
	}))
	defer api.Close()
	t.Setenv("HOOKD_TOKEN", "")
	out, _ := mustHookd(t, "targets", "list", "-addr", api.URL)
	if !strings.Contains(out, "open · opened 05:37:34 UTC: HTTP 500: database is down (open until 05:38:04 UTC)") {
		t.Errorf("targets list:\n%s", out)
	}
}
