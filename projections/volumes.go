package projections

import (
	"context"
	"math"
	"math/big"

	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
)

// VolumesWithBalance is one account's volumes in one asset (GET
// /v2/{ledger}/volumes); with groupBy, Account is the shared prefix of the
// accounts summed.
type VolumesWithBalance struct {
	Account string   `json:"account"`
	Asset   string   `json:"asset"`
	Input   *big.Int `json:"input"`
	Output  *big.Int `json:"output"`
	Balance *big.Int `json:"balance"`
}

// volumesSpec: by account ascending (offset) by default.
var volumesSpec = listSpec{
	column: "account",
	sortable: map[string]string{
		"account": "g.account",
		"asset":   "g.asset",
	},
	tiebreak: []string{"g.account", "g.asset"},
}

// Volumes lists volumes per account and asset (query.Volumes filters):
// the current ones, or with PIT and/or OOT the sums of the moves dated
// between them (effective dates, or insertion dates with InsertionDate).
// GroupBy sums the accounts sharing their first GroupBy segments.
func (r *Reader) Volumes(ctx context.Context, name string, q ListQuery) (api.Cursor[VolumesWithBalance], error) {
	fail := func(err error) (api.Cursor[VolumesWithBalance], error) { return api.Cursor[VolumesWithBalance]{}, err }
	l, err := r.resolve(ctx, name)
	if err != nil {
		return fail(err)
	}
	if q.GroupBy < 0 {
		return fail(domain.Errorf(domain.CodeValidation, "groupBy must not be negative"))
	}
	b := &sqlBuilder{}
	ledgerName := b.bind(l.Name)
	volumes := `SELECT ledger, address, asset, input, output FROM {volumes} WHERE ledger = ` + ledgerName
	if q.PIT != nil || q.OOT != nil {
		if err := requireFeature(l, ledger.FeatureMovesHistory, "ON", "volumes between dates"); err != nil {
			return fail(err)
		}
		date, bounds := "m.effective_date", ""
		if q.InsertionDate {
			date = "m.insertion_date"
		}
		if q.PIT != nil {
			bounds += " AND " + date + " <= " + b.bind(q.PIT.Time)
		}
		if q.OOT != nil {
			bounds += " AND " + date + " >= " + b.bind(q.OOT.Time)
		}
		volumes = `SELECT m.ledger, m.account AS address, m.asset,
				coalesce(sum(m.amount) FILTER (WHERE NOT m.is_source), 0) AS input,
				coalesce(sum(m.amount) FILTER (WHERE m.is_source), 0) AS output
			FROM {moves} m WHERE m.ledger = ` + ledgerName + bounds + `
			GROUP BY m.ledger, m.account, m.asset`
	}
	join := ""
	if query.UsesField(q.Filter, "metadata") || query.UsesField(q.Filter, "first_usage") {
		join = " JOIN (" + accountsDataset(l, b, ledgerName, q.PIT, false) + ") ac ON ac.address = v.address"
	}
	cond, err := b.where(q.Filter, volumesLeaf)
	if err != nil {
		return fail(err)
	}
	rows := `SELECT v.address AS account, v.asset, v.input, v.output FROM (` + volumes + `) v` + join + ` WHERE ` + cond
	if q.GroupBy > 0 {
		rows = `SELECT array_to_string((string_to_array(v.address, ':'))[1:` + b.bind(min(q.GroupBy, math.MaxInt32)) + `], ':') AS account,
				v.asset, sum(v.input) AS input, sum(v.output) AS output
			FROM (` + volumes + `) v` + join + ` WHERE ` + cond + ` GROUP BY 1, 2`
	}
	sel := tablesOf(l).expand(`SELECT g.account, g.asset, g.input::text, g.output::text FROM (` + rows + `) g WHERE TRUE`)
	spec := volumesSpec
	spec.opts = volumesOpts{InsertionDate: q.InsertionDate, GroupBy: q.GroupBy}
	return page(ctx, r.pool, spec, q, b, sel, func(rows pgx.Rows) (VolumesWithBalance, int64, error) {
		var (
			v             VolumesWithBalance
			input, output string
		)
		if err := rows.Scan(&v.Account, &v.Asset, &input, &output); err != nil {
			return v, 0, err
		}
		if v.Input, err = parseAmount(input); err != nil {
			return v, 0, err
		}
		if v.Output, err = parseAmount(output); err != nil {
			return v, 0, err
		}
		v.Balance = new(big.Int).Sub(v.Input, v.Output)
		return v, 0, nil
	})
}

// volumesLeaf translates the query.Volumes fields on the volumes v and
// their account ac.
func volumesLeaf(b *sqlBuilder, leaf query.Leaf) (string, error) {
	switch leaf.Field {
	case "address":
		return b.address(addressOf("v.address"), leaf)
	case "balance":
		cmp, err := b.compareNumeric("v.input - v.output", leaf)
		if err != nil || leaf.Key == "" {
			return cmp, err
		}
		return "v.asset = " + b.bind(leaf.Key) + " AND " + cmp, nil
	case "first_usage":
		return b.compare("ac.first_usage", leaf, false)
	case "metadata":
		return b.jsonMap("ac.metadata", leaf)
	}
	return "", unsupported(leaf)
}
