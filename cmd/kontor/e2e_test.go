package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	formance "github.com/formancehq/formance-sdk-go/v3"

	"github.com/kontorhq/kontor/platform/config"
	"github.com/kontorhq/kontor/platform/pgtest"
)

// startKontor runs the real server on a random port against a fresh
// database and returns its base URL; the server stops when the test ends.
func startKontor(t *testing.T) string {
	t.Helper()
	cfg := &config.Config{
		PostgresURI:     pgtest.NewDatabase(t),
		LogLevel:        "error",
		Bus:             "none",
		AutoMigrate:     true,
		MaxBodyBytes:    1 << 20,
		ShutdownTimeout: 5 * time.Second,
		Region:          "local",
		Env:             "test",
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ln, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/versions")
		if err == nil {
			resp.Body.Close()
			return base
		}
		select {
		case err := <-done:
			t.Fatalf("server stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEndToEndVersions(t *testing.T) {
	base := startKontor(t)

	resp, err := http.Get(base + "/versions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Env      string `json:"env"`
		Versions []struct {
			Name   string `json:"name"`
			Health bool   `json:"health"`
		} `json:"versions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/versions: %d %v", resp.StatusCode, err)
	}
	if body.Env != "test" || len(body.Versions) != 8 {
		t.Fatalf("/versions: %+v", body)
	}

	sdk := formance.New(formance.WithServerURL(base))
	res, err := sdk.GetVersions(context.Background())
	if err != nil {
		t.Fatalf("SDK GetVersions: %v", err)
	}
	if res.StatusCode != 200 || res.GetVersionsResponse == nil || len(res.GetVersionsResponse.Versions) != 8 {
		t.Fatalf("SDK GetVersions: %+v", res)
	}
	names := map[string]bool{}
	for _, v := range res.GetVersionsResponse.Versions {
		names[v.Name] = true
	}
	for _, m := range []string{"ledger", "payments", "wallets", "webhooks", "search", "orchestration", "reconciliation", "auth"} {
		if !names[m] {
			t.Errorf("SDK GetVersions lacks %s", m)
		}
	}

	metrics, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer metrics.Body.Close()
	text, _ := io.ReadAll(metrics.Body)
	if !strings.Contains(string(text), `kontor_http_requests_total{method="GET",route="/versions",status="200"}`) {
		t.Errorf("/metrics does not count /versions:\n%s", text)
	}
}

func TestCommands(t *testing.T) {
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil || strings.TrimSpace(out.String()) != version {
		t.Fatalf("version: %q %v", out.String(), err)
	}

	uri := pgtest.NewDatabase(t)
	for i, want := range []string{"applied ", "applied 0 migration(s)"} {
		out.Reset()
		root = newRootCmd()
		root.SetOut(&out)
		root.SetArgs([]string{"migrate", "--postgres-uri", uri})
		err := root.Execute()
		if err != nil || !strings.Contains(out.String(), want) || (i == 0 && strings.Contains(out.String(), "applied 0")) {
			t.Fatalf("migrate run %d: %q %v, want %q", i+1, out.String(), err, want)
		}
	}

	root = newRootCmd()
	root.SetArgs([]string{"serve", "--bus", "carrier-pigeon"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "--bus") {
		t.Fatalf("serve with a bad bus: %v", err)
	}
}
