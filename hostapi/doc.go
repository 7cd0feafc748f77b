// Package hostapi names hookd's WebAssembly plugin ABI, version 1: the
// module guests import host functions from ([ModuleName], "hookd_v1"),
// the exports a host calls ([EntryPoint], [InitExport]), the status codes
// every host function returns, the results of the entry point, the log
// levels, the limits, and the signature of every host function.
//
// ABI.md in this directory is the contract itself, one grammar line per
// call; RATIONALE.md says why it is shaped the way it is. This package is
// its vocabulary in Go: it imports nothing but the standard library's
// strconv and time, so that guest SDKs (plugins/pdk, built for
// GOOS=wasip1) and the host both take their numbers from here and can
// never disagree. The host side (the Go functions behind the imports, the
// engine that runs plugins) is internal to hookd.
//
//	status := hostapi.ErrDenied
//	fmt.Println(hostapi.StatusName(int64(status))) // ERR_DENIED
//
// # Versioning
//
// The version is in every name: a v2 ABI would be a different module
// ("hookd_v2") with a different entry point, and a host refuses a plugin
// whose names it does not know (see ABI.md, "Version handshake"). Adding
// a function to v1 is compatible (old plugins do not import it); changing
// one is not.
package hostapi
