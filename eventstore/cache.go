package eventstore

import (
	"bytes"
	"context"
	"time"

	"github.com/kontorhq/kontor/domain/ledger"
)

// key names one balance: an account in an asset.
type key struct{ account, asset string }

// balance is the cached state of one key: its volumes and the latest
// effective date of its moves (to spot back-dated ones).
type balance struct {
	volumes       ledger.Volumes
	lastEffective time.Time
}

// account is the cached state of one account: whether it exists and since
// when it is used.
type account struct {
	exists     bool
	firstUsage time.Time
}

// cache is what a sequencer knows of its ledger between batches. It is
// valid as long as the ledger's last log is the one it saw last: another
// process writing the ledger makes it reload.
type cache struct {
	loaded      bool
	lastLogID   uint64
	lastLogDate time.Time
	lastHash    []byte
	lastTxID    uint64
	lastMoveSeq int64
	balances    map[key]balance
	accounts    map[string]account
}

func newCache() *cache { return &cache{} }

func (c *cache) invalidate() { c.loaded = false }

// load resets the cache to the ledger's committed state, read without the
// ledger's lock: the writer checks, under the lock, that no other process
// wrote since (the last log id), and the batch is prepared again if one did.
func (c *cache) load(ctx context.Context, db *bucketDB) error {
	id, date, hash, err := db.lastLog(ctx)
	if err != nil {
		return err
	}
	txID, moveSeq, err := db.counters(ctx)
	if err != nil {
		return err
	}
	*c = cache{
		loaded:      true,
		lastLogID:   id,
		lastLogDate: date,
		lastHash:    hash,
		lastTxID:    txID,
		lastMoveSeq: moveSeq,
		balances:    map[key]balance{},
		accounts:    map[string]account{},
	}
	return nil
}

// revalidate keeps the cache when the ledger still ends with the cache's
// last log — a batch refused as stale was only overtaken by our own
// batches — and empties it when another process wrote the ledger.
func (c *cache) revalidate(ctx context.Context, db *bucketDB) {
	if !c.loaded {
		return
	}
	id, date, hash, err := db.lastLog(ctx)
	if err != nil || id != c.lastLogID || !date.Equal(c.lastLogDate) || !bytes.Equal(hash, c.lastHash) {
		c.invalidate()
	}
}
