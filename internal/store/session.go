package store

import (
	"github.com/hookrt/hookd/hook"

	"context"
	"encoding/json"
	"fmt"
)

// InsertSessionEvent indexes event eventID into session sessionID's record.
func InsertSessionEvent(ctx context.Context, tx Tx, sessionID, eventID string) error {
	if _, err := tx.exec(ctx, `INSERT INTO hookd_session_event (session_id, event_id) VALUES (?, ?)`,
		clean(sessionID), eventID); err != nil {
		return fmt.Errorf("store: index session event: %w", err)
	}
	return nil
}

// SessionEvents returns the events of a session's record in the order they
// were emitted, each with the outcome at every target. An unknown session
// has no events (not an error: the record may simply be off).
func (db *DB) SessionEvents(ctx context.Context, sessionID string, limit int) ([]hook.SessionEvent, error) {
	if limit <= 0 {
		limit = 1000
	}
	rs, err := db.conn().query(ctx, fmt.Sprintf(`SELECT e.id, e.created_at, e.fields,
		d.target, d.state, d.attempts, d.last_status, d.last_summary, d.last_error, d.updated_at
		FROM (SELECT e.id, e.created_at, e.fields FROM hookd_session_event s JOIN hookd_event e ON e.id = s.event_id
		      WHERE s.session_id = ? ORDER BY e.created_at, e.id LIMIT %d) e
		LEFT JOIN hookd_delivery d ON d.event_id = e.id
		ORDER BY e.created_at, e.id, d.id`, limit), sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: session %s: %w", sessionID, err)
	}
	defer rs.Close()
	out := []hook.SessionEvent{}
	for rs.Next() {
		var (
			id, fields                 string
			created                    int64
			target, state, sum, errTxt *string
			attempts, status           *int
			updated                    *int64
		)
		if err := rs.Scan(&id, &created, &fields, &target, &state, &attempts, &status, &sum, &errTxt, &updated); err != nil {
			return nil, fmt.Errorf("store: session %s: %w", sessionID, err)
		}
		if len(out) == 0 || out[len(out)-1].EventID != id {
			ev := hook.SessionEvent{EventID: id, CreatedAt: fromMicros(created), Targets: []hook.TargetOutcome{}}
			if err := json.Unmarshal([]byte(fields), &ev.Fields); err != nil {
				return nil, fmt.Errorf("store: decode event %s: %w", id, err)
			}
			out = append(out, ev)
		}
		if target != nil {
			ev := &out[len(out)-1]
			ev.Targets = append(ev.Targets, hook.TargetOutcome{Target: *target, State: hook.DeliveryState(*state), Attempts: *attempts,
				Status: *status, Summary: *sum, Error: *errTxt, UpdatedAt: fromMicros(*updated)})
		}
	}
	return out, unavailable(rs.Err())
}
