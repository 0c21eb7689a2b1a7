package exporters

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clickHouseURL returns the HTTP URL of a ClickHouse server with a fresh
// database, dropped at the end of the test: the server at
// KONTOR_TEST_CLICKHOUSE_URL, or else a clickhouse-server of its own
// started in a temporary directory. The test is skipped when neither exists.
func clickHouseURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("KONTOR_TEST_CLICKHOUSE_URL")
	if base == "" {
		base = startClickHouse(t)
	}
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	db := "kontor_test_" + hex.EncodeToString(buf)
	clickHouseQuery(t, base, "CREATE DATABASE "+db)
	t.Cleanup(func() { clickHouseQuery(t, base, "DROP DATABASE IF EXISTS "+db) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	return u.String()
}

// startClickHouse runs a throwaway clickhouse-server and returns its URL.
func startClickHouse(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		bin = "/usr/sbin/clickhouse-server"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("ClickHouse is required: set KONTOR_TEST_CLICKHOUSE_URL or install clickhouse-server (make test installs it)")
		}
	}
	dir := t.TempDir()
	httpPort, tcpPort := freePort(t), freePort(t)
	config := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger><level>error</level><console>1</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>%d</http_port>
  <tcp_port>%d</tcp_port>
  <path>%[3]s/data/</path>
  <tmp_path>%[3]s/tmp/</tmp_path>
  <user_files_path>%[3]s/user_files/</user_files_path>
  <format_schema_path>%[3]s/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
  <uncompressed_cache_size>8589934</uncompressed_cache_size>
</yandex>
`, httpPort, tcpPort, dir)
	users := `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`
	for name, content := range map[string]string{"config.xml": config, "users.xml": users} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var output strings.Builder
	cmd := exec.Command(bin, "--config-file="+filepath.Join(dir, "config.xml"))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: &output}, &lockedWriter{w: &output}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	base := fmt.Sprintf("http://127.0.0.1:%d/", httpPort)
	deadline := time.Now().Add(20 * time.Second)
	for {
		rsp, err := http.Get(base + "?query=SELECT+1")
		if err == nil {
			rsp.Body.Close()
			if rsp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("clickhouse-server exited: %v\n%s", err, output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("clickhouse-server not ready after 20s\n%s", output.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a TCP port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// clickHouseQuery runs query on the server at base and returns its output.
func clickHouseQuery(t *testing.T, base, query string) string {
	t.Helper()
	rsp, err := http.Post(base, "text/plain", strings.NewReader(query))
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	body, _ := io.ReadAll(rsp.Body)
	if rsp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", query, rsp.StatusCode, body)
	}
	return string(body)
}

func TestClickHouseInsertsAndDeduplicatesReplays(t *testing.T) {
	dsn := clickHouseURL(t)
	d, err := New(Config{Driver: "clickhouse", Config: json.RawMessage(`{"dsn":"` + dsn + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	a, b := referenceExports(t, "a"), referenceExports(t, "b")
	if err := d.Accept(ctx, append(append([]Export(nil), a...), b[:3]...)); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(ctx, append(append([]Export(nil), a...), b...)); err != nil { // a replay and the rest
		t.Fatal(err)
	}

	u, _ := url.Parse(dsn)
	server, db := u.Scheme+"://"+u.Host+"/", strings.Trim(u.Path, "/")
	rows := clickHouseQuery(t, server+"?output_format_json_quote_64bit_integers=0", "SELECT ledger, id, type, toString(date) AS date, data, log FROM "+db+".logs FINAL ORDER BY ledger, id FORMAT JSONEachRow")
	want := append(append([]Export(nil), a...), b...)
	sc := bufio.NewScanner(strings.NewReader(rows))
	sc.Buffer(nil, 1<<20)
	i := 0
	for ; sc.Scan(); i++ {
		if i >= len(want) {
			t.Fatalf("more rows than the %d logs", len(want))
		}
		var row clickHouseRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		e := want[i]
		data, _ := json.Marshal(e.Log.Data)
		if row.Ledger != e.Ledger || row.ID != e.Log.ID || row.Type != string(e.Log.Type()) ||
			row.Date != e.Log.Date.UTC().Format(time.DateTime) || row.Data != string(data) || row.Log != mustJSON(t, e) {
			t.Fatalf("row %d: %s", i, sc.Bytes())
		}
	}
	if i != len(want) {
		t.Fatalf("%d rows, want %d", i, len(want))
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(ctx, a); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
}

func TestClickHouseErrorsNameTheCause(t *testing.T) {
	dsn := clickHouseURL(t)
	u, _ := url.Parse(dsn)
	u.Path = "/no_such_database"
	d, err := NewClickHouse(ClickHouseConfig{DSN: u.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Accept(context.Background(), referenceExports(t, "demo"))
	if err == nil || !strings.Contains(err.Error(), "no_such_database") {
		t.Fatalf("want an error naming the database, got %v", err)
	}
}
