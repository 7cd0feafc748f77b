// Command nopguest is the smallest Go plugin: it answers every event with
// <nomessage/>. It is the Go guest of BenchmarkGoGuest.
package main

import "github.com/hookrt/hookd/plugins/pdk"

func init() {
	pdk.Handle(func(*pdk.Event) pdk.Reply { return pdk.NoMessage() })
}

func main() {}
