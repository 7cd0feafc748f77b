package wasmhost

import (
	"bytes"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
)

// logWriter turns a guest's WASI stdout or stderr into lines of the current
// call's log. It is used by one instance, so by one call at a time, from the
// goroutine running it.
type logWriter struct {
	source string
	level  int32 // a hostapi.Level
	call   *hostfn.Call
	buf    []byte
	long   bool // the current line passed MaxLogLine; the rest is dropped
}

// Write implements io.Writer. It never fails: what does not fit is
// dropped, as a log is not worth failing a plugin for.
func (w *logWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !w.long {
			room := hostapi.MaxLogLine + 4 - len(w.buf)
			if len(chunk) > room {
				w.buf = append(w.buf, chunk[:room]...)
				w.long = true
			} else {
				w.buf = append(w.buf, chunk...)
			}
		}
		if i < 0 {
			break
		}
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

// emit passes the buffered line to the call.
func (w *logWriter) emit() {
	if w.call != nil {
		w.call.AddLog(w.source, w.level, string(bytes.TrimSuffix(w.buf, []byte("\r"))))
	}
	w.buf, w.long = w.buf[:0], false
}

// setCall flushes a partial line into the current call and switches to c.
func (w *logWriter) setCall(c *hostfn.Call) {
	if len(w.buf) > 0 {
		w.emit()
	}
	w.call = c
}
