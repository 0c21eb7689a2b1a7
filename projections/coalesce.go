package projections

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// accountReads coalesces concurrent reads of single accounts, as they are
// now, of one ledger with one set of expansions: while one query runs, the
// next reads gather, and the first of them runs one query for them all
// (the read side's group commit). A lone read runs at once.
type accountReads struct {
	mu      sync.Mutex
	pending []*accountRead
	running bool
}

type accountRead struct {
	address string
	reply   chan accountReply
}

// accountReply answers a read, or tells it to lead the next query.
type accountReply struct {
	account Account
	err     error
	lead    bool
}

// coalescerKey names the reads that can share one query.
type coalescerKey struct {
	ledger             string
	volumes, effective bool
}

// get returns the account at address, querying with fetch (given every
// address of the round) in a round it leads or shares.
func (c *accountReads) get(ctx context.Context, address string,
	fetch func(context.Context, []string) (map[string]Account, error)) (Account, error) {
	me := &accountRead{address: address, reply: make(chan accountReply, 1)}
	c.mu.Lock()
	c.pending = append(c.pending, me)
	lead := !c.running
	c.running = true
	c.mu.Unlock()
	if !lead {
		r := <-me.reply
		if !r.lead {
			return r.account, r.err
		}
	}
	c.mu.Lock()
	round := c.pending
	c.pending = nil
	c.mu.Unlock()

	addresses := make([]string, len(round))
	for i, r := range round {
		addresses[i] = r.address
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	accounts, err := fetch(qctx, addresses)
	cancel()
	var mine accountReply
	for _, r := range round {
		reply := accountReply{err: err}
		if err == nil {
			a, ok := accounts[r.address]
			reply.account = a
			if !ok {
				reply.err = domain.Errorf(domain.CodeNotFound, "not found")
			}
		}
		if r == me {
			mine = reply
		} else {
			r.reply <- reply
		}
	}

	c.mu.Lock()
	if len(c.pending) == 0 {
		c.running = false
		c.mu.Unlock()
	} else {
		next := c.pending[0]
		c.mu.Unlock()
		next.reply <- accountReply{lead: true}
	}
	return mine.account, mine.err
}

// currentAccounts reads the given accounts of l as they are now, in one
// query, by address.
func (r *Reader) currentAccounts(ctx context.Context, l ledger.Ledger, q GetQuery, addresses []string) (map[string]Account, error) {
	b := &sqlBuilder{}
	from, err := accountsFrom(l, b, nil, nil)
	if err != nil {
		return nil, err
	}
	cols, err := accountSelect(l, b, nil, q.expands(ExpandVolumes), q.expands(ExpandEffectiveVolumes))
	if err != nil {
		return nil, err
	}
	rows, err := r.pool.Query(ctx, cols+from+" AND a.address = ANY("+b.bind(addresses)+")", b.args...)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Account, error) { return scanAccount(row) })
	if err != nil {
		return nil, err
	}
	out := make(map[string]Account, len(list))
	for _, a := range list {
		out[a.Address] = a
	}
	return out, nil
}
