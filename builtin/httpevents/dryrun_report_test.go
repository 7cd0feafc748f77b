package httpevents_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
)

// TestEventsDryRunReport: the module hands a dry run's sign-ups to the
// plugin host with its events (no side channel): the SDK's sign-up guest
// allows "allow", measured, after the event; a module without
// hookd_v1_on_signup says so; a script URL cannot be dry-run.
func TestEventsDryRunReport(t *testing.T) {
	t.Parallel()
	e, err := provision(t, httpevents.Domains{
		{ID: "5", Script: fixture(t, "echo.wasm"), Plugin: wasmscript.Settings{Timeout: hook.Duration(time.Minute), Instances: 1}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := hook.NewEvent(event("5", "NEWSESSION"), time.Now(), "test")
	if err != nil {
		t.Fatal(err)
	}
	in := wasmscript.DryRunInput{Events: []*hook.Event{ev}, Signups: []hook.DryRunSignup{{Username: "allow", Domain: "5", Email: "ann@acme.example"}}}
	guest := mustReadFile(t, plugintest.Build(t, "github.com/hookrt/hookd/plugins/pdk/internal/signupguest"))
	rep, err := e.DryRunReport(context.Background(), httpevents.Domain{ID: "5", Module: guest}, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Verdict != wasmscript.VerdictAcknowledged {
		t.Errorf("events: %+v; want the one event acknowledged", rep.Results)
	}
	if len(rep.Signups) != 1 || rep.Signups[0].Decision != hook.DryRunAllow || rep.Signups[0].Memory <= 0 {
		t.Errorf("sign-ups: %+v; want ann allowed, with the call's memory", rep.Signups)
	}
	rep, err = e.DryRunReport(context.Background(), httpevents.Domain{ID: "5", Module: mustReadFile(t, fixture(t, "echo.wasm"))}, in)
	if err != nil || len(rep.Signups) != 1 || rep.Signups[0].Decision != hook.DryRunNoExport {
		t.Errorf("module without on_signup: %+v, %v; want no_export", rep.Signups, err)
	}
	if _, err := e.DryRunReport(context.Background(), httpevents.Domain{ID: "5", Script: "https://x.example/"}, in); !errors.Is(err, hook.ErrInvalid) {
		t.Errorf("URL script: %v; want ErrInvalid", err)
	}
}
