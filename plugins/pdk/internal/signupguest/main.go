// Command signupguest is the sign-up test guest of package pdk: the
// username of a sign-up picks what its handler does (see decide). Its
// AssemblyScript twin is plugins/pdk-as/test/signup.ts; both pass the
// scenarios of plugins/internal/signuptest.
package main

import (
	"strings"

	"github.com/hookrt/hookd/plugins/pdk"
)

func init() {
	pdk.Handle(func(*pdk.Event) pdk.Reply { return pdk.NoMessage() })
	pdk.HandleSignup(decide)
}

func main() {}

func decide(s *pdk.Signup) pdk.Decision {
	switch s.Username() {
	case "allow":
		pdk.Log(pdk.LevelInfo, "allowing "+s.Email())
		return pdk.Allow()
	case "refuse":
		return pdk.Refuse(`No sign-ups for <` + s.Email() + `> & co.`)
	case "refuse-silent":
		return pdk.Refuse("")
	case "abstain":
		return pdk.Abstain()
	case "echo":
		// The fields as the plugin reads them, EVENT_ID included when it
		// is there (it must not be).
		var b strings.Builder
		for _, f := range []string{"username", "domain", "email", "fullname", "language", "password", "EVENT_ID"} {
			v, ok := (&pdk.Event{}).Lookup(f)
			if ok {
				b.WriteString(f + "=" + v + ";")
			}
		}
		return pdk.Refuse(b.String())
	case "loop":
		for {
		}
	case "crash":
		panic("signupguest: crash")
	case "cannot":
		return pdk.CannotDecide(nil)
	case "zero":
		return pdk.Decision{}
	}
	return pdk.Refuse("unknown username " + s.Username())
}
