package projections

import (
	"encoding/json"
	"strings"
	"unicode"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
)

// What a read may expand (the expand parameter).
const (
	// ExpandVolumes adds volumes: a transaction's postCommitVolumes, an
	// account's volumes.
	ExpandVolumes = "volumes"
	// ExpandEffectiveVolumes adds effective volumes (effective-date order):
	// a transaction's postCommitEffectiveVolumes, an account's
	// effectiveVolumes.
	ExpandEffectiveVolumes = "effectiveVolumes"
)

// Order is the direction of a sort.
type Order int

// Sort directions. OrderDefault keeps the resource's own direction.
const (
	OrderDefault Order = iota
	OrderAsc
	OrderDesc
)

// Sort orders a list by Column, a snake_case field name ("" keeps the
// resource's default column), in Order.
type Sort struct {
	Column string
	Order  Order
}

// ParseSort reads the sort parameter, "<field>[:asc|desc]"; a camelCase
// field becomes snake_case (insertedAt → inserted_at). Whether the list
// can sort on the field is checked when it runs.
func ParseSort(s string) (Sort, error) {
	if s == "" {
		return Sort{}, nil
	}
	field, dir, hasDir := strings.Cut(s, ":")
	sort := Sort{Column: snakeCase(field)}
	if hasDir {
		switch strings.ToLower(dir) {
		case "asc":
			sort.Order = OrderAsc
		case "desc":
			sort.Order = OrderDesc
		default:
			return Sort{}, domain.Errorf(domain.CodeValidation, "invalid sort %q: the order must be asc or desc", s)
		}
	}
	if sort.Column == "" {
		return Sort{}, domain.Errorf(domain.CodeValidation, "invalid sort %q: missing field", s)
	}
	return sort, nil
}

func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ListQuery asks for one page of a list. The HTTP layer builds it from the
// request's parameters, or with DecodeCursor from a next/previous token,
// which also carries where the page starts. Fields a list does not use are
// ignored.
type ListQuery struct {
	// PageSize is the number of items per page, clamped to
	// [1, api.MaxPageSize]; 0 means api.DefaultPageSize.
	PageSize int
	// Filter is the parsed filter (nil: everything).
	Filter query.Expr
	// PIT (point in time) and OOT (out of time) bound the dates a list
	// sees (spec §2.5); nil: unbounded.
	PIT, OOT *ledger.Time
	// Expand lists what to add to every item (ExpandVolumes, …).
	Expand []string
	// Sort overrides the default order.
	Sort Sort
	// Reverse flips the default direction (transactions: ascending ids).
	Reverse bool
	// InsertionDate makes volumes use insertion dates rather than
	// effective dates for PIT and OOT.
	InsertionDate bool
	// GroupBy sums volumes over addresses sharing their first GroupBy
	// segments (0: no grouping).
	GroupBy int
	// IncludeDeleted lists ledgers whose bucket was deleted too.
	IncludeDeleted bool

	// from is where the page starts, set by DecodeCursor.
	from *position
}

// position is where a page of a list starts: an offset, or a key bound
// (keyset pagination, on a unique bigint column).
type position struct {
	column string
	desc   bool
	// offset pagination
	offset int
	// keyset pagination
	keyset       bool
	bottom       *int64
	paginationID *int64
	reverse      bool
}

// expands reports whether the query expands what.
func (q ListQuery) expands(what string) bool {
	for _, e := range q.Expand {
		if e == what {
			return true
		}
	}
	return false
}

func (q ListQuery) pageSize() int {
	switch {
	case q.PageSize <= 0:
		return api.DefaultPageSize
	case q.PageSize > api.MaxPageSize:
		return api.MaxPageSize
	}
	return q.PageSize
}

// cursorJSON is the reference's cursor (spec §3.2): a column cursor
// carries bottom, paginationID and reverse; an offset cursor carries offset.
type cursorJSON struct {
	Column       string      `json:"column"`
	Order        int         `json:"order"` // 0 ascending, 1 descending
	PageSize     int         `json:"pageSize"`
	Filters      filtersJSON `json:"filters"`
	Bottom       *int64      `json:"bottom,omitempty"`
	PaginationID *int64      `json:"paginationID,omitempty"`
	Reverse      *bool       `json:"reverse,omitempty"`
	Offset       *int        `json:"offset,omitempty"`
}

type filtersJSON struct {
	PIT    *ledger.Time    `json:"pit"`
	OOT    *ledger.Time    `json:"oot"`
	QB     json.RawMessage `json:"qb"`
	Expand []string        `json:"expand,omitempty"`
	Opts   json.RawMessage `json:"opts"`
}

// volumesOpts are the options of the volumes list, as its cursor holds them.
type volumesOpts struct {
	InsertionDate bool `json:"insertionDate"`
	GroupBy       int  `json:"groupBy"`
}

// ledgersOpts are the options of the ledgers list.
type ledgersOpts struct {
	IncludeDeleted bool `json:"includeDeleted"`
}

// DecodeCursor reads a next or previous token of a list filtered with
// schema back into the query of that page. A token that is not one is a
// VALIDATION error.
func DecodeCursor(token string, schema query.Schema) (ListQuery, error) {
	var c cursorJSON
	if err := api.DecodeCursor(token, &c); err != nil {
		return ListQuery{}, err
	}
	invalid := func(why string) (ListQuery, error) {
		return ListQuery{}, domain.Errorf(domain.CodeValidation, "invalid cursor: %s", why)
	}
	if c.Column == "" || (c.Order != 0 && c.Order != 1) || c.PageSize < 0 {
		return invalid("bad column, order or page size")
	}
	filter, err := query.Parse(c.Filters.QB, schema)
	if err != nil {
		return ListQuery{}, domain.Errorf(domain.CodeValidation, "invalid cursor: %s", domain.ErrorMessage(err))
	}
	var opts struct {
		volumesOpts
		ledgersOpts
	}
	if len(c.Filters.Opts) > 0 {
		if err := json.Unmarshal(c.Filters.Opts, &opts); err != nil {
			return invalid("bad options")
		}
	}
	if opts.GroupBy < 0 {
		return invalid("bad groupBy")
	}
	pos := &position{column: c.Column, desc: c.Order == 1}
	switch {
	case c.Offset != nil:
		if *c.Offset < 0 {
			return invalid("negative offset")
		}
		pos.offset = *c.Offset
	default:
		pos.keyset = true
		pos.bottom, pos.paginationID = c.Bottom, c.PaginationID
		pos.reverse = c.Reverse != nil && *c.Reverse
	}
	order := OrderAsc
	if pos.desc {
		order = OrderDesc
	}
	return ListQuery{
		PageSize:       c.PageSize,
		Filter:         filter,
		PIT:            c.Filters.PIT,
		OOT:            c.Filters.OOT,
		Expand:         c.Filters.Expand,
		Sort:           Sort{Column: c.Column, Order: order},
		InsertionDate:  opts.InsertionDate,
		GroupBy:        opts.GroupBy,
		IncludeDeleted: opts.IncludeDeleted,
		from:           pos,
	}, nil
}

// encodeCursor renders the token of the page of q starting at pos; opts
// are the list's options (nil for none).
func encodeCursor(q ListQuery, pos position, opts any) string {
	c := cursorJSON{
		Column:   pos.column,
		PageSize: q.pageSize(),
		Filters: filtersJSON{
			PIT:    q.PIT,
			OOT:    q.OOT,
			QB:     mustMarshal(q.Filter),
			Expand: q.Expand,
			Opts:   mustMarshal(opts),
		},
	}
	if pos.desc {
		c.Order = 1
	}
	if pos.keyset {
		c.Bottom, c.PaginationID, c.Reverse = pos.bottom, pos.paginationID, &pos.reverse
	} else {
		c.Offset = &pos.offset
	}
	return api.EncodeCursor(c)
}

// mustMarshal marshals values that always marshal (filters, options).
func mustMarshal(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("projections: " + err.Error())
	}
	return b
}

// GetQuery asks for one transaction or account.
type GetQuery struct {
	// PIT shows the item as it was at that date; nil: now.
	PIT *ledger.Time
	// Expand lists what to add (ExpandVolumes, ExpandEffectiveVolumes).
	Expand []string
}

func (q GetQuery) expands(what string) bool {
	return ListQuery{Expand: q.Expand}.expands(what)
}

// BalancesQuery asks for the balances of a set of accounts summed by asset.
type BalancesQuery struct {
	// Filter selects the accounts (address, metadata[k]).
	Filter query.Expr
	// PIT takes the balances as they were at that date; nil: now.
	PIT *ledger.Time
	// UseInsertionDate dates moves by insertion rather than effective date.
	UseInsertionDate bool
}
