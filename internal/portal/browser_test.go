package portal

import (
	"strings"

	"github.com/chromedp/chromedp"
)

// The portal's end-to-end test drives a real Chromium (Debian's package)
// against the portal over a real runtime, as cmd/hookd's TestAdminBrowser
// does for the admin page; internal/webui/browsertest holds the browser
// both use. Without Chromium it skips, unless HOOKD_REQUIRE_CHROMIUM=1
// (CI), which makes it fail instead. With HOOKD_PORTAL_SCREENSHOTS=<dir>
// it writes a screenshot of every page there (docs/portal/*.png come
// from it).
const envScreenshots = "HOOKD_PORTAL_SCREENSHOTS"

// expectedConsole reports the console messages the test asks for on
// purpose: the 401 of a wrong token and the 404s of another domain's
// delivery and session.
func expectedConsole(m chromedp.ConsoleMessage) bool {
	return m.Source == "network" &&
		(strings.Contains(m.Text, "401") && strings.HasSuffix(m.URL, "/portal/login") ||
			strings.Contains(m.Text, "404") && (strings.Contains(m.URL, "/portal/deliveries/") || strings.Contains(m.URL, "/portal/sessions")))
}
