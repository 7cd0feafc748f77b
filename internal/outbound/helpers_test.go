package outbound

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// fixture is what one case's handler can use: release is closed when the
// test ends (handlers that must not answer block on it, never on a sleep),
// and hits counts requests to a redirect target.
type fixture struct {
	release chan struct{}
	hits    atomic.Int32
}

// block waits until the test ends or the client goes away.
func (f *fixture) block(r *http.Request) {
	select {
	case <-f.release:
	case <-r.Context().Done():
	}
}

// serve starts a loopback server for h and returns its URL. Cleanups run in
// reverse order, so release is closed before the server waits for its
// handlers to return.
func serve(t testing.TB, f *fixture, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if f != nil {
		t.Cleanup(func() { close(f.release) })
	}
	return srv.URL
}

// refusedURL returns the URL of a loopback port that nothing listens on: it
// listens, notes the address and closes.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}
