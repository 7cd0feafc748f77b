package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDoCallerDeadline checks that the ctx given to Do bounds it too, and
// that the text then says whose deadline it was.
func TestDoCallerDeadline(t *testing.T) {
	t.Parallel()
	f := &fixture{release: make(chan struct{})}
	url := serve(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.block(r) }))
	c := New(Options{}) // 10s: the caller's 100ms must win
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := c.Do(ctx, req)
	if resp != nil || err == nil {
		t.Fatalf("Do = %v, %v; want nil and an error", resp, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "(the attempt's deadline)") {
		t.Errorf("error = %v, want a timeout naming the attempt's deadline", err)
	}
}

// TestDoLeavesRequestAlone checks that the User-Agent is added to a copy:
// the caller may reuse its request (e.g. for a signed retry).
func TestDoLeavesRequestAlone(t *testing.T) {
	t.Parallel()
	url := serve(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.UserAgent()) }))
	c := New(Options{UserAgent: "hookd/test"})

	req, _ := http.NewRequest(http.MethodGet, url, nil) // nil body
	resp, err := c.Do(context.Background(), req)
	if err != nil || string(resp.Body) != "hookd/test" {
		t.Fatalf("Do = %+v, %v", resp, err)
	}
	if ua, ok := req.Header["User-Agent"]; ok {
		t.Errorf("request was modified: User-Agent %q", ua)
	}

	req.Header.Set("User-Agent", "caller/1")
	resp, err = c.Do(context.Background(), req)
	if err != nil || string(resp.Body) != "caller/1" {
		t.Errorf("Do with the caller's User-Agent = %+v, %v", resp, err)
	}
}

func TestDoNilRequest(t *testing.T) {
	t.Parallel()
	resp, err := New(Options{}).Do(context.Background(), nil)
	if resp != nil || err == nil {
		t.Errorf("Do(nil) = %v, %v; want an error", resp, err)
	}
}

func TestReadAtMost(t *testing.T) {
	t.Parallel()
	data := []byte("0123456789")
	tests := []struct {
		limit, declared int64
		want            string
	}{
		{limit: 100, declared: -1, want: "0123456789"},
		{limit: 100, declared: 10, want: "0123456789"},
		{limit: 100, declared: 3, want: "0123456789"}, // a wrong hint only costs a grow
		{limit: 4, declared: -1, want: "0123"},
		{limit: 4, declared: 10, want: "0123"},
		{limit: 11, declared: 10, want: "0123456789"},
	}
	for _, tt := range tests {
		got, err := readAtMost(io.MultiReader(bytes.NewReader(data[:5]), bytes.NewReader(data[5:])), tt.limit, tt.declared)
		if err != nil || string(got) != tt.want {
			t.Errorf("readAtMost(limit %d, declared %d) = %q, %v; want %q", tt.limit, tt.declared, got, err, tt.want)
		}
	}
}
