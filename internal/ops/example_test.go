package ops_test

import (
	"fmt"
	"net/url"
	"time"

	"github.com/hookrt/hookd/internal/ops"
)

// A view reads the delivery-log query with ops, and gets the same words
// for the same mistake as every other view.
func ExampleParseList() {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	q, _ := url.ParseQuery("state=dead&since=2h&limit=50")
	f, err := ops.ParseList(q, now, ops.Strict)
	fmt.Println(f.State, f.Since.Format(time.RFC3339), f.Limit, err)

	q, _ = url.ParseQuery("state=lost")
	_, err = ops.ParseList(q, now, ops.Strict)
	fmt.Println(err)
	// Output:
	// dead 2026-11-29T10:00:00Z 50 <nil>
	// state "lost" is not one of pending, retrying, delivered, dead, discarded
}

// A domain's owner sees its own target only.
func ExampleDomainTarget() {
	fmt.Println(ops.DomainTarget("42"))
	// Output: http_events.domain.42
}
