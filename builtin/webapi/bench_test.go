package webapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
)

// BenchmarkSignup measures what Signup adds to a bare net/http call: each
// iteration makes one Signup and the same request (URL, headers, body)
// with a plain http.Client, against a loopback service that answers at
// once, and reports the p50 and p99 of both and their difference. Logging
// goes through a JSON handler at info level (into io.Discard), as in the
// daemon. -benchtime Nx = N pairs of calls.
func BenchmarkSignup(b *testing.B) {
	answer := []byte(`{"result": {"code": "ok", "description": "Welcome."}, "data": {"id": 7}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer srv.Close()

	s := &webapi.Service{URL: srv.URL + "/webapi2", Timeout: hook.Duration(5 * time.Second), UseSignup: true}
	env := hook.Env{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), UserAgent: "hookd/bench"}
	if err := s.Provision(context.Background(), env); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	req := webapi.SignupRequest{Username: "ann", Domain: "acme", Email: "ann@acme.example", FullName: "Ann Example", Language: "en", Password: "s3cret"}

	bare := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer bare.CloseIdleConnections()
	bareURL := srv.URL + "/webapi2?method=account/signup/1&he=JSON1&ho=JSON1&hl=en"
	bareBody := []byte(`{"username":"ann","domain":"acme","email":"ann@acme.example","fullname":"Ann Example","language":"en"}`)
	bareCall := func() {
		r, _ := http.NewRequest(http.MethodPost, bareURL, bytes.NewReader(bareBody))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json")
		r.Header.Set("User-Agent", "hookd/bench")
		resp, err := bare.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	ctx := context.Background()
	signup := func() {
		res, err := s.Signup(ctx, req)
		if err != nil || res.Outcome != webapi.Allowed {
			b.Fatalf("%+v %v", res, err)
		}
	}
	for range 100 { // open the connections, warm the pools
		signup()
		bareCall()
	}

	lat := make([]time.Duration, 0, b.N)
	bareLat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		signup()
		t1 := time.Now()
		bareCall()
		t2 := time.Now()
		lat = append(lat, t1.Sub(t0))
		bareLat = append(bareLat, t2.Sub(t1))
	}
	b.StopTimer()

	slices.Sort(lat)
	slices.Sort(bareLat)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b50, b99 := bareLat[len(bareLat)/2], bareLat[len(bareLat)*99/100]
	b.ReportMetric(us(p50), "signup-p50-µs")
	b.ReportMetric(us(p99), "signup-p99-µs")
	b.ReportMetric(us(b50), "bare-p50-µs")
	b.ReportMetric(us(b99), "bare-p99-µs")
	b.ReportMetric(us(p50-b50), "overhead-p50-µs")
	b.ReportMetric(us(p99-b99), "overhead-p99-µs")
}
