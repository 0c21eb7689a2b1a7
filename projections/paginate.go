package projections

import (
	"context"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/platform/api"
)

// listSpec describes how a list sorts and pages.
type listSpec struct {
	// column and desc are the default order.
	column string
	desc   bool
	// key is the unique bigint column paged by keyset when the list is
	// sorted on it; every other order pages by offset.
	key string
	// sortable maps each sortable column to its SQL expression.
	sortable map[string]string
	// tiebreak lists SQL expressions, unique together, that end offset
	// orders so that pages neither repeat nor skip rows.
	tiebreak []string
	// opts are the list's options as its cursors carry them (nil: none).
	opts any
}

// plan returns where the page of q starts: from its cursor, or at the top
// of the order its parameters ask for.
func (s listSpec) plan(q ListQuery) (position, error) {
	if q.from != nil {
		pos := *q.from
		if _, ok := s.sortable[pos.column]; !ok || pos.keyset != (pos.column == s.key) {
			return position{}, domain.Errorf(domain.CodeValidation, "invalid cursor: it does not page this list")
		}
		return pos, nil
	}
	pos := position{column: s.column, desc: s.desc}
	if q.Reverse {
		pos.desc = !pos.desc
	}
	if q.Sort.Column != "" {
		if _, ok := s.sortable[q.Sort.Column]; !ok {
			return position{}, domain.Errorf(domain.CodeValidation, "cannot sort on %q", q.Sort.Column)
		}
		pos.column = q.Sort.Column
	}
	switch q.Sort.Order {
	case OrderAsc:
		pos.desc = false
	case OrderDesc:
		pos.desc = true
	}
	pos.keyset = pos.column == s.key
	return pos, nil
}

// scanFunc reads one row of a list and returns the item and its key (the
// value of listSpec.key; ignored for offset paging).
type scanFunc[T any] func(pgx.Rows) (T, int64, error)

// page runs the query of one page and builds its cursor. sel is the
// statement without its order, "SELECT … WHERE <condition>", whose
// parameters b holds.
func page[T any](ctx context.Context, db *pgxpool.Pool, spec listSpec, q ListQuery, b *sqlBuilder, sel string, scan scanFunc[T]) (api.Cursor[T], error) {
	pos, err := spec.plan(q)
	if err != nil {
		return api.Cursor[T]{}, err
	}
	size := q.pageSize()
	col := spec.sortable[pos.column]
	// A backward page (a previous link) ends right before its bound and is
	// read in the opposite order; a forward page starts at its bound.
	backwards := pos.keyset && pos.reverse && pos.paginationID != nil
	desc := pos.desc != backwards
	order := col + direction(desc)
	switch {
	case pos.keyset && pos.paginationID != nil:
		op := " >= "
		switch {
		case backwards && pos.desc:
			op = " > "
		case backwards:
			op = " < "
		case pos.desc:
			op = " <= "
		}
		sel += " AND " + col + op + b.bind(*pos.paginationID)
	case !pos.keyset:
		for _, col := range spec.tiebreak {
			order += ", " + col + direction(desc)
		}
	}
	sel += " ORDER BY " + order + " LIMIT " + strconv.Itoa(size+1)
	if !pos.keyset {
		sel += " OFFSET " + b.bind(pos.offset)
	}

	rows, err := db.Query(ctx, sel, b.args...)
	if err != nil {
		return api.Cursor[T]{}, err
	}
	var (
		items []T
		keys  []int64
	)
	for rows.Next() {
		item, key, err := scan(rows)
		if err != nil {
			rows.Close()
			return api.Cursor[T]{}, err
		}
		items, keys = append(items, item), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return api.Cursor[T]{}, err
	}
	more := len(items) > size
	var extra int64 // the key of the row read past the page
	if more {
		extra = keys[size]
		items, keys = items[:size], keys[:size]
	}
	if backwards {
		slices.Reverse(items)
		slices.Reverse(keys)
	}

	c := api.Cursor[T]{PageSize: size, Data: items}
	var next, previous *position
	if pos.keyset {
		next, previous = keysetLinks(pos, keys, more, extra, backwards)
	} else {
		next, previous = offsetLinks(pos, size, more)
	}
	if next != nil {
		c.Next = encodeCursor(q, *next, spec.opts)
	}
	if previous != nil {
		c.Previous = encodeCursor(q, *previous, spec.opts)
	}
	c.HasMore = c.Next != ""
	return c, nil
}

func direction(desc bool) string {
	if desc {
		return " DESC"
	}
	return " ASC"
}

// keysetLinks returns the positions of the pages around a keyset page
// whose rows have keys (in display order). more tells whether a row, whose
// key is extra, lay beyond the page in the direction it was read. The next
// page starts at the first row after this one; the previous one ends right
// before this page's first row; bottom is the first row of the first page.
func keysetLinks(pos position, keys []int64, more bool, extra int64, backwards bool) (next, previous *position) {
	at := func(id int64, reverse bool) *position {
		p := pos
		p.paginationID, p.reverse = &id, reverse
		return &p
	}
	if backwards {
		next = at(*pos.paginationID, false)
		if more && len(keys) > 0 {
			previous = at(keys[0], true)
		} else if len(keys) > 0 {
			next.bottom = &keys[0] // this is the first page
		}
		return next, previous
	}
	if pos.paginationID == nil && len(keys) > 0 {
		pos.bottom = &keys[0]
	}
	if more {
		next = at(extra, false)
	}
	if pos.paginationID != nil && (pos.bottom == nil || *pos.paginationID != *pos.bottom) && len(keys) > 0 {
		previous = at(keys[0], true)
	}
	return next, previous
}

func offsetLinks(pos position, size int, more bool) (next, previous *position) {
	if more {
		p := pos
		p.offset = pos.offset + size
		next = &p
	}
	if pos.offset > 0 {
		p := pos
		p.offset = max(pos.offset-size, 0)
		previous = &p
	}
	return next, previous
}
