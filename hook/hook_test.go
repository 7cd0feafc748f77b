package hook_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
)

func TestErrorKinds(t *testing.T) {
	base := errors.New("HTTP 429")
	wrapped := fmt.Errorf("attempt: %w", hook.RetryAfter(7*time.Second, base))
	if d, ok := hook.RetryAfterHint(wrapped); !ok || d != 7*time.Second || !errors.Is(wrapped, base) {
		t.Errorf("RetryAfter through %%w: %v %v", d, ok)
	}
	if hook.IsPermanent(wrapped) || hook.IsDisable(wrapped) {
		t.Error("a RetryAfter error is neither permanent nor disabling")
	}
	if p := fmt.Errorf("x: %w", hook.Permanent(base)); !hook.IsPermanent(p) || !errors.Is(p, base) {
		t.Error("Permanent lost through wrapping")
	}
	if d := hook.Disable(base); !hook.IsDisable(d) || d.Error() != "HTTP 429" {
		t.Errorf("Disable: %v", d)
	}
	if hook.Permanent(nil) != nil || hook.Disable(nil) != nil || hook.RetryAfter(time.Second, nil) != nil {
		t.Error("wrapping nil must stay nil")
	}
}

func TestEvent(t *testing.T) {
	ev := &hook.Event{Fields: map[string]string{"TIMESTAMP": "1700000000", "MODULE": "ISL_LIGHT", "EVENT": "START"}}
	if ts, ok := ev.Timestamp(); !ok || ts.Unix() != 1700000000 {
		t.Errorf("Timestamp %v %v", ts, ok)
	}
	if _, ok := (&hook.Event{Fields: map[string]string{"TIMESTAMP": "soon"}}).Timestamp(); ok {
		t.Error("a bad TIMESTAMP parsed")
	}
	for in, want := range map[string]string{"NEW SESSION": "NEWSESSION", "NEWSESSION": "NEWSESSION", "START": "START"} {
		if got := hook.CanonicalEventName(in); got != want {
			t.Errorf("CanonicalEventName(%q) = %q", in, got)
		}
	}
}

func TestRegistry(t *testing.T) {
	reg := hook.NewRegistry()
	info := hook.ModuleInfo{ID: "b", New: func() hook.Module { return nil }}
	reg.Register(info)
	reg.Register(hook.ModuleInfo{ID: "a", New: info.New})
	if err := reg.RegisterSafely(info); err == nil {
		t.Error("a duplicate ID was accepted")
	}
	if err := reg.RegisterSafely(hook.ModuleInfo{ID: "c"}); err == nil {
		t.Error("a module without New was accepted")
	}
	if fmt.Sprint(reg.IDs()) != "[a b]" {
		t.Errorf("IDs %v", reg.IDs())
	}
	defer func() {
		if recover() == nil {
			t.Error("Register of a duplicate did not panic")
		}
	}()
	reg.Register(info)
}

// TestEventBoundFitsTheABI: every event hookd admits can be handed to a
// plugin (the ABI promises hostapi.MaxEvent).
func TestEventBoundFitsTheABI(t *testing.T) {
	if hook.MaxEventBytes > hostapi.MaxEvent {
		t.Errorf("hook admits events of %d bytes; plugins are promised at most %d", hook.MaxEventBytes, hostapi.MaxEvent)
	}
}

// TestNewEventKeepsEventName: the proxy's "NEW SESSION" is stored and
// handed on as sent (scripts written for the proxy compare it), while
// Name, which routing and filters use, reads both spellings as one event.
func TestNewEventKeepsEventName(t *testing.T) {
	for _, sent := range []string{"NEW SESSION", "NEWSESSION"} {
		ev, err := hook.NewEvent(map[string]string{"MODULE": "ISL_LIGHT", "EVENT": sent, "SESSIONID": "5a1d"}, time.Unix(1700000000, 0), "node-1")
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.Fields["EVENT"]; got != sent {
			t.Errorf("EVENT %q stored as %q; want it as sent", sent, got)
		}
		if got := ev.Get(hook.FieldEvent); got != sent {
			t.Errorf("Get(EVENT) = %q; want %q", got, sent)
		}
		if got := ev.Name(); got != hook.EventNewSession {
			t.Errorf("Name() of %q = %q; want %q for routing", sent, got, hook.EventNewSession)
		}
		if got := string(hook.AppendForm(nil, ev.Fields, "")); !strings.Contains(got, "EVENT="+url.QueryEscape(sent)+"&") {
			t.Errorf("form body %q does not carry EVENT=%s", got, sent)
		}
	}
}
