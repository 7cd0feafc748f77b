package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/hookrt/hookd/hook"
)

const domainsUsage = `usage: hookd domains <subcommand> [flags]

The domains of a running hookd, over its API (-addr, $HOOKD_ADDR; token from -token-file
or $HOOKD_TOKEN). The operator's token sees every domain; a domain token only its own.

subcommands:
  list [-json]                   every domain: where it is defined, its target, its plugin
  get ID [-json]                 one domain's settings
  put ID FILE                    store a domain's settings (FILE: JSON or TOML with the keys
                                 of a [[domain]] entry; "-" reads JSON from stdin); every node
                                 applies them
  delete ID                      delete a stored domain (operator only)
  token create ID -name NAME [-ttl D] [-json]
                                 a new domain token, printed once (operator only)
  token list ID [-json]          the domain's tokens (operator only)
  token revoke ID TOKEN_ID       revoke a token (operator only)
  logs ID [-limit N] [-json]     the last lines the domain's plugin logged, on every node
  audit ID [-limit N] [-json]    who changed the domain, when, and what
  summary ID [-json]             the domain's deliveries by state, its plugin's calls

Plugins: hookd plugin push|versions|activate|rm|test -domain ID.
Run "hookd domains <subcommand> -h" for its flags.
`

const domainsTokenUsage = `usage: hookd domains token <subcommand> [flags]

subcommands:
  create ID -name NAME [-ttl D] [-json]   a new domain token, printed once
  list ID [-json]                         the domain's tokens
  revoke ID TOKEN_ID                      revoke a token at once, on every node
`

func init() {
	addHelps(`
hookd domains list [-json]
	List the domains: from config.toml ([[domain]], read-only) and stored through the API.
	A domain token lists only its own domain.

hookd domains get ID [-json]
	Show a domain's settings, its active plugin, who changed it last.

hookd domains put ID FILE
	Store a domain's settings: FILE is JSON (or TOML, by its .toml name) with the keys of a
	[[domain]] entry (script, strict, combine_interval, plugin, config); "-" reads JSON from
	stdin. hookd validates it as at start and every node applies it. A domain of config.toml
	is changed there, not here.

hookd domains delete ID
	Delete a stored domain on every node (operator only).

hookd domains token create ID -name NAME [-ttl D] [-json]
	Create a token for the domain's owner (operator only). The token is printed once, on
	stdout alone (hookd keeps only its hash): hookd domains token create 42 -name ci > ci.token

hookd domains token list ID [-json]
	List the domain's tokens (never their secrets).

hookd domains token revoke ID TOKEN_ID
	Revoke a domain token: every node refuses it from then on.

hookd domains logs ID [-limit N] [-json]
	The last lines the domain's plugin logged, from every node, oldest first, with the event
	each belongs to.

hookd domains audit ID [-limit N] [-json]
	The domain's changes: when, who (the operator or which domain token), what.

hookd domains summary ID [-json]
	The domain's deliveries by state and its plugin's calls by outcome.
`)
}

// cmdDomains dispatches hookd domains ….
func cmdDomains(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return group("domains", domainsUsage, args, map[string]func([]string) error{
		"list":    func(a []string) error { return domainsList(ctx, a, stdout) },
		"get":     func(a []string) error { return domainsGet(ctx, a, stdout) },
		"put":     func(a []string) error { return domainsPut(ctx, a, stdout) },
		"delete":  func(a []string) error { return domainsDelete(ctx, a, stdout) },
		"logs":    func(a []string) error { return domainsLogs(ctx, a, stdout) },
		"audit":   func(a []string) error { return domainsAudit(ctx, a, stdout) },
		"summary": func(a []string) error { return domainsSummary(ctx, a, stdout) },
		"token": func(a []string) error {
			return group("domains token", domainsTokenUsage, a, map[string]func([]string) error{
				"create": func(a []string) error { return tokenCreate(ctx, a, stdout, stderr) },
				"list":   func(a []string) error { return tokenList(ctx, a, stdout) },
				"revoke": func(a []string) error { return tokenRevoke(ctx, a, stdout) },
			})
		},
	})
}

// domainPath is the API path of a domain, plus more ("/tokens").
func domainPath(id, more string) string { return "/v1/domains/" + url.PathEscape(id) + more }

// apiCmd is what every domain and remote plugin command starts with: its
// flags (those of the client, the command's own, -json if asked), its
// arguments checked, and a client.
type apiCmd struct {
	f      *flagSet
	co     *clientOpts
	asJSON *bool
}

func newAPICmd(name string, withJSON bool) *apiCmd {
	return newSlowAPICmd(name, withJSON, 30*time.Second)
}

// newSlowAPICmd is newAPICmd with a longer default -timeout, for what
// loads a plugin on the server (an upload, a dry run, an activation).
func newSlowAPICmd(name string, withJSON bool, timeout time.Duration) *apiCmd {
	f := newFlags(name)
	c := &apiCmd{f: f, co: addClientFlags(f, timeout), asJSON: new(bool)}
	if withJSON {
		c.asJSON = f.Bool("json", false, "print the API's JSON answer")
	}
	return c
}

// start parses args, checks that exactly the named arguments were given
// and returns them with a client.
func (a *apiCmd) start(args []string, names ...string) ([]string, *client, error) {
	pos, err := a.args(args, names...)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.co.client(a.f)
	if err != nil {
		return nil, nil, err
	}
	return pos, c, nil
}

// args parses args and checks that exactly the named arguments were
// given, for a command that checks its flags before it makes a client.
func (a *apiCmd) args(args []string, names ...string) ([]string, error) {
	pos, err := a.f.parse(args)
	if err != nil {
		return nil, err
	}
	if err := a.f.wantArgs(pos, names...); err != nil {
		return nil, err
	}
	return pos, nil
}

// printTable writes items as a table of header's columns, a row each
// (row), or none when there are no items.
func printTable[T any](w io.Writer, items []T, none string, header []string, row func(T) []string) error {
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, none)
		return err
	}
	t := newTable(w, header...)
	for _, it := range items {
		t.row(row(it)...)
	}
	return t.flush()
}

func domainsList(ctx context.Context, args []string, stdout io.Writer) error {
	a := newAPICmd("domains list", true)
	_, c, err := a.start(args)
	if err != nil {
		return err
	}
	var domains []hook.DomainInfo
	if printed, err := c.showList(ctx, "/v1/domains", nil, "domains", &domains, *a.asJSON, stdout); printed {
		return err
	}
	return printTable(stdout, domains, "no domains",
		[]string{"ID", "SOURCE", "TARGET", "SCRIPT", "PLUGIN", "REVISION", "UPDATED"},
		func(d hook.DomainInfo) []string {
			return []string{clean(d.ID, 40), clean(d.Source, 10), clean(d.Target, 60), orDash(clean(specScript(d), 60)),
				pluginCell(d.Plugin), strconv.FormatInt(d.Revision, 10), orDash(updated(d))}
		})
}

// specScript is the script of a domain's settings ("" for none or a
// stored plugin).
func specScript(d hook.DomainInfo) string {
	var s struct {
		Script string `json:"script"`
	}
	_ = json.Unmarshal(d.Spec, &s)
	return s.Script
}

// pluginCell names a plugin version in a table: "v3 1a2b3c4d5e6f".
func pluginCell(p *hook.PluginVersion) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("v%d %s", p.Version, short(p.SHA256))
}

// short is the start of a SHA-256 in hex, as tables show it.
func short(sha string) string {
	if len(sha) > 12 {
		sha = sha[:12]
	}
	return clean(sha, 0)
}

// updated says when and by whom a stored domain last changed.
func updated(d hook.DomainInfo) string {
	if d.UpdatedAt.IsZero() {
		return ""
	}
	s := fmtTime(&d.UpdatedAt)
	if d.UpdatedBy != "" {
		s += " by " + clean(d.UpdatedBy, 60)
	}
	return s
}

func domainsGet(ctx context.Context, args []string, stdout io.Writer) error {
	return showDomain(ctx, "domains get", "", args, stdout, printDomain)
}

// showDomain is a command ID [-json] that shows what the API answers at
// the domain's path plus more: as it came with -json, else with render.
func showDomain[T any](ctx context.Context, name, more string, args []string, stdout io.Writer, render func(io.Writer, T) error) error {
	a := newAPICmd(name, true)
	pos, c, err := a.start(args, "ID")
	if err != nil {
		return err
	}
	var v T
	if printed, err := c.show(ctx, domainPath(pos[0], more), nil, &v, *a.asJSON, stdout); printed {
		return err
	}
	return render(stdout, v)
}

// sendShow sends body (of Content-Type ct) and decodes the answer into
// out, as show does for a GET: with asJSON it prints the answer as it
// came and returns printed true.
func (c *client) sendShow(ctx context.Context, method, path string, query url.Values, ct string, body []byte,
	out any, asJSON bool, stdout io.Writer) (printed bool, err error) {
	raw, err := c.send(ctx, method, path, query, ct, body)
	if err != nil {
		return true, err
	}
	if asJSON {
		_, err := stdout.Write(raw)
		return true, err
	}
	if err := decodeAnswer(method, path, raw, out); err != nil {
		return true, err
	}
	return false, nil
}

// printDomain writes a domain as hookd domains get and put show it.
func printDomain(w io.Writer, d hook.DomainInfo) error {
	fmt.Fprintf(w, "domain:   %s\n", clean(d.ID, 0))
	fmt.Fprintf(w, "source:   %s\n", clean(d.Source, 20))
	fmt.Fprintf(w, "target:   %s\n", clean(d.Target, 0))
	if d.Plugin != nil {
		fmt.Fprintf(w, "plugin:   version %d, sha256 %s, %d bytes, uploaded %s by %s\n", d.Plugin.Version,
			clean(d.Plugin.SHA256, 64), d.Plugin.Size, fmtTime(&d.Plugin.CreatedAt), clean(d.Plugin.CreatedBy, 80))
	}
	if d.Source == hook.DomainFromStore {
		fmt.Fprintf(w, "revision: %d, %s\n", d.Revision, orDash(updated(d)))
	}
	_, err := fmt.Fprintf(w, "settings: %s\n", clean(indentJSON(d.Spec), 0))
	return err
}

// indentJSON is raw indented for reading, or raw as it is when it is not
// JSON.
func indentJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.MarshalIndent(v, "          ", "  ")
	return string(b)
}

func domainsPut(ctx context.Context, args []string, stdout io.Writer) error {
	a := newAPICmd("domains put", true)
	pos, c, err := a.start(args, "ID", "FILE")
	if err != nil {
		return err
	}
	spec, err := readJSONDoc(pos[1], a.f)
	if err != nil {
		return err
	}
	var d hook.DomainInfo
	if printed, err := c.sendShow(ctx, "PUT", domainPath(pos[0], ""), nil, "application/json", spec, &d, *a.asJSON, stdout); printed {
		return err
	}
	return printDomain(stdout, d)
}

func domainsDelete(ctx context.Context, args []string, stdout io.Writer) error {
	a := newAPICmd("domains delete", false)
	pos, c, err := a.start(args, "ID")
	if err != nil {
		return err
	}
	if _, err := c.call(ctx, "DELETE", domainPath(pos[0], ""), nil, nil, nil); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "domain %s: deleted\n", clean(pos[0], 0))
	return err
}

// limitFlag adds -limit N (1 to max) to a listing command.
func limitFlag(f *flagSet, def, max int) *int {
	return f.Int("limit", def, fmt.Sprintf("at most `N` entries (1 to %d)", max))
}

// limitQuery checks -limit and returns it as the query.
func limitQuery(f *flagSet, limit, max int) (url.Values, error) {
	if limit < 1 || limit > max {
		return nil, f.usageErr(fmt.Errorf("-limit %d: must be 1 to %d", limit, max))
	}
	return url.Values{"limit": {strconv.Itoa(limit)}}, nil
}

// maxLogLines bounds -limit of logs and audit.
const maxLogLines = 1000

func domainsLogs(ctx context.Context, args []string, stdout io.Writer) error {
	return domainListing(ctx, "domains logs", "/logs", "lines", args, stdout, "no plugin log lines",
		[]string{"AT", "NODE", "EVENT", "LEVEL", "LINE"},
		func(l hook.PluginLogLine) []string {
			return []string{fmtTime(&l.At), orDash(clean(l.Node, 30)), orDash(clean(l.EventID, 40)), clean(l.Level, 10), clean(l.Line, 200)}
		})
}

func domainsAudit(ctx context.Context, args []string, stdout io.Writer) error {
	return domainListing(ctx, "domains audit", "/audit", "entries", args, stdout, "no changes recorded",
		[]string{"AT", "ACTOR", "ACTION", "DETAIL"},
		func(e hook.AuditEntry) []string {
			return []string{fmtTime(&e.At), clean(e.Actor, 80), clean(e.Action, 30), orDash(clean(string(e.Detail), 120))}
		})
}

// domainListing is hookd domains logs|audit ID [-limit N] [-json]: the
// list under key of the domain's API path plus more, printed as a table.
func domainListing[T any](ctx context.Context, name, more, key string, args []string, stdout io.Writer,
	none string, header []string, row func(T) []string) error {
	a := newAPICmd(name, true)
	limit := limitFlag(a.f, 100, maxLogLines)
	pos, c, err := a.start(args, "ID")
	if err != nil {
		return err
	}
	q, err := limitQuery(a.f, *limit, maxLogLines)
	if err != nil {
		return err
	}
	var items []T
	if printed, err := c.showList(ctx, domainPath(pos[0], more), q, key, &items, *a.asJSON, stdout); printed {
		return err
	}
	return printTable(stdout, items, none, header, row)
}

func domainsSummary(ctx context.Context, args []string, stdout io.Writer) error {
	return showDomain(ctx, "domains summary", "/summary", args, stdout, printSummary)
}

// printSummary writes a domain's summary as hookd domains summary shows it.
func printSummary(w io.Writer, s hook.DomainSummary) error {
	fmt.Fprintf(w, "domain:       %s (target %s)\n", clean(s.Domain, 0), clean(s.Target, 0))
	fmt.Fprintf(w, "deliveries:   %s\n", counts(s.Deliveries))
	_, err := fmt.Fprintf(w, "plugin calls: %s\n", counts(s.PluginCalls))
	return err
}
