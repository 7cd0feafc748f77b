package webapi_test

import (
	"os"
	"testing"
)

// TestMain removes the examples/account-service binary the end-to-end
// tests shared (e2e_test.go).
func TestMain(m *testing.M) {
	code := m.Run()
	if accountServiceDir != "" {
		_ = os.RemoveAll(accountServiceDir)
	}
	os.Exit(code)
}
