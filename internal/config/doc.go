// Package config loads hookd's config.toml, strictly.
//
//	cfg, err := config.Load("/etc/hookd/config.toml", reg)
//	if err != nil {
//		return err // every line names the file and the key
//	}
//	timeout := time.Duration(cfg.Delivery.Timeout)
//
// # Sections
//
// The core sections are server, storage, store, delivery and log (see
// [Config]). Every other top-level key must be the ID of a module in
// the [hook.Registry] passed to [Load] or [Parse]: its section, a table or
// an array of tables ([[domain]]), is decoded straight into the value
// [hook.ModuleInfo].New returns and stored in [Config].Modules. A module
// whose section is absent is not there: that feature is off. Every section
// is optional; an empty file is a working config.
//
// # Strictness
//
// Decoding is strict, so a typo stops start-up instead of silently turning
// a feature off: an unknown section, an unknown key (including a key that
// matches only case-insensitively: TOML keys are case-sensitive), a value
// of the wrong type and an invalid value are all errors. The allowed names
// are listed in the error, taken from the `toml` tags of the destination.
// Keys under a field that takes anything (an `any` or map[string]any
// field, a [toml.Unmarshaler], a [toml.Primitive]) are the field's own
// business.
//
// # Defaults
//
// Defaults live in one place, documented on each field ("Defaults to …")
// and returned by [Defaults]. They are applied before decoding: a key the
// file sets, to a zero value included, overrides its default (jitter = 0
// turns jitter off; timeout = 0 is an error).
//
// # Durations
//
// A [Duration] is written as a string, "5s" or "1h30m", or as an integer
// number of seconds, as the original settings page has it ("timeout in
// seconds"): timeout = 10 is 10s.
//
// # Paths
//
// Relative paths (storage.private_dir, store.path, server.token_file) are
// resolved against the directory of the config file, so that hookd finds
// the same files whatever its working directory. Modules resolve their own
// paths with [Config.Resolve].
//
// # Errors
//
// Every error names the file as given, then the key, then what is allowed
// (see [Error]):
//
//	config.toml:3:7: expected value but found '=' instead
//	config.toml: delivery.jitter: wrong type: want a number, got a string
//	config.toml: unknown key "jwt_webhook.urll"; allowed in [jwt_webhook]: url, private_key, claims, events
//	config.toml: delivery.timeout: must be between 100ms and 5m, got 0s
//	config.toml: [jwt_webhook]: url: required
//
// Decoding reports every unknown key and every wrong type, in file order;
// validation runs only on a config that decoded cleanly, and then reports
// every invalid value. Several errors are joined with [errors.Join], one
// per line (at most 50), so that `hookd check` shows them all at once. Validation does no I/O: files named by the config are
// read later, when modules are provisioned.
package config
