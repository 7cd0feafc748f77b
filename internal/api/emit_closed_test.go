package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

// TestEmitClosedRuntime: an event sent to a closed runtime is answered
// 503 with Retry-After and what happened, not a bare 500.
func TestEmitClosedRuntime(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	tb.b.set(func(b *fakeBackend) { b.emitErr = fmt.Errorf("emit: %w", hook.ErrClosed) })
	a := tb.do(t, "POST", "/v1/events", `{"MODULE":"M","EVENT":"E"}`, "Content-Type", "application/json")
	a.wantError(t, http.StatusServiceUnavailable,
		"hookd is stopping and takes no events: send the event to another node, or again once it has restarted")
	if a.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}
