package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
)

// ClaimKey records, in tx, that idempotency key belongs to event eventID
// with body hash, unless a claim made after cutoff holds it already. It
// reports whether the key was free (claimed now), and otherwise the event
// and hash of the claim that holds it. Claims older than cutoff are taken
// over, as if expired. The primary key makes a claim unique across nodes.
func ClaimKey(ctx context.Context, tx Tx, key, eventID, hash string, now, cutoff time.Time) (free bool, heldBy, heldHash string, err error) {
	var got string
	err = tx.queryRow(ctx, `INSERT INTO hookd_idempotency (key, event_id, hash, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET event_id = excluded.event_id, hash = excluded.hash, created_at = excluded.created_at
		WHERE hookd_idempotency.created_at < ? RETURNING event_id`,
		key, eventID, hash, micros(now), micros(cutoff)).Scan(&got)
	if err == nil {
		return true, "", "", nil
	}
	if err != hook.ErrNotFound {
		return false, "", "", fmt.Errorf("store: claim idempotency key: %w", err)
	}
	err = tx.queryRow(ctx, `SELECT event_id, hash FROM hookd_idempotency WHERE key = ?`, key).Scan(&heldBy, &heldHash)
	if err != nil {
		return false, "", "", fmt.Errorf("store: read idempotency key: %w", err)
	}
	return false, heldBy, heldHash, nil
}
