package engine

import "time"

// SetUnknownWait shortens how long a delivery whose target this node does
// not know waits before it looks again, so that a test sees it come back.
func SetUnknownWait(e *Engine, d time.Duration) { e.unknownWait = d }
