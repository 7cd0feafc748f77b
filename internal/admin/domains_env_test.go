package admin_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/admin"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/portal"
	"github.com/hookrt/hookd/internal/testsupport"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
	"github.com/hookrt/hookd/internal/webui/webuitest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// The runtime is the admin page's DomainBackend: cmd/hookd mounts
// admin.New(rt, …), and New serves the Domains pages because of this.
var _ admin.DomainBackend = (*hookrt.Runtime)(nil)

// domainsEnv is a real runtime on a SQLite file with a domain of the
// config file ("cfg") and a stored one ("alpha", whose delivery header
// carries a secret), the admin page and the portal over it on one
// loopback server, mounted as the daemon mounts them.
type domainsEnv struct {
	t   *testing.T
	rt  *hookrt.Runtime
	obs *hooktest.Observations
	srv *httptest.Server
	log *testsupport.LogBuffer
}

// alphaSecret is the literal value of alpha's delivery header: no page
// may show it.
const alphaSecret = "alpha-header-s3cret-5d1e"

func newDomainsEnv(t *testing.T) *domainsEnv {
	t.Helper()
	e := &domainsEnv{t: t, log: &testsupport.LogBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.rt, e.obs = testruntime.Open(t, testruntime.DeadAtOnce+testruntime.PerDomainEvents+`allow_private = ["127.0.0.0/8"]
[store]
path = "hookd.db"
[[domain]]
id = "cfg"
script = "http://127.0.0.1:9/cfg"
`, testruntime.Options{}, hookrt.WithLogger(logger))
	if _, err := e.rt.PutDomain(t.Context(), hook.Operator(), "alpha",
		[]byte(`{"script":"http://127.0.0.1:9/alpha","delivery":{"headers":{"X-Alpha-Key":"`+alphaSecret+`"}}}`)); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", admin.New(e.rt, admin.Options{Token: testToken, Logger: logger}))
	mux.Handle("/portal/", portal.New(e.rt, portal.Options{Logger: logger}))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// client is a browser stand-in on the env's server.
func (e *domainsEnv) client() *webuitest.Client {
	return &webuitest.Client{T: e.t, Base: e.srv.URL, HTTP: webuitest.NewHTTPClient()}
}

// tokens lists domain's live tokens as the runtime keeps them.
func (e *domainsEnv) tokens(domain string) []hook.DomainToken {
	e.t.Helper()
	ts, err := e.rt.DomainTokens(e.t.Context(), hook.Operator(), domain)
	if err != nil {
		e.t.Fatal(err)
	}
	return ts
}
