//go:build race

package jwtwebhook_test

// raceEnabled: under the race detector sync.Pool drops a random quarter of
// what it is given, so allocation counts of pooled code are not the real ones.
const raceEnabled = true
