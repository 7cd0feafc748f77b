package webapi_test

import (
	"fmt"

	"github.com/hookrt/hookd/builtin/webapi"
)

// The seed's notification parameters, filled with awkward values: each
// placeholder becomes a JSON string, quoted and escaped.
func ExampleParseTemplate() {
	t, err := webapi.ParseTemplate(`"userName": {{name}}, "userDomain": {{domain}}`)
	if err != nil {
		panic(err)
	}
	body, _ := t.Render(webapi.Values{Name: `ann "the admin"`, Domain: "acme\\eu"})
	fmt.Println(string(body))

	_, err = webapi.ParseTemplate(`"userName": "{{name}}"`)
	fmt.Println(err)
	// Output:
	// {"userName": "ann \"the admin\"", "userDomain": "acme\\eu"}
	// placeholder {{name}} at byte 13 is inside a JSON string: placeholders stand for whole JSON values; do not put them inside quotes (write "userName": {{name}}, not "userName": "{{name}}")
}
