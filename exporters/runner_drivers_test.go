package exporters

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kontorhq/kontor/platform/pgtest"
)

// The tests below run one pipeline per driver end to end: logs written to
// the ledger must reach the destination in order and intact.

func TestPipelineToPostgres(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	dsn := pgtest.NewDatabase(t)
	e.write(7)
	e.start(testRunnerOptions)
	p := e.pipeline(DriverPostgres, fmt.Sprintf(`{"dsn":%q,"table":"exported","batching":{"maxItems":3,"flushInterval":"10ms"}}`, dsn))
	waitCheckpoint(t, e, p, 7)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT ledger, id, type, date, data::text, hash FROM exported ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Ledger string
		ID     int64
		Type   string
		Date   time.Time
		Data   string
		Hash   []byte
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	want := e.logs()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		var data, wantData any
		_ = json.Unmarshal([]byte(got[i].Data), &data)
		b, _ := json.Marshal(w.Log.Data)
		_ = json.Unmarshal(b, &wantData)
		g := got[i]
		if g.Ledger != "main" || uint64(g.ID) != w.Log.ID || g.Type != string(w.Log.Type()) ||
			!g.Date.Equal(w.Log.Date.Time) || string(g.Hash) != string(w.Log.Hash) || fmt.Sprint(data) != fmt.Sprint(wantData) {
			t.Fatalf("row %d: %+v\nwant %s", i, g, mustJSON(t, w))
		}
	}
}

func TestPipelineToKafka(t *testing.T) {
	t.Parallel()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "ledger-logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers, _ := json.Marshal(cluster.ListenAddrs())
	e := newPipelineEnv(t)
	e.write(4)
	e.start(testRunnerOptions)
	p := e.pipeline(DriverKafka, `{"brokers":`+string(brokers)+`,"topic":"ledger-logs","batching":{"flushInterval":"10ms"}}`)
	e.write(3)
	waitCheckpoint(t, e, p, 7)

	client, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("ledger-logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	want := e.logs()
	var got []string
	for len(got) < len(want) {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("received %d of %d messages", len(got), len(want))
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if string(r.Key) != "main" {
				t.Errorf("key %q", r.Key)
			}
			got = append(got, string(r.Value))
		})
	}
	for i, w := range want {
		if got[i] != mustJSON(t, w) {
			t.Fatalf("message %d: %s\nwant %s", i, got[i], mustJSON(t, w))
		}
	}
}

func TestPipelineToClickHouse(t *testing.T) {
	t.Parallel()
	dsn := clickHouseURL(t)
	e := newPipelineEnv(t)
	e.write(5)
	e.start(testRunnerOptions)
	p := e.pipeline(DriverClickHouse, fmt.Sprintf(`{"dsn":%q,"batching":{"maxItems":2,"flushInterval":"10ms"}}`, dsn))
	waitCheckpoint(t, e, p, 5)

	u, _ := url.Parse(dsn)
	server, db := u.Scheme+"://"+u.Host+"/", strings.Trim(u.Path, "/")
	out := clickHouseQuery(t, server, "SELECT log FROM "+db+".logs FINAL ORDER BY id FORMAT JSONEachRow")
	var got []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row struct{ Log string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		got = append(got, row.Log)
	}
	want := e.logs()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i] != mustJSON(t, w) {
			t.Fatalf("row %d: %s\nwant %s", i, got[i], mustJSON(t, w))
		}
	}
}

// TestPipelineToStdout swaps os.Stdout for a pipe, so it does not run in
// parallel with other tests.
func TestPipelineToStdout(t *testing.T) {
	e := newPipelineEnv(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		lines []string
		read  = make(chan struct{})
	)
	go func() {
		defer close(read)
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	stdout := os.Stdout
	os.Stdout = w // before the runner starts: its drivers are created after
	defer func() { os.Stdout = stdout }()
	stop := e.start(testRunnerOptions)

	e.write(3)
	p := e.pipeline(DriverStdout, `{"batching":{"flushInterval":"10ms"}}`)
	e.write(3)
	waitCheckpoint(t, e, p, 6)
	stop()
	w.Close()
	<-read
	want := e.logs()
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	for i, wnt := range want {
		if lines[i] != mustJSON(t, wnt) {
			t.Fatalf("line %d: %s\nwant %s", i, lines[i], mustJSON(t, wnt))
		}
	}
}
