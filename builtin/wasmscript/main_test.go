package wasmscript_test

import (
	"testing"

	"github.com/hookrt/hookd/internal/plugintest"
)

// TestMain closes plugintest's engine and cache (the Go example plugins
// the dry-run tests build once, shared with other test binaries).
func TestMain(m *testing.M) { plugintest.Main(m) }
