package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
)

// ClaimKey records, in tx, that idempotency key belongs to the events
// eventIDs (one, or a batch) with body hash, unless a claim made after
// cutoff holds it already. It reports whether the key was free (claimed
// now), and otherwise the events and hash of the claim that holds it.
// Claims older than cutoff are taken over, as if expired. The primary key
// makes a claim unique across nodes.
//
// The event_id column holds the IDs space-separated (UUIDs have no space).
func ClaimKey(ctx context.Context, tx Tx, key string, eventIDs []string, hash string, now, cutoff time.Time) (free bool, heldBy []string, heldHash string, err error) {
	var got, held string
	eventID := strings.Join(eventIDs, " ")
	err = tx.queryRow(ctx, `INSERT INTO hookd_idempotency (key, event_id, hash, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET event_id = excluded.event_id, hash = excluded.hash, created_at = excluded.created_at
		WHERE hookd_idempotency.created_at < ? RETURNING event_id`,
		key, eventID, hash, micros(now), micros(cutoff)).Scan(&got)
	if err == nil {
		return true, nil, "", nil
	}
	if err != hook.ErrNotFound {
		return false, nil, "", fmt.Errorf("store: claim idempotency key: %w", err)
	}
	err = tx.queryRow(ctx, `SELECT event_id, hash FROM hookd_idempotency WHERE key = ?`, key).Scan(&held, &heldHash)
	if err != nil {
		return false, nil, "", fmt.Errorf("store: read idempotency key: %w", err)
	}
	return false, strings.Fields(held), heldHash, nil
}
