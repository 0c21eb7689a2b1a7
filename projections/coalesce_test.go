package projections

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections/projectionstest"
)

func TestAccountReadsCoalesce(t *testing.T) {
	var c accountReads
	var queries atomic.Int32
	fetch := func(_ context.Context, addresses []string) (map[string]Account, error) {
		queries.Add(1)
		time.Sleep(5 * time.Millisecond)
		out := map[string]Account{}
		for _, a := range addresses {
			if a != "missing" {
				out[a] = Account{Address: a}
			}
		}
		return out, nil
	}
	const readers = 200
	var wg sync.WaitGroup
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			address := fmt.Sprintf("users:%d", i)
			if i%10 == 0 {
				address = "missing"
			}
			a, err := c.get(context.Background(), address, fetch)
			switch {
			case address == "missing" && domain.ErrorCode(err) != domain.CodeNotFound:
				t.Errorf("missing account: %v", err)
			case address != "missing" && (err != nil || a.Address != address):
				t.Errorf("%s: got %+v %v", address, a, err)
			}
		}()
	}
	wg.Wait()
	if n := queries.Load(); n >= readers/2 {
		t.Fatalf("%d queries for %d concurrent reads: reads were not coalesced", n, readers)
	}
	if c.running || len(c.pending) != 0 {
		t.Fatal("coalescer not idle after the reads")
	}
}

func TestConcurrentAccountReadsOnDatabase(t *testing.T) {
	pool := pgtest.NewPool(t)
	s := projectionstest.NewSeeder(t, pool, "main", ledger.DefaultBucket, nil)
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 50 {
		s.Transaction(at, at, nil, "", ledger.NewPosting("world", fmt.Sprintf("users:%d", i), "USD", big.NewInt(int64(i+1))))
	}
	r := NewReader(pool)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			address := fmt.Sprintf("users:%d", i%60)
			a, err := r.Account(context.Background(), "main", address, GetQuery{Expand: []string{ExpandVolumes}})
			if i%60 >= 50 {
				if domain.ErrorCode(err) != domain.CodeNotFound {
					t.Errorf("%s: want NOT_FOUND, got %v", address, err)
				}
				return
			}
			if err != nil || a.Volumes["USD"].Balance().Int64() != int64(i%60+1) {
				t.Errorf("%s: %+v %v", address, a, err)
			}
		}()
	}
	wg.Wait()
}
