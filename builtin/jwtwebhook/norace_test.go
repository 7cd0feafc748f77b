//go:build !race

package jwtwebhook_test

// raceEnabled: see race_test.go.
const raceEnabled = false
