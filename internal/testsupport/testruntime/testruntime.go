// Package testruntime opens a real hookd runtime for a test, as the
// tests of the API, the portal and the operations room all need one: a
// SQLite file (or the PostgreSQL a test names) under the test's own
// directory, its observations recorded for hooktest.Observations.Wait,
// closed when the test ends. DeadAtOnce and PerDomainEvents are the
// config those tests share, so that "a failed delivery is dead at once"
// is written, and explained, once.
//
//	rt, obs := testruntime.Open(t, testruntime.DeadAtOnce+testruntime.PerDomainEvents, testruntime.Options{})
package testruntime

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/hooktest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// DeadAtOnce is a [delivery] section under which a failed delivery is
// dead after its first attempt: the next attempt, 2 h away, would be past
// the maximum age of 1 h. Workers poll every 20 ms, so a test waits little
// for a delivery to be tried.
const DeadAtOnce = `
[delivery]
retry_schedule = ["2h"]
max_age = "1h"
jitter = 0
timeout = "5s"
poll_interval = "20ms"
`

// PerDomainEvents is an [http_events] section that sends each domain's
// events to its own script, strictly, and saves them into their sessions'
// records. A test may add keys of [http_events] right after it.
const PerDomainEvents = `
[http_events]
per_domain = true
per_domain_strict = true
save_to_session = true
`

// Options says where the runtime keeps its data.
type Options struct {
	// Dir is the directory the config's relative paths are under
	// (t.TempDir() when empty).
	Dir string
	// Store, when set, replaces the config's [store]: a test run on
	// SQLite and on PostgreSQL passes each in turn.
	Store *hookrt.StoreConfig
}

// Open parses config (a config file's text) and opens the runtime over
// it with opts, observing every delivery state it reaches; it fails t on
// a config or open error, and closes the runtime when t ends (a test may
// have closed it already).
func Open(t testing.TB, config string, o Options, opts ...hookrt.Option) (*hookrt.Runtime, *hooktest.Observations) {
	t.Helper()
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	cfg, err := hookrt.ParseConfig([]byte(config), dir)
	if err != nil {
		t.Fatal(err)
	}
	if o.Store != nil {
		cfg.Store = *o.Store
	}
	obs := hooktest.NewObservations()
	rt, err := hookrt.Open(t.Context(), cfg, append(slices.Clip(opts), hookrt.WithObserver(obs.Observe))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = rt.Close(ctx)
	})
	return rt, obs
}

// Logger is a logger for a runtime under test: silent, unless the test
// runs with -v, when it writes to stderr beside the test's own output.
func Logger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
