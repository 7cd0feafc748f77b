package admin

import (
	"embed"
	"io/fs"
)

// assets are the page's templates and script: everything it loads comes
// from here or from webui.Shared (the stylesheet), no CDN.
//
//go:embed assets
var assets embed.FS

// templates are the page's templates, and static its script.
var templates, static = sub("assets"), sub("assets/static")

func sub(dir string) fs.FS {
	f, err := fs.Sub(assets, dir)
	if err != nil {
		panic(err)
	}
	return f
}

// pageNames are the templates of assets/, each rendered inside
// assets/layout.html.
var pageNames = []string{"login", "error", "deliveries", "delivery", "targets", "sessions", "plugins", "config", "confirm"}
