-- +goose Up
-- The idempotency keys each bus consumer has processed, so that a redelivered
-- or re-published event is a no-op. Keys are kept for a retention period
-- (consumers.Options.Retention) and deleted by consumers.Cleanup, oldest
-- first, through the (consumer, processed_at) index.
CREATE TABLE _system.consumer_processed (
    consumer        text NOT NULL,
    idempotency_key text NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, idempotency_key)
);
CREATE INDEX consumer_processed_age ON _system.consumer_processed (consumer, processed_at);

-- +goose Down
DROP TABLE _system.consumer_processed;
