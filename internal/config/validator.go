package config

import (
	"fmt"
	"strings"
)

// Validator collects the problems of a decoded config, each as an [*Error]
// naming the file and the key, for one error that lists them all.
//
//	v := config.Validator{File: "config.toml"}
//	if timeout <= 0 {
//		v.Add("delivery.timeout", "must be more than 0s, got %s", timeout)
//	}
//	v.Module("jwt_webhook", mod.Validate())
//	return v.Err()
type Validator struct {
	File string
	errs []error
}

// Add records a problem with key: "delivery.timeout: must be …".
func (v *Validator) Add(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.File, Err: &keyError{key: key, msg: fmt.Sprintf(format, args...)}})
}

// Module records a module's Validate error, one problem per joined error,
// each prefixed with "[id]".
func (v *Validator) Module(id string, err error) {
	for _, e := range splitJoined(err) {
		v.errs = append(v.errs, &Error{File: v.File, Err: &keyError{key: "[" + id + "]", msg: e.Error(), err: e}})
	}
}

// Errs returns the problems, not joined, for a caller that sorts them
// with the problems of other phases ([SortErrors]).
func (v *Validator) Errs() []error { return v.errs }

// Err returns the problems joined (see [JoinErrors]), or nil.
func (v *Validator) Err() error { return JoinErrors(v.File, v.errs) }

// splitJoined undoes errors.Join (recognized by its one-per-line message),
// so that every line of a module's error gets the file and section prefix.
func splitJoined(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var parts []string
	var out []error
	for _, e := range j.Unwrap() {
		if e == nil {
			continue
		}
		parts = append(parts, e.Error())
		out = append(out, splitJoined(e)...)
	}
	if strings.Join(parts, "\n") != err.Error() { // e.g. fmt.Errorf with two %w
		return []error{err}
	}
	return out
}
