package webapi_test

import (
	"os"
	"testing"

	"github.com/hookrt/hookd/internal/plugintest"
)

// TestMain removes the examples/account-service binary the end-to-end
// tests shared (e2e_test.go), and closes plugintest's engine and cache
// (the plugins of BenchmarkSignupPlugin).
func TestMain(m *testing.M) {
	plugintest.Main(m, func() {
		if accountServiceDir != "" {
			_ = os.RemoveAll(accountServiceDir)
		}
	})
}
