package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeMetricsAndListeners: the daemon serves its metrics at
// GET /metrics behind the token and on [metrics] listen without one, the
// JWKS and probes on [server] public_listen (and nothing of /v1/ there);
// after a delivery the metrics count it, and promtool finds the exposition
// clean.
func TestServeMetricsAndListeners(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	listen, public, metricsAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	base := "http://" + listen
	recv := newJWTReceiver(base + "/.well-known/jwks.json")
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hooks := http.Server{Handler: recv}
	go hooks.Serve(hookLn)
	t.Cleanup(func() { hooks.Close() })
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeConfig(t, dir, listen, "http://"+hookLn.Addr().String()+"/", `
[metrics]
listen = "`+metricsAddr+`"
`)
	cfgData, _ := os.ReadFile(cfgPath)
	cfgData = bytes.Replace(cfgData, []byte("[server]\n"), []byte("[server]\ntoken_file = \"token\"\npublic_listen = \""+public+"\"\n"), 1)
	os.WriteFile(cfgPath, cfgData, 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve", "-config", cfgPath}, io.Discard, io.Discard) }()
	t.Cleanup(func() { cancel(); <-done })
	waitHealthy(t, base, nil)

	postEvent(t, base, "s3cret", map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "1", "USERNAME": "ann"})
	recv.waitFor(t, "the event", func() bool { return len(recv.got) == 1 })

	get := func(url, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(base+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /metrics without the token = %d, want 401", code)
	}
	// The attempt is recorded just after the receiver answered: wait for
	// the counter rather than for time.
	var body string
	deadline := time.Now().Add(startPatience)
	for {
		var code int
		code, body = get(base+"/metrics", "s3cret")
		if code != http.StatusOK {
			t.Fatalf("GET /metrics = %d %s", code, body)
		}
		// The attempt's counter and its first-attempt delay are recorded
		// one after the other: wait for both.
		if (strings.Contains(body, `hookd_delivery_attempts_total{outcome="delivered",target_kind="jwt_webhook"} 1`) &&
			strings.Contains(body, `hookd_delivery_first_attempt_delay_seconds_count{target_kind="jwt_webhook"} 1`)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
	for _, want := range []string{
		`hookd_events_received_total{event="USER_CREATE",module="ISL_CP"} 1`,
		`hookd_delivery_attempts_total{outcome="delivered",target_kind="jwt_webhook"} 1`,
		`hookd_delivery_first_attempt_delay_seconds_count{target_kind="jwt_webhook"} 1`,
		`hookd_deliveries{state="pending"} `,
		`hookd_targets{state="enabled"} 1`,
		`hookd_queue_jobs{state="available"} `,
		`hookd_build_info{`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, own := get("http://"+metricsAddr+"/metrics", ""); code != http.StatusOK || !strings.Contains(own, "hookd_build_info") {
		t.Errorf("[metrics] listen: %d", code)
	}
	if code, _ := get("http://"+metricsAddr+"/v1/deliveries", ""); code != http.StatusNotFound {
		t.Errorf("[metrics] listen serves /v1/: %d", code)
	}
	for path, want := range map[string]int{"/.well-known/jwks.json": 200, "/healthz": 200, "/livez": 200, "/readyz": 200,
		"/v1/deliveries": 404, "/metrics": 404} {
		if code, _ := get("http://"+public+path, "s3cret"); code != want {
			t.Errorf("public_listen %s = %d, want %d", path, code, want)
		}
	}
	promtoolCheck(t, body)
}

// promtoolCheck runs `promtool check metrics` (Debian's prometheus
// package) on an exposition; skipped without promtool unless
// HOOKD_REQUIRE_PROMTOOL=1.
func promtoolCheck(t *testing.T, exposition string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("HOOKD_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool not found but HOOKD_REQUIRE_PROMTOOL=1 (apt-get install prometheus)")
		}
		t.Log("promtool not found; the exposition is not linted")
		return
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
