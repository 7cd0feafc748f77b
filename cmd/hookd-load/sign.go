package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// loadSignKey loads a PEM private key with hookd's own loader, so the same
// rules apply (mode 0600; symlinks followed only inside the directory) and the same alg is chosen.
func loadSignKey(path, alg string) (*jwtsign.Key, error) {
	return jwtsign.LoadKey(filepath.Dir(path), filepath.Base(path), alg)
}

// signResult is one raw-signing measurement.
type signResult struct {
	Alg        string  `json:"alg"`
	KID        string  `json:"kid"`
	Goroutines int     `json:"goroutines"`
	Seconds    float64 `json:"seconds"`
	Signs      int64   `json:"signs"`
	PerSecond  float64 `json:"signs_per_s"`
	// CPUMsPerSign is this process's CPU over the signing ÷ signatures
	// (0 where the process's CPU is not measured): the cost of one
	// signature, which hookd pays once per delivery.
	CPUMsPerSign float64 `json:"cpu_ms_per_sign,omitempty"`
}

// measureSign signs hookd-like claims with key from goroutines goroutines
// for d (or until ctx ends), and returns the rate. Each token is what the
// JWT webhook signs for one event: a fresh claims map with iat, exp, jti,
// event, module, server_id, domain_id, a configured claim, and data, the
// event's fields (event(…) plus EVENT_ID, TIMESTAMP and SERVERID).
func measureSign(ctx context.Context, key *jwtsign.Key, goroutines int, d time.Duration, event func(run string, seq int) []field) (signResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		total    atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	cpu0, cpu0Err := selfCPU()
	start := time.Now()
	deadline := start.Add(d)
	for g := range goroutines {
		wg.Go(func() {
			data := map[string]string{"SERVERID": "load", "TIMESTAMP": strconv.FormatInt(start.Unix(), 10)}
			for _, f := range event("sign", g) {
				data[f.name] = f.value
			}
			var n int64
			for i := 0; ; i++ {
				now := time.Now()
				if now.After(deadline) || ctx.Err() != nil {
					break
				}
				jti := fmt.Sprintf("00000000-0000-7000-8000-%04x%08x", g, i)
				data["EVENT_ID"] = jti
				claims := make(map[string]any, 10)
				claims["iss"] = "hookd-load"
				claims["iat"] = now.Unix()
				claims["exp"] = now.Add(300 * time.Second).Unix()
				claims["jti"] = jti
				claims["event"] = "user_create"
				claims["module"] = data["MODULE"]
				claims["server_id"] = "load"
				claims["domain_id"] = data["DOMAIN_ID"]
				claims["data"] = data
				if _, err := key.Sign(claims); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					break
				}
				n++
			}
			total.Add(n)
		})
	}
	wg.Wait()
	if firstErr != nil {
		return signResult{}, firstErr
	}
	el := time.Since(start)
	var perSign float64
	if cpu1, err := selfCPU(); err == nil && cpu0Err == nil && total.Load() > 0 {
		perSign = round((cpu1-cpu0).Seconds()*1000/float64(total.Load()), 4)
	}
	return signResult{
		CPUMsPerSign: perSign,
		Alg:          key.Alg(),
		KID:          key.KID(),
		Goroutines:   goroutines,
		Seconds:      el.Seconds(),
		Signs:        total.Load(),
		PerSecond:    rate(int(total.Load()), el),
	}, nil
}

// runSign is `hookd-load sign`: the raw signing rate of a key on all cores.
func runSign(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hookd-load sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "PEM private key file (mode 0600, as hookd requires)")
	alg := fs.String("alg", "", "RS256 (default for RSA), RS384, RS512, PS256, PS384, PS512; EC and Ed25519 keys have one")
	seconds := fs.Float64("seconds", 5, "how long to sign")
	goroutines := fs.Int("goroutines", runtime.GOMAXPROCS(0), "signing goroutines (default GOMAXPROCS: every core)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "hookd-load sign: unexpected arguments %q\n", fs.Args())
		return exitUsage
	case *keyFile == "":
		fmt.Fprintln(stderr, "hookd-load sign: -key FILE is required")
		return exitUsage
	case *seconds <= 0 || *goroutines < 1:
		fmt.Fprintln(stderr, "hookd-load sign: -seconds must be positive and -goroutines at least 1")
		return exitUsage
	}
	key, err := loadSignKey(*keyFile, *alg)
	if err != nil {
		fmt.Fprintln(stderr, "hookd-load sign:", err)
		return exitFailed
	}
	r, err := measureSign(ctx, key, *goroutines, time.Duration(*seconds*float64(time.Second)), eventKinds["user_create"])
	if err != nil {
		fmt.Fprintln(stderr, "hookd-load sign:", err)
		return exitFailed
	}
	if *asJSON {
		_ = json.NewEncoder(stdout).Encode(r)
	} else {
		fmt.Fprintf(stdout, "%s (kid %s): %.0f signs/s on %d goroutines (%d in %.2f s; GOMAXPROCS %d)\n",
			r.Alg, r.KID, r.PerSecond, r.Goroutines, r.Signs, r.Seconds, runtime.GOMAXPROCS(0))
	}
	return exitOK
}
