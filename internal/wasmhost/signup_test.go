package wasmhost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
)

// badSignup is, built with wat2wasm,
//
//	(module
//	  (memory (export "memory") 1)
//	  (func (export "hookd_v1_on_event") (result i32) (i32.const 0))
//	  (func (export "hookd_v1_on_signup") (param i32) (result i32) (local.get 0)))
//
// kept here rather than in testdata, whose fixtures are another owner's.
var badSignup = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60,
	0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x03, 0x02, 0x00,
	0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x33, 0x03, 0x06, 0x6d, 0x65,
	0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x11, 0x68, 0x6f, 0x6f, 0x6b, 0x64,
	0x5f, 0x76, 0x31, 0x5f, 0x6f, 0x6e, 0x5f, 0x65, 0x76, 0x65, 0x6e, 0x74,
	0x00, 0x00, 0x12, 0x68, 0x6f, 0x6f, 0x6b, 0x64, 0x5f, 0x76, 0x31, 0x5f,
	0x6f, 0x6e, 0x5f, 0x73, 0x69, 0x67, 0x6e, 0x75, 0x70, 0x00, 0x01, 0x0a,
	0x0b, 0x02, 0x04, 0x00, 0x41, 0x00, 0x0b, 0x04, 0x00, 0x20, 0x00, 0x0b,
}

// TestSignupWrongType: a hookd_v1_on_signup that is not () -> i32 is an
// ABI problem, named with both types, and the plugin is refused at load
// (as upload, plugin check and serve judge it).
func TestSignupWrongType(t *testing.T) {
	t.Parallel()
	const want = "its hookd_v1_on_signup has type (i32) -> i32; it must be () -> i32"
	path := filepath.Join(t.TempDir(), "badsignup.wasm")
	if err := os.WriteFile(path, badSignup, 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	p, err := e.Load(context.Background(), path, Limits{Instances: 1, Timeout: testTimeout}, hostfn.Grants{})
	if err == nil {
		_ = p.Close(context.Background())
		t.Fatal("Load accepted a plugin whose hookd_v1_on_signup has the wrong type")
	}
	if !errors.Is(err, ErrABI) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Load: %v, want an ABI error containing %q", err, want)
	}
}
