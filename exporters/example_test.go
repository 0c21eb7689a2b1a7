package exporters_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/exporters"
)

// An exporter configuration as POST /v2/_/exporters takes it, validated,
// opened and fed through a Batcher.
func Example() {
	var cfg exporters.Config
	_ = json.Unmarshal([]byte(`{"driver":"stdout","config":{"batching":{"maxItems":2,"flushInterval":"10ms"}}}`), &cfg)
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	batching, _ := cfg.Batching()
	driver, err := exporters.New(cfg)
	if err != nil {
		panic(err)
	}
	batcher := exporters.NewBatcher(driver, batching)
	defer batcher.Close()

	date, _ := ledger.ParseTime("2024-05-01T10:00:00Z")
	log := ledger.NewLog(ledger.SavedMetadata{Target: ledger.AccountTarget("users:001"), Metadata: ledger.Metadata{"tier": "gold"}})
	log.ID, log.Date = 7, date
	if err := batcher.Accept(context.Background(), []exporters.Export{{Ledger: "demo", Log: log}}); err != nil {
		panic(err)
	}

	err = exporters.Config{Driver: "http", Config: json.RawMessage(`{"batching":{"maxItems":-1}}`)}.Validate()
	fmt.Println(err)
	// Output:
	// {"type":"SET_METADATA","data":{"targetType":"ACCOUNT","targetId":"users:001","metadata":{"tier":"gold"}},"date":"2024-05-01T10:00:00Z","idempotencyKey":"","idempotencyHash":"","id":7,"hash":null,"ledger":"demo"}
	// VALIDATION: exporter http: config.batching.maxItems must be positive, got -1
}
