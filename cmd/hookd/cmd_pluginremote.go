package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hookrt/hookd/hook"
)

// The stored plugins of a domain, over the API: hookd checks an upload
// exactly as serve loads a plugin, keeps every version with its SHA-256,
// and runs the active one on every node. A domain token may manage its
// own domain's plugin.

func init() {
	addHelps(`
hookd plugin push -domain ID FILE.wasm [-settings FILE] [-activate=false] [-json]
	Upload a plugin for a domain: hookd checks it as serve would (compile, limits, imports,
	ABI), stores it as a new version and, unless -activate=false, runs it on every node.
	-settings is JSON (or TOML, by its .toml name): {"plugin": {limits, grants}, "config": {...}},
	the [domain.plugin] and [domain.config] tables of a [[domain]] entry.

hookd plugin versions -domain ID [-json]
	List the domain's stored plugin versions; the active one is marked.

hookd plugin activate -domain ID VERSION
	Run a stored version on every node: a rollback is activating an older one.

hookd plugin rm -domain ID VERSION
	Delete a stored version that is not active.

hookd plugin test -domain ID [-module FILE.wasm | -version N] [-settings FILE]
                         [-events FILE.json | -last N] [-signups FILE.json] [-stubs FILE.json]
                         [-live-http] [-json]
	Dry-run a plugin on the server: the uploaded -module (not stored), or a stored -version
	(default: the active one), against the events of -events (a JSON object of fields, or an
	array of them) or the domain's -last N recorded events. Prints, per event, what the
	delivery would become, the reply, the commands it would send, its logs and host calls.
	Its HTTP calls are answered by -stubs ([{"method", "url", "status", "body"}]), or made
	for real with -live-http where its allow-list permits. Nothing is delivered or stored.
	With -signups (a JSON object of a sign-up's fields, or an array of them) it also asks the
	plugin's on_signup about each, after the events and with the same state, in the language
	a live sign-up would be decided in, and prints the decision (allow, refuse with the
	reason the user would read, abstain, error, no_export); with -signups alone no recorded
	event runs.
	Exit 1 when an event would not be acknowledged or a sign-up could not be decided.
`)
}

// pluginTimeout is the default -timeout of what loads a plugin on the
// server: compiling a module on a loaded node takes seconds.
const pluginTimeout = 2 * time.Minute

// domainFlag adds the required -domain to a remote plugin command.
func domainFlag(f *flagSet) *string {
	return f.String("domain", "", "the domain's `ID` (DOMAIN_ID) (required)")
}

// needDomain refuses a missing -domain.
func needDomain(f *flagSet, id string) error {
	if id == "" {
		return f.usageErr(fmt.Errorf("%s: -domain ID is required", f.name))
	}
	return nil
}

// multipartBody builds a multipart/form-data body of parts, in order:
// each with a name, a file name (for the module) and its bytes.
type part struct {
	name, file, contentType string
	data                    []byte
}

func multipartBody(parts ...part) (contentType string, body []byte, err error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.file != "" {
			disp += fmt.Sprintf(`; filename=%q`, filepath.Base(p.file))
		}
		h.Set("Content-Disposition", disp)
		h.Set("Content-Type", p.contentType)
		w, err := mw.CreatePart(h)
		if err != nil {
			return "", nil, err
		}
		if _, err := w.Write(p.data); err != nil {
			return "", nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return "", nil, err
	}
	return mw.FormDataContentType(), b.Bytes(), nil
}

// maxModuleFile bounds the .wasm file the CLI reads; hookd's own limit
// ([domains] max_plugin_size) is usually far lower and named in its 413.
const maxModuleFile = 256 << 20

// readModule reads a .wasm file for upload.
func readModule(path string) ([]byte, error) {
	b, err := readBounded(path, maxModuleFile)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return b, nil
}

func pluginPush(ctx context.Context, args []string, stdout io.Writer) error {
	a := newSlowAPICmd("plugin push", true, pluginTimeout)
	domain := domainFlag(a.f)
	settings := a.f.String("settings", "", "the plugin's settings `FILE`: JSON {\"plugin\": {...}, \"config\": {...}}, or TOML by its .toml name")
	activate := a.f.Bool("activate", true, "run it on every node at once; false only stores it (activate it later)")
	pos, c, err := a.start(args, "FILE.wasm")
	if err != nil {
		return err
	}
	if err := needDomain(a.f, *domain); err != nil {
		return err
	}
	module, err := readModule(pos[0])
	if err != nil {
		return err
	}
	parts := []part{{name: "module", file: pos[0], contentType: "application/wasm", data: module}}
	if *settings != "" {
		s, err := readJSONDoc(*settings, a.f)
		if err != nil {
			return err
		}
		parts = append(parts, part{name: "settings", contentType: "application/json", data: s})
	}
	ct, body, err := multipartBody(parts...)
	if err != nil {
		return err
	}
	var q url.Values
	if !*activate {
		q = url.Values{"activate": {"false"}}
	}
	var v hook.PluginVersion
	if printed, err := c.sendShow(ctx, "PUT", domainPath(*domain, "/plugin"), q, ct, body, &v, *a.asJSON, stdout); printed {
		return err
	}
	state := "stored, not active (hookd plugin activate -domain " + clean(*domain, 0) + " " + strconv.Itoa(v.Version) + ")"
	if v.Active {
		state = "active on every node"
	}
	_, err = fmt.Fprintf(stdout, "domain %s: plugin version %d (sha256 %s, %d bytes) %s\n",
		clean(*domain, 0), v.Version, clean(v.SHA256, 64), v.Size, state)
	return err
}

func pluginVersions(ctx context.Context, args []string, stdout io.Writer) error {
	a := newAPICmd("plugin versions", true)
	domain := domainFlag(a.f)
	_, c, err := a.start(args)
	if err != nil {
		return err
	}
	if err := needDomain(a.f, *domain); err != nil {
		return err
	}
	var vs []hook.PluginVersion
	if printed, err := c.showList(ctx, domainPath(*domain, "/plugin/versions"), nil, "versions", &vs, *a.asJSON, stdout); printed {
		return err
	}
	return printTable(stdout, vs, "domain "+clean(*domain, 0)+" has no stored plugin",
		[]string{"VERSION", "ACTIVE", "SHA256", "SIZE", "CREATED", "BY"},
		func(v hook.PluginVersion) []string {
			active := ""
			if v.Active {
				active = "*"
			}
			return []string{strconv.Itoa(v.Version), orDash(active), short(v.SHA256), strconv.FormatInt(v.Size, 10), fmtTime(&v.CreatedAt), clean(v.CreatedBy, 60)}
		})
}

// pluginVersionAction serves plugin activate|rm -domain ID VERSION.
func pluginVersionAction(ctx context.Context, sub string, args []string, stdout io.Writer) error {
	a := newSlowAPICmd("plugin "+sub, false, pluginTimeout)
	domain := domainFlag(a.f)
	pos, c, err := a.start(args, "VERSION")
	if err != nil {
		return err
	}
	if err := needDomain(a.f, *domain); err != nil {
		return err
	}
	v, err := strconv.Atoi(pos[0])
	if err != nil || v < 1 {
		return a.f.usageErr(fmt.Errorf("plugin %s: VERSION %q: want a version number (1, 2, …; see hookd plugin versions)", sub, pos[0]))
	}
	path := domainPath(*domain, "/plugin/versions/"+strconv.Itoa(v))
	if sub == "rm" {
		if _, err := c.call(ctx, "DELETE", path, nil, nil, nil); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "domain %s: plugin version %d deleted\n", clean(*domain, 0), v)
		return err
	}
	start := time.Now()
	var pv hook.PluginVersion
	if _, err := c.post(ctx, path+"/activate", nil, nil, &pv); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "domain %s: plugin version %d (sha256 %s) active on every node (%s)\n",
		clean(*domain, 0), v, short(pv.SHA256), time.Since(start).Round(time.Millisecond))
	return err
}

// errNotAcknowledged is plugin test's exit 1 when an event would not be
// acknowledged; the results are printed before it.
var errNotAcknowledged = errors.New("not acknowledged")

// decodeStubs reads -stubs: a JSON array of hook.HTTPStub.
func decodeStubs(path string, f *flagSet) ([]hook.HTTPStub, error) {
	b, err := readDocument(path)
	if err != nil {
		return nil, err
	}
	var stubs []hook.HTTPStub
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&stubs); err != nil {
		return nil, f.usageErr(fmt.Errorf("-stubs %s: want a JSON array of {\"method\", \"url\", \"status\", \"headers\", \"body\"}: %w", path, err))
	}
	return stubs, nil
}
