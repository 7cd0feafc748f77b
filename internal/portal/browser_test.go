package portal

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

// The portal's end-to-end test drives a real Chromium (Debian's package)
// against the portal over a real runtime, as cmd/hookd's TestAdminBrowser
// does for the admin page. Without Chromium it skips, unless
// HOOKD_REQUIRE_CHROMIUM=1 (CI), which makes it fail instead. With
// HOOKD_PORTAL_SCREENSHOTS=<dir> it writes a screenshot of every page
// there (docs/portal/*.png come from it).
const (
	envRequireChromium = "HOOKD_REQUIRE_CHROMIUM"
	envChromium        = "HOOKD_CHROMIUM"
	envScreenshots     = "HOOKD_PORTAL_SCREENSHOTS"
)

// browserPatience bounds the browser part of the test: generous, as
// Chromium starts slowly on a loaded 2-core machine; it only catches a
// page that never shows what the test waits for.
const browserPatience = 4 * time.Minute

// chromium returns the browser to run, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv(envChromium), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv(envRequireChromium) == "1" {
		t.Fatalf("no Chromium found (looked for %s) but %s=1: the browser test must run; apt-get install -y chromium",
			strings.Join(candidates[1:], ", "), envRequireChromium)
	}
	t.Skipf("no Chromium found; apt-get install -y chromium to run the portal in a browser (%s=1 makes this fail)", envRequireChromium)
	return ""
}

// browser is a headless Chromium with one tab, and the problems its pages
// wrote to the console.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string

	mu      sync.Mutex
	console []string
}

// newBrowser starts Chromium with a fresh profile, kept from reaching
// out (this machine's closed network refuses its background connections).
func newBrowser(t *testing.T, exe, base string) *browser {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp) // chromedp's profile directory, removed when the browser stops
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
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
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	ctx, cancelTime := context.WithTimeout(ctx, browserPatience)
	t.Cleanup(cancelTime)
	b := &browser{t: t, ctx: ctx, base: base, shots: os.Getenv(envScreenshots)}
	messages := chromedp.Console(ctx) // starts the browser
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if !consoleProblem(m) {
				continue
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
			b.mu.Unlock()
		}
	}()
	b.do(chromedp.EmulateViewport(1200, 800))
	return b
}

// consoleProblem reports whether a console message is a problem of the
// page (an exception, an error, a warning such as a CSP violation), but
// not the answers the test asks for on purpose: the 401 of a wrong token
// and the 404s of another domain's delivery and session.
func consoleProblem(m chromedp.ConsoleMessage) bool {
	switch m.Type {
	case chromedp.ConsoleException, chromedp.ConsoleError, chromedp.ConsoleWarning:
	default:
		return false
	}
	if m.Source != "network" {
		return true
	}
	return !(strings.Contains(m.Text, "401") && strings.HasSuffix(m.URL, "/portal/login") ||
		strings.Contains(m.Text, "404") && (strings.Contains(m.URL, "/portal/deliveries/") || strings.Contains(m.URL, "/portal/sessions")))
}

func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// do runs steps, failing the test with what the page showed.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\n%s", err, b.page())
	}
}

// open loads path and waits until sel is visible.
func (b *browser) open(path, sel string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// submit clicks a form's button and waits for the page it leads to, and
// then for sel on it.
func (b *browser) submit(button, sel string) {
	b.t.Helper()
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
		b.t.Fatalf("browser: click %s: %v\n%s", button, err, b.page())
	}
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

// text returns the text of the element sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v\n%s", sel, err, b.page())
	}
	return s
}

// count returns how many elements sel selects.
func (b *browser) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.t.Fatalf("browser: count %s: %v", sel, err)
	}
	return n
}

// location is the URL the tab shows.
func (b *browser) location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// page is the current page's URL and text, for failure messages.
func (b *browser) page() string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 10*time.Second)
	defer cancel()
	u, _ := chromedp.Run(ctx, chromedp.Location())
	s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return "page " + u + ":\n" + s
}

// shot saves a screenshot of the whole page as name.png, when asked to.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
