package main

import (
	"crypto/sha256"
	"sync"
)

// seenSet remembers the last max jti values, to flag duplicates. hookd
// delivers at least once, so the same event can arrive twice (a retry after
// a lost answer); a real receiver would keep this in its database, next to
// what it does with the event.
//
// Bounding it is safe because tokens expire: a replay older than exp plus
// leeway is refused anyway, so the set only has to cover what arrives in
// that window. Keys are SHA-256 digests, so the memory per entry is fixed
// whatever the jti.
type seenSet struct {
	mu    sync.Mutex
	set   map[[32]byte]struct{}
	ring  [][32]byte // insertion order, for eviction
	next  int        // ring index to overwrite once full
	limit int
}

func newSeenSet(limit int) *seenSet {
	return &seenSet{set: make(map[[32]byte]struct{}, limit), limit: limit}
}

// add records jti and reports whether it was new.
func (s *seenSet) add(jti string) bool {
	h := sha256.Sum256([]byte(jti))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.set[h]; dup {
		return false
	}
	if len(s.ring) < s.limit {
		s.ring = append(s.ring, h)
	} else {
		delete(s.set, s.ring[s.next])
		s.ring[s.next] = h
		s.next = (s.next + 1) % s.limit
	}
	s.set[h] = struct{}{}
	return true
}
