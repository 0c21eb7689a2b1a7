// Package query holds the ledger filter language: a typed AST, the per-resource
// schemas that say which fields and operators a list endpoint accepts, and
// the parser that turns the JSON form into a validated AST.
//
// The JSON form is the reference's (Formance go-libs query): every object has
// exactly one key.
//
//	{"$and": [expr, ...]}            all sub-expressions match
//	{"$or":  [expr, ...]}            at least one matches
//	{"$not": expr}                   expr does not match
//	{"$match": {"field": value}}     a leaf; likewise $like, $in, $lt, $lte, $gt, $gte
//	{"$exists": {"metadata": "k"}}   the map field holds key k
//
// An empty body, JSON null or {} means "no filter": Parse returns a nil Expr.
//
// Parse returns a tree of the value types And, Or, Not and Leaf (never
// pointers), so a SQL builder can walk it with a type switch:
//
//	switch e := e.(type) {
//	case query.And:  // join e.Exprs with AND; no Exprs = TRUE
//	case query.Or:   // join e.Exprs with OR;  no Exprs = FALSE
//	case query.Not:  // NOT (e.Expr)
//	case query.Leaf: // one predicate, see Leaf
//	}
//
// What a Leaf means, by field type (see Type):
//   - TypeAddress, $match: the value is an address pattern (ParseAddressPattern);
//     a full address compares for equality, otherwise segments are checked.
//     $in holds full addresses only. $like is SQL LIKE on the address text.
//   - TypeString: $match is equality, $like is SQL LIKE (escape character \),
//     $in is membership in a []string (an empty list matches nothing).
//   - TypeInt: the value is a *big.Int; it may exceed int64.
//   - TypeDate: the value is a time.Time in UTC, rounded to the microsecond.
//   - TypeBool: the value is a bool.
//   - map fields (metadata, balance, features): Leaf.Key holds the key of
//     metadata[k], balance[ASSET] or features[F]; an empty Key on balance means
//     "some asset's balance satisfies the comparison". $exists carries the key
//     in Key and a nil Value.
package query
