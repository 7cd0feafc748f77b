package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPrepare checks that Options.Prepare runs on Do's copy of the request,
// after the User-Agent is set, and can read the body through GetBody
// without taking it from the transport; the caller's request is left
// alone.
func TestPrepare(t *testing.T) {
	t.Parallel()
	url := serve(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s|%s|%s", r.Header.Get("X-Sig"), r.UserAgent(), body)
	}))
	c := New(Options{UserAgent: "hookd/test", Prepare: func(r *http.Request) error {
		rc, err := r.GetBody()
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(rc)
		r.Header.Set("X-Sig", r.Header.Get("User-Agent")+":"+string(b))
		return nil
	}})
	t.Cleanup(c.CloseIdleConnections)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"a":1}`))
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(resp.Body), `hookd/test:{"a":1}|hookd/test|{"a":1}`; got != want {
		t.Errorf("the receiver saw %q, want %q", got, want)
	}
	if req.Header.Get("X-Sig") != "" {
		t.Error("Prepare changed the caller's request")
	}
}

// TestPrepareError checks that an error of Prepare fails the attempt
// before anything is sent, with a text that says so and the error wrapped.
func TestPrepareError(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	url := serve(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	boom := errors.New("signing key unreadable")
	c := New(Options{Prepare: func(*http.Request) error { return boom }})
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	resp, err := c.Do(context.Background(), req)
	if resp != nil || !errors.Is(err, boom) || err.Error() != "preparing the request failed: signing key unreadable" {
		t.Fatalf("Do = %v, %v; want nil and the wrapped Prepare error", resp, err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the receiver got %d requests, want 0", n)
	}
}
