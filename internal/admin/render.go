package admin

import (
	"embed"
	"html/template"

	"github.com/hookrt/hookd/internal/webui"
)

// assets are the page's templates and script: everything it loads comes
// from here or from webui (the frame, the pages the portal shows too, the
// stylesheet), no CDN.
//
//go:embed assets
var assets embed.FS

// templates are the page's templates, and static its script.
var templates, static = webui.SiteAssets(assets)

// pageNames are the pages the admin page renders inside the shared frame:
// its own templates of assets/, else webui's (sessions, delivery, error).
var pageNames = []string{"login", "error", "deliveries", "delivery", "targets", "sessions", "plugins", "config", "confirm",
	"domains", "domain", "token"}

// funcs are the admin page's own template helpers: domainPath links a
// domain's page whatever its id holds.
var funcs = template.FuncMap{"domainPath": domainPath}
