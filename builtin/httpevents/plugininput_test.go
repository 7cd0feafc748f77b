package httpevents_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// syncBuffer is a bytes.Buffer safe for the runtime's logging goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPluginReadsTheEventAsSent: a domain plugin reads the event's fields
// as the proxy sent them; echo.wasm logs the form it reads, which must
// carry EVENT=NEW SESSION, not hookd's canonical NEWSESSION.
func TestPluginReadsTheEventAsSent(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	obs := hooktest.NewObservations()
	rt := start(t, teststore.SQLite(t), fmt.Sprintf(`
[http_events]
per_domain = true
per_domain_strict = true
[plugins]
cache_dir = %q
[[domain]]
id = "echo"
script = %q
%s
`, t.TempDir(), fixture(t, "echo.wasm"), pluginSettings),
		hookrt.WithObserver(obs.Observe), hookrt.WithCommandSink(hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
			return hook.Result{}, nil
		})), hookrt.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if _, err := rt.Emit(context.Background(), event("echo", "NEW SESSION", "SESSIONID", "5a1d")); err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the plugin called", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", httpevents.DomainTargetPrefix+"echo") == 1
	})
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "SESSIONID=5a1d") && strings.Contains(l, "MODULE=ISL_LIGHT") {
			line = l
		}
	}
	if !strings.Contains(line, "EVENT=NEW+SESSION&") {
		t.Errorf("the plugin read %q; want EVENT=NEW+SESSION as sent", line)
	}
}
