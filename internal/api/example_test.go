package api_test

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hookrt/hookd/internal/api"
)

// ISL's proxy posts HTTP events as forms; "NEW SESSION" is kept as sent.
func ExampleParseEvent() {
	fields, err := api.ParseEvent("application/x-www-form-urlencoded",
		[]byte("MODULE=ISL_LIGHT&EVENT=NEW+SESSION&TIMESTAMP=1700000000&SESSIONID=42"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		fmt.Printf("%s=%q\n", name, fields[name])
	}

	_, err = api.ParseEvent("application/json",
		[]byte(`{"MODULE":"ISL_CP","EVENT":"USER_CREATE","TIMESTAMP":"yesterday"}`))
	fmt.Println(err)
	// Output:
	// EVENT="NEW SESSION"
	// MODULE="ISL_LIGHT"
	// SESSIONID="42"
	// TIMESTAMP="1700000000"
	// field "TIMESTAMP": must be a unix time in seconds, got "yesterday"
}
