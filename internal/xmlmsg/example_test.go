package xmlmsg_test

import (
	"fmt"

	"github.com/hookrt/hookd/internal/xmlmsg"
)

func ExampleParse() {
	body := []byte(`<?xml version="1.0"?>
<module secret="DATABASE_SECRET">
  <islLight>
    <session id="5a1b">
      <send to="client"><msgbox>1</msgbox><message>Tom &amp; Jerry say "hi"</message></send>
      <transfer to="desk-2"/>
    </session>
    <session id="5a1d"><drop/></session>
  </islLight>
</module>`)

	r, err := xmlmsg.Parse(body)
	if err != nil {
		fmt.Println("not acknowledged:", err)
		return
	}
	fmt.Println(r.Summary())
	fmt.Println(r.Unknown)
	fmt.Printf("%s", r.Document())
	// Output:
	// xmlmsg: msgbox 5a1b; drop 5a1d; +1 unknown
	// [session "5a1b": unknown command <transfer>]
	// <?xml version="1.0" encoding="UTF-8"?>
	// <module secret="DATABASE_SECRET">
	//   <islLight>
	//     <session id="5a1b">
	//       <send to="client"><msgbox>1</msgbox><message>Tom &amp; Jerry say &#34;hi&#34;</message></send>
	//     </session>
	//     <session id="5a1d">
	//       <drop/>
	//     </session>
	//   </islLight>
	// </module>
}

func ExampleParse_refused() {
	for _, body := range []string{
		"<nomessage/>",
		"",
		"<html><body>502 Bad Gateway</body></html>",
		`<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><nomessage/>`,
		`<module><islLight><session id="5a1b"><send to="client"><msgbox>1</msgbox></send></session></islLight></module>`,
	} {
		r, err := xmlmsg.Parse([]byte(body))
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(r)
	}
	// Output:
	// nomessage
	// error: empty body; a strict script must answer XML: <nomessage/> when there is nothing to do
	// error: root element <html> is not <nomessage/> or <module>
	// error: line 1: DTDs are not allowed, found "<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
	// error: line 1: session "5a1b": <send to="client"> needs a non-empty <message>
}
