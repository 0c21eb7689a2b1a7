package consumers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// cleanupBatch is how many keys one DELETE of Cleanup removes, so that a
// large backlog never makes one long transaction.
var cleanupBatch = 10000

// processed reports whether consumer already recorded key.
func processed(ctx context.Context, db *pgxpool.Pool, consumer, key string) (bool, error) {
	var one int
	err := db.QueryRow(ctx, `SELECT 1 FROM _system.consumer_processed
		WHERE consumer = $1 AND idempotency_key = $2`, consumer, key).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dedupe lookup %s: %w", key, err)
	}
	return true, nil
}

// record remembers that consumer processed key.
func record(ctx context.Context, db *pgxpool.Pool, consumer, key string) error {
	_, err := db.Exec(ctx, `INSERT INTO _system.consumer_processed (consumer, idempotency_key)
		VALUES ($1, $2) ON CONFLICT DO NOTHING`, consumer, key)
	if err != nil {
		return fmt.Errorf("dedupe record %s: %w", key, err)
	}
	return nil
}

// Cleanup deletes the keys consumer recorded more than retention ago, in
// batches, and returns how many it deleted. This is what keeps the dedupe
// table bounded: about retention × event rate rows per consumer. Run calls
// it every Options.CleanupInterval.
func Cleanup(ctx context.Context, db *pgxpool.Pool, consumer string, retention time.Duration) (int64, error) {
	var total int64
	for {
		tag, err := db.Exec(ctx, `DELETE FROM _system.consumer_processed
			WHERE consumer = $1 AND idempotency_key IN (
				SELECT idempotency_key FROM _system.consumer_processed
				WHERE consumer = $1 AND processed_at < now() - make_interval(secs => $2)
				ORDER BY processed_at LIMIT $3)`,
			consumer, retention.Seconds(), cleanupBatch)
		if err != nil {
			return total, fmt.Errorf("consumer %s: cleanup: %w", consumer, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(cleanupBatch) {
			return total, nil
		}
	}
}
