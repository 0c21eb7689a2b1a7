package ledgerv2_test

import (
	"bufio"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/handlers/gateway"
	"github.com/kontorhq/kontor/handlers/ledgerv2"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections"
	"github.com/kontorhq/kontor/projections/projectionstest"
)

// anchorExport is the reference's export of the anchor demo ledger.
const anchorExport = "../../domain/ledger/testdata/anchor-export-demo.jsonl"

// newReader serves the ledger module on a fresh database, without writes,
// and returns the v2 base URL and the pool to seed.
func newReader(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool, eventstore.Options{})
	t.Cleanup(store.Close)
	module := ledgerv2.NewModule(ledgerv2.New(store, projections.NewReader(pool), "v0.0.0-test"), "v0.0.0-test", pool.Ping)
	srv := httptest.NewServer(gateway.New(gateway.Options{MaxBodyBytes: 1 << 20, Registry: prometheus.NewRegistry()}, module))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/ledger", pool
}

// exchange is one request and the response the reference gave.
type exchange struct {
	method, path string
	status       int
	headers      map[string]string
	body         string
}

// readAnchors reads testdata/anchor-reads.txt: sections "logs N" of
// exchanges separated by blank lines.
func readAnchors(t *testing.T) map[int][]exchange {
	t.Helper()
	f, err := os.Open("testdata/anchor-reads.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sections := map[int][]exchange{}
	logs := 0
	var lines []string
	flush := func() {
		if len(lines) == 0 {
			return
		}
		method, path, _ := strings.Cut(lines[0], " ")
		status, err := strconv.Atoi(lines[1])
		if err != nil {
			t.Fatalf("anchor %s: %v", lines[0], err)
		}
		ex := exchange{method: method, path: path, status: status, headers: map[string]string{}}
		for _, line := range lines[2:] {
			if name, value, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "{") {
				ex.headers[name] = value
			} else {
				ex.body = line
			}
		}
		sections[logs] = append(sections[logs], ex)
		lines = nil
	}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "logs "):
			flush()
			if logs, err = strconv.Atoi(strings.TrimPrefix(line, "logs ")); err != nil {
				t.Fatal(err)
			}
		case line == "":
			flush()
		default:
			lines = append(lines, line)
		}
	}
	flush()
	return sections
}

// TestAnchorExchanges replays the reference's read exchanges against the
// same data: status, Count header and body must be byte for byte the same.
func TestAnchorExchanges(t *testing.T) {
	t.Parallel()
	logs := projectionstest.ReadLogs(t, anchorExport)
	for n, exchanges := range readAnchors(t) {
		t.Run("logs "+strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			base, pool := newReader(t)
			projectionstest.NewSeeder(t, pool, "demo", ledger.DefaultBucket, nil).Apply(logs[:n]...)
			for _, ex := range exchanges {
				status, header, body := call(t, ex.method, base+ex.path, "")
				if status != ex.status || strings.TrimSuffix(body, "\n") != ex.body {
					t.Errorf("%s %s\n got %d %s\nwant %d %s", ex.method, ex.path, status, body, ex.status, ex.body)
				}
				for name, value := range ex.headers {
					if got := header.Get(name); got != value {
						t.Errorf("%s %s: header %s = %q, want %q", ex.method, ex.path, name, got, value)
					}
				}
			}
		})
	}
}
