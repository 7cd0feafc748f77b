package httpevents_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	hookrt "github.com/hookrt/hookd/runtime"
)

// fast are delivery settings that make retries happen within a test.
const fast = `
[delivery]
retry_schedule = ["50ms"]
jitter = 0
timeout = "2s"
poll_interval = "20ms"
breaker_threshold = 1000
`

// parse loads doc (plus the fast delivery settings) with the built-ins.
func parse(t testing.TB, doc string) (*hookrt.Config, error) {
	t.Helper()
	return hookrt.ParseConfig([]byte(fast+doc), t.TempDir())
}

// start opens a runtime on st with the config doc.
func start(t testing.TB, st hookrt.StoreConfig, doc string, opts ...hookrt.Option) *hookrt.Runtime {
	t.Helper()
	cfg, err := parse(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	rt, err := hookrt.Open(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rt.Close(ctx)
	})
	return rt
}

// form decodes a recorded form body.
func form(t testing.TB, body []byte) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("body is not a form: %v", err)
	}
	return v
}

func event(domain, name string, extra ...string) map[string]string {
	f := map[string]string{"MODULE": "ISL_LIGHT", "EVENT": name, "DOMAIN_ID": domain, "SERVERID": "grid-1"}
	for i := 0; i+1 < len(extra); i += 2 {
		f[extra[i]] = extra[i+1]
	}
	return f
}
