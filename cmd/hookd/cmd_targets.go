package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/hook"
)

const targetsUsage = `usage: hookd targets <subcommand> [flags]

The targets of a running hookd (the JWT webhook, the events scripts, the command sink),
over its API (-addr, $HOOKD_ADDR; token from -token-file or $HOOKD_TOKEN).

subcommands:
  list [-json]                 every target's state, breaker (and its last change), attempts in flight, pending
                               deliveries, oldest pending, latest error; then the delivery settings of the
                               targets that have them (headers, signing, TLS, proxy, filter, rate limit, order)
  disable NAME [-reason TEXT]  its deliveries go to the dead-letter list until enabled
  pause NAME [-reason TEXT]    its deliveries wait, undelivered, until resumed
  enable NAME                  enable a disabled or paused target (dead letters stay dead:
                               replay them with hookd replay)
  resume NAME                  resume a paused target: its waiting deliveries go out

A change applies on every node. Run "hookd targets <subcommand> -h" for its flags.
`

func init() {
	addHelps(`
hookd targets list [-json]
	List every target: state (and why, by whom, since when), breaker (and when and why it last
	opened or closed), attempts in flight on
	the node answering, live deliveries and the oldest of them, latest error. Below the table, the
	delivery settings of each target that has them, as hookd applies them: header names (never their
	values), signing, mutual TLS, proxy, filter, rate limit (and this node's share), order key.

hookd targets disable NAME [-reason TEXT]
	Disable a target on every node: its deliveries go to the dead-letter list until it is enabled.

hookd targets pause NAME [-reason TEXT]
	Pause a target on every node: its deliveries wait, undelivered, until it is resumed.

hookd targets enable NAME
	Enable a disabled or paused target. A disabled one's dead letters stay dead until replayed
	(hookd replay); a paused one's resume.

hookd targets resume NAME
	Resume a paused target: its waiting deliveries are attempted at once, or when due.
`)
}

// cmdTargets dispatches hookd targets list|enable|disable|pause|resume.
func cmdTargets(ctx context.Context, args []string, stdout io.Writer) error {
	subs := map[string]func([]string) error{
		"list": func(a []string) error { return targetsList(ctx, a, stdout) },
	}
	for _, action := range []string{"enable", "disable", "pause", "resume"} {
		subs[action] = func(a []string) error { return targetAction(ctx, action, a, stdout) }
	}
	return group("targets", targetsUsage, args, subs)
}

func targetsList(ctx context.Context, args []string, stdout io.Writer) error {
	a := newAPICmd("targets list", true)
	_, c, err := a.start(args)
	if err != nil {
		return err
	}
	var ans struct {
		Targets []struct {
			hook.TargetStatus
			BreakerChange string `json:"breaker_change"`
		} `json:"targets"`
	}
	if printed, err := c.show(ctx, "/v1/targets", nil, &ans, *a.asJSON, stdout); printed {
		return err
	}
	if len(ans.Targets) == 0 {
		_, err := fmt.Fprintln(stdout, "no targets configured")
		return err
	}
	t := newTable(stdout, "NAME", "STATE", "BREAKER", "IN_FLIGHT", "PENDING", "OLDEST_PENDING", "REASON", "LAST_ERROR")
	for _, s := range ans.Targets {
		reason := clean(s.Reason, 60)
		if reason != "" && s.ChangedBy != "" {
			reason += " (" + clean(s.ChangedBy, 20) + ", " + fmtTime(s.Since) + ")"
		}
		lastErr := clean(s.LastError, 80)
		if lastErr != "" && s.LastErrorAt != nil {
			lastErr = fmtTime(s.LastErrorAt) + " " + lastErr
		}
		breaker := clean(s.Breaker, 20)
		if s.BreakerChange != "" { // its last transition, as hookd words it
			breaker += " · " + clean(s.BreakerChange, 80)
		}
		t.row(clean(s.Name, 60), clean(s.State, 20), breaker, strconv.Itoa(s.InFlight), strconv.Itoa(s.Pending),
			fmtTime(s.OldestPending), orDash(reason), orDash(lastErr))
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, s := range ans.Targets {
		if s.Delivery == nil {
			continue
		}
		if err := printDeliveryView(stdout, s.Name, s.Delivery); err != nil {
			return err
		}
	}
	return nil
}

// printDeliveryView writes a target's delivery settings below the
// targets table, one setting a line, those not set left out:
//
//	delivery of jwt_webhook:
//	  headers     Authorization (from file hook.token), X-Tenant
//	  signing     standard-webhooks: v1 with 2 secrets (rotation), v1a with the Ed25519 key in swh.pem
//	  public_key  whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
//
// The words are the server's (internal/delivery's view); the CLI only
// lays them out.
func printDeliveryView(w io.Writer, name string, v *hook.DeliveryView) error {
	headers := make([]string, len(v.Headers))
	for i, h := range v.Headers {
		headers[i] = clean(h, 120)
	}
	if _, err := fmt.Fprintf(w, "\ndelivery of %s:\n", clean(name, 0)); err != nil {
		return err
	}
	t := newTable(w)
	for _, kv := range [][2]string{
		{"headers", strings.Join(headers, ", ")}, {"signing", v.Signing}, {"public_key", v.PublicKey}, {"tls", v.TLS}, {"proxy", v.Proxy},
		{"filter", v.Filter}, {"rate_limit", v.RateLimit}, {"ordered_by", v.OrderedBy},
	} {
		if kv[1] != "" {
			t.row("  "+kv[0], clean(kv[1], 0))
		}
	}
	return t.flush()
}

// targetAction serves hookd targets enable|disable|pause|resume NAME.
func targetAction(ctx context.Context, action string, args []string, stdout io.Writer) error {
	a := newAPICmd("targets "+action, false)
	reason := new(string)
	if action == "disable" || action == "pause" {
		reason = a.f.String("reason", "", "why (`TEXT`, shown by targets list; default \""+action+"d by an operator\")")
	}
	pos, err := a.args(args, "NAME")
	if err != nil {
		return err
	}
	if len(*reason) > 1000 {
		return a.f.usageErr(fmt.Errorf("-reason: at most 1000 bytes, got %d", len(*reason)))
	}
	c, err := a.co.client(a.f)
	if err != nil {
		return err
	}
	var body any
	if *reason != "" {
		body = map[string]string{"reason": *reason}
	}
	var ans struct {
		Target string `json:"target"`
		State  string `json:"state"`
	}
	if _, err := c.post(ctx, "/v1/targets/"+url.PathEscape(pos[0])+"/"+action, nil, body, &ans); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "target %s: %s\n", clean(ans.Target, 0), clean(ans.State, 20))
	return err
}
