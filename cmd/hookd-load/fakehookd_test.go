package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/jwtsign"
)

// fakeHookd answers hookd-load's requests as hookd does (its HTTP API
// surface: /healthz, /v1/targets, the JWKS, POST /v1/events parsed by
// hookd's own api.ParseEvent) and delivers each accepted event to the
// receiver: a token signed like the JWT webhook's, or the form of HTTP
// events to every path. It is not hookd: no store, no retries; it is what
// lets the orchestration be tested without a daemon.
type fakeHookd struct {
	*httptest.Server
	t      testing.TB
	key    *jwtsign.Key
	mode   string
	paths  []string // events mode: where each event goes
	token  string   // required bearer token, if set
	batch  bool     // accepts a JSON array
	maxBat int      // and of at most this many events (0: any)
	lose   func(seq int) bool
	dup    func(seq int) bool
	// onEmit, if set, runs for every POST /v1/events before it is
	// answered (a store's write); an error fails the test.
	onEmit func(r *http.Request) error
	target atomic.Pointer[string] // the receiver's base URL
	client *http.Client
	wg     sync.WaitGroup
}

func newFakeHookd(t testing.TB, f *fakeHookd) *fakeHookd {
	f.t = t
	f.client = &http.Client{Timeout: 10 * time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(jwtsign.JWKS(f.key))
	})
	mux.HandleFunc("GET /v1/targets", func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(w, r) {
			return
		}
		_, _ = io.WriteString(w, `{"targets":[{"name":"jwt_webhook","state":"enabled","pending":0}]}`)
	})
	mux.HandleFunc("POST /v1/events", f.emit)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.Close()
		f.wg.Wait()
	})
	return f
}

func (f *fakeHookd) authorized(w http.ResponseWriter, r *http.Request) bool {
	if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, `{"error":"missing or wrong bearer token"}`, http.StatusUnauthorized)
		return false
	}
	return true
}

func (f *fakeHookd) emit(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	if f.onEmit != nil {
		if err := f.onEmit(r); err != nil {
			f.t.Error(err)
		}
	}
	body, _ := io.ReadAll(r.Body)
	var batch []map[string]string
	if f.batch && bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
		if err := json.Unmarshal(body, &batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if f.maxBat > 0 && len(batch) > f.maxBat {
			http.Error(w, `{"error":"too many events"}`, http.StatusRequestEntityTooLarge)
			return
		}
	} else {
		fields, err := api.ParseEvent(r.Header.Get("Content-Type"), body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		batch = append(batch, fields)
	}
	var ids []string
	for _, fields := range batch {
		ev, err := hook.NewEvent(fields, time.Now(), "load")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ids = append(ids, ev.ID)
		seq, _ := strconv.Atoi(fields[seqField])
		if f.lose != nil && f.lose(seq) {
			continue
		}
		if f.dup != nil && f.dup(seq) {
			// Twice, before the 202: both copies arrive before the run
			// can be complete, so neither meets a receiver shutting down.
			f.deliver(ev)
			f.deliver(ev)
			continue
		}
		f.wg.Go(func() { f.deliver(ev) })
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	if f.batch && len(body) > 0 && body[0] == '[' {
		_ = json.NewEncoder(w).Encode(map[string][]string{"event_ids": ids})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"event_id": ids[0]})
}

func (f *fakeHookd) deliver(ev *hook.Event) {
	base := f.target.Load()
	if base == nil {
		f.t.Errorf("an event was accepted before the receiver listened")
		return
	}
	if f.mode == modeJWT {
		tok, err := f.key.Sign(hookdClaims(ev, time.Now()))
		if err != nil {
			f.t.Error(err)
			return
		}
		f.post(*base+"/", "application/json", jwtBody(tok), http.StatusNoContent, "")
		return
	}
	for _, p := range f.paths {
		f.post(*base+p, "application/x-www-form-urlencoded; charset=utf-8", string(hook.AppendForm(nil, ev.Fields, "")), http.StatusOK, "<nomessage/>")
	}
}

func (f *fakeHookd) post(url, ctype, body string, wantStatus int, wantBody string) {
	resp, err := f.client.Post(url, ctype, strings.NewReader(body))
	if err != nil {
		f.t.Errorf("delivery: %v", err)
		return
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus || string(got) != wantBody {
		f.t.Errorf("delivery to %s answered %d %q, want %d %q", url, resp.StatusCode, got, wantStatus, wantBody)
	}
}
