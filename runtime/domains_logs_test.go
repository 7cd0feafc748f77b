package runtime_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

func loggerModule(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/domains/logger.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDomainDryRun: a stored version that is not active, and a module
// that is not stored at all, run against the domain's last recorded
// events and against events given in the request; nothing is delivered
// and nothing is stored, and what runs on the domain does not change.
func TestDomainDryRun(t *testing.T) {
	ctx := context.Background()
	var hits atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("<nomessage/>"))
	}))
	defer recv.Close()
	obs := newObservations()
	rt := openDomains(t, domainsConfig(t, storetest.SQLite(t)), hookrt.WithObserver(obs.observe))
	op := hook.Operator()
	if _, err := rt.PutDomain(ctx, op, "5", []byte(`{"script":"`+recv.URL+`"}`)); err != nil {
		t.Fatal(err)
	}
	running, _ := hookrt.RunningDomain(rt, "5")
	var ids []string
	for i := range 3 {
		id, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "5", "USERNAME": fmt.Sprint("u", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	obs.wait(t, "3 delivered", func(o []hook.Observation) bool { return count("delivered", "http_events.domain.5")(o) == 3 })
	if _, err := rt.PushPlugin(ctx, op, "5", loggerModule(t), nil, false); err != nil {
		t.Fatal(err)
	}

	res, err := rt.TestPlugin(ctx, op, "5", hook.DryRunRequest{Version: 1, Last: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].EventID != ids[2] || res[1].EventID != ids[1] {
		t.Fatalf("dry run on the last 2 events = %+v; want the newest two (%v)", res, ids[1:])
	}
	for _, r := range res {
		if r.Verdict != "acknowledged" || len(r.Logs) != 1 || !strings.Contains(r.Logs[0], "logger: seen") {
			t.Errorf("result = %+v; want acknowledged with the plugin's log line", r)
		}
	}
	mod, _ := replyModule(t, "candi")
	res, err = rt.TestPlugin(ctx, op, "5", hook.DryRunRequest{Module: mod,
		Events: []map[string]string{{"MODULE": "ISL_CP", "EVENT": "USER_DELETE", "USERNAME": "bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !strings.Contains(res[0].Reply, "candi") || res[0].Fields["DOMAIN_ID"] != "5" {
		t.Fatalf("dry run of an upload = %+v", res)
	}
	_, err = rt.TestPlugin(ctx, op, "5", hook.DryRunRequest{Module: mod, Events: []map[string]string{{"MODULE": "ISL_CP", "EVENT": "X", "DOMAIN_ID": "6"}}})
	mustErr(t, err, hook.ErrInvalid, `DOMAIN_ID "6" is not the domain's`)

	if n := hits.Load(); n != 3 {
		t.Errorf("the receiver got %d requests; want the 3 deliveries only", n)
	}
	if vs, _ := rt.PluginVersions(ctx, op, "5"); len(vs) != 1 {
		t.Errorf("versions after dry runs: %+v; want the one pushed", vs)
	}
	sum, err := rt.DomainSummary(ctx, op, "5")
	if err != nil || sum.Deliveries["delivered"] != 3 || len(sum.Deliveries) != 1 {
		t.Errorf("summary = %+v, %v; want the 3 deliveries only", sum, err)
	}
	if now, _ := hookrt.RunningDomain(rt, "5"); now != running {
		t.Error("a dry run changed what runs")
	}
}

// TestDomainPluginLogs: what a domain's plugin logs on each node is
// copied to the store and merged, with the node and the event's id, for
// the domain's owner; another domain's token sees none of it.
func TestDomainPluginLogs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		ctx := context.Background()
		nodes := []*hookrt.Runtime{}
		n := 1
		if st.Driver == hookrt.DriverPostgres {
			n = 2 // two nodes, each logging its own events
		}
		for i := range n {
			cfg := domainsConfig(t, st)
			cfg.Server.ServerID = fmt.Sprint("log-node-", i)
			nodes = append(nodes, openDomains(t, cfg))
		}
		op := hook.Operator()
		if _, err := nodes[0].PushPlugin(ctx, op, "3", loggerModule(t), nil, true); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{} // event id → node
		for i, rt := range nodes {
			waitRunning(t, rt, "3", true, "")
			id, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3", "USERNAME": fmt.Sprint("n", i)})
			if err != nil {
				t.Fatal(err)
			}
			want[id] = fmt.Sprint("log-node-", i)
		}
		var lines []hook.PluginLogLine
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var err error
			if lines, err = nodes[0].PluginLogs(ctx, op, "3", 100); err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, l := range lines {
				if node, ok := want[l.EventID]; ok && strings.HasPrefix(l.Node, node+"/") && l.Line == "logger: seen" && l.Level == "info" {
					found++
				}
			}
			if found == len(want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("plugin logs = %+v; want a line per event %v from its node", lines, want)
			}
		}
		tok, err := nodes[0].CreateDomainToken(ctx, op, "4", "other", 0)
		if err != nil {
			t.Fatal(err)
		}
		other, err := nodes[0].AuthenticateDomainToken(ctx, tok.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[0].PluginLogs(ctx, other, "3", 100); err == nil {
			t.Fatal("another domain's token read the plugin logs")
		}
		if own, err := nodes[0].PluginLogs(ctx, other, "4", 100); err != nil || len(own) != 0 {
			t.Fatalf("domain 4's own logs = %+v, %v; want none", own, err)
		}
	})
}
