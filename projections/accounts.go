package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
)

// Account is an account as the v2 API shows it; Volumes and
// EffectiveVolumes are only set when expanded.
type Account struct {
	Address          string                 `json:"address"`
	Metadata         ledger.Metadata        `json:"metadata"`
	FirstUsage       ledger.Time            `json:"firstUsage"`
	InsertionDate    ledger.Time            `json:"insertionDate"`
	UpdatedAt        ledger.Time            `json:"updatedAt"`
	Volumes          ledger.VolumesByAssets `json:"volumes,omitempty"`
	EffectiveVolumes ledger.VolumesByAssets `json:"effectiveVolumes,omitempty"`
}

// accountsSpec: by address ascending (offset) by default.
var accountsSpec = listSpec{
	column: "address",
	sortable: map[string]string{
		"address":        "a.address",
		"first_usage":    "a.first_usage",
		"insertion_date": "a.insertion_date",
		"updated_at":     "a.updated_at",
	},
	tiebreak: []string{"a.address"},
}

// Accounts lists a ledger's accounts (query.Accounts filters). With PIT,
// only the accounts used by then, with their metadata then; balance
// filters then read the effective volumes at PIT.
func (r *Reader) Accounts(ctx context.Context, name string, q ListQuery) (api.Cursor[Account], error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return api.Cursor[Account]{}, err
	}
	b := &sqlBuilder{}
	from, err := accountsFrom(l, b, q.PIT, q.Filter)
	if err != nil {
		return api.Cursor[Account]{}, err
	}
	cols, err := accountSelect(l, b, q.PIT, q.expands(ExpandVolumes), q.expands(ExpandEffectiveVolumes))
	if err != nil {
		return api.Cursor[Account]{}, err
	}
	return page(ctx, r.pool, accountsSpec, q, b, cols+from, func(rows pgx.Rows) (Account, int64, error) {
		a, err := scanAccount(rows)
		return a, 0, err
	})
}

// CountAccounts counts the accounts Accounts would list.
func (r *Reader) CountAccounts(ctx context.Context, name string, q ListQuery) (uint64, error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return 0, err
	}
	b := &sqlBuilder{}
	from, err := accountsFrom(l, b, q.PIT, q.Filter)
	if err != nil {
		return 0, err
	}
	var n uint64
	err = r.pool.QueryRow(ctx, "SELECT count(*) "+from, b.args...).Scan(&n)
	return n, err
}

// Account returns one account, as it was at q.PIT when set. An account
// never used (by then) is a NOT_FOUND error, like the reference.
func (r *Reader) Account(ctx context.Context, name, address string, q GetQuery) (Account, error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return Account{}, err
	}
	if !ledger.IsValidAddress(address) {
		// No such account can exist; the address may not even be valid text.
		return Account{}, domain.Errorf(domain.CodeNotFound, "not found")
	}
	if q.PIT == nil {
		key := coalescerKey{ledger: l.Name, volumes: q.expands(ExpandVolumes), effective: q.expands(ExpandEffectiveVolumes)}
		c, _ := r.accountReads.LoadOrStore(key, &accountReads{})
		return c.(*accountReads).get(ctx, address, func(ctx context.Context, addresses []string) (map[string]Account, error) {
			return r.currentAccounts(ctx, l, q, addresses)
		})
	}
	b := &sqlBuilder{}
	from, err := accountsFrom(l, b, q.PIT, nil)
	if err != nil {
		return Account{}, err
	}
	cols, err := accountSelect(l, b, q.PIT, q.expands(ExpandVolumes), q.expands(ExpandEffectiveVolumes))
	if err != nil {
		return Account{}, err
	}
	rows, err := r.pool.Query(ctx, cols+from+" AND a.address = "+b.bind(address), b.args...)
	if err != nil {
		return Account{}, err
	}
	a, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (Account, error) {
		return scanAccount(row)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, domain.Errorf(domain.CodeNotFound, "not found")
	}
	return a, err
}

// accountsFrom returns "FROM (<the ledger's accounts>) a WHERE <filter>",
// the dataset seen at pit.
func accountsFrom(l ledger.Ledger, b *sqlBuilder, pit *ledger.Time, filter query.Expr) (string, error) {
	dataset := accountsDataset(l, b, b.bind(l.Name), pit, true)
	balances := accountBalances(l, pit)
	cond, err := b.where(filter, func(b *sqlBuilder, leaf query.Leaf) (string, error) {
		switch leaf.Field {
		case "address":
			return b.address(addressColumn{text: "a.address", segments: "a.address_array"}, leaf)
		case "first_usage", "insertion_date", "updated_at":
			return b.compare("a."+leaf.Field, leaf, false)
		case "metadata":
			return b.jsonMap("a.metadata", leaf)
		case "balance":
			return balances(b, leaf)
		}
		return "", unsupported(leaf)
	})
	if err != nil {
		return "", err
	}
	return tablesOf(l).expand(" FROM (" + dataset + ") a WHERE " + cond), nil
}

// accountsDataset returns the SELECT of the accounts of the ledger whose
// name is bound as name, with their metadata at pit; bounded keeps only
// the accounts used by pit.
func accountsDataset(l ledger.Ledger, b *sqlBuilder, name string, pit *ledger.Time, bounded bool) string {
	metadata, bounds := "ac.metadata", ""
	if pit != nil {
		at := b.bind(pit.Time)
		if bounded {
			bounds = " AND ac.first_usage <= " + at
		}
		if feature(l, ledger.FeatureAccountMetadataHistory, "SYNC") {
			metadata = `coalesce((SELECT m.metadata FROM {accounts_metadata} m
				WHERE m.ledger = ac.ledger AND m.address = ac.address AND m.date <= ` + at + `
				ORDER BY m.revision DESC LIMIT 1), '{}')`
		}
	}
	return `SELECT ac.ledger, ac.address, ac.address_array, ` + metadata + ` AS metadata,
			ac.first_usage, ac.insertion_date, ac.updated_at
		FROM {accounts} ac WHERE ac.ledger = ` + name + bounds
}

// accountBalances translates balance and balance[ASSET] leaves on the
// account a: its current balances, or its effective balances at pit.
func accountBalances(l ledger.Ledger, pit *ledger.Time) leafSQL {
	return func(b *sqlBuilder, leaf query.Leaf) (string, error) {
		asset := ""
		if pit == nil {
			if leaf.Key != "" {
				asset = " AND v.asset = " + b.bind(leaf.Key)
			}
			cmp, err := b.compareNumeric("v.input - v.output", leaf)
			return `EXISTS (SELECT FROM {volumes} v WHERE v.ledger = a.ledger AND v.address = a.address` +
				asset + ` AND ` + cmp + `)`, err
		}
		if err := effectiveHistory(l, "a balance filter at a point in time"); err != nil {
			return "", err
		}
		if leaf.Key != "" {
			asset = " AND m.asset = " + b.bind(leaf.Key)
		}
		at := b.bind(pit.Time)
		cmp, err := b.compareNumeric("v.balance", leaf)
		return `EXISTS (SELECT FROM (SELECT DISTINCT ON (m.asset) m.pcev_input - m.pcev_output AS balance
				FROM {moves} m WHERE m.ledger = a.ledger AND m.account = a.address AND m.effective_date <= ` + at + asset + `
				ORDER BY m.asset, m.effective_date DESC, m.seq DESC) v WHERE ` + cmp + `)`, err
	}
}

// effectiveHistory checks that the ledger keeps moves with their effective
// volumes, which what needs.
func effectiveHistory(l ledger.Ledger, what string) error {
	if err := requireFeature(l, ledger.FeatureMovesHistory, "ON", what); err != nil {
		return err
	}
	return requireFeature(l, ledger.FeatureMovesHistoryPostCommitEffectiveVolumes, "SYNC", what)
}

// accountSelect returns the select list scanAccount reads.
func accountSelect(l ledger.Ledger, b *sqlBuilder, pit *ledger.Time, volumes, effective bool) (string, error) {
	pcv, pcev := "NULL::jsonb", "NULL::jsonb"
	var err error
	if volumes {
		if pcv, err = accountVolumes(l, b, pit, false); err != nil {
			return "", err
		}
	}
	if effective {
		if pcev, err = accountVolumes(l, b, pit, true); err != nil {
			return "", err
		}
	}
	return `SELECT a.address, a.metadata, a.first_usage, a.insertion_date, a.updated_at, ` + pcv + `, ` + pcev, nil
}

// accountVolumes returns the jsonb {asset: {input, output}} of the account
// a: its current volumes, or at pit its last post-commit volumes inserted
// by then (effective: its last effective volumes dated by then).
func accountVolumes(l ledger.Ledger, b *sqlBuilder, pit *ledger.Time, effective bool) (string, error) {
	if pit == nil {
		// Now, both orders have seen every move: the current volumes.
		return tablesOf(l).expand(`coalesce((SELECT jsonb_object_agg(v.asset,
				jsonb_build_object('input', v.input, 'output', v.output))
			FROM {volumes} v WHERE v.ledger = a.ledger AND v.address = a.address), '{}')`), nil
	}
	at := b.bind(pit.Time)
	input, output, date, order := "m.pcv_input", "m.pcv_output", "m.insertion_date", "m.seq DESC"
	if effective {
		if err := effectiveHistory(l, "effective volumes at a point in time"); err != nil {
			return "", err
		}
		input, output, date, order = "m.pcev_input", "m.pcev_output", "m.effective_date", "m.effective_date DESC, m.seq DESC"
	} else if err := requireFeature(l, ledger.FeatureMovesHistory, "ON", "volumes at a point in time"); err != nil {
		return "", err
	}
	return tablesOf(l).expand(`coalesce((SELECT jsonb_object_agg(asset, jsonb_build_object('input', input, 'output', output))
		FROM (SELECT DISTINCT ON (m.asset) m.asset, ` + input + ` AS input, ` + output + ` AS output
			FROM {moves} m WHERE m.ledger = a.ledger AND m.account = a.address AND ` + date + ` <= ` + at + `
			ORDER BY m.asset, ` + order + `) last), '{}')`), nil
}

func scanAccount(row pgx.Row) (Account, error) {
	var (
		a                          Account
		first, inserted, updated   time.Time
		metadata, volumes, effects []byte
	)
	if err := row.Scan(&a.Address, &metadata, &first, &inserted, &updated, &volumes, &effects); err != nil {
		return Account{}, err
	}
	a.FirstUsage, a.InsertionDate, a.UpdatedAt = ledger.NewTime(first), ledger.NewTime(inserted), ledger.NewTime(updated)
	err := decodeColumns(jsonColumn{metadata, &a.Metadata}, jsonColumn{volumes, &a.Volumes}, jsonColumn{effects, &a.EffectiveVolumes})
	if err != nil {
		return Account{}, fmt.Errorf("account %s: %w", a.Address, err)
	}
	return a, nil
}
