package projections

import (
	"context"
	"fmt"
	"math/big"

	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
)

// Balances maps an asset to an amount: {"USD/2": 100}.
type Balances map[string]*big.Int

// AggregatedBalances sums, per asset, the balances of the accounts the
// filter selects (query.AggregatedBalances: address, metadata[k]): their
// current balances, or at PIT each account's last effective balance dated
// by then (its last post-commit balance inserted by then with
// UseInsertionDate).
func (r *Reader) AggregatedBalances(ctx context.Context, name string, q BalancesQuery) (Balances, error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	b := &sqlBuilder{}
	ledgerName := b.bind(l.Name)
	balances := `SELECT ledger, address, asset, input - output AS balance FROM {volumes} WHERE ledger = ` + ledgerName
	if q.PIT != nil {
		at := b.bind(q.PIT.Time)
		if q.UseInsertionDate {
			err = requireFeature(l, ledger.FeatureMovesHistory, "ON", "balances at a point in time")
			balances = `SELECT DISTINCT ON (m.account, m.asset) m.ledger, m.account AS address, m.asset,
					m.pcv_input - m.pcv_output AS balance
				FROM {moves} m WHERE m.ledger = ` + ledgerName + ` AND m.insertion_date <= ` + at + `
				ORDER BY m.account, m.asset, m.seq DESC`
		} else {
			err = effectiveHistory(l, "balances at a point in time")
			balances = `SELECT DISTINCT ON (m.account, m.asset) m.ledger, m.account AS address, m.asset,
					m.pcev_input - m.pcev_output AS balance
				FROM {moves} m WHERE m.ledger = ` + ledgerName + ` AND m.effective_date <= ` + at + `
				ORDER BY m.account, m.asset, m.effective_date DESC, m.seq DESC`
		}
		if err != nil {
			return nil, err
		}
	}
	join := ""
	if query.UsesField(q.Filter, "metadata") {
		join = " JOIN (" + accountsDataset(l, b, ledgerName, q.PIT, false) + ") ac ON ac.address = v.address"
	}
	cond, err := b.where(q.Filter, func(b *sqlBuilder, leaf query.Leaf) (string, error) {
		switch leaf.Field {
		case "address":
			return b.address(addressOf("v.address"), leaf)
		case "metadata":
			return b.jsonMap("ac.metadata", leaf)
		}
		return "", unsupported(leaf)
	})
	if err != nil {
		return nil, err
	}
	sql := tablesOf(l).expand(`SELECT v.asset, sum(v.balance)::text FROM (` + balances + `) v` + join +
		` WHERE ` + cond + ` GROUP BY v.asset`)
	rows, err := r.pool.Query(ctx, sql, b.args...)
	if err != nil {
		return nil, err
	}
	out := Balances{}
	var asset, sum string
	_, err = pgx.ForEachRow(rows, []any{&asset, &sum}, func() error {
		n, err := parseAmount(sum)
		out[asset] = n
		return err
	})
	return out, err
}

// parseAmount reads an amount, a numeric PostgreSQL rendered as text.
func parseAmount(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("projections: amount %q is not an integer", s)
	}
	return n, nil
}
