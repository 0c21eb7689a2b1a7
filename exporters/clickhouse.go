package exporters

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ClickHouse driver defaults and limits.
const (
	// DefaultClickHouseTable is the table when "table" is absent, as in the
	// reference.
	DefaultClickHouseTable = "logs"
	// clickHouseTimeout bounds one request.
	clickHouseTimeout = 30 * time.Second
)

// ClickHouseConfig is the "clickhouse" driver's config:
// {"dsn":"http://user:password@host:8123/database","table":"logs"}.
type ClickHouseConfig struct {
	// DSN is the URL of ClickHouse's HTTP interface (port 8123 by default):
	// credentials in the user info, the database as the path (the user's
	// default database when none), and any query parameters passed on as
	// ClickHouse settings. The reference's native-protocol DSNs
	// (clickhouse://…:9000) are not supported.
	DSN string
	// Table is "name" or "database.name" (DefaultClickHouseTable when empty).
	Table string
}

// ClickHouse is the "clickhouse" driver. It speaks ClickHouse's HTTP
// interface and inserts each batch in one INSERT … FORMAT JSONEachRow into
// a ReplacingMergeTree ordered by (ledger, id), so a replayed log replaces
// its twin (read with FINAL to see each log once). The table, created if
// missing, works on every ClickHouse since 18.16 (Debian's):
//
//	ledger String, id UInt64, type String, date DateTime('UTC'),
//	data String, log String
//
// date is to the second (DateTime64 needs ClickHouse 20.1); data is the
// log's data JSON and log the whole export JSON, exact date and hash
// included.
type ClickHouse struct {
	endpoint *url.URL // without user info
	user     *url.Userinfo
	table    string // quoted
	client   *http.Client

	mu     sync.Mutex
	ready  bool
	closed atomic.Bool
}

// clickHouseName is a ClickHouse table name we accept: name or db.name.
var clickHouseName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// NewClickHouse validates cfg and returns a clickhouse driver; it connects
// and creates its table on the first Accept.
func NewClickHouse(cfg ClickHouseConfig) (*ClickHouse, error) {
	const example = `(like "http://default:password@localhost:8123/default")`
	if cfg.DSN == "" {
		return nil, invalid("config.dsn is required " + example)
	}
	u, err := url.Parse(cfg.DSN)
	if err != nil || u.Host == "" {
		return nil, invalid("config.dsn must be the URL of ClickHouse's HTTP interface " + example)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, invalid("config.dsn: scheme %q is not supported: this driver speaks ClickHouse's HTTP interface, use http:// or https:// (port 8123 by default) %s", u.Scheme, example)
	}
	if cfg.Table == "" {
		cfg.Table = DefaultClickHouseTable
	}
	if !clickHouseName.MatchString(cfg.Table) {
		return nil, invalid("config.table %q must be a table name or database.table (letters, digits, _)", cfg.Table)
	}
	q := u.Query()
	if db := strings.Trim(u.Path, "/"); db != "" {
		q.Set("database", db)
	}
	endpoint := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/", RawQuery: q.Encode()}
	quoted := "`" + strings.ReplaceAll(cfg.Table, ".", "`.`") + "`"
	return &ClickHouse{
		endpoint: endpoint,
		user:     u.User,
		table:    quoted,
		client:   &http.Client{Timeout: clickHouseTimeout},
	}, nil
}

func parseClickHouse(settings json.RawMessage) (func() (Driver, error), error) {
	var aux struct {
		DSN   string `json:"dsn"`
		Table string `json:"table"`
	}
	if err := decodeSettings("config", settings, &aux); err != nil {
		return nil, err
	}
	cfg := ClickHouseConfig{DSN: aux.DSN, Table: aux.Table}
	if _, err := NewClickHouse(cfg); err != nil {
		return nil, err
	}
	return func() (Driver, error) { return NewClickHouse(cfg) }, nil
}

// exec runs query with body appended to it (the data of an INSERT).
func (c *ClickHouse) exec(ctx context.Context, query string, body []byte) error {
	u := *c.endpoint
	q := u.Query()
	q.Set("query", query)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	if c.user != nil {
		password, _ := c.user.Password()
		req.SetBasicAuth(c.user.Username(), password)
	}
	rsp, err := c.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) { // its URL holds the whole query
			return fmt.Errorf("%s: %w", c.endpoint.Host, uerr.Err)
		}
		return err
	}
	defer rsp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(rsp.Body, 1024))
	if rsp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", rsp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

// prepare creates the table once.
func (c *ClickHouse) prepare(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ready {
		return nil
	}
	err := c.exec(ctx, `CREATE TABLE IF NOT EXISTS `+c.table+` (
		ledger String, id UInt64, type String, date DateTime('UTC'), data String, log String
	) ENGINE = ReplacingMergeTree ORDER BY (ledger, id)`, nil)
	if err != nil {
		return fmt.Errorf("exporter clickhouse: create table: %w", err)
	}
	c.ready = true
	return nil
}

// clickHouseRow is one row of the table in JSONEachRow form.
type clickHouseRow struct {
	Ledger string `json:"ledger"`
	ID     uint64 `json:"id"`
	Type   string `json:"type"`
	Date   string `json:"date"`
	Data   string `json:"data"`
	Log    string `json:"log"`
}

// Accept inserts the batch in one request.
func (c *ClickHouse) Accept(ctx context.Context, exports []Export) error {
	if len(exports) == 0 {
		return nil
	}
	if c.closed.Load() {
		return ErrClosed
	}
	if err := c.prepare(ctx); err != nil {
		return err
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for _, e := range exports {
		data, err := json.Marshal(e.Log.Data)
		if err != nil {
			return fmt.Errorf("exporter clickhouse: log %d of %s: %w", e.Log.ID, e.Ledger, err)
		}
		log, err := e.MarshalJSON()
		if err != nil {
			return err
		}
		row := clickHouseRow{
			Ledger: e.Ledger,
			ID:     e.Log.ID,
			Type:   string(e.Log.Type()),
			Date:   e.Log.Date.UTC().Format(time.DateTime),
			Data:   string(data),
			Log:    string(log),
		}
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	if err := c.exec(ctx, `INSERT INTO `+c.table+` FORMAT JSONEachRow`, body.Bytes()); err != nil {
		return fmt.Errorf("exporter clickhouse: insert %d logs: %w", len(exports), err)
	}
	return nil
}

// Close drops idle connections; Accept fails afterwards.
func (c *ClickHouse) Close() error {
	c.closed.Store(true)
	c.client.CloseIdleConnections()
	return nil
}
