package wasmhost

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
)

// growSignup is, built with wat2wasm,
//
//	(module
//	  (memory (export "memory") 1 1000)
//	  (func (export "hookd_v1_on_event") (result i32) (i32.const 0))
//	  (func (export "hookd_v1_on_signup") (result i32)
//	    (drop (memory.grow (i32.const 3)))
//	    (i32.const 0)))
//
// a guest whose sign-up decision grows its memory by three pages each
// time and allows; kept here rather than in testdata, whose fixtures are
// another owner's.
var growSignup = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
	0x00, 0x01, 0x7f, 0x03, 0x03, 0x02, 0x00, 0x00, 0x05, 0x05, 0x01, 0x01,
	0x01, 0xe8, 0x07, 0x07, 0x33, 0x03, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72,
	0x79, 0x02, 0x00, 0x11, 0x68, 0x6f, 0x6f, 0x6b, 0x64, 0x5f, 0x76, 0x31,
	0x5f, 0x6f, 0x6e, 0x5f, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x00, 0x00, 0x12,
	0x68, 0x6f, 0x6f, 0x6b, 0x64, 0x5f, 0x76, 0x31, 0x5f, 0x6f, 0x6e, 0x5f,
	0x73, 0x69, 0x67, 0x6e, 0x75, 0x70, 0x00, 0x01, 0x0a, 0x10, 0x02, 0x04,
	0x00, 0x41, 0x00, 0x0b, 0x09, 0x00, 0x41, 0x03, 0x40, 0x00, 0x1a, 0x41,
	0x00, 0x0b,
}

// TestCallSignupMeasured: CallSignupMeasured reports the linear memory a
// sign-up call left the instance with (what a dry run shows a domain
// owner about its candidate's decisions), with CallSignup's outcome; a
// plugin without hookd_v1_on_signup abstains unmeasured (no instance ran).
func TestCallSignupMeasured(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "growsignup.wasm")
	if err := os.WriteFile(path, growSignup, 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	p, err := e.Load(context.Background(), path, Limits{Instances: 1, Timeout: testTimeout}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	fields := map[string]string{hostapi.SignupUsername: "ann", hostapi.SignupDomain: "acme"}
	out, st, err := p.CallSignupMeasured(context.Background(), fields)
	if err != nil || out.Status != hostapi.SignupAllow || st.Memory != 4<<16 {
		t.Errorf("first sign-up: %+v, %+v, %v; want allowed, 4 pages (1 declared + 3 grown)", out, st, err)
	}
	out, st, err = p.CallSignupMeasured(context.Background(), fields)
	if err != nil || out.Status != hostapi.SignupAllow || st.Memory != 7<<16 {
		t.Errorf("second sign-up, same instance: %+v, %+v, %v; want allowed, 7 pages", out, st, err)
	}
	ok := load(t, e, "ok", Limits{Instances: 1}, hostfn.Grants{})
	out, st, err = ok.CallSignupMeasured(context.Background(), fields)
	if err != nil || out.Status != hostapi.SignupAbstain || st.Memory != 0 {
		t.Errorf("no export: %+v, %+v, %v; want abstained, unmeasured", out, st, err)
	}
}
