package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
)

func init() {
	helps["replay"] = cmdHelp{"hookd replay -target NAME -since WHEN [-state dead|discarded|retrying] [-batch N] [-dry-run] [-force]",
		"Replay, in bulk, the dead (or discarded, or retrying) deliveries of one target created since\n" +
			"WHEN, as \"deliveries retry\" does for one. hookd first counts what matches (one request per\n" +
			"1000 deliveries), then replays them oldest first in rounds of -batch, with a progress bar on\n" +
			"stderr when it is a terminal (plain lines otherwise), and prints a summary on stdout. It\n" +
			"replays at most the number counted: a delivery that fails again meanwhile is not replayed\n" +
			"twice by one run. Ctrl-C stops it; what was replayed stays replayed, and running it again\n" +
			"replays the rest. Replay each target in turn (hookd targets list). A disabled or paused\n" +
			"target is refused before anything is replayed (its deliveries would go back to dead, or\n" +
			"wait): enable or resume it first, or give -force."}
}

// replayRounds bounds -batch: the API's limit of one bulk replay.
const replayRounds = ops.MaxReplayLimit

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("replay")
	co := addClientFlags(f, time.Minute)
	target := f.String("target", "", "the target `NAME` whose deliveries to replay (required; see hookd targets list)")
	since := f.String("since", "", "replay deliveries created since `WHEN` (required): an RFC 3339 time or a duration back from now (24h)")
	state := f.String("state", string(hook.StateDead), "replay deliveries in `STATE`: dead, discarded or retrying")
	batch := f.Int("batch", 500, "replay `N` deliveries per request (1 to 10000)")
	dryRun := f.Bool("dry-run", false, "count what would be replayed, replay nothing")
	force := f.Bool("force", false, "replay also into a disabled or paused target")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.wantArgs(pos); err != nil {
		return err
	}
	switch {
	case *target == "":
		return f.usageErr(fmt.Errorf("replay: -target NAME is required"))
	case *since == "":
		return f.usageErr(fmt.Errorf("replay: -since WHEN is required (e.g. -since 24h)"))
	case *batch < 1 || *batch > replayRounds:
		return f.usageErr(fmt.Errorf("-batch %d: must be from 1 to %d", *batch, replayRounds))
	}
	// The API's rules (internal/ops) read the flags; -since is resolved
	// once, on this machine's clock.
	filter, _, err := ops.ParseReplay(given("state", *state, "target", *target, "since", *since), time.Now(), ops.Strict)
	if err != nil {
		return f.usageErr(flagErr(err))
	}
	from := filter.Since
	c, err := co.client(f)
	if err != nil {
		return err
	}
	if err := checkTarget(ctx, c, *target); err != nil {
		return err
	}
	// One absolute time for every request, so that counting and the rounds
	// select the same deliveries.
	q := url.Values{"state": {string(filter.State)}, "target": {filter.Target}, "since": {from.Format(time.RFC3339Nano)}}
	if *force {
		q.Set("force", "true")
	}
	what := func(n int) string {
		noun := "deliveries"
		if n == 1 {
			noun = "delivery"
		}
		return fmt.Sprintf("%s %s of %s created since %s", *state, noun, clean(*target, 0), fmtTime(&from))
	}

	p := newProgress(stderr)
	total, err := countMatching(ctx, c, q, p)
	if err != nil {
		return err
	}
	if total == 0 || *dryRun {
		p.finish()
	}
	if total == 0 {
		_, err := fmt.Fprintf(stdout, "nothing to replay: no %s\n", what(0))
		return err
	}
	if *dryRun {
		_, err := fmt.Fprintf(stdout, "would replay %d %s\n", total, what(total))
		return err
	}
	start, done, rounds := time.Now(), 0, 0
	p.update(0, total)
	for done < total {
		round := min(*batch, total-done)
		rq := maps.Clone(q)
		rq.Set("limit", strconv.Itoa(round))
		var ans struct {
			Retried int `json:"retried"`
		}
		if _, err = c.post(ctx, "/v1/deliveries/retry", rq, nil, &ans); err != nil {
			break
		}
		done, rounds = done+ans.Retried, rounds+1
		p.update(done, total)
		if ans.Retried < round {
			break // fewer match now: replayed or discarded by someone else meanwhile
		}
	}
	p.finish()
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case err != nil && done == 0:
		return forceHint(err, "hookd replay -force …") // refused before anything was replayed
	case err != nil:
		fmt.Fprintf(stdout, "replayed %d of %d %s before an error, in %s (%s)\n", done, total, what(total), plural(rounds, "round"), took)
		return err
	case done < total:
		_, err = fmt.Fprintf(stdout, "replayed %d of %d %s in %s (%s); the other %d no longer matched (replayed or discarded meanwhile)\n",
			done, total, what(total), plural(rounds, "round"), took, total-done)
	default:
		_, err = fmt.Fprintf(stdout, "replayed %d %s in %s (%s)\n", done, what(done), plural(rounds, "round"), took)
	}
	return err
}

// checkTarget refuses a target the daemon does not have, naming those it
// has (listing an unknown target would only find nothing to replay).
func checkTarget(ctx context.Context, c *client, name string) error {
	var ans struct {
		Targets []struct {
			Name string `json:"name"`
		} `json:"targets"`
	}
	if _, err := c.get(ctx, "/v1/targets", nil, &ans); err != nil {
		return err
	}
	names := make([]string, len(ans.Targets))
	for i, t := range ans.Targets {
		if t.Name == name {
			return nil
		}
		names[i] = clean(t.Name, 60)
	}
	return fmt.Errorf("no target %q; targets: %s", clean(name, 60), strings.Join(names, ", "))
}

// plural is "1 round" or "3 rounds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// countMatching counts the deliveries q selects, a page of 1000 at a
// time (newest first, each page -before the last).
func countMatching(ctx context.Context, c *client, q url.Values, p progress) (int, error) {
	n := 0
	lq := maps.Clone(q)
	lq.Set("limit", strconv.Itoa(maxListPage))
	lq.Del("force") // a replay parameter, not a list one
	for {
		var page struct {
			Deliveries []struct {
				ID int64 `json:"id"`
			} `json:"deliveries"`
		}
		if _, err := c.get(ctx, "/v1/deliveries", lq, &page); err != nil {
			return n, err
		}
		n += len(page.Deliveries)
		p.counting(n)
		if len(page.Deliveries) < maxListPage {
			return n, nil
		}
		lq.Set("before", strconv.FormatInt(page.Deliveries[len(page.Deliveries)-1].ID, 10))
	}
}

// progress shows how far a replay is, on stderr.
type progress interface {
	counting(n int)
	update(done, total int)
	finish()
}

// newProgress draws a bar when w is a terminal, plain lines otherwise (a
// log file, a pipe, a test).
func newProgress(w io.Writer) progress {
	if f, ok := w.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

// lineProgress writes a line per round.
type lineProgress struct{ w io.Writer }

func (l *lineProgress) counting(int) {}

func (l *lineProgress) update(done, total int) {
	if done > 0 {
		fmt.Fprintf(l.w, "replayed %d of %d\n", done, total)
	}
}

func (l *lineProgress) finish() {}

// barProgress redraws one line: a bar, the count, the percentage.
type barProgress struct {
	w     io.Writer
	drawn bool
}

func (b *barProgress) counting(n int) {
	fmt.Fprintf(b.w, "\rcounting: %d", n)
	b.drawn = true
}

func (b *barProgress) update(done, total int) {
	fmt.Fprintf(b.w, "\r%s\x1b[K", renderBar(done, total, 30))
	b.drawn = true
}

func (b *barProgress) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

// renderBar is "replaying [#######.......] 500/1234  40%", width cells
// wide.
func renderBar(done, total, width int) string {
	if total <= 0 {
		total = 1
	}
	done = min(max(done, 0), total)
	filled := done * width / total
	return fmt.Sprintf("replaying [%s%s] %d/%d %3d%%", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		done, total, done*100/total)
}
