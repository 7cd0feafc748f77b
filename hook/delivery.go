package hook

import "time"

// DeliveryState is where a delivery stands.
type DeliveryState string

// Delivery states. Pending and Retrying are live (a job will attempt them);
// the others are final until an operator replays the delivery.
const (
	StatePending   DeliveryState = "pending"   // committed, first attempt not made yet
	StateRetrying  DeliveryState = "retrying"  // at least one attempt failed; another is scheduled
	StateDelivered DeliveryState = "delivered" // acknowledged by the target
	StateDead      DeliveryState = "dead"      // gave up: max age, attempts exhausted, permanent error, target disabled
	StateDiscarded DeliveryState = "discarded" // an operator discarded it
)

// DeliveryStates lists every state, in lifecycle order.
var DeliveryStates = []DeliveryState{StatePending, StateRetrying, StateDelivered, StateDead, StateDiscarded}

// Valid reports whether s is one of [DeliveryStates].
func (s DeliveryState) Valid() bool {
	for _, v := range DeliveryStates {
		if s == v {
			return true
		}
	}
	return false
}

// Live reports whether a job will still attempt a delivery in state s.
func (s DeliveryState) Live() bool { return s == StatePending || s == StateRetrying }

// Delivery is one event on its way to one target, as the delivery log
// keeps it.
type Delivery struct {
	ID          int64         `json:"id"`
	EventID     string        `json:"event_id"`
	Target      string        `json:"target"`
	State       DeliveryState `json:"state"`
	Attempts    int           `json:"attempts"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
	NextAttempt *time.Time    `json:"next_attempt_at,omitempty"`
	LastStatus  int           `json:"last_status,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
	LastSummary string        `json:"last_summary,omitempty"`
	// Held says why a live (pending or retrying) delivery is not moving:
	// "held: breaker open until 05:38:04 UTC" (this node's breaker),
	// "held: target paused by operator: maintenance", "held: target
	// disabled by hookd: …"; empty when nothing holds it.
	Held    string            `json:"held,omitempty"`
	Event   map[string]string `json:"event,omitempty"`        // filled for one delivery, not in lists
	History []Attempt         `json:"attempts_log,omitempty"` // filled for one delivery, not in lists
}

// Attempt is one recorded try of a delivery.
type Attempt struct {
	N        int           `json:"n"`
	At       time.Time     `json:"at"`
	Latency  time.Duration `json:"latency_ns"`
	Status   int           `json:"status,omitempty"`
	Error    string        `json:"error,omitempty"`
	Response string        `json:"response,omitempty"` // the start of the answer, at most MaxReplyExcerpt bytes
	Summary  string        `json:"summary,omitempty"`  // e.g. "nomessage", "xmlmsg: drop 5a1d"
}

// DeliveryFilter selects deliveries for listing. Zero fields match
// everything.
type DeliveryFilter struct {
	State  DeliveryState
	Target string
	// EventID selects the deliveries of one event (the ID Emit returned).
	EventID string
	// Since selects deliveries created at or after it.
	Since time.Time
	// BeforeID pages backwards: only deliveries with a smaller ID (lists
	// are newest first, so pass the last ID of the previous page).
	BeforeID int64
	// Limit caps the result; 0 means 100, the maximum is 1000.
	Limit int
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
	Target    string        `json:"target"`
	State     DeliveryState `json:"state"`
	Attempts  int           `json:"attempts"`
	Status    int           `json:"status,omitempty"`
	Summary   string        `json:"summary,omitempty"`
	Error     string        `json:"error,omitempty"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// Observation is one recorded outcome of a delivery: an attempt, or a
// decision made without one (dead-lettering at the maximum age). The
// runtime hands one to its observer after each is committed; metrics, and
// tests waiting for a condition, use them instead of polling.
type Observation struct {
	DeliveryID int64
	EventID    string
	Target     string
	State      DeliveryState // the delivery's new state
	Attempt    int           // attempts made so far (0 when no attempt was made)
	Status     int
	Err        error  // the attempt's error, if an attempt was made and failed
	Reason     string // why the delivery is in State (the error, or why it is dead)
	Latency    time.Duration
	At         time.Time // when the attempt (or decision) was made
	Next       time.Time // when the next attempt is due, for retrying
	// EventAt is when the event was emitted: At - EventAt of a first
	// attempt is how long the event waited to leave, and of a delivered
	// outcome how long it took to arrive.
	EventAt time.Time
}

// The states of a target. Disabled and paused targets keep their state in
// the store, so that every node sees it.
const (
	TargetEnabled  = "enabled"  // deliveries are attempted
	TargetDisabled = "disabled" // deliveries go to the dead-letter list (a 410, an operator, sustained failure)
	TargetPaused   = "paused"   // deliveries wait, undelivered, until the target is resumed
)

// TargetStatus is where a target stands, for operators: its state, its
// breaker and load on this node, and what waits for it.
type TargetStatus struct {
	Name   string `json:"name"`
	State  string `json:"state"` // TargetEnabled, TargetDisabled or TargetPaused
	Reason string `json:"reason,omitempty"`
	// ChangedBy is "operator", or "hookd" for an automatic change.
	ChangedBy string     `json:"changed_by,omitempty"`
	Since     *time.Time `json:"since,omitempty"`
	// Breaker is "closed" or "open", on this node.
	Breaker      string     `json:"breaker"`
	BreakerUntil *time.Time `json:"breaker_until,omitempty"`
	// InFlight counts the attempts running now on this node.
	InFlight int `json:"in_flight"`
	// Pending counts live deliveries (pending or retrying), all nodes.
	Pending       int        `json:"pending"`
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	LastErrorAt   *time.Time `json:"last_error_at,omitempty"`
	// BreakerChange is how the breaker last changed on this node: "opened
	// 05:37:34 UTC: HTTP 500: … (open until 05:38:04 UTC)" or "closed
	// 05:39:10 UTC (opened …)"; empty when it never did.
	BreakerChange string `json:"breaker_change,omitempty"`
	// Delivery shows the target's delivery settings, secrets left out;
	// nil when it has none.
	Delivery *DeliveryView `json:"delivery,omitempty"`
}
