// Package exporters holds the exporter drivers of ledger pipelines (the
// reference's "replication"): each driver delivers batches of ledger logs,
// tagged with their ledger, to one destination — stdout, an HTTP endpoint, a
// Kafka topic, a PostgreSQL table or a ClickHouse table.
//
// A driver is built from the reference exporter configuration
// {"driver":"http","config":{"url":"…","batching":{…}}} by New, and a
// Batcher groups the exports of one or more pipelines into batches of at
// most maxItems, flushed at least every flushInterval.
//
// Delivery is at-least-once: a pipeline that fails or restarts sends logs
// again. Drivers that store (postgres, clickhouse) key rows by (ledger, id)
// so a replay changes nothing; drivers that forward (stdout, http, kafka)
// forward again, and every export carries its ledger and id for receivers to
// drop duplicates.
package exporters
