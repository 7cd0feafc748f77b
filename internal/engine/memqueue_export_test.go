package engine

import "time"

// SetQueueBounds sets how many deliveries the burst queue of a started e
// keeps with their event in memory, and how long one may wait there, so
// that a test sees the read back and the handover to River. Call it
// before emitting.
func SetQueueBounds(e *Engine, inMemory int, age time.Duration) {
	q := e.direct.Load().q
	q.mu.Lock()
	defer q.mu.Unlock()
	q.memCap, q.age = inMemory, age
}
