package store

import (
	"errors"
	"time"
)

// ErrNotFound is returned when a delivery, event or session does not exist.
var ErrNotFound = errors.New("not found")

// ErrUnavailable wraps errors of a store that cannot be reached or written
// (database down, disk full): the caller may try again later, and nothing
// was half-written.
var ErrUnavailable = errors.New("store unavailable")

// ErrConflict is returned when an operation does not fit a delivery's state,
// e.g. discarding one that was already delivered.
var ErrConflict = errors.New("conflict")

// State is where a delivery stands.
type State string

// Delivery states. Pending and Retrying are live (a job will attempt them);
// the others are final until an operator replays the delivery.
const (
	StatePending   State = "pending"   // committed, first attempt not made yet
	StateRetrying  State = "retrying"  // at least one attempt failed; another is scheduled
	StateDelivered State = "delivered" // acknowledged by the target
	StateDead      State = "dead"      // gave up: max age, attempts exhausted, permanent error, target disabled
	StateDiscarded State = "discarded" // an operator discarded it
)

// States lists every state, in lifecycle order.
var States = []State{StatePending, StateRetrying, StateDelivered, StateDead, StateDiscarded}

// Valid reports whether s is one of [States].
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// Delivery is one event on its way to one target.
type Delivery struct {
	ID          int64             `json:"id"`
	EventID     string            `json:"event_id"`
	Target      string            `json:"target"`
	State       State             `json:"state"`
	Attempts    int               `json:"attempts"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	NextAttempt *time.Time        `json:"next_attempt_at,omitempty"`
	LastStatus  int               `json:"last_status,omitempty"`
	LastError   string            `json:"last_error,omitempty"`
	LastSummary string            `json:"last_summary,omitempty"`
	Event       map[string]string `json:"event,omitempty"`        // filled by Get, not by List
	History     []Attempt         `json:"attempts_log,omitempty"` // filled by Get, not by List
}

// Attempt is one recorded try of a delivery.
type Attempt struct {
	N        int           `json:"n"`
	At       time.Time     `json:"at"`
	Latency  time.Duration `json:"latency_ns"`
	Status   int           `json:"status,omitempty"`
	Error    string        `json:"error,omitempty"`
	Response string        `json:"response,omitempty"` // first 20 kB of the answer
	Summary  string        `json:"summary,omitempty"`  // e.g. "nomessage", "xmlmsg: drop 5a1d"
}

// SessionEvent is one event of a session's record with the outcome at
// each of its targets.
type SessionEvent struct {
	EventID   string            `json:"event_id"`
	CreatedAt time.Time         `json:"created_at"`
	Fields    map[string]string `json:"fields"`
	Targets   []TargetOutcome   `json:"targets"`
}

// TargetOutcome is where one delivery of a session event stands.
type TargetOutcome struct {
	Target    string    `json:"target"`
	State     State     `json:"state"`
	Attempts  int       `json:"attempts"`
	Status    int       `json:"status,omitempty"`
	Summary   string    `json:"summary,omitempty"`
	Error     string    `json:"error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Filter selects deliveries for listing. Zero fields match everything.
type Filter struct {
	State  State
	Target string
	// BeforeID pages backwards: only deliveries with a smaller ID (the list
	// is newest first, so pass the last ID of the previous page).
	BeforeID int64
	// Limit caps the result; 0 means 100, the maximum is 1000.
	Limit int
}
