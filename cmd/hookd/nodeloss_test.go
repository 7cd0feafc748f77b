package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/storetest"
	"github.com/hookrt/hookd/internal/testsupport"
)

// holdingScript is a strict events script that holds every request until
// released, then acknowledges it; it counts the requests in flight.
type holdingScript struct {
	release chan struct{}
	arrived chan struct{}

	mu       sync.Mutex
	inflight int
	acked    map[string]bool // EVENT_ID → acknowledged
}

func (h *holdingScript) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	h.mu.Lock()
	h.inflight++
	h.mu.Unlock()
	h.arrived <- struct{}{}
	<-h.release
	h.mu.Lock()
	h.inflight--
	h.acked[form.Get("EVENT_ID")] = true
	h.mu.Unlock()
	io.WriteString(w, "<nomessage/>")
}

// TestNodeLossRescue: three nodes share one PostgreSQL; each may run one
// delivery at a time. With every node holding a delivery at a slow script,
// one node is killed (SIGKILL). The survivors take over its delivery within
// the rescue bound (the longest target timeout + 15 s), and every event is
// delivered.
func TestNodeLossRescue(t *testing.T) {
	t.Parallel()
	testsupport.Short(t, "the hookd binary built")
	st := storetest.Postgres(t)
	script := &holdingScript{release: make(chan struct{}), arrived: make(chan struct{}, 64), acked: map[string]bool{}}
	srv := httptest.NewServer(script)
	defer srv.Close()
	defer func() {
		select {
		case <-script.release:
		default:
			close(script.release)
		}
	}()
	const timeout = 3 * time.Second
	bound := timeout + 15*time.Second // engine: jobTimeout (timeout + 5 s) + rescueGrace 5 s + rescueInterval 5 s

	type node struct {
		d    *daemon
		base string
	}
	var nodes []node
	for _, name := range []string{"a", "b", "c"} {
		dir := t.TempDir()
		listen := freeAddr(t)
		cfg := filepath.Join(dir, "config.toml")
		os.WriteFile(cfg, []byte(fmt.Sprintf(`
[server]
listen = %q
server_id = "node-%s"
[store]
driver = "postgres"
dsn = %q
[delivery]
workers = 2                 # one delivery per target at a time on each node
timeout = %q
retry_schedule = ["200ms"]
jitter = 0
poll_interval = "20ms"
breaker_threshold = 1000
[http_events]
global = true
global_server = %q
global_path = "/events"
global_strict = true
`, listen, name, st.DSN, timeout, strings.TrimPrefix(srv.URL, "http://"))), 0o600)
		d := startDaemon(t, cfg)
		waitHealthy(t, "http://"+listen, d.exited)
		nodes = append(nodes, node{d, "http://" + listen})
	}

	const n = 9
	for i := range n {
		postEvent(t, nodes[i%3].base, "", map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "START", "SESSIONID": fmt.Sprint(i)})
	}
	// Every node holds one delivery at the script (each may run one).
	for range 3 {
		select {
		case <-script.arrived:
		case <-time.After(startPatience):
			t.Fatal("the three nodes did not each start a delivery")
		}
	}
	killed := nodes[2]
	if err := killed.d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-killed.d.exited
	killedAt := time.Now()
	close(script.release)

	deadline := time.After(bound + startPatience)
	for {
		script.mu.Lock()
		done := len(script.acked)
		script.mu.Unlock()
		if delivered(t, nodes[0].base) == n && done >= n {
			break
		}
		select {
		case <-script.arrived:
		case <-time.After(100 * time.Millisecond): // re-check the store: the last step is a record, not a request
		case <-deadline:
			t.Fatalf("%d of %d events delivered after %s; survivors' logs:\n%s\n%s", delivered(t, nodes[0].base), n,
				time.Since(killedAt), nodes[0].d.out, nodes[1].d.out)
		}
	}
	took := time.Since(killedAt)
	t.Logf("every event delivered %s after the kill (rescue bound %s)", took.Round(100*time.Millisecond), bound)
	// The killed node's attempt in flight was a direct one (a lease) or a
	// River job's; either way a survivor says it took it over.
	rescued := strings.Contains(nodes[0].d.out.String(), "rescued deliveries left") ||
		strings.Contains(nodes[1].d.out.String(), "rescued deliveries left")
	if !rescued {
		t.Errorf("no survivor logged a rescue")
	}
	// The bound, with room for a loaded machine's scheduling; River's own
	// rescuer alone would take over a minute longer.
	if took > bound+30*time.Second {
		t.Errorf("the killed node's delivery was taken over after %s; the bound is %s", took, bound)
	}
}

// delivered counts the delivered deliveries a node's API lists.
func delivered(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/v1/deliveries?state=delivered&limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Count(string(b), `"state":"delivered"`)
}
