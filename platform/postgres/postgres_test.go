package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/platform/postgres"
)

func TestMigrateFreshDatabaseTwice(t *testing.T) {
	ctx := context.Background()
	pool, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 || applied[0] != 1 {
		t.Fatalf("first run applied %v, want versions starting at 1", applied)
	}
	again, err := postgres.Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("second run applied %v, want nothing", again)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM _system.ledgers").Scan(&n); err != nil {
		t.Fatalf("ledgers table missing after migration: %v", err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	uri := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	total := make(chan int, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := postgres.Open(ctx, uri)
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			applied, err := postgres.Migrate(ctx, pool)
			errs <- err
			total <- len(applied)
		}()
	}
	wg.Wait()
	close(errs)
	close(total)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sum := 0
	for n := range total {
		sum += n
	}
	pool, _ := postgres.Open(ctx, uri)
	defer pool.Close()
	var versions int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM _system.goose_db_version WHERE version_id > 0").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if sum != versions {
		t.Fatalf("migrations applied %d times in total, %d recorded", sum, versions)
	}
}

func TestOpenUnreachable(t *testing.T) {
	if _, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"); err == nil {
		t.Fatal("want an error for an unreachable server")
	}
}

func TestPoolSize(t *testing.T) {
	ctx := context.Background()
	uri := pgtest.NewDatabase(t)
	pool, err := postgres.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if got := pool.Config().MaxConns; got != postgres.DefaultMaxConns {
		t.Fatalf("default pool size %d, want %d", got, postgres.DefaultMaxConns)
	}
	small, err := postgres.Open(ctx, uri+"&pool_max_conns=5")
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if got := small.Config().MaxConns; got != 5 {
		t.Fatalf("pool_max_conns=5 gave %d", got)
	}
}
