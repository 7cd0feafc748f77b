// Package config is the machinery under runtime.LoadConfig: it decodes a
// TOML config strictly into the sections the caller names, and formats
// every problem so that it names the file and the key. The schema itself
// (server, store, delivery, …) and its defaults and validation live with
// the public runtime.Config; module sections belong to their modules.
//
//	modules, err := config.Decode("config.toml", data, &core, reg)
//
// # Sections
//
// A top-level table is a core section (a field of the core struct, named
// by its `toml` tag) or the ID of a module in the [hook.Registry]: its
// section, a table or an array of tables ([[domain]]), is decoded straight
// into the value [hook.ModuleInfo].New returns.
//
// # Strictness
//
// Decoding is strict, so a typo stops start-up instead of silently turning
// a feature off: an unknown section, an unknown key (including a key that
// matches only case-insensitively: TOML keys are case-sensitive) and a
// value of the wrong type are all errors. The allowed names are listed in
// the error, taken from the `toml` tags of the destination. Keys under a
// field that takes anything (an `any` or map[string]any field, a
// toml.Unmarshaler, a toml.Primitive) are the field's own business.
//
// # Errors
//
// Every error names the file as given, then the key, then what is allowed
// (see [Error]):
//
//	config.toml:3:7: expected value but found '=' instead
//	config.toml: delivery.jitter: wrong type: want a number, got a string
//	config.toml: unknown key "jwt_webhook.urll"; allowed in [jwt_webhook]: url, private_key, claims, events
//	config.toml: delivery.timeout: must be between 100ms and 5m, got 0s   (a [Validator])
//	config.toml: [jwt_webhook]: url: required                             (a module's Validate)
//
// Decoding reports every unknown key and every wrong type; [DecodeAll]
// goes on after them (a section with a wrong type keeps its other keys),
// so that validation reports every invalid value of what did decode, and
// [SortErrors] puts the problems of both phases in file order. Several
// errors are joined with [errors.Join], one per line (at most 50), so
// that `hookd check` shows them all at once.
//
// # Environment
//
// [FromEnv] turns variables named HOOKD_<SECTION>_<KEY> into one-key
// documents that [DecodeAll] decodes over the file's values, with the
// same strictness and the same errors, naming the variable.
package config
