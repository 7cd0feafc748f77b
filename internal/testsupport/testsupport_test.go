package testsupport_test

import (
	"os"
	"testing"

	"github.com/hookrt/hookd/internal/testsupport"
)

// TestLong: a long case runs only with HOOKD_TEST_LONG=1.
func TestLong(t *testing.T) {
	ran := false
	t.Run("unset", func(t *testing.T) {
		t.Setenv(testsupport.EnvLong, "")
		testsupport.Long(t, "a test of the switch")
		ran = true
	})
	if ran {
		t.Errorf("a long case ran without %s=1", testsupport.EnvLong)
	}
	if os.Getenv(testsupport.EnvLong) == "1" {
		return
	}
	t.Run("set", func(t *testing.T) {
		t.Setenv(testsupport.EnvLong, "1")
		testsupport.Long(t, "a test of the switch")
		ran = true
	})
	if !ran {
		t.Errorf("a long case did not run with %s=1", testsupport.EnvLong)
	}
}
