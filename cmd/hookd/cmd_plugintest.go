package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
)

// maxLast bounds -last of plugin test.
const maxLast = 100

// pluginTest serves hookd plugin test: a dry run on the server, which
// loads the candidate as serve would, runs each event and tells what would
// have happened; nothing is delivered, nothing stored.
func pluginTest(ctx context.Context, args []string, stdout io.Writer) error {
	a := newSlowAPICmd("plugin test", true, pluginTimeout)
	domain := domainFlag(a.f)
	module := a.f.String("module", "", "test this `FILE.wasm` (uploaded for the test, not stored)")
	version := a.f.Int("version", 0, "test the stored version `N` (default: the active one)")
	settings := a.f.String("settings", "", "the candidate's settings `FILE` (JSON, or TOML by its .toml name); default: the stored version's")
	events := a.f.String("events", "", "run the events of `FILE.json`: a JSON object of an event's fields, or an array of them")
	last := a.f.Int("last", 0, fmt.Sprintf("run the domain's last `N` recorded events (1 to %d; the default when -events is not given: 10)", maxLast))
	stubs := a.f.String("stubs", "", "answer the plugin's HTTP calls from `FILE.json`: [{\"method\", \"url\", \"status\", \"headers\", \"body\"}]")
	live := a.f.Bool("live-http", false, "make the HTTP calls no stub answers, where the plugin's allow-list permits")
	signups := a.f.String("signups", "", "also ask the plugin's on_signup about the sign-ups of `FILE.json`: a JSON object {\"username\", \"email\", \"fullname\", \"language\", \"domain\"}, or an array of them (alone, no event runs unless -events or -last)")
	_, c, err := a.start(args)
	if err != nil {
		return err
	}
	if err := needDomain(a.f, *domain); err != nil {
		return err
	}
	switch {
	case *module != "" && *version != 0:
		return a.f.usageErr(fmt.Errorf("plugin test: -module and -version: give one (an uploaded module, or a stored version)"))
	case *version < 0:
		return a.f.usageErr(fmt.Errorf("-version %d: want a version number (see hookd plugin versions)", *version))
	case *events != "" && *last != 0:
		return a.f.usageErr(fmt.Errorf("plugin test: -events and -last: give one (events of a file, or recorded ones)"))
	case *last < 0 || *last > maxLast:
		return a.f.usageErr(fmt.Errorf("-last %d: must be 1 to %d", *last, maxLast))
	}
	req := hook.DryRunRequest{Version: *version, Last: *last, LiveHTTP: *live}
	if *events == "" && req.Last == 0 && *signups == "" {
		req.Last = 10
	}
	if *signups != "" {
		if req.Signups, err = readSignups(*signups, a.f); err != nil {
			return err
		}
	}
	if *events != "" {
		if req.Events, err = readEvents(*events, a.f); err != nil {
			return err
		}
	}
	if *settings != "" {
		s, err := readJSONDoc(*settings, a.f)
		if err != nil {
			return err
		}
		req.Settings = s
	}
	if *stubs != "" {
		if req.Stubs, err = decodeStubs(*stubs, a.f); err != nil {
			return err
		}
	}
	if *module == "" && req.Version == 0 {
		if req.Version, err = activeVersion(ctx, c, *domain); err != nil {
			return err
		}
	}
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return err
	}
	ct, body := "application/json", reqJSON
	if *module != "" {
		wasm, err := readModule(*module)
		if err != nil {
			return err
		}
		ct, body, err = multipartBody(
			part{name: "module", file: *module, contentType: "application/wasm", data: wasm},
			part{name: "request", contentType: "application/json", data: reqJSON})
		if err != nil {
			return err
		}
	}
	path := domainPath(*domain, "/plugin/test")
	raw, err := c.send(ctx, "POST", path, nil, ct, body)
	if err != nil {
		return err
	}
	var rep hook.DryRunReport
	if err := decodeList("POST", path, raw, "results", &rep.Results); err != nil {
		return err
	}
	if len(req.Signups) > 0 {
		if err := decodeList("POST", path, raw, "signups", &rep.Signups); err != nil {
			return err
		}
	}
	if *a.asJSON {
		if _, err := stdout.Write(raw); err != nil {
			return err
		}
	} else {
		if len(rep.Results) > 0 || len(req.Signups) == 0 {
			printDryRun(stdout, rep.Results)
		}
		if len(rep.Signups) > 0 && len(rep.Results) > 0 {
			fmt.Fprintln(stdout)
		}
		printSignups(stdout, rep.Signups)
	}
	return dryRunFailures(rep)
}

// dryRunFailures is plugin test's exit 1: events that would not be
// acknowledged, and sign-ups the plugin could not decide (the daemon
// would refuse them as unavailable). A refusal is a decision, not a
// failure.
func dryRunFailures(rep hook.DryRunReport) error {
	var why []string
	bad := 0
	for _, r := range rep.Results {
		if r.Verdict != "acknowledged" {
			bad++
		}
	}
	if bad > 0 {
		why = append(why, fmt.Sprintf("%d of %d events would not be acknowledged", bad, len(rep.Results)))
	}
	bad = 0
	for _, s := range rep.Signups {
		if s.Decision == hook.DryRunError {
			bad++
		}
	}
	if bad > 0 {
		why = append(why, fmt.Sprintf("%d of %d sign-ups could not be decided", bad, len(rep.Signups)))
	}
	if len(why) > 0 {
		return fmt.Errorf("plugin test: %s: %w", strings.Join(why, "; "), errNotAcknowledged)
	}
	return nil
}

// activeVersion is the version domain runs, the one plugin test tests
// when given neither -module nor -version.
func activeVersion(ctx context.Context, c *client, domain string) (int, error) {
	path := domainPath(domain, "/plugin/versions")
	raw, err := c.get(ctx, path, nil, nil)
	if err != nil {
		return 0, err
	}
	var vs []hook.PluginVersion
	if err := decodeList("GET", path, raw, "versions", &vs); err != nil {
		return 0, err
	}
	for _, v := range vs {
		if v.Active {
			return v.Version, nil
		}
	}
	return 0, fmt.Errorf("domain %s runs no stored plugin version: give -module FILE.wasm or -version N", clean(domain, 0))
}

// readEvents reads -events: one JSON object of fields, or an array of
// them, each field a string (as the proxy sends them).
func readEvents(path string, f *flagSet) ([]map[string]string, error) {
	b, err := readDocument(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	var evs []map[string]string
	if len(b) > 0 && b[0] == '{' {
		var one map[string]string
		err = json.Unmarshal(b, &one)
		evs = []map[string]string{one}
	} else {
		err = json.Unmarshal(b, &evs)
	}
	if err != nil {
		return nil, f.usageErr(fmt.Errorf("-events %s: want a JSON object of an event's fields (strings), or an array of them: %w", path, err))
	}
	if len(evs) == 0 {
		return nil, f.usageErr(fmt.Errorf("-events %s: no events", path))
	}
	return evs, nil
}

// printDryRun writes each event's result as plugin run writes one.
func printDryRun(w io.Writer, results []hook.DryRunResult) {
	if len(results) == 0 {
		fmt.Fprintln(w, "no events to run (the domain has no recorded events: give -events FILE.json)")
		return
	}
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "event:    %s %s/%s\n", clean(r.EventID, 0), clean(r.Fields[hook.FieldModule], 40), clean(r.Fields[hook.FieldEvent], 40))
		fmt.Fprintf(w, "verdict:  %s\n", clean(r.Verdict, 20))
		if r.Error != "" {
			fmt.Fprintf(w, "error:    %s\n", clean(r.Error, 500))
		}
		fmt.Fprintf(w, "status:   %d\n", r.Status)
		fmt.Fprintf(w, "time:     %s, memory %d KiB\n", r.Duration.Round(time.Microsecond), r.Memory>>10)
		printCallTrail(w, r.Logs, r.HostCalls)
		for _, cmd := range r.Commands {
			fmt.Fprintf(w, "command:  %s\n", clean(cmd, 1000))
		}
		reply := clean(r.Reply, 1000)
		if reply == "" {
			reply = "(none)"
		}
		fmt.Fprintf(w, "reply:    %s\n", reply)
	}
}

// readSignups reads -signups: one JSON object of a sign-up's fields, or
// an array of them, with the keys the sign-up endpoint takes (no
// password: no plugin is shown one).
func readSignups(path string, f *flagSet) ([]hook.DryRunSignup, error) {
	b, err := readDocument(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		b = append(append([]byte{'['}, b...), ']')
	}
	var out []hook.DryRunSignup
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, f.usageErr(fmt.Errorf(`-signups %s: want a JSON object {"username", "email", "fullname", "language", "domain"} (strings), or an array of them: %w`, path, err))
	}
	if len(out) == 0 {
		return nil, f.usageErr(fmt.Errorf("-signups %s: no sign-ups", path))
	}
	return out, nil
}

// printSignups writes what the plugin decided on each sign-up, as
// printDryRun writes an event's result.
func printSignups(w io.Writer, results []hook.DryRunSignupResult) {
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "signup:   %s <%s> to %s\n", clean(r.Signup.Username, 80), clean(r.Signup.Email, 120), clean(r.Signup.Domain, 40))
		fmt.Fprintf(w, "decision: %s\n", clean(r.Decision, 20))
		if r.Decision == hook.DryRunRefuse {
			reason := clean(r.Reason, 500)
			if reason == "" {
				reason = "(none: the user reads the generic refusal)"
			}
			fmt.Fprintf(w, "reason:   %s\n", reason)
		}
		if r.Error != "" {
			fmt.Fprintf(w, "error:    %s\n", clean(r.Error, 500))
		}
		if r.Decision == hook.DryRunNoExport {
			continue
		}
		memory := "" // 0: not measured (a hookd whose sign-up calls are not measured)
		if r.Memory > 0 {
			memory = fmt.Sprintf(", memory %d KiB", r.Memory>>10)
		}
		fmt.Fprintf(w, "time:     %s%s\n", r.Duration.Round(time.Microsecond), memory)
		printCallTrail(w, r.Logs, r.HostCalls)
	}
}

// printCallTrail prints what a plugin call wrote and asked of the host,
// the same for an event's result and a sign-up's.
func printCallTrail(w io.Writer, logs []string, calls []hook.DryRunHostCall) {
	for _, l := range logs {
		fmt.Fprintf(w, "log:      %s\n", clean(l, 500))
	}
	for _, hc := range calls {
		detail := ""
		if hc.Detail != "" {
			detail = " (" + clean(hc.Detail, 200) + ")"
		}
		fmt.Fprintf(w, "hostcall: %s -> %s%s\n", clean(hc.Function, 60), clean(hc.Result, 60), detail)
	}
}
