// Package pdkas holds the Go tests of the AssemblyScript SDK for hookd
// plugins (@hookrt/pdk-as, this directory's npm package) and of the
// plugins in plugins/examples-as: they compile AssemblyScript with the
// pinned asc, installed outside the source tree, and run the modules in
// hookd's engine and through `hookd serve`. See README.md for the SDK and
// asc_test.go for how the compiler is installed and cached.
//
// The package has no Go code of its own.
package pdkas
