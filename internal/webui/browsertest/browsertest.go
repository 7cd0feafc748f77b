// Package browsertest drives a real headless Chromium (Debian's package)
// for the end-to-end tests of hookd's server-rendered pages: the admin
// page (cmd/hookd's TestAdminBrowser) and the domain owners' portal
// (internal/portal's TestPortalBrowser). Both need the same browser, with
// the same flags and the same way of failing with what the page showed,
// so it lives here once; each test says only what differs: where its
// screenshots go, whether they cover the whole page, and which console
// messages it provokes on purpose.
//
// Without Chromium a test skips, unless HOOKD_REQUIRE_CHROMIUM=1 (CI),
// which makes it fail instead. It is a test-support package: only tests
// import it.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	// EnvRequireChromium set to 1 (CI) makes a missing Chromium fail the
	// test instead of skipping it.
	EnvRequireChromium = "HOOKD_REQUIRE_CHROMIUM"
	// EnvChromium names a browser binary other than the ones looked up.
	EnvChromium = "HOOKD_CHROMIUM"
)

// Patience bounds the browser part of a test: generous, as Chromium
// starts slowly on a loaded 2-core machine; it only catches a page that
// never shows what the test waits for.
const Patience = 4 * time.Minute

// Chromium returns the browser to run, or skips the test; what names the
// page the test would run in it ("the portal"), for the skip message.
func Chromium(t testing.TB, what string) string {
	t.Helper()
	candidates := []string{os.Getenv(EnvChromium), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv(EnvRequireChromium) == "1" {
		t.Fatalf("no Chromium found (looked for %s) but %s=1: the browser test must run; apt-get install -y chromium",
			strings.Join(candidates[1:], ", "), EnvRequireChromium)
	}
	t.Skipf("no Chromium found; apt-get install -y chromium to run %s in a browser (%s=1 makes this fail)", what, EnvRequireChromium)
	return ""
}

// Options says what differs between the pages' tests.
type Options struct {
	// Screenshots is the directory Shot writes into ("" for none): the
	// test reads it from its own variable, so that CI, leaving it unset,
	// writes nothing into the tree.
	Screenshots string
	// FullPage makes Shot capture the whole page rather than the viewport.
	FullPage bool
	// Expected reports whether a console problem is one the test provokes
	// on purpose (the 401 of a wrong token), so that Problems leaves it out.
	Expected func(chromedp.ConsoleMessage) bool
}

// Browser is a headless Chromium with one tab, and the problems its pages
// wrote to the console.
type Browser struct {
	// Ctx is the tab's context, for chromedp calls the methods do not
	// cover; it ends after Patience.
	Ctx  context.Context
	t    *testing.T
	base string
	opts Options

	mu      sync.Mutex
	console []string
}

// New starts Chromium with a fresh profile, its pages at base. The flags
// keep it from reaching out: a closed network refuses Chromium's
// background connections, which would otherwise fill the log and slow it.
func New(t *testing.T, exe, base string, opts Options) *Browser {
	t.Helper()
	// chromedp makes the profile directory in $TMPDIR and removes it when
	// the browser has stopped (killing what Chromium left running, which
	// t.TempDir's own cleanup could not): so $TMPDIR is a test directory.
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	flags := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.WindowSize(1200, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	t.Cleanup(cancelAlloc) // waits for the browser to stop and its profile to go
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	ctx, cancelTime := context.WithTimeout(ctx, Patience)
	t.Cleanup(cancelTime)
	b := &Browser{Ctx: ctx, t: t, base: base, opts: opts}
	messages := chromedp.Console(ctx) // starts the browser
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if !b.problem(m) {
				continue
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
			b.mu.Unlock()
		}
	}()
	b.Do(chromedp.EmulateViewport(1200, 800))
	return b
}

// problem reports whether a console message is a problem of the page (an
// exception, an error, a warning such as a CSP violation) that the test
// did not provoke on purpose.
func (b *Browser) problem(m chromedp.ConsoleMessage) bool {
	switch m.Type {
	case chromedp.ConsoleException, chromedp.ConsoleError, chromedp.ConsoleWarning:
	default:
		return false
	}
	return b.opts.Expected == nil || !b.opts.Expected(m)
}

// Problems returns the problems the pages wrote to the console so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Do runs steps, failing the test with what the page showed.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\n%s", err, b.Page())
	}
}

// Open loads path and waits until sel is visible.
func (b *Browser) Open(path, sel string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Submit clicks a form's button and waits for the page it leads to, and
// then for sel on it.
func (b *Browser) Submit(button, sel string) {
	b.t.Helper()
	if _, err := chromedp.RunResponse(b.Ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
		b.t.Fatalf("browser: click %s: %v\n%s", button, err, b.Page())
	}
	b.Do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Text returns the text of the element sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v\n%s", sel, err, b.Page())
	}
	return s
}

// Attr returns the attribute name of the element sel.
func (b *Browser) Attr(sel, name string) string {
	b.t.Helper()
	r, err := chromedp.Run(b.Ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil || !r.Exists {
		b.t.Fatalf("browser: attribute %s of %s: %v\n%s", name, sel, err, b.Page())
	}
	return r.Value
}

// Count returns how many elements sel selects.
func (b *Browser) Count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.t.Fatalf("browser: count %s: %v", sel, err)
	}
	return n
}

// Location is the URL the tab shows.
func (b *Browser) Location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.Ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// Page is the current page's URL and text, for failure messages. It has
// its own 10 s, so that it still answers when the tab's time is up.
func (b *Browser) Page() string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.Ctx), 10*time.Second)
	defer cancel()
	u, _ := chromedp.Run(ctx, chromedp.Location())
	s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return "page " + u + ":\n" + s
}

// Shot saves a screenshot as name.png in Options.Screenshots, when set.
func (b *Browser) Shot(name string) {
	b.t.Helper()
	if b.opts.Screenshots == "" {
		return
	}
	capture := chromedp.CaptureScreenshot()
	if b.opts.FullPage {
		capture = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(b.Ctx, capture)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(b.opts.Screenshots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.opts.Screenshots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
