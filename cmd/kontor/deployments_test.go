package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/kontorhq/kontor/platform/config"
)

// TestDashboardQueriesExportedMetrics checks that every metric the Grafana
// dashboard in deployments/ queries is one Kontor exports.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deployments/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}

	base := startKontor(t)
	if resp, err := http.Post(base+"/api/ledger/v2/main", "application/json", nil); err != nil || resp.StatusCode != 204 {
		t.Fatalf("create ledger: %v", err)
	}
	body := `{"postings":[{"source":"world","destination":"a","amount":1,"asset":"USD"}]}`
	if resp, err := http.Post(base+"/api/ledger/v2/main/transactions", "application/json", strings.NewReader(body)); err != nil || resp.StatusCode != 200 {
		t.Fatalf("create transaction: %v", err)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	exposed, _ := io.ReadAll(resp.Body)

	name := regexp.MustCompile(`kontor_[a-z_]+`)
	checked := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, metric := range name.FindAllString(target.Expr, -1) {
				checked++
				if !strings.Contains(string(exposed), "\n"+metric) {
					t.Errorf("panel %q queries %s, which /metrics does not expose", p.Title, metric)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("the dashboard queries no Kontor metric")
	}
}

// TestDeploymentEnvironmentIsValid loads deployments/kontor.env as
// `kontor serve` would.
func TestDeploymentEnvironmentIsValid(t *testing.T) {
	f, err := os.Open("../../deployments/kontor.env")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "KONTOR_") {
			t.Fatalf("not a KONTOR_ setting: %q", line)
		}
		env[k] = v
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cfg := config.Register(fs)
	known := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { known[config.EnvName(f.Name)] = true })
	for k := range env {
		if !known[k] {
			t.Errorf("%s is not a setting of kontor serve", k)
		}
	}
	if err := config.Load(fs, cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if cfg.Bind != "0.0.0.0:8080" {
		t.Fatalf("bind %q", cfg.Bind)
	}
}
