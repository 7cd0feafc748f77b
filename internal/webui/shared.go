package webui

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// templates are the page parts both sites show alike (shared.html).
//
//go:embed templates
var templates embed.FS

// Shared are the files both pages load: the stylesheet (hookd.css) and
// the icon (favicon.svg). Pass it last to [Site.Static].
var Shared = func() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	return sub
}()
