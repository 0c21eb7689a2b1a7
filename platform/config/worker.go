package config

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Worker is the settings of the background workers — the outbox relay and
// the pipelines runner — that `kontor worker` runs, and `kontor serve` too
// unless Enabled is false.
type Worker struct {
	// Enabled runs the workers inside `kontor serve` (--worker).
	Enabled bool
	// PipelinesPullInterval is how often an idle pipeline looks for logs
	// written by other processes.
	PipelinesPullInterval time.Duration
	// PipelinesPushRetryPeriod is the first wait before retrying a failed
	// push; it doubles up to a minute.
	PipelinesPushRetryPeriod time.Duration
	// PipelinesSyncPeriod is how often the runner re-reads the pipelines
	// (changes are also announced at once by PostgreSQL notifications).
	PipelinesSyncPeriod time.Duration
	// PipelinesLogsPageSize is the least number of logs a pipeline reads
	// at once.
	PipelinesLogsPageSize int
}

// maxPipelinesPageSize bounds --worker-pipelines-logs-page-size.
const maxPipelinesPageSize = 10_000

// registerWorker declares the worker settings as flags of fs.
func registerWorker(fs *pflag.FlagSet, w *Worker) {
	fs.BoolVar(&w.Enabled, "worker", true, "run the background workers (outbox relay, pipelines) in this process; false leaves them to `kontor worker`")
	fs.DurationVar(&w.PipelinesPullInterval, "worker-pipelines-pull-interval", time.Second, "how often an idle pipeline looks for logs written by other processes")
	fs.DurationVar(&w.PipelinesPushRetryPeriod, "worker-pipelines-push-retry-period", time.Second, "first wait before retrying a failed pipeline push (doubles up to 1m)")
	fs.DurationVar(&w.PipelinesSyncPeriod, "worker-pipelines-sync-period", 10*time.Second, "how often the pipelines runner re-reads the pipelines and takes over those of stopped runners")
	fs.IntVar(&w.PipelinesLogsPageSize, "worker-pipelines-logs-page-size", 100, "least number of logs a pipeline reads at once")
}

func (w *Worker) validate() error {
	for _, d := range []struct {
		flag  string
		value time.Duration
	}{
		{"--worker-pipelines-pull-interval", w.PipelinesPullInterval},
		{"--worker-pipelines-push-retry-period", w.PipelinesPushRetryPeriod},
		{"--worker-pipelines-sync-period", w.PipelinesSyncPeriod},
	} {
		if d.value <= 0 {
			return fmt.Errorf("%s must be positive, got %s", d.flag, d.value)
		}
	}
	if w.PipelinesLogsPageSize < 1 || w.PipelinesLogsPageSize > maxPipelinesPageSize {
		return fmt.Errorf("--worker-pipelines-logs-page-size must be between 1 and %d, got %d", maxPipelinesPageSize, w.PipelinesLogsPageSize)
	}
	return nil
}
