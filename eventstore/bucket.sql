-- The tables of one bucket, a PostgreSQL schema shared by the ledgers that
-- live in it (rows carry their ledger's name). Names, addresses and assets
-- compare bytewise (COLLATE "C"): the order of UTF-8 text by code point,
-- without the cost of a locale in every index. Applied when a ledger is
-- created in the bucket, and by each process before it first writes in
-- the bucket, so that a new version's changes reach existing buckets:
-- every statement is idempotent. BUCKET stands for the quoted schema name.
CREATE SCHEMA IF NOT EXISTS BUCKET;

-- The log: the source of truth, append-only, hash-chained per ledger.
CREATE TABLE IF NOT EXISTS BUCKET.logs (
    ledger           text COLLATE "C" NOT NULL,
    id               bigint      NOT NULL,
    type             text        NOT NULL,
    date             timestamptz NOT NULL,
    data             json        NOT NULL,
    hash             bytea,
    idempotency_key  text,
    idempotency_hash text,
    schema_version   text,
    PRIMARY KEY (ledger, id)
);
-- The bytes a log's hash covers (its memento) follow from its data: they
-- are computed again to verify the chain, not stored.
ALTER TABLE BUCKET.logs DROP COLUMN IF EXISTS memento;
CREATE UNIQUE INDEX IF NOT EXISTS logs_idempotency_key ON BUCKET.logs (ledger, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Projections, written in the same PostgreSQL transaction as the logs.
CREATE TABLE IF NOT EXISTS BUCKET.transactions (
    ledger              text COLLATE "C" NOT NULL,
    id                  bigint      NOT NULL,
    timestamp           timestamptz NOT NULL,
    reference           text,
    inserted_at         timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    reverted_at         timestamptz,
    postings            json        NOT NULL,
    metadata            jsonb       NOT NULL DEFAULT '{}',
    post_commit_volumes json,
    sources             text[] COLLATE "C",
    destinations        text[] COLLATE "C",
    PRIMARY KEY (ledger, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS transactions_reference ON BUCKET.transactions (ledger, reference)
    WHERE reference IS NOT NULL;
CREATE INDEX IF NOT EXISTS transactions_timestamp ON BUCKET.transactions (ledger, timestamp);
-- Filters on metadata (@>) and on addresses (@>, &&) use GIN indexes: the
-- metadata one leaves out the many transactions without metadata, which
-- such a filter cannot match; one index holds sources and destinations
-- together (a filter on either rechecks its own column). A ledger keeping
-- moves (MOVES_HISTORY) finds the addresses of a transaction in its moves:
-- it leaves sources and destinations NULL, outside the index.
CREATE INDEX IF NOT EXISTS transactions_metadata_set ON BUCKET.transactions USING gin (metadata jsonb_path_ops)
    WHERE metadata <> '{}';
DO $$
BEGIN
    IF (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'BUCKET.transactions'::regclass AND attname = 'sources') THEN
        ALTER TABLE BUCKET.transactions ALTER COLUMN sources DROP NOT NULL, ALTER COLUMN destinations DROP NOT NULL;
    END IF;
END
$$;
CREATE INDEX IF NOT EXISTS transactions_addresses_kept ON BUCKET.transactions USING gin ((sources || destinations))
    WHERE sources IS NOT NULL;
DROP INDEX IF EXISTS BUCKET.transactions_addresses;
DROP INDEX IF EXISTS BUCKET.transactions_metadata_gin;
DROP INDEX IF EXISTS BUCKET.transactions_sources;
DROP INDEX IF EXISTS BUCKET.transactions_destinations;

CREATE TABLE IF NOT EXISTS BUCKET.accounts (
    ledger         text COLLATE "C" NOT NULL,
    address        text COLLATE "C" NOT NULL,
    address_array  text[] COLLATE "C" NOT NULL,
    metadata       jsonb       NOT NULL DEFAULT '{}',
    first_usage    timestamptz NOT NULL,
    insertion_date timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (ledger, address)
);
CREATE INDEX IF NOT EXISTS accounts_metadata_gin ON BUCKET.accounts USING gin (metadata jsonb_path_ops);
CREATE INDEX IF NOT EXISTS accounts_first_usage ON BUCKET.accounts (ledger, first_usage);

-- Current volumes per account and asset; last_effective_date is the latest
-- effective date of the account's moves in that asset (to spot back-dating).
CREATE TABLE IF NOT EXISTS BUCKET.volumes (
    ledger              text COLLATE "C" NOT NULL,
    address             text COLLATE "C" NOT NULL,
    asset               text COLLATE "C" NOT NULL,
    input               numeric     NOT NULL,
    output              numeric     NOT NULL,
    last_effective_date timestamptz NOT NULL,
    PRIMARY KEY (ledger, address, asset)
);

-- One move per side of each posting (MOVES_HISTORY): post-commit volumes in
-- insertion order (pcv) and in effective-date order (pcev).
CREATE TABLE IF NOT EXISTS BUCKET.moves (
    ledger         text COLLATE "C" NOT NULL,
    seq            bigint      NOT NULL,
    transaction_id bigint      NOT NULL,
    account        text COLLATE "C" NOT NULL,
    asset          text COLLATE "C" NOT NULL,
    amount         numeric     NOT NULL,
    is_source      boolean     NOT NULL,
    insertion_date timestamptz NOT NULL,
    effective_date timestamptz NOT NULL,
    pcv_input      numeric     NOT NULL,
    pcv_output     numeric     NOT NULL,
    pcev_input     numeric,
    pcev_output    numeric,
    -- seq grows with transaction_id: the key finds a transaction's moves
    -- and the last seq.
    PRIMARY KEY (ledger, transaction_id, seq)
);
CREATE INDEX IF NOT EXISTS moves_account ON BUCKET.moves (ledger, account, asset, effective_date, seq);
-- Buckets made before the key held transaction_id had a second index.
DO $$
BEGIN
    IF (SELECT cardinality(conkey) FROM pg_constraint WHERE conrelid = 'BUCKET.moves'::regclass AND contype = 'p') = 2 THEN
        ALTER TABLE BUCKET.moves DROP CONSTRAINT moves_pkey, ADD PRIMARY KEY (ledger, transaction_id, seq);
    END IF;
END
$$;
DROP INDEX IF EXISTS BUCKET.moves_transaction;

-- Metadata history: a full snapshot per revision (ACCOUNT_/TRANSACTION_METADATA_HISTORY).
CREATE TABLE IF NOT EXISTS BUCKET.accounts_metadata (
    ledger   text COLLATE "C" NOT NULL,
    address  text COLLATE "C" NOT NULL,
    revision integer     NOT NULL,
    date     timestamptz NOT NULL,
    metadata jsonb       NOT NULL,
    PRIMARY KEY (ledger, address, revision)
);
CREATE TABLE IF NOT EXISTS BUCKET.transactions_metadata (
    ledger         text COLLATE "C" NOT NULL,
    transaction_id bigint      NOT NULL,
    revision       integer     NOT NULL,
    date           timestamptz NOT NULL,
    metadata       jsonb       NOT NULL,
    PRIMARY KEY (ledger, transaction_id, revision)
);

-- Buckets made before names, addresses and assets compared bytewise kept
-- the database's collation on those columns: they are given "C" here, which
-- rebuilds the indexes that hold them, once.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT a.attrelid::regclass AS tbl, a.attname, format_type(a.atttypid, a.atttypmod) AS type
        FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
        WHERE r.relnamespace = 'BUCKET'::regnamespace AND r.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            AND a.attname IN ('ledger', 'address', 'account', 'asset', 'address_array', 'sources', 'destinations')
            AND a.atttypid IN ('text'::regtype, 'text[]'::regtype) AND a.attcollation <> 'pg_catalog."C"'::regcollation
    LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE %s COLLATE "C"', c.tbl, c.attname, c.type);
    END LOOP;
END
$$;

-- ledger_changed fails with SQLSTATE KS001: a writer calls it when the
-- ledger no longer ends with the log it prepared its batch on (a batch it
-- built on failed, or another process wrote first), to refuse writing it.
CREATE OR REPLACE FUNCTION BUCKET.ledger_changed(_ledger text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger % changed since the batch was prepared', _ledger USING ERRCODE = 'KS001';
END
$$;

-- expect_last_log, the check of earlier versions, serves their processes
-- during an upgrade. It fails with SQLSTATE KS001 unless the ledger's last log is
-- the one given by id (0: none), date and hash: a writer that prepared a
-- batch on that log refuses to write it if the ledger ended otherwise (a
-- batch it built on failed, or another process wrote first).
CREATE OR REPLACE FUNCTION BUCKET.expect_last_log(_ledger text, _id bigint, _date timestamptz, _hash bytea)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    last record;
BEGIN
    SELECT id, date, hash INTO last FROM BUCKET.logs WHERE ledger = _ledger ORDER BY id DESC LIMIT 1;
    IF last IS NULL THEN
        IF _id <> 0 THEN
            RAISE EXCEPTION 'ledger % changed since the batch was prepared', _ledger USING ERRCODE = 'KS001';
        END IF;
    ELSIF last.id <> _id OR last.date <> _date OR last.hash IS DISTINCT FROM _hash THEN
        RAISE EXCEPTION 'ledger % changed since the batch was prepared', _ledger USING ERRCODE = 'KS001';
    END IF;
END
$$;
