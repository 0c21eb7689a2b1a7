package exporters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// changesChannel is the PostgreSQL notification channel on which every
// change of an exporter or a pipeline is announced, so that runners in any
// process take it into account at once.
const changesChannel = "kontor_pipelines"

// Exporter is a stored exporter configuration, as the ledger v2 API shows
// it: {"id","createdAt","driver","config"}.
type Exporter struct {
	ID        string
	CreatedAt ledger.Time
	Config
}

// MarshalJSON renders the reference's V2Exporter.
func (e Exporter) MarshalJSON() ([]byte, error) {
	config := e.Config.Config
	if len(config) == 0 {
		config = json.RawMessage(`{}`)
	}
	return json.Marshal(struct {
		ID        string          `json:"id"`
		CreatedAt ledger.Time     `json:"createdAt"`
		Driver    string          `json:"driver"`
		Config    json.RawMessage `json:"config"`
	}{e.ID, e.CreatedAt, e.Driver, config})
}

// Pipeline sends the logs of one ledger to one exporter. LastLogID is the
// checkpoint: the id of the last log the exporter accepted, nil before the
// first. Error is the last push failure, cleared by the next success.
type Pipeline struct {
	ID         string      `json:"id"`
	Ledger     string      `json:"ledger"`
	ExporterID string      `json:"exporterID"`
	CreatedAt  ledger.Time `json:"createdAt"`
	Enabled    bool        `json:"enabled"`
	LastLogID  *uint64     `json:"lastLogID,omitempty"`
	Error      string      `json:"error,omitempty"`
}

// Page is one page of a list and whether more follow.
type Page[T any] struct {
	Items   []T
	HasMore bool
}

// Store keeps exporters and pipelines in PostgreSQL (tables
// _system.exporters and _system.pipelines). Every change is announced on a
// notification channel that the Runners of every process listen to.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a store on pool's database.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// uuidText is the text form of an id; anything else names nothing.
var uuidText = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func exporterNotFound(id string) error {
	return domain.Errorf(domain.CodeNotFound, "exporter %s not found", id)
}

func pipelineNotFound(id string) error {
	return domain.Errorf(domain.CodeNotFound, "pipeline %s not found", id)
}

// CreateExporter validates cfg (VALIDATION naming the faulty setting) and
// stores it.
func (s *Store) CreateExporter(ctx context.Context, cfg Config) (Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return Exporter{}, err
	}
	e := Exporter{Config: Config{Driver: cfg.Driver, Config: normalizeSettings(cfg.Config)}}
	var created time.Time
	err := s.pool.QueryRow(ctx, `INSERT INTO _system.exporters (driver, config) VALUES ($1, $2)
		RETURNING id::text, created_at`, e.Driver, string(e.Config.Config)).Scan(&e.ID, &created)
	if err != nil {
		return Exporter{}, fmt.Errorf("create exporter: %w", err)
	}
	e.CreatedAt = ledger.NewTime(created)
	return e, nil
}

// normalizeSettings returns the settings to store: "{}" when absent.
func normalizeSettings(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(`{}`)
	}
	return raw
}

// Exporter returns the exporter with id, NOT_FOUND when there is none.
func (s *Store) Exporter(ctx context.Context, id string) (Exporter, error) {
	if !uuidText.MatchString(id) {
		return Exporter{}, exporterNotFound(id)
	}
	e, err := scanExporter(s.pool.QueryRow(ctx, `SELECT id::text, created_at, driver, config::text
		FROM _system.exporters WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Exporter{}, exporterNotFound(id)
	}
	return e, err
}

// Exporters lists up to limit exporters from offset, oldest first.
func (s *Store) Exporters(ctx context.Context, offset, limit int) (Page[Exporter], error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text, created_at, driver, config::text FROM _system.exporters
		ORDER BY created_at, id OFFSET $1 LIMIT $2`, offset, limit+1)
	if err != nil {
		return Page[Exporter]{}, fmt.Errorf("list exporters: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Exporter, error) { return scanExporter(row) })
	if err != nil {
		return Page[Exporter]{}, fmt.Errorf("list exporters: %w", err)
	}
	return pageOf(items, limit), nil
}

func scanExporter(row pgx.Row) (Exporter, error) {
	var (
		e       Exporter
		created time.Time
		config  string
	)
	if err := row.Scan(&e.ID, &created, &e.Driver, &config); err != nil {
		return Exporter{}, err
	}
	e.CreatedAt, e.Config.Config = ledger.NewTime(created), json.RawMessage(config)
	return e, nil
}

// pageOf cuts the extra item a list read to know whether more follow.
func pageOf[T any](items []T, limit int) Page[T] {
	if len(items) > limit {
		return Page[T]{Items: items[:limit], HasMore: true}
	}
	return Page[T]{Items: items}
}

// UpdateExporter replaces the configuration of exporter id; its running
// pipelines restart with it from their checkpoints.
func (s *Store) UpdateExporter(ctx context.Context, id string, cfg Config) error {
	if !uuidText.MatchString(id) {
		return exporterNotFound(id)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return s.change(ctx, exporterNotFound(id), `UPDATE _system.exporters SET driver = $2, config = $3 WHERE id = $1`,
		id, cfg.Driver, string(normalizeSettings(cfg.Config)))
}

// DeleteExporter deletes exporter id; while pipelines use it, it is a
// VALIDATION error that says so.
func (s *Store) DeleteExporter(ctx context.Context, id string) error {
	if !uuidText.MatchString(id) {
		return exporterNotFound(id)
	}
	err := s.change(ctx, exporterNotFound(id), `DELETE FROM _system.exporters WHERE id = $1`, id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM _system.pipelines WHERE exporter_id = $1`, id).Scan(&n); err != nil {
			return fmt.Errorf("delete exporter: %w", err)
		}
		return domain.Errorf(domain.CodeValidation, "exporter %s is used by %d pipeline(s): delete them first", id, n)
	}
	return err
}

// pipelineColumns are the columns scanPipeline reads.
const pipelineColumns = `id::text, ledger, exporter_id::text, created_at, enabled, last_log_id, coalesce(error, '')`

func scanPipeline(row pgx.Row) (Pipeline, error) {
	var (
		p       Pipeline
		created time.Time
		last    *int64
	)
	if err := row.Scan(&p.ID, &p.Ledger, &p.ExporterID, &created, &p.Enabled, &last, &p.Error); err != nil {
		return Pipeline{}, err
	}
	p.CreatedAt = ledger.NewTime(created)
	if last != nil {
		id := uint64(*last)
		p.LastLogID = &id
	}
	return p, nil
}

// CreatePipeline creates the enabled pipeline of ledgerName to exporter
// exporterID. Like the reference, it is a VALIDATION error when the
// exporter does not exist or the ledger already has a pipeline to it. The
// ledger is not checked.
func (s *Store) CreatePipeline(ctx context.Context, ledgerName, exporterID string) (Pipeline, error) {
	missing := domain.Errorf(domain.CodeValidation, "exporter %s not found", exporterID)
	if !uuidText.MatchString(exporterID) {
		return Pipeline{}, missing
	}
	var p Pipeline
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		p, err = scanPipeline(tx.QueryRow(ctx, `INSERT INTO _system.pipelines (ledger, exporter_id) VALUES ($1, $2)
			RETURNING `+pipelineColumns, ledgerName, exporterID))
		if err != nil {
			return err
		}
		return notify(ctx, tx, p.ID)
	})
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23503": // foreign_key_violation
		return Pipeline{}, missing
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		return Pipeline{}, domain.Errorf(domain.CodeValidation, "ledger %s already has a pipeline to exporter %s", ledgerName, exporterID)
	case err != nil:
		return Pipeline{}, fmt.Errorf("create pipeline: %w", err)
	}
	return p, nil
}

// Pipeline returns pipeline id of ledgerName, NOT_FOUND when there is none.
func (s *Store) Pipeline(ctx context.Context, ledgerName, id string) (Pipeline, error) {
	if !uuidText.MatchString(id) {
		return Pipeline{}, pipelineNotFound(id)
	}
	p, err := scanPipeline(s.pool.QueryRow(ctx, `SELECT `+pipelineColumns+` FROM _system.pipelines
		WHERE id = $1 AND ledger = $2`, id, ledgerName))
	if errors.Is(err, pgx.ErrNoRows) {
		return Pipeline{}, pipelineNotFound(id)
	}
	return p, err
}

// Pipelines lists up to limit pipelines of ledgerName from offset, oldest
// first.
func (s *Store) Pipelines(ctx context.Context, ledgerName string, offset, limit int) (Page[Pipeline], error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pipelineColumns+` FROM _system.pipelines WHERE ledger = $1
		ORDER BY created_at, id OFFSET $2 LIMIT $3`, ledgerName, offset, limit+1)
	if err != nil {
		return Page[Pipeline]{}, fmt.Errorf("list pipelines: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Pipeline, error) { return scanPipeline(row) })
	if err != nil {
		return Page[Pipeline]{}, fmt.Errorf("list pipelines: %w", err)
	}
	return pageOf(items, limit), nil
}

// DeletePipeline deletes pipeline id of ledgerName; its runner stops.
func (s *Store) DeletePipeline(ctx context.Context, ledgerName, id string) error {
	return s.pipelineChange(ctx, ledgerName, id, `DELETE FROM _system.pipelines WHERE id = $1 AND ledger = $2`)
}

// StartPipeline enables pipeline id of ledgerName: it resumes after its
// checkpoint. A started pipeline is a VALIDATION error, as in the
// reference.
func (s *Store) StartPipeline(ctx context.Context, ledgerName, id string) error {
	return s.setEnabled(ctx, ledgerName, id, true)
}

// StopPipeline disables pipeline id of ledgerName, keeping its checkpoint.
// A stopped pipeline is a VALIDATION error.
func (s *Store) StopPipeline(ctx context.Context, ledgerName, id string) error {
	return s.setEnabled(ctx, ledgerName, id, false)
}

func (s *Store) setEnabled(ctx context.Context, ledgerName, id string, enabled bool) error {
	if !uuidText.MatchString(id) {
		return pipelineNotFound(id)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var was bool
		err := tx.QueryRow(ctx, `SELECT enabled FROM _system.pipelines WHERE id = $1 AND ledger = $2 FOR UPDATE`,
			id, ledgerName).Scan(&was)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return pipelineNotFound(id)
		case err != nil:
			return err
		case was == enabled && enabled:
			return domain.Errorf(domain.CodeValidation, "pipeline %s is already started", id)
		case was == enabled:
			return domain.Errorf(domain.CodeValidation, "pipeline %s is already stopped", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE _system.pipelines SET enabled = $2 WHERE id = $1`, id, enabled); err != nil {
			return err
		}
		return notify(ctx, tx, id)
	})
}

// ResetPipeline clears the checkpoint and the error of pipeline id of
// ledgerName and enables it: it sends the ledger's logs again from the
// first. Pushes of before the reset no longer move the checkpoint.
func (s *Store) ResetPipeline(ctx context.Context, ledgerName, id string) error {
	return s.pipelineChange(ctx, ledgerName, id, `UPDATE _system.pipelines
		SET enabled = true, last_log_id = NULL, error = NULL, generation = generation + 1
		WHERE id = $1 AND ledger = $2`)
}

func (s *Store) pipelineChange(ctx context.Context, ledgerName, id, sql string) error {
	if !uuidText.MatchString(id) {
		return pipelineNotFound(id)
	}
	return s.change(ctx, pipelineNotFound(id), sql, id, ledgerName)
}

// change runs sql (whose first argument is the id changed) and announces
// the change, in one transaction; notFound is returned when sql changed no
// row.
func (s *Store) change(ctx context.Context, notFound error, sql string, args ...any) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound
		}
		return notify(ctx, tx, args[0].(string))
	})
}

// notify announces a change to the runners; PostgreSQL delivers it when tx
// commits.
func notify(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, changesChannel, id)
	return err
}

// runnable is an enabled pipeline as the runner needs it.
type runnable struct {
	id, ledger string
	generation int64
	config     Config
}

// runnables returns every enabled pipeline with its exporter's config.
func (s *Store) runnables(ctx context.Context) (map[string]runnable, error) {
	rows, err := s.pool.Query(ctx, `SELECT p.id::text, p.ledger, p.generation, e.driver, e.config::text
		FROM _system.pipelines p JOIN _system.exporters e ON e.id = p.exporter_id WHERE p.enabled`)
	if err != nil {
		return nil, err
	}
	out := map[string]runnable{}
	var r runnable
	var config string
	_, err = pgx.ForEachRow(rows, []any{&r.id, &r.ledger, &r.generation, &r.config.Driver, &config}, func() error {
		r.config.Config = json.RawMessage(config)
		out[r.id] = r
		return nil
	})
	return out, err
}

// checkpoint returns where pipeline id resumes: its last log id (0 before
// the first), and false when it no longer exists at generation.
func (s *Store) checkpoint(ctx context.Context, id string, generation int64) (uint64, bool, error) {
	var last *int64
	err := s.pool.QueryRow(ctx, `SELECT last_log_id FROM _system.pipelines WHERE id = $1 AND generation = $2`,
		id, generation).Scan(&last)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case last == nil:
		return 0, true, nil
	}
	return uint64(*last), true, nil
}

// advance moves the checkpoint of pipeline id at generation forward to
// lastLogID and clears its error. It returns false when the pipeline was
// deleted or reset since.
func (s *Store) advance(ctx context.Context, id string, generation int64, lastLogID uint64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE _system.pipelines SET last_log_id = greatest(last_log_id, $3), error = NULL
		WHERE id = $1 AND generation = $2`, id, generation, int64(lastLogID))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// clearError clears the error of pipeline id at generation.
func (s *Store) clearError(ctx context.Context, id string, generation int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE _system.pipelines SET error = NULL WHERE id = $1 AND generation = $2`,
		id, generation)
	return err
}

// fail records the error of pipeline id's last push.
func (s *Store) fail(ctx context.Context, id string, generation int64, msg string) error {
	_, err := s.pool.Exec(ctx, `UPDATE _system.pipelines SET error = $3 WHERE id = $1 AND generation = $2`,
		id, generation, msg)
	return err
}
