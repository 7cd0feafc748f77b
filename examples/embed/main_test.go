package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/hookrt/hookd/hook"
)

// TestCreateUser: POST /users commits the row and its USER_CREATE event,
// and the event reaches the global events script exactly once.
func TestCreateUser(t *testing.T) {
	p := startProxy(t, true)
	a := p.post(t, "/users", `{"username":"ann","domain":"acme","email":"ann@example.com"}`)
	eventID := a.str("event_id")
	if a.status != http.StatusCreated || a.body["id"] != 1.0 || eventID == "" {
		t.Fatalf("POST /users = %d %s, want 201 with id 1 and an event_id", a.status, a.raw)
	}
	p.wantUser(t, "ann", "ann@example.com")

	evs := eventsWith(p.recv.waitUser(t, "ann"), "USERNAME", "ann")
	ev := evs[0]
	for field, want := range map[string]string{
		"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "EVENT_ID": eventID, "USER_ID": "1",
		"USERNAME": "ann", "DOMAIN": "acme", "EMAIL": "ann@example.com", "SERVERID": "embed-test",
	} {
		if got := ev.Get(field); got != want {
			t.Errorf("event field %s = %q, want %q (event %v)", field, got, want, ev)
		}
	}
	p.wantDeliveries(t, eventID)

	// A later event arriving proves the first one is not sent again.
	b := p.post(t, "/users", `{"username":"bob","domain":"acme","email":"bob@example.com"}`)
	if b.status != http.StatusCreated {
		t.Fatalf("POST /users bob = %d %s", b.status, b.raw)
	}
	all := p.recv.waitUser(t, "bob")
	if n := len(eventsWith(all, "USERNAME", "ann")); n != 1 {
		t.Errorf("ann's event arrived %d times, want once: %v", n, all)
	}
	p.wantDeliveries(t, eventID, b.str("event_id"))
}

// TestDuplicateUsername: a creation that fails in the INSERT commits
// nothing: no second row, no event, no delivery.
func TestDuplicateUsername(t *testing.T) {
	p := startProxy(t, true)
	first := p.post(t, "/users", `{"username":"ann","domain":"acme","email":"ann@example.com"}`)
	if first.status != http.StatusCreated {
		t.Fatalf("POST /users = %d %s", first.status, first.raw)
	}
	p.recv.waitUser(t, "ann")

	dup := p.post(t, "/users", `{"username":"ann","domain":"other","email":"impostor@example.com"}`)
	if dup.status != http.StatusConflict || dup.str("error") != `username "ann" is taken` {
		t.Fatalf("duplicate POST /users = %d %s, want 409 naming the username", dup.status, dup.raw)
	}
	p.wantUser(t, "ann", "ann@example.com") // the first row, unchanged
	p.wantDeliveries(t, first.str("event_id"))

	// Events are delivered in no guaranteed order, so wait for a later
	// user's event: by then the refused one would have had every chance.
	c := p.post(t, "/users", `{"username":"cat","domain":"acme","email":"cat@example.com"}`)
	if c.status != http.StatusCreated || c.body["id"] != 2.0 {
		t.Fatalf("POST /users cat = %d %s, want 201 with id 2", c.status, c.raw)
	}
	all := p.recv.waitUser(t, "cat")
	if got := eventsWith(all, "EMAIL", "impostor@example.com"); len(got) != 0 {
		t.Errorf("the refused creation's event reached the receiver: %v", got)
	}
	if n := len(eventsWith(all, "USERNAME", "ann")); n != 1 {
		t.Errorf("ann's event arrived %d times, want once: %v", n, all)
	}
	p.wantDeliveries(t, first.str("event_id"), c.str("event_id"))
}

// TestRollbackAfterInsert: when hookd refuses the event after the INSERT
// ran, the INSERT is rolled back with it. The handler's input checks keep
// a NUL byte out, so createUser is called directly.
func TestRollbackAfterInsert(t *testing.T) {
	p := startProxy(t, true)
	ctx := context.Background()
	_, _, err := createUser(ctx, p.rt, newUser{Username: "ann", Domain: "acme", Email: "ann\x00@example.com"})
	if !errors.Is(err, hook.ErrInvalidEvent) {
		t.Fatalf("createUser with a NUL byte in the email: %v, want an error from EmitTx matching hook.ErrInvalidEvent", err)
	}
	if _, err := getUser(ctx, p.rt.DB(), "ann"); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("after the refused event, getUser = %v, want sql.ErrNoRows: the INSERT must be rolled back", err)
	}
	p.wantDeliveries(t)

	// The username is free again: the failed transaction left nothing.
	a := p.post(t, "/users", `{"username":"ann","domain":"acme","email":"ann@example.com"}`)
	if a.status != http.StatusCreated {
		t.Fatalf("POST /users after the rollback = %d %s, want 201", a.status, a.raw)
	}
	all := p.recv.waitUser(t, "ann")
	if len(all) != 1 {
		t.Errorf("the receiver got %d events, want only the committed one: %v", len(all), all)
	}
	p.wantDeliveries(t, a.str("event_id"))
}

// TestBadRequests: input the proxy refuses is answered with what is wrong,
// and commits nothing.
func TestBadRequests(t *testing.T) {
	p := startProxy(t, true)
	huge := `{"username":"ann","domain":"acme","email":"ann@example.com","x":"` + strings.Repeat("x", 70<<10) + `"}`
	for _, tc := range []struct {
		name, method, path, contentType, body string
		status                                int
		error                                 string
	}{
		{"bad username", "POST", "/users", "", `{"username":"a b","domain":"acme","email":"ann@example.com"}`, 400, `username: only ASCII letters`},
		{"empty username", "POST", "/users", "", `{"domain":"acme","email":"ann@example.com"}`, 400, `username: must be 1 to 64 characters`},
		{"bad domain", "POST", "/users", "", `{"username":"ann","domain":"ac/me","email":"ann@example.com"}`, 400, `domain: only ASCII letters`},
		{"bad email", "POST", "/users", "", `{"username":"ann","domain":"acme","email":"Ann <ann@example.com>"}`, 400, `email: must be a bare address`},
		{"NUL in email", "POST", "/users", "", `{"username":"ann","domain":"acme","email":"ann\u0000@example.com"}`, 400, `email:`},
		{"unknown field", "POST", "/users", "", `{"username":"ann","domain":"acme","email":"ann@example.com","admin":true}`, 400, `body: json: unknown field "admin"`},
		{"not JSON", "POST", "/users", "", `username=ann`, 400, `body: invalid character`},
		{"two objects", "POST", "/users", "", `{} {}`, 400, `body: more than one JSON value`},
		{"empty body", "POST", "/users", "", ``, 400, `body: empty`},
		{"too large", "POST", "/users", "", huge, 413, `body: larger than 65536 bytes`},
		{"form", "POST", "/users", "application/x-www-form-urlencoded", `username=ann`, 415, `Content-Type must be application/json`},
		{"control in fullname", "POST", "/signup", "", `{"username":"ann","domain":"acme","email":"ann@example.com","fullname":"A\nB"}`, 400, `fullname: control characters`},
		{"GET /users", "GET", "/users", "", ``, 405, `method must be POST, got GET`},
		{"POST /users/ann", "POST", "/users/ann", "", `{}`, 405, `method must be GET, got POST`},
		{"unknown route", "GET", "/nope", "", ``, 404, `no route GET /nope`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, p.url+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var body struct{ Error string }
			if err := json.Unmarshal(raw, &body); err != nil || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s %s: answer %q is not JSON: %v", tc.method, tc.path, raw, err)
			}
			if resp.StatusCode != tc.status || !strings.HasPrefix(body.Error, tc.error) {
				t.Errorf("%s %s = %d %s, want %d with an error starting %q", tc.method, tc.path, resp.StatusCode, raw, tc.status, tc.error)
			}
		})
	}
	p.wantNoUser(t, "ann")
	p.wantDeliveries(t)
	if calls := p.accounts.calls(); len(calls) != 0 {
		t.Errorf("the account service was asked %d times about refused input: %v", len(calls), calls)
	}
}

// TestSignupAllowed: a sign-up the account/1 service allows creates the
// user and its event.
func TestSignupAllowed(t *testing.T) {
	p := startProxy(t, true)
	a := p.post(t, "/signup", `{"username":"ann","domain":"acme","email":"ann@example.com","fullname":"Ann Lee","password":"s3cret"}`)
	if a.status != http.StatusCreated || a.str("decided_by") != "webapi" || a.str("event_id") == "" {
		t.Fatalf("POST /signup = %d %s, want 201 decided by the webapi", a.status, a.raw)
	}
	calls := p.accounts.calls()
	if len(calls) != 1 {
		t.Fatalf("the account service got %d sign-ups, want 1: %v", len(calls), calls)
	}
	want := map[string]any{"username": "ann", "domain": "acme", "email": "ann@example.com", "fullname": "Ann Lee", "language": "en"}
	if fmt.Sprint(calls[0]) != fmt.Sprint(want) { // no password: forward_password is off
		t.Errorf("the account service got %v, want %v", calls[0], want)
	}
	p.wantUser(t, "ann", "ann@example.com")
	evs := eventsWith(p.recv.waitUser(t, "ann"), "USERNAME", "ann")
	if evs[0].Get("EVENT_ID") != a.str("event_id") {
		t.Errorf("event %v, want EVENT_ID %s", evs[0], a.str("event_id"))
	}
	p.wantDeliveries(t, a.str("event_id"))
}

// TestSignupRefused: a sign-up the service refuses is answered 422 with
// its message and failed fields, and creates nothing; one it cannot be
// asked about is refused too (fail closed), as 503.
func TestSignupRefused(t *testing.T) {
	p := startProxy(t, true)
	a := p.post(t, "/signup", `{"username":"`+takenName+`","domain":"acme","email":"t@example.com","fullname":"T"}`)
	if want := `{"error":"That name is taken.","message_id":"signup.refused","fields":["username"]}`; a.status != http.StatusUnprocessableEntity || a.raw != want {
		t.Errorf("refused POST /signup = %d %s, want 422 %s", a.status, a.raw, want)
	}
	d := p.post(t, "/signup", `{"username":"`+downName+`","domain":"acme","email":"d@example.com"}`)
	if d.status != http.StatusServiceUnavailable || d.str("message_id") != "signup.unavailable" || d.str("error") == "" {
		t.Errorf("POST /signup with the service failing = %d %s, want 503 signup.unavailable", d.status, d.raw)
	}
	p.wantNoUser(t, takenName)
	p.wantNoUser(t, downName)
	p.wantDeliveries(t)

	ok := p.post(t, "/signup", `{"username":"dan","domain":"acme","email":"dan@example.com"}`)
	if ok.status != http.StatusCreated {
		t.Fatalf("POST /signup dan = %d %s", ok.status, ok.raw)
	}
	all := p.recv.waitUser(t, "dan")
	if len(all) != 1 {
		t.Errorf("the receiver got %d events, want only dan's: %v", len(all), all)
	}
	p.wantDeliveries(t, ok.str("event_id"))
}

// TestSignupNotDelegated: without a [webapi] section the proxy decides
// sign-ups itself; the account service is never asked.
func TestSignupNotDelegated(t *testing.T) {
	p := startProxy(t, false)
	a := p.post(t, "/signup", `{"username":"`+takenName+`","domain":"acme","email":"t@example.com"}`)
	if a.status != http.StatusCreated || a.str("decided_by") != "proxy" {
		t.Fatalf("POST /signup = %d %s, want 201 decided by the proxy", a.status, a.raw)
	}
	p.recv.waitUser(t, takenName)
	if calls := p.accounts.calls(); len(calls) != 0 {
		t.Errorf("the account service was asked: %v", calls)
	}
	p.wantDeliveries(t, a.str("event_id"))
}

// TestConcurrentCreations: many requests at once queue on the store's one
// connection instead of failing, and every user gets exactly one event.
func TestConcurrentCreations(t *testing.T) {
	p := startProxy(t, true)
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := tryDo(http.MethodPost, p.url+"/users", fmt.Sprintf(`{"username":"u%d","domain":"acme","email":"u%d@example.com"}`, i, i))
			if err != nil || a.status != http.StatusCreated {
				t.Errorf("POST /users u%d = %d %s %v", i, a.status, a.raw, err)
			}
			ids[i] = a.str("event_id")
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all := p.recv.wait(t, "every user's event", func(evs []url.Values) bool { return len(evs) >= n })
	for i := range n {
		if got := eventsWith(all, "USERNAME", fmt.Sprintf("u%d", i)); len(got) != 1 || got[0].Get("EVENT_ID") != ids[i] {
			t.Errorf("u%d: events %v, want one with EVENT_ID %s", i, got, ids[i])
		}
	}
	p.wantDeliveries(t, ids...)
}
