-- +goose Up
-- The ledger registry. Each ledger keeps its data in a bucket: a PostgreSQL
-- schema of its own, like the reference (default bucket "_default").
CREATE TABLE _system.ledgers (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    bucket     text NOT NULL,
    metadata   jsonb NOT NULL DEFAULT '{}',
    features   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE _system.ledgers;
