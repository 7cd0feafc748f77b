package testsupport_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/testsupport"
)

// TestLogBuffer: concurrent writers all land, and Wait returns once the
// text was written n times.
func TestLogBuffer(t *testing.T) {
	t.Parallel()
	var l testsupport.LogBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			fmt.Fprintf(&l, "line %d ready\n", i)
		}
	}()
	l.Wait(t, "ready", 50)
	<-done
	if n := strings.Count(l.String(), "\n"); n != 50 {
		t.Fatalf("%d lines, want 50", n)
	}
}
