package webui

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// templates are what both sites show alike: the frame (layout.html), the
// page parts (shared.html) and whole pages (pages/).
//
//go:embed templates
var templates embed.FS

// Shared are the files both pages load: the stylesheet (hookd.css) and
// the icon (favicon.svg). Pass it last to [Site.Static].
var Shared = sub(static, "static")

// SiteAssets splits a site's embedded assets directory into its
// templates (assets/) and its own static files (assets/static/). It
// panics when dir is not in fsys: the files are part of the binary.
func SiteAssets(fsys fs.FS) (templates, static fs.FS) {
	return sub(fsys, "assets"), sub(fsys, "assets/static")
}

func sub(fsys fs.FS, dir string) fs.FS {
	f, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return f
}
