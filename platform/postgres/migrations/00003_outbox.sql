-- +goose Up
-- The outbox relay's progress: per ledger, the id of the last log published
-- on the bus (eventstore/outbox). The logs table itself is the outbox: the
-- relay publishes the logs past this watermark, then advances it.
CREATE TABLE _system.outbox_watermarks (
    ledger      text PRIMARY KEY,
    last_log_id bigint NOT NULL
);

-- +goose Down
DROP TABLE _system.outbox_watermarks;
