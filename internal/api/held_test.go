package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// realAPI serves the API of a real runtime on a SQLite file, whose one
// target "down" answers every attempt with 500 and whose breaker opens at
// the first failure for an hour.
func heldAPI(t *testing.T) (*hookrt.Runtime, *httptest.Server, *hooktest.Observations) {
	t.Helper()
	cfg := hookrt.DefaultConfig()
	cfg.Store = storetest.SQLite(t)
	cfg.Delivery.RetrySchedule = []hook.Duration{hook.Duration(time.Hour)}
	cfg.Delivery.BreakerThreshold, cfg.Delivery.BreakerCooldown = 1, hook.Duration(time.Hour)
	cfg.Delivery.MaxAge = hook.Duration(100 * time.Hour)
	obs := hooktest.NewObservations()
	down := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
		return hook.Result{Status: 500}, errors.New("HTTP 500: database is down")
	})
	rt, err := hookrt.Open(context.Background(), cfg, hookrt.WithTarget(hook.Target{Name: "down", Handler: down}),
		hookrt.WithObserver(obs.Observe))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	srv := httptest.NewServer(api.New(rt, api.Options{}))
	t.Cleanup(srv.Close)
	return rt, srv, obs
}

func heldCall(t *testing.T, srv *httptest.Server, method, path string, into any) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if into != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return resp.StatusCode, string(body)
}

// TestHeldInAPI: the deliveries held by an open breaker or a paused
// target say so in GET /v1/deliveries and GET /v1/deliveries/{id}; the
// target's detail names the breaker's transition and its cause.
func TestHeldInAPI(t *testing.T) {
	rt, srv, obs := heldAPI(t)
	ctx := context.Background()
	if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE"}); err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the first attempt failed", func(o []hook.Observation) bool { return hooktest.Count(o, "retrying", "down") == 1 })
	var list struct {
		Deliveries []struct {
			ID   int64  `json:"id"`
			Held string `json:"held"`
		} `json:"deliveries"`
	}
	heldCall(t, srv, "GET", "/v1/deliveries", &list)
	if len(list.Deliveries) != 1 || !strings.HasPrefix(list.Deliveries[0].Held, "held: breaker open until ") {
		t.Fatalf("list: %+v; want the delivery held by the open breaker", list)
	}
	var one struct {
		Held string `json:"held"`
	}
	id := list.Deliveries[0].ID
	heldCall(t, srv, "GET", "/v1/deliveries/"+heldID(id), &one)
	if one.Held != list.Deliveries[0].Held {
		t.Errorf("one delivery: held %q, want %q", one.Held, list.Deliveries[0].Held)
	}
	var targets struct {
		Targets []struct {
			Name          string `json:"name"`
			Breaker       string `json:"breaker"`
			BreakerChange string `json:"breaker_change"`
			LastError     string `json:"last_error"`
		} `json:"targets"`
	}
	heldCall(t, srv, "GET", "/v1/targets", &targets)
	if tg := targets.Targets[0]; tg.Breaker != "open" || !strings.HasPrefix(tg.BreakerChange, "opened ") ||
		!strings.Contains(tg.BreakerChange, "HTTP 500: database is down") || tg.LastError != "HTTP 500: database is down" {
		t.Errorf("target %+v", tg)
	}
	if err := rt.PauseTarget(ctx, "down", "maintenance"); err != nil {
		t.Fatal(err)
	}
	heldCall(t, srv, "GET", "/v1/deliveries/"+heldID(id), &one)
	if one.Held != "held: target paused by operator: maintenance" {
		t.Errorf("paused: held %q", one.Held)
	}
}

// TestReplayRefusedInAPI: a replay into a paused or disabled target is
// refused with 409 naming its state, the bulk one too; force=true does it.
func TestReplayRefusedInAPI(t *testing.T) {
	rt, srv, obs := heldAPI(t)
	ctx := context.Background()
	if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE"}); err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the first attempt failed", func(o []hook.Observation) bool { return hooktest.Count(o, "retrying", "down") == 1 })
	if err := rt.DisableTarget(ctx, "down", "receiver retired"); err != nil {
		t.Fatal(err)
	}
	ds, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{})
	if err != nil || len(ds) != 1 {
		t.Fatalf("%v %v", ds, err)
	}
	id := heldID(ds[0].ID)
	for _, path := range []string{"/v1/deliveries/" + id + "/retry", "/v1/deliveries/retry?state=retrying&target=down"} {
		code, body := heldCall(t, srv, "POST", path, nil)
		if code != http.StatusConflict || !strings.Contains(body, "target down is disabled by operator (receiver retired)") {
			t.Errorf("POST %s: %d %s; want 409 naming the state", path, code, body)
		}
	}
	if code, body := heldCall(t, srv, "POST", "/v1/deliveries/retry?state=retrying&force=maybe", nil); code != http.StatusBadRequest ||
		!strings.Contains(body, `force \"maybe\": must be true or false`) {
		t.Errorf("a bad force: %d %s", code, body)
	}
	var ans struct {
		Retried int `json:"retried"`
	}
	if code, body := heldCall(t, srv, "POST", "/v1/deliveries/retry?state=retrying&target=down&force=true", &ans); code != http.StatusOK || ans.Retried != 1 {
		t.Errorf("forced bulk replay: %d %s", code, body)
	}
	obs.Wait(t, "dead once replayed into the disabled target", func(o []hook.Observation) bool { return hooktest.Count(o, "dead", "down") == 1 })
	if code, body := heldCall(t, srv, "POST", "/v1/deliveries/"+id+"/retry?force=true", nil); code != http.StatusAccepted {
		t.Errorf("forced single replay: %d %s", code, body)
	}
}

func heldID(n int64) string { return strconv.FormatInt(n, 10) }
