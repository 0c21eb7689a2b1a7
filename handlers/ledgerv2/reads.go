package ledgerv2

import (
	"net/http"
	"strconv"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/handlers/route"
	"github.com/kontorhq/kontor/projections"
)

func (h *Handler) mountReads(r *route.Router) {
	get, head := http.MethodGet, http.MethodHead
	r.Handle(get, "/_info", h.serverInfo)
	r.Handle(get, "", h.listLedgers)
	r.Handle(get, "/", h.listLedgers)
	r.Handle(get, "/{ledger}", h.getLedger)
	r.Handle(get, "/{ledger}/_info", h.ledgerInfo)
	r.Handle(get, "/{ledger}/stats", h.stats)
	r.Handle(get, "/{ledger}/transactions", h.listTransactions)
	r.Handle(head, "/{ledger}/transactions", h.countTransactions)
	r.Handle(get, "/{ledger}/transactions/{id}", h.getTransaction)
	r.Handle(get, "/{ledger}/accounts", h.listAccounts)
	r.Handle(head, "/{ledger}/accounts", h.countAccounts)
	r.Handle(get, "/{ledger}/accounts/{address}", h.getAccount)
	r.Handle(get, "/{ledger}/aggregate/balances", h.aggregateBalances)
	r.Handle(get, "/{ledger}/volumes", h.listVolumes)
	r.Handle(get, "/{ledger}/logs", h.listLogs)
	h.mountLogs(r)
}

// serverInfo is GET /v2/_info.
func (h *Handler) serverInfo(w http.ResponseWriter, r *http.Request) {
	names, err := h.reader.LedgerNames(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	type storage struct {
		Driver  string   `json:"driver"`
		Ledgers []string `json:"ledgers"`
	}
	type config struct {
		Storage storage `json:"storage"`
	}
	ok(w, r, http.StatusOK, struct {
		Server  string `json:"server"`
		Version string `json:"version"`
		Config  config `json:"config"`
	}{"ledger", h.version, config{storage{"postgres", names}}})
}

func (h *Handler) listLedgers(w http.ResponseWriter, r *http.Request) {
	q, err := listQuery(r, query.Ledgers, func(q *projections.ListQuery) error {
		q.IncludeDeleted = queryBool(r, "includeDeleted")
		return nil
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := h.reader.Ledgers(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	okCursor(w, r, c)
}

// getLedger answers 404 NOT_FOUND for an unknown ledger, as the reference
// does on this route (other routes say LEDGER_NOT_FOUND).
func (h *Handler) getLedger(w http.ResponseWriter, r *http.Request) {
	l, err := h.reader.Ledger(r.Context(), r.PathValue("ledger"))
	if domain.ErrorCode(err) == domain.CodeLedgerNotFound {
		err = domain.Errorf(domain.CodeNotFound, "not found")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, l)
}

func (h *Handler) ledgerInfo(w http.ResponseWriter, r *http.Request) {
	info, err := h.reader.LedgerInfo(r.Context(), r.PathValue("ledger"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, info)
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) {
	stats, err := h.reader.Stats(r.Context(), r.PathValue("ledger"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, stats)
}

// transactionsQuery reads a transactions list request: reverse lists in
// ascending ids, and the deprecated order=effective sorts by timestamp.
func transactionsQuery(r *http.Request) (projections.ListQuery, error) {
	return listQuery(r, query.Transactions, func(q *projections.ListQuery) error {
		q.Reverse = queryBool(r, "reverse")
		if q.Sort.Column == "" && r.URL.Query().Get("order") == "effective" {
			q.Sort.Column = "timestamp"
		}
		return nil
	})
}

func (h *Handler) listTransactions(w http.ResponseWriter, r *http.Request) {
	q, err := transactionsQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := h.reader.Transactions(r.Context(), r.PathValue("ledger"), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	okCursor(w, r, c)
}

func (h *Handler) countTransactions(w http.ResponseWriter, r *http.Request) {
	q, err := transactionsQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	n, err := h.reader.CountTransactions(r.Context(), r.PathValue("ledger"), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCount(w, n)
}

func (h *Handler) getTransaction(w http.ResponseWriter, r *http.Request) {
	id, err := transactionID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q, err := getQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tx, err := h.reader.Transaction(r.Context(), r.PathValue("ledger"), id, q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, tx)
}

func (h *Handler) listAccounts(w http.ResponseWriter, r *http.Request) {
	q, err := listQuery(r, query.Accounts, nil)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := h.reader.Accounts(r.Context(), r.PathValue("ledger"), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	okCursor(w, r, c)
}

func (h *Handler) countAccounts(w http.ResponseWriter, r *http.Request) {
	q, err := listQuery(r, query.Accounts, nil)
	if err != nil {
		writeError(w, r, err)
		return
	}
	n, err := h.reader.CountAccounts(r.Context(), r.PathValue("ledger"), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCount(w, n)
}

func (h *Handler) getAccount(w http.ResponseWriter, r *http.Request) {
	q, err := getQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	a, err := h.reader.Account(r.Context(), r.PathValue("ledger"), r.PathValue("address"), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, a)
}

func (h *Handler) aggregateBalances(w http.ResponseWriter, r *http.Request) {
	var (
		q   projections.BalancesQuery
		err error
	)
	q.Filter, err = filter(r, query.AggregatedBalances)
	if err == nil {
		q.PIT, err = dateParam(r, "pit")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	q.UseInsertionDate = queryBool(r, "useInsertionDate") || queryBool(r, "use_insertion_date")
	balances, err := h.reader.AggregatedBalances(r.Context(), r.PathValue("ledger"), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, balances)
}

// listVolumes is GET /{ledger}/volumes; endTime and startTime are the
// legacy names of pit and oot.
func (h *Handler) listVolumes(w http.ResponseWriter, r *http.Request) {
	q, err := listQuery(r, query.Volumes, func(q *projections.ListQuery) error {
		var err error
		if q.PIT == nil {
			q.PIT, err = dateParam(r, "endTime")
		}
		if q.OOT == nil && err == nil {
			q.OOT, err = dateParam(r, "startTime")
		}
		q.InsertionDate = queryBool(r, "insertionDate")
		if raw := r.URL.Query().Get("groupBy"); raw != "" && err == nil {
			q.GroupBy, err = strconv.Atoi(raw)
			if err != nil || q.GroupBy < 0 {
				err = domain.Errorf(domain.CodeValidation, "groupBy must be a non-negative integer, got %q", raw)
			}
		}
		return err
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := h.reader.Volumes(r.Context(), r.PathValue("ledger"), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	okCursor(w, r, c)
}

func (h *Handler) listLogs(w http.ResponseWriter, r *http.Request) {
	q, err := listQuery(r, query.Logs, nil)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := h.reader.Logs(r.Context(), r.PathValue("ledger"), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	okCursor(w, r, c)
}
