-- +goose Up
-- The ledger registry. Each ledger keeps its data in a bucket: a PostgreSQL
-- schema of its own (default "_default"), like the reference.
CREATE TABLE _system.ledgers (
    name       text PRIMARY KEY,
    id         bigserial UNIQUE,
    bucket     text NOT NULL,
    metadata   jsonb NOT NULL DEFAULT '{}',
    features   jsonb NOT NULL DEFAULT '{}',
    state      text NOT NULL DEFAULT 'initializing',
    added_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- +goose Down
DROP TABLE _system.ledgers;
