package testsupport

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// LogBuffer is a log sink a test reads (and waits on) while the code
// under test writes it from its own goroutines: give it to
// slog.NewTextHandler. The zero value is ready to use.
type LogBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{} // signalled (not counted) on every write
}

// logPatience bounds LogBuffer.Wait: a hung test, not a budget.
const logPatience = 30 * time.Second

func (l *LogBuffer) signal() chan struct{} {
	if l.wrote == nil {
		l.wrote = make(chan struct{}, 1)
	}
	return l.wrote
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.signal() <- struct{}{}:
	default:
	}
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Wait blocks until the log holds text n times, or fails t saying what
// was logged.
func (l *LogBuffer) Wait(t testing.TB, text string, n int) {
	t.Helper()
	l.mu.Lock()
	wrote := l.signal()
	l.mu.Unlock()
	deadline := time.After(logPatience)
	for strings.Count(l.String(), text) < n {
		select {
		case <-wrote:
		case <-deadline:
			t.Fatalf("timed out waiting for %d log lines with %q; logged:\n%s", n, text, l.String())
		}
	}
}
