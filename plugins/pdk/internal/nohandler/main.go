// Command nohandler imports pdk but never calls pdk.Handle: hookd must
// refuse to load it, saying why.
package main

import _ "github.com/hookrt/hookd/plugins/pdk"

func main() {}
