-- +goose Up
-- Exporters and pipelines of the ledger v2 API (exporters package). An
-- exporter is a driver and its settings; a pipeline sends one ledger's logs
-- to one exporter, in log id order, and keeps its checkpoint: the id of the
-- last log the exporter accepted (NULL before the first). generation grows
-- on every reset, so that a runner still pushing the logs of before the
-- reset cannot move the checkpoint.
CREATE TABLE _system.exporters (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    driver     text NOT NULL,
    config     jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE _system.pipelines (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ledger      text NOT NULL,
    exporter_id uuid NOT NULL REFERENCES _system.exporters (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    enabled     boolean NOT NULL DEFAULT true,
    last_log_id bigint,
    error       text,
    generation  bigint NOT NULL DEFAULT 0,
    UNIQUE (ledger, exporter_id)
);
CREATE INDEX pipelines_exporter ON _system.pipelines (exporter_id);

-- +goose Down
DROP TABLE _system.pipelines;
DROP TABLE _system.exporters;
