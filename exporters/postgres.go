package exporters

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultPostgresTable is the table of the "postgres" driver when "table"
// is absent.
const DefaultPostgresTable = "ledger_logs"

// PostgresConfig is the "postgres" driver's config:
// {"dsn":"postgres://…","table":"ledger_logs"}.
type PostgresConfig struct {
	// DSN is a PostgreSQL connection string (URL or key=value).
	DSN string
	// Table is "name" or "schema.name" (DefaultPostgresTable when empty).
	// The driver creates it if missing; the schema must exist.
	Table string
}

// Postgres is the "postgres" driver: it stores each log as one row of a
// table with primary key (ledger, id), inserting a batch in one statement
// and ignoring the rows it already has, so a replay changes nothing. The
// table is:
//
//	ledger text, id bigint, type text, date timestamptz, data jsonb,
//	hash bytea, PRIMARY KEY (ledger, id)
type Postgres struct {
	pool   *pgxpool.Pool
	insert string
	create string

	mu     sync.Mutex
	ready  bool // the table exists
	closed atomic.Bool
}

// sqlName is a PostgreSQL table name we accept: name or schema.name.
var sqlName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)

// NewPostgres validates cfg and returns a postgres driver; it connects and
// creates its table on the first Accept.
func NewPostgres(cfg PostgresConfig) (*Postgres, error) {
	poolCfg, table, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), poolCfg) // connects lazily
	if err != nil {
		return nil, fmt.Errorf("exporter postgres: %w", err)
	}
	return &Postgres{
		pool: pool,
		create: `CREATE TABLE IF NOT EXISTS ` + table + ` (
			ledger text NOT NULL,
			id bigint NOT NULL,
			type text NOT NULL,
			date timestamptz NOT NULL,
			data jsonb NOT NULL,
			hash bytea,
			PRIMARY KEY (ledger, id)
		)`,
		insert: `INSERT INTO ` + table + ` (ledger, id, type, date, data, hash)
			SELECT l, i, t, d, j::jsonb, h
			FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::bytea[]) AS u(l, i, t, d, j, h)
			ON CONFLICT (ledger, id) DO NOTHING`,
	}, nil
}

// validate returns the pool configuration and the quoted table name.
func (cfg PostgresConfig) validate() (*pgxpool.Config, string, error) {
	if cfg.DSN == "" {
		return nil, "", invalid(`config.dsn is required (like "postgres://user:password@host:5432/db")`)
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, "", invalid("config.dsn is invalid: %v", err) // pgx redacts the password
	}
	poolCfg.MaxConns = 4
	if cfg.Table == "" {
		cfg.Table = DefaultPostgresTable
	}
	if !sqlName.MatchString(cfg.Table) {
		return nil, "", invalid("config.table %q must be a table name or schema.table (letters, digits, _)", cfg.Table)
	}
	return poolCfg, pgx.Identifier(strings.Split(cfg.Table, ".")).Sanitize(), nil
}

func parsePostgres(settings json.RawMessage) (func() (Driver, error), error) {
	var aux struct {
		DSN   string `json:"dsn"`
		Table string `json:"table"`
	}
	if err := decodeSettings("config", settings, &aux); err != nil {
		return nil, err
	}
	cfg := PostgresConfig{DSN: aux.DSN, Table: aux.Table}
	if _, _, err := cfg.validate(); err != nil {
		return nil, err
	}
	return func() (Driver, error) { return NewPostgres(cfg) }, nil
}

// prepare creates the table once.
func (p *Postgres) prepare(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready {
		return nil
	}
	if _, err := p.pool.Exec(ctx, p.create); err != nil {
		return fmt.Errorf("exporter postgres: create table: %w", err)
	}
	p.ready = true
	return nil
}

// Accept inserts the batch in one statement; rows already there are kept
// as they are.
func (p *Postgres) Accept(ctx context.Context, exports []Export) error {
	if len(exports) == 0 {
		return nil
	}
	if p.closed.Load() {
		return ErrClosed
	}
	if err := p.prepare(ctx); err != nil {
		return err
	}
	n := len(exports)
	var (
		ledgers = make([]string, n)
		ids     = make([]int64, n)
		types   = make([]string, n)
		dates   = make([]time.Time, n)
		data    = make([]string, n)
		hashes  = make([][]byte, n)
	)
	for i, e := range exports {
		payload, err := json.Marshal(e.Log.Data)
		if err != nil {
			return fmt.Errorf("exporter postgres: log %d of %s: %w", e.Log.ID, e.Ledger, err)
		}
		ledgers[i], ids[i], types[i] = e.Ledger, int64(e.Log.ID), string(e.Log.Type())
		dates[i], data[i], hashes[i] = e.Log.Date.Time, string(payload), e.Log.Hash
	}
	if _, err := p.pool.Exec(ctx, p.insert, ledgers, ids, types, dates, data, hashes); err != nil {
		return fmt.Errorf("exporter postgres: insert %d logs: %w", n, err)
	}
	return nil
}

// Close closes the connection pool.
func (p *Postgres) Close() error {
	p.closed.Store(true)
	p.pool.Close()
	return nil
}
