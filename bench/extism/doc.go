// Package extismbench compares the per-call host overhead of hookd's plugin
// engine (internal/wasmhost) with the Extism Go SDK running the same trivial
// hook: a ~300-byte ISL event in, <nomessage/> out. It is a module of its
// own, so the Extism dependency stays out of hookd's go.mod; the root's
// `go test ./...` does not descend into it. See README.md.
package extismbench
