// Package builtin registers hookd's built-in modules. Adding a module to
// hookd means adding one line to Register.
package builtin

import (
	"github.com/hookrt/hookd/builtin/commands"
	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/jwtwebhook"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
)

// Register adds every built-in module to reg.
func Register(reg *hook.Registry) {
	reg.Register(jwtwebhook.Info)
	reg.Register(httpevents.Info)
	reg.Register(httpevents.DomainsInfo)
	reg.Register(wasmscript.Info)
	reg.Register(commands.Info)
	reg.Register(webapi.Info)
}

// Registry returns a new registry holding the built-ins.
func Registry() *hook.Registry {
	reg := hook.NewRegistry()
	Register(reg)
	return reg
}
