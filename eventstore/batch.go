package eventstore

import (
	"context"
	"maps"
	"math/big"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// batch evaluates the commands of one group commit in order. It reads
// through its parent — the batch being written while this one is prepared,
// if any — to the cache of committed state, and keeps its own changes apart
// until the commit, so that a failed batch leaves the cache untouched.
type batch struct {
	cache    *cache
	parent   *batch
	features ledger.Features
	now      ledger.Time

	// baseLogID, baseLogDate and baseHash name the log this batch builds
	// on; the writer refuses the batch if the ledger ends with another.
	baseLogID   uint64
	baseLogDate time.Time
	baseHash    []byte

	lastLogID   uint64
	lastLogDate time.Time
	lastHash    []byte
	lastTxID    uint64
	lastMoveSeq int64
	balances    map[key]balance
	accounts    map[string]account
	txs         map[uint64]ledger.Transaction // read or written by this batch
	references  map[string]bool
	idempotency map[string]ledger.Log
	accountMeta map[accountKey]metaChange // account metadata changed, for scripts' meta()

	// ctx and db read the database while the batch is prepared: scripts
	// load lazily what prefetch could not foresee.
	ctx context.Context
	db  *bucketDB

	// logsStored is set when a rebuild replays logs already stored: flush
	// writes everything but them.
	logsStored bool

	// What flush writes; pipeline holds it encoded (see build), encoded
	// the JSON of the transactions of its NEW_TRANSACTION logs, by log id.
	pipeline    *pgx.Batch
	wire        []wireQuery // the pipeline, with the lock and base check, encoded
	encoded     map[uint64][]byte
	logs        []ledger.Log // their payloads share the volume maps of the transactions they carry
	newTxs      []*ledger.Transaction
	moves       []move
	touched     map[key]bool
	newAccounts map[string]time.Time // accounts to upsert (created or used earlier), with the date of their first write
	updates     []update
}

// move is one side of a posting.
type move struct {
	seq           int64
	txID          uint64
	account       string
	asset         string
	amount        *big.Int
	isSource      bool
	effective     time.Time
	pcv           ledger.Volumes
	pcevIsPCV     bool // the post-commit effective volumes are pcv; false: none kept, or back-dated (computed in the database)
	tx            *ledger.Transaction
	lastOfTxInKey bool
}

// update is a change to an existing row, applied in order after inserts.
type update struct {
	kind    updateKind
	at      time.Time
	txID    uint64
	address string
	md      ledger.Metadata
	key     string
}

type updateKind int

const (
	setTxMetadata updateKind = iota
	deleteTxMetadata
	setAccountMetadata
	deleteAccountMetadata
	markReverted
)

// newBatch starts a batch on parent's state when parent is set, else on
// the cache's.
func newBatch(c *cache, parent *batch, features ledger.Features, now ledger.Time) *batch {
	b := &batch{
		cache:       c,
		parent:      parent,
		features:    features,
		now:         now,
		lastLogID:   c.lastLogID,
		lastLogDate: c.lastLogDate,
		lastHash:    c.lastHash,
		lastTxID:    c.lastTxID,
		lastMoveSeq: c.lastMoveSeq,
		balances:    map[key]balance{},
		accounts:    map[string]account{},
		txs:         map[uint64]ledger.Transaction{},
		references:  map[string]bool{},
		idempotency: map[string]ledger.Log{},
		accountMeta: map[accountKey]metaChange{},
		touched:     map[key]bool{},
		newAccounts: map[string]time.Time{},
	}
	if parent != nil {
		b.lastLogID, b.lastLogDate, b.lastHash = parent.lastLogID, parent.lastLogDate, parent.lastHash
		b.lastTxID, b.lastMoveSeq = parent.lastTxID, parent.lastMoveSeq
	}
	b.baseLogID, b.baseLogDate, b.baseHash = b.lastLogID, b.lastLogDate, b.lastHash
	return b
}

func (b *batch) feature(name, value string) bool { return b.features[name] == value }

// prefetch loads, in a few queries, everything the batch's commands read
// that the cache lacks.
func (b *batch) prefetch(ctx context.Context, db *bucketDB, reqs []*pending) error {
	var (
		iks, refs []string
		txIDs     []uint64
	)
	keys := map[key]bool{}
	addresses := map[string]bool{}
	addPostings := func(postings ledger.Postings) {
		for _, p := range postings {
			keys[key{p.Source, p.Asset}] = true
			keys[key{p.Destination, p.Asset}] = true
			addresses[p.Source] = true
			addresses[p.Destination] = true
		}
	}
	for _, p := range reqs {
		for _, req := range p.requests() {
			if req.IdempotencyKey != "" {
				iks = append(iks, req.IdempotencyKey)
			}
			if s := req.Script; s != nil {
				// What the script reads and moves is loaded as it runs.
				for address := range s.AccountMetadata {
					addresses[address] = true
				}
				if s.Reference != "" {
					refs = append(refs, s.Reference)
				}
			}
			switch c := req.Command.(type) {
			case ledger.CreateTransaction:
				addPostings(c.Postings)
				for address := range c.AccountMetadata {
					addresses[address] = true
				}
				if c.Reference != "" {
					refs = append(refs, c.Reference)
				}
			case ledger.RevertTransaction:
				txIDs = append(txIDs, c.ID)
			case ledger.SaveMetadata:
				if c.Target.Type == ledger.TargetTransaction {
					txIDs = append(txIDs, c.Target.TransactionID)
				} else {
					addresses[c.Target.Address] = true
				}
			case ledger.DeleteMetadata:
				if c.Target.Type == ledger.TargetTransaction {
					txIDs = append(txIDs, c.Target.TransactionID)
				} else {
					addresses[c.Target.Address] = true
				}
			}
		}
	}
	iks, refs, txIDs = b.fromParent(iks, refs, txIDs)
	idempotency, err := db.logsByIdempotencyKey(ctx, iks)
	if err != nil {
		return err
	}
	references, err := db.existingReferences(ctx, refs)
	if err != nil {
		return err
	}
	txs, err := db.transactions(ctx, txIDs)
	if err != nil {
		return err
	}
	for ik, l := range idempotency {
		b.idempotency[ik] = l
	}
	for ref := range references {
		b.references[ref] = true
	}
	for id, tx := range txs {
		b.txs[id] = tx
	}
	for _, tx := range b.txs {
		addPostings(tx.Postings)
	}
	if _, err := b.loadBalances(ctx, db, keys, nil); err != nil {
		return err
	}
	return b.loadAccounts(ctx, db, addresses)
}

// loadBalances reads from the database, in one query, the balances of the
// keys no layer of the batch holds, and every balance of the families
// ({account, base asset}: every scale of the asset) the account has. It
// keeps in the cache what no layer holds (zero volumes for a key the
// database lacks) and returns the keys of the families' balances found.
func (b *batch) loadBalances(ctx context.Context, db *bucketDB, keys map[key]bool, families []key) ([]key, error) {
	var missing []key
	for k := range keys {
		if !b.knows(k) {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 && len(families) == 0 {
		return nil, nil
	}
	loaded, err := db.balances(ctx, missing, families)
	if err != nil {
		return nil, err
	}
	for _, k := range missing {
		b.cache.balances[k] = loaded[k] // zero volumes when absent
	}
	inFamily := map[key]bool{}
	for _, f := range families {
		inFamily[f] = true
	}
	var members []key
	for k, v := range loaded {
		if !b.knows(k) {
			b.cache.balances[k] = v
		}
		if inFamily[key{k.account, assetBase(k.asset)}] {
			members = append(members, k)
		}
	}
	return members, nil
}

// knows reports whether a layer of the batch — itself, its parent, the
// cache — holds the balance of k.
func (b *batch) knows(k key) bool {
	if _, ok := b.balances[k]; ok {
		return true
	}
	if _, ok := b.inParent(k); ok {
		return true
	}
	_, ok := b.cache.balances[k]
	return ok
}

// loadAccounts reads into the cache, in one query, the accounts no layer
// of the batch holds.
func (b *batch) loadAccounts(ctx context.Context, db *bucketDB, addresses map[string]bool) error {
	var unknown []string
	for a := range addresses {
		if _, ok := b.accountInLayers(a); ok {
			continue
		}
		if _, ok := b.cache.accounts[a]; !ok {
			unknown = append(unknown, a)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	found, err := db.accounts(ctx, unknown)
	if err != nil {
		return err
	}
	for _, a := range unknown {
		b.cache.accounts[a] = found[a]
	}
	return nil
}

// fromParent takes from the batches in flight under this one what they
// know of the given idempotency keys, references and transactions, and
// returns the ones left to read from the database.
func (b *batch) fromParent(iks, refs []string, txIDs []uint64) ([]string, []string, []uint64) {
	var leftIKs, leftRefs []string
	var leftTxs []uint64
	for _, ik := range iks {
		if l, ok := lookup(b.parent, func(p *batch) (ledger.Log, bool) { l, ok := p.idempotency[ik]; return l, ok }); ok {
			b.idempotency[ik] = l
		} else {
			leftIKs = append(leftIKs, ik)
		}
	}
	for _, ref := range refs {
		if _, ok := lookup(b.parent, func(p *batch) (bool, bool) { return true, p.references[ref] }); ok {
			b.references[ref] = true
		} else {
			leftRefs = append(leftRefs, ref)
		}
	}
	for _, id := range txIDs {
		if tx, ok := lookup(b.parent, func(p *batch) (ledger.Transaction, bool) { tx, ok := p.txs[id]; return tx, ok }); ok {
			b.txs[id] = tx
		} else {
			leftTxs = append(leftTxs, id)
		}
	}
	return leftIKs, leftRefs, leftTxs
}

// lookup walks from p down the batches in flight, newest first, and
// returns what the first one that knows says.
func lookup[T any](p *batch, get func(*batch) (T, bool)) (T, bool) {
	for ; p != nil; p = p.parent {
		if v, ok := get(p); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func (b *batch) inParent(k key) (balance, bool) {
	return lookup(b.parent, func(p *batch) (balance, bool) { v, ok := p.balances[k]; return v, ok })
}

// accountInLayers returns what this batch or one in flight under it knows
// of an account.
func (b *batch) accountInLayers(address string) (account, bool) {
	return lookup(b, func(p *batch) (account, bool) { a, ok := p.accounts[address]; return a, ok })
}

// Balance implements ledger.State.
func (b *batch) Balance(account, asset string) *big.Int {
	return b.balance(key{account, asset}).volumes.Balance()
}

// Transaction implements ledger.State.
func (b *batch) Transaction(id uint64) (ledger.Transaction, bool) {
	tx, ok := b.txs[id]
	return tx, ok
}

// HasReference implements ledger.State.
func (b *batch) HasReference(reference string) bool { return b.references[reference] }

func (b *batch) balance(k key) balance {
	if v, ok := b.balances[k]; ok {
		return v
	}
	if v, ok := b.inParent(k); ok {
		return v
	}
	v := b.cache.balances[k]
	if v.volumes.Input == nil {
		v.volumes = ledger.Volumes{Input: new(big.Int), Output: new(big.Int)}
	}
	return v
}

func (b *batch) account(address string) account {
	if a, ok := b.accountInLayers(address); ok {
		return a
	}
	return b.cache.accounts[address]
}

// execute evaluates one request and, unless it is a dry run or fails,
// applies it to the batch.
func (b *batch) execute(req Request) outcome {
	if req.imported != nil {
		return b.replay(req)
	}
	ik := req.IdempotencyKey
	if ik != "" && !req.DryRun {
		if stored, ok := b.idempotency[ik]; ok {
			if stored.IdempotencyHash != "" && stored.IdempotencyHash != req.IdempotencyHash {
				return outcome{err: domain.Errorf(domain.CodeValidation,
					"invalid idempotency hash when using idempotency key '%s', has computed '%s' but '%s' is stored",
					ik, req.IdempotencyHash, stored.IdempotencyHash)}
			}
			return outcome{res: Result{Log: stored, IdempotencyHit: true}}
		}
	}
	cmd := req.Command
	if req.Script != nil {
		c, err := b.runScript(req.Script)
		if err != nil {
			return outcome{err: err}
		}
		cmd = c
	}
	payload, err := cmd.Evaluate(b, b.now)
	if err != nil {
		return outcome{err: err}
	}
	if req.DryRun {
		payload, _ = b.fork().apply(payload)
		return outcome{res: Result{Log: ledger.Log{ID: b.lastLogID + 1, Data: payload, Date: b.now}}}
	}
	payload, _ = b.apply(payload)
	b.lastLogID, b.lastLogDate = b.lastLogID+1, b.now.Time
	log := ledger.Log{ID: b.lastLogID, Data: payload, Date: b.now, IdempotencyKey: ik, IdempotencyHash: req.IdempotencyHash}
	if b.feature(ledger.FeatureHashLogs, "SYNC") {
		hash, err := log.ComputeHash(b.lastHash)
		if err != nil {
			return outcome{err: err}
		}
		log.Hash, b.lastHash = hash, hash
	}
	if ik != "" {
		b.idempotency[ik] = log
	}
	b.logs = append(b.logs, log)
	return outcome{res: Result{Log: log}}
}

// fork returns a copy of the batch that can be changed without changing
// it: dry runs apply to a fork and drop it; an atomic group runs on a fork
// that replaces the batch only if every request of the group succeeded.
func (b *batch) fork() *batch {
	f := *b
	f.balances = maps.Clone(b.balances)
	f.accounts = maps.Clone(b.accounts)
	f.txs = maps.Clone(b.txs)
	f.references = maps.Clone(b.references)
	f.idempotency = maps.Clone(b.idempotency)
	f.accountMeta = maps.Clone(b.accountMeta)
	f.touched = maps.Clone(b.touched)
	f.newAccounts = maps.Clone(b.newAccounts)
	f.logs, f.newTxs = slices.Clone(b.logs), slices.Clone(b.newTxs)
	f.moves, f.updates = slices.Clone(b.moves), slices.Clone(b.updates)
	return &f
}

// executeAtomic evaluates reqs in order as one unit: either all of them
// apply to the batch, or — when one fails — none does. Each request gets
// its own outcome.
func (b *batch) executeAtomic(reqs []Request) []outcome {
	f := b.fork()
	outcomes := make([]outcome, len(reqs))
	failed := false
	for i, req := range reqs {
		outcomes[i] = f.execute(req)
		failed = failed || outcomes[i].err != nil
	}
	if !failed {
		*b = *f
	}
	return outcomes
}

// apply records the effects of a payload on the batch — ids, volumes,
// moves, accounts and updates — and returns the payload completed with
// ids and volumes, and the transaction it created, if any.
func (b *batch) apply(payload ledger.LogPayload) (ledger.LogPayload, *ledger.Transaction) {
	switch p := payload.(type) {
	case ledger.CreatedTransaction:
		tx := b.insertTransaction(p.Transaction)
		for address, md := range p.AccountMetadata {
			b.useAccount(address, b.now.Time)
			b.setAccountMetadata(address, md)
			b.updates = append(b.updates, update{kind: setAccountMetadata, at: b.now.Time, address: address, md: md})
		}
		p.Transaction = *tx
		return p, tx
	case ledger.RevertedTransaction:
		original := b.txs[p.RevertedTransaction.ID]
		original.RevertedAt = p.RevertedTransaction.RevertedAt
		original.UpdatedAt = b.now
		b.txs[original.ID] = original
		b.updates = append(b.updates, update{kind: markReverted, at: original.RevertedAt.Time, txID: original.ID})
		tx := b.insertTransaction(p.RevertTransaction)
		// As the reference (and a transaction read back from the
		// database), the reverted transaction comes without effective volumes.
		original.PostCommitEffectiveVolumes = nil
		p.RevertedTransaction = original
		p.RevertTransaction = *tx
		return p, tx
	case ledger.SavedMetadata:
		if p.Target.Type == ledger.TargetTransaction {
			tx := b.txs[p.Target.TransactionID]
			tx.Metadata = tx.Metadata.Merge(p.Metadata)
			b.txs[tx.ID] = tx
			b.updates = append(b.updates, update{kind: setTxMetadata, at: b.now.Time, txID: tx.ID, md: p.Metadata})
		} else {
			b.useAccount(p.Target.Address, b.now.Time)
			b.setAccountMetadata(p.Target.Address, p.Metadata)
			b.updates = append(b.updates, update{kind: setAccountMetadata, at: b.now.Time, address: p.Target.Address, md: p.Metadata})
		}
	case ledger.DeletedMetadata:
		if p.Target.Type == ledger.TargetTransaction {
			tx := b.txs[p.Target.TransactionID]
			tx.Metadata = tx.Metadata.Clone()
			delete(tx.Metadata, p.Key)
			b.txs[tx.ID] = tx
			b.updates = append(b.updates, update{kind: deleteTxMetadata, at: b.now.Time, txID: tx.ID, key: p.Key})
		} else {
			b.accountMeta[accountKey{p.Target.Address, p.Key}] = metaChange{deleted: true}
			b.updates = append(b.updates, update{kind: deleteAccountMetadata, at: b.now.Time, address: p.Target.Address, key: p.Key})
		}
	}
	return payload, nil
}

// insertTransaction gives tx the next id, computes its moves and volumes
// and records it.
func (b *batch) insertTransaction(tx ledger.Transaction) *ledger.Transaction {
	b.lastTxID++
	tx.ID = b.lastTxID
	withMoves := b.feature(ledger.FeatureMovesHistory, "ON")
	withEffective := withMoves && b.feature(ledger.FeatureMovesHistoryPostCommitEffectiveVolumes, "SYNC")
	effective := tx.Timestamp.Time
	created := &tx
	tx.PostCommitVolumes = ledger.PostCommitVolumes{}
	firstMove, someBackDated := len(b.moves), false
	lastMove := map[key]int{}
	side := func(account, asset string, amount *big.Int, isSource bool) {
		k := key{account, asset}
		cur := b.balance(k)
		v := cur.volumes // the side that does not move keeps its amount, shared (see put)
		if isSource {
			v.Output = new(big.Int).Add(v.Output, amount)
		} else {
			v.Input = new(big.Int).Add(v.Input, amount)
		}
		backDated := effective.Before(cur.lastEffective)
		next := balance{volumes: v, lastEffective: cur.lastEffective}
		if !backDated {
			next.lastEffective = effective
		}
		b.balances[k] = next
		b.touched[k] = true
		put(tx.PostCommitVolumes, account, asset, v)
		someBackDated = someBackDated || backDated
		if !withMoves {
			return
		}
		b.lastMoveSeq++
		m := move{seq: b.lastMoveSeq, txID: tx.ID, account: account, asset: asset, amount: amount,
			isSource: isSource, effective: effective, pcv: v, pcevIsPCV: withEffective && !backDated, tx: created}
		if i, ok := lastMove[k]; ok {
			b.moves[i].lastOfTxInKey = false
		}
		m.lastOfTxInKey = true
		lastMove[k] = len(b.moves)
		b.moves = append(b.moves, m)
	}
	for _, p := range tx.Postings {
		side(p.Destination, p.Asset, p.Amount, false)
		side(p.Source, p.Asset, p.Amount, true)
		b.useAccount(p.Source, effective)
		b.useAccount(p.Destination, effective)
	}
	if withEffective {
		// The effective volumes of a key are its post-commit volumes unless
		// the transaction is back-dated in it. Without back-dated keys both
		// are one map (see put); with some, the effective volumes of those
		// keys are added when the database computed them.
		tx.PostCommitEffectiveVolumes = tx.PostCommitVolumes
		if someBackDated {
			tx.PostCommitEffectiveVolumes = ledger.PostCommitVolumes{}
			for _, m := range b.moves[firstMove:] {
				if m.pcevIsPCV {
					put(tx.PostCommitEffectiveVolumes, m.account, m.asset, m.pcv)
				}
			}
		}
	}
	if tx.Reference != "" {
		b.references[tx.Reference] = true
	}
	b.txs[tx.ID] = tx
	b.newTxs = append(b.newTxs, created)
	return created
}

// useAccount records that address is used at t: created if new, its first
// usage moved earlier if t is before it.
func (b *batch) useAccount(address string, t time.Time) {
	a := b.account(address)
	if a.exists && !t.Before(a.firstUsage) {
		return
	}
	if !a.exists || t.Before(a.firstUsage) {
		a.firstUsage = t
	}
	a.exists = true
	b.accounts[address] = a
	if _, ok := b.newAccounts[address]; !ok {
		b.newAccounts[address] = b.now.Time
	}
}

// commit moves the batch's state into the cache, after the database
// committed it; its parent, committed before it, is no longer needed.
func (b *batch) commit() {
	b.parent = nil
	c := b.cache
	c.lastLogID, c.lastLogDate, c.lastHash = b.lastLogID, b.lastLogDate, b.lastHash
	c.lastTxID, c.lastMoveSeq = b.lastTxID, b.lastMoveSeq
	for k, v := range b.balances {
		c.balances[k] = v
	}
	for a, v := range b.accounts {
		c.accounts[a] = v
	}
}

// put sets the volumes of account in asset in p to v. Volumes are never
// changed in place (a change makes new amounts), so they are shared: the
// balance, the transaction's post-commit volumes and its moves hold the
// same v, and the next volumes of the key the amount of v that did not
// change. Nor does a transaction's map of post-commit volumes change once
// recorded, so its effective volumes are often the same map; only the
// effective volumes of a transaction with back-dated moves, a map of their
// own, get entries later.
func put(p ledger.PostCommitVolumes, account, asset string, v ledger.Volumes) {
	if p[account] == nil {
		p[account] = ledger.VolumesByAssets{}
	}
	p[account][asset] = v
}
