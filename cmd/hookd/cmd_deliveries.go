package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
)

const deliveriesUsage = `usage: hookd deliveries <subcommand> [flags]

The delivery log of a running hookd, over its API (-addr, $HOOKD_ADDR; token from
-token-file or $HOOKD_TOKEN).

subcommands:
  list [-state S] [-target T] [-event-id ID] [-since D] [-before ID] [-limit N] [-json]
                   deliveries, newest first
  show ID [-json]  one delivery with its event and every attempt
  retry ID [-force]
                   replay a dead, discarded or retrying delivery now
  discard ID       stop retrying a delivery

Run "hookd deliveries <subcommand> -h" for its flags; "hookd replay" replays in bulk.
`

func init() {
	helps["deliveries list"] = cmdHelp{"hookd deliveries list [-state S] [-target T] [-event-id ID] [-since D] [-before ID] [-limit N] [-json]",
		"List deliveries, newest first. When a page is full, the next one is -before the last ID."}
	helps["deliveries show"] = cmdHelp{"hookd deliveries show ID [-json]",
		"Show one delivery with its event's fields and every attempt (time, status, latency,\n" +
			"result, start of the response)."}
	helps["deliveries retry"] = cmdHelp{"hookd deliveries retry ID [-force]",
		"Replay one delivery now: a dead or discarded one gets a fresh attempt budget and age; a\n" +
			"retrying one is attempted at once. A delivered one cannot be replayed; one of a disabled or\n" +
			"paused target is refused unless -force (it would go back to dead, or wait)."}
	helps["deliveries discard"] = cmdHelp{"hookd deliveries discard ID",
		"Stop retrying a delivery (it can still be replayed)."}
}

// cmdDeliveries dispatches hookd deliveries list|show|retry|discard.
func cmdDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return group("deliveries", deliveriesUsage, args, map[string]func([]string) error{
		"list":    func(a []string) error { return deliveriesList(ctx, a, stdout, stderr) },
		"show":    func(a []string) error { return deliveriesShow(ctx, a, stdout) },
		"retry":   func(a []string) error { return deliveryAction(ctx, "retry", a, stdout) },
		"discard": func(a []string) error { return deliveryAction(ctx, "discard", a, stdout) },
	})
}

// maxListPage is the largest page GET /v1/deliveries answers.
const maxListPage = ops.MaxListLimit

func deliveriesList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("deliveries list")
	co := addClientFlags(f, 30*time.Second)
	state := f.String("state", "", "only deliveries in `STATE`: "+ops.StateNames())
	target := f.String("target", "", "only deliveries to target `NAME` (see hookd targets list)")
	eventID := f.String("event-id", "", "only the deliveries of the event `ID` (its EVENT_ID)")
	since := f.String("since", "", "only deliveries created since `WHEN`: a duration back from now (24h), an RFC 3339 time or a UTC date and time (2026-11-29 10:00)")
	before := f.Int64("before", 0, "only deliveries with an id below `ID` (the next page)")
	limit := f.Int("limit", ops.DefaultListLimit, fmt.Sprintf("at most `N` deliveries (1 to %d)", ops.MaxListLimit))
	asJSON := f.Bool("json", false, "print the API's JSON answer")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.wantArgs(pos); err != nil {
		return err
	}
	// The flags are read by the API's own rules (internal/ops), so that
	// the CLI refuses what the API would, in the same words; -since is
	// resolved once, on this machine's clock.
	filter, err := ops.ParseList(given(
		"state", *state, "target", *target, "event_id", *eventID, "since", *since,
		"before", optInt(*before), "limit", strconv.Itoa(*limit),
	), time.Now(), ops.Strict)
	if err != nil {
		return f.usageErr(flagErr(err))
	}
	q := listQuery(filter)
	c, err := co.client(f)
	if err != nil {
		return err
	}
	var ans struct {
		Deliveries []shownDelivery `json:"deliveries"`
	}
	if printed, err := c.show(ctx, "/v1/deliveries", q, &ans, *asJSON, stdout); printed {
		return err
	}
	if len(ans.Deliveries) == 0 {
		_, err := fmt.Fprintln(stdout, "no deliveries match")
		return err
	}
	t := newTable(stdout, "ID", "STATE", "TARGET", "ATTEMPTS", "CREATED", "EVENT_ID", "LAST")
	for _, d := range ans.Deliveries {
		last := lastOutcome(d.LastStatus, d.LastError, d.LastSummary, 80)
		if d.Held != "" { // why it is not moving comes first
			last = strings.TrimSuffix(clean(d.Held, 60)+" · "+last, " · ")
		}
		t.row(strconv.FormatInt(d.ID, 10), clean(string(d.State), 20), clean(d.Target, 60), strconv.Itoa(d.Attempts),
			fmtTime(&d.CreatedAt), clean(d.EventID, 60), orDash(last))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(ans.Deliveries) == filter.Limit {
		fmt.Fprintf(stderr, "(a full page of %d; the next one: -before %d)\n", *limit, ans.Deliveries[len(ans.Deliveries)-1].ID)
	}
	return nil
}

func deliveriesShow(ctx context.Context, args []string, stdout io.Writer) error {
	f := newFlags("deliveries show")
	co := addClientFlags(f, 30*time.Second)
	asJSON := f.Bool("json", false, "print the API's JSON answer")
	id, err := parseIDArg(f, args)
	if err != nil {
		return err
	}
	c, err := co.client(f)
	if err != nil {
		return err
	}
	var d shownDelivery
	if printed, err := c.show(ctx, "/v1/deliveries/"+id, nil, &d, *asJSON, stdout); printed {
		return err
	}
	return printDelivery(stdout, &d)
}

// shownDelivery is a delivery as the API answers it: with why it is held
// ("held: breaker open until 05:38:04 UTC"), which hookd decides.
type shownDelivery struct {
	hook.Delivery
	Held string `json:"held"`
}

// printDelivery prints one delivery: its fields, its event, its attempts.
func printDelivery(w io.Writer, d *shownDelivery) error {
	kv := func(k, v string) { fmt.Fprintf(w, "%-12s  %s\n", k, v) }
	kv("delivery", strconv.FormatInt(d.ID, 10))
	kv("event_id", clean(d.EventID, 0))
	kv("target", clean(d.Target, 0))
	kv("state", clean(string(d.State), 0))
	if d.Held != "" {
		kv("held", clean(d.Held, 0))
	}
	kv("attempts", strconv.Itoa(d.Attempts))
	kv("created", fmtTime(&d.CreatedAt))
	kv("updated", fmtTime(&d.UpdatedAt))
	if d.NextAttempt != nil {
		kv("next attempt", fmtTime(d.NextAttempt))
	}
	if last := lastOutcome(d.LastStatus, d.LastError, d.LastSummary, 0); last != "" {
		kv("last", last)
	}
	fmt.Fprintf(w, "\nevent (%d fields)\n", len(d.Event))
	ev := newTable(w)
	for _, k := range slices.Sorted(maps.Keys(d.Event)) {
		ev.row("  "+clean(k, 0), clean(d.Event[k], 0))
	}
	if err := ev.flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nattempts (%d recorded)\n", len(d.History))
	if len(d.History) == 0 {
		return nil
	}
	at := newTable(w, "  N", "AT", "STATUS", "LATENCY", "RESULT", "RESPONSE")
	for _, a := range d.History {
		status := "-"
		if a.Status != 0 {
			status = strconv.Itoa(a.Status)
		}
		result := a.Summary
		if a.Error != "" {
			result = a.Error
		}
		resp := "-"
		if a.Response != "" {
			resp = strconv.Quote(clean(a.Response, 120))
		}
		at.row("  "+strconv.Itoa(a.N), fmtTime(&a.At), status, a.Latency.Round(time.Millisecond).String(), orDash(clean(result, 120)), resp)
	}
	return at.flush()
}

// deliveryAction serves hookd deliveries retry|discard ID.
func deliveryAction(ctx context.Context, action string, args []string, stdout io.Writer) error {
	f := newFlags("deliveries " + action)
	co := addClientFlags(f, 30*time.Second)
	force := new(bool)
	if action == "retry" {
		force = f.Bool("force", false, "replay also into a disabled or paused target")
	}
	id, err := parseIDArg(f, args)
	if err != nil {
		return err
	}
	c, err := co.client(f)
	if err != nil {
		return err
	}
	var ans struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	var q url.Values
	if *force {
		q = url.Values{"force": {"true"}}
	}
	if _, err := c.post(ctx, "/v1/deliveries/"+id+"/"+action, q, nil, &ans); err != nil {
		return forceHint(err, "hookd deliveries retry -force "+id)
	}
	_, err = fmt.Fprintf(stdout, "delivery %d: %s\n", ans.ID, clean(ans.Status, 40))
	return err
}

// parseIDArg parses the flags and the one ID argument of show, retry and
// discard.
func parseIDArg(f *flagSet, args []string) (string, error) {
	pos, err := f.parse(args)
	if err != nil {
		return "", err
	}
	if err := f.wantArgs(pos, "ID"); err != nil {
		return "", err
	}
	id, err := ops.ParseID(pos[0])
	if err != nil {
		return "", f.usageErr(fmt.Errorf("delivery id %q: must be a positive integer (see hookd deliveries list)", pos[0]))
	}
	return strconv.FormatInt(id, 10), nil
}

// lastOutcome is "500 HTTP 500: …" or the summary of the latest attempt,
// cleaned and cut to maxRunes.
func lastOutcome(status int, errText, summary string, maxRunes int) string {
	s := errText
	if s == "" {
		s = summary
	}
	if status != 0 && !strings.Contains(s, strconv.Itoa(status)) {
		s = strings.TrimSpace(strconv.Itoa(status) + " " + s)
	}
	return clean(s, maxRunes)
}

// given is the query of the flags given: key, value pairs, those with an
// empty value (a flag left out) left out.
func given(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

// optInt is n as a query value, "" for 0 (not given).
func optInt(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// flagErr turns an error of ops, which names the query parameter ("limit
// \"0\": …"), into one naming the flag ("-limit \"0\": …").
func flagErr(err error) error {
	msg := err.Error()
	msg = strings.Replace(msg, "event_id", "event-id", 1)
	return errors.New("-" + msg)
}

// listQuery is the query of GET /v1/deliveries for a parsed filter, its
// since as an absolute time.
func listQuery(f hook.DeliveryFilter) url.Values {
	if f.Limit == 0 {
		f.Limit = ops.DefaultListLimit
	}
	q := url.Values{"limit": {strconv.Itoa(f.Limit)}}
	set := func(key, v string) {
		if v != "" {
			q.Set(key, v)
		}
	}
	set("state", string(f.State))
	set("target", f.Target)
	set("event_id", f.EventID)
	set("before", optInt(f.BeforeID))
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	return q
}

// forceHint adds to a replay refused because of its target's state (409,
// the API's words naming the state) the command that replays anyway.
func forceHint(err error, cmd string) error {
	if e, ok := errors.AsType[*apiError](err); ok && e.Status == http.StatusConflict && strings.Contains(e.Msg, "force the replay") {
		return fmt.Errorf("%w (%s)", err, cmd)
	}
	return err
}
