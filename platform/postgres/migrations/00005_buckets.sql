-- +goose Up
-- The schema each bucket was last given (eventstore/bucket.sql), by the
-- digest of its text: a process applies bucket.sql to a bucket only when
-- the digest differs, so that a new version's changes reach existing
-- buckets once, and processes of one version never take DDL locks while
-- others write.
CREATE TABLE _system.buckets (
    name   text PRIMARY KEY,
    schema text NOT NULL
);

-- +goose Down
DROP TABLE _system.buckets;
