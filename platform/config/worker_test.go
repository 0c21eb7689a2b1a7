package config

import (
	"strings"
	"testing"
	"time"
)

func TestWorkerSettings(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Worker{Enabled: true, PipelinesPullInterval: time.Second, PipelinesPushRetryPeriod: time.Second,
		PipelinesSyncPeriod: 10 * time.Second, PipelinesLogsPageSize: 100}
	if c.Worker != want {
		t.Fatalf("defaults: %+v", c.Worker)
	}

	c, err = parse(t, []string{"--worker-pipelines-logs-page-size=500"}, map[string]string{
		"KONTOR_WORKER":                          "false",
		"KONTOR_WORKER_PIPELINES_PULL_INTERVAL":  "250ms",
		"KONTOR_WORKER_PIPELINES_LOGS_PAGE_SIZE": "7",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Worker.Enabled || c.Worker.PipelinesPullInterval != 250*time.Millisecond || c.Worker.PipelinesLogsPageSize != 500 {
		t.Fatalf("environment and flags: %+v", c.Worker)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--worker-pipelines-pull-interval=0s"}, "--worker-pipelines-pull-interval must be positive"},
		{[]string{"--worker-pipelines-push-retry-period=-1s"}, "--worker-pipelines-push-retry-period must be positive"},
		{[]string{"--worker-pipelines-sync-period=0s"}, "--worker-pipelines-sync-period must be positive"},
		{[]string{"--worker-pipelines-logs-page-size=0"}, "--worker-pipelines-logs-page-size must be between 1 and 10000, got 0"},
		{[]string{"--worker-pipelines-logs-page-size=10001"}, "must be between 1 and 10000"},
	} {
		if _, err := parse(t, bad.args, nil); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
}
