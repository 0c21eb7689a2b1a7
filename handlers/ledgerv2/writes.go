package ledgerv2

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/platform/api"
)

func (h *Handler) mountWrites(r *mux.Router) {
	r.HandleFunc("/{ledger}", h.createLedger).Methods(http.MethodPost)
	r.HandleFunc("/{ledger}/metadata", h.saveLedgerMetadata).Methods(http.MethodPut)
	r.HandleFunc("/{ledger}/metadata/{key}", h.deleteLedgerMetadata).Methods(http.MethodDelete)
	r.HandleFunc("/{ledger}/transactions", h.createTransaction).Methods(http.MethodPost)
	r.HandleFunc("/{ledger}/transactions/{id}/revert", h.revertTransaction).Methods(http.MethodPost)
	r.HandleFunc("/{ledger}/transactions/{id}/metadata", h.saveTransactionMetadata).Methods(http.MethodPost)
	r.HandleFunc("/{ledger}/transactions/{id}/metadata/{key}", h.deleteTransactionMetadata).Methods(http.MethodDelete)
	r.HandleFunc("/{ledger}/accounts/{address}/metadata", h.saveAccountMetadata).Methods(http.MethodPost)
	r.HandleFunc("/{ledger}/accounts/{address}/metadata/{key}", h.deleteAccountMetadata).Methods(http.MethodDelete)
}

func (h *Handler) createLedger(w http.ResponseWriter, r *http.Request) {
	var cfg ledger.LedgerConfiguration
	if err := api.DecodeJSON(r, &cfg, true); err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := h.store.CreateLedger(r.Context(), mux.Vars(r)["ledger"], cfg); err != nil {
		writeError(w, r, err)
		return
	}
	api.NoContent(w)
}

func (h *Handler) saveLedgerMetadata(w http.ResponseWriter, r *http.Request) {
	var md ledger.Metadata
	if err := api.DecodeJSON(r, &md, false); err != nil {
		writeError(w, r, err)
		return
	}
	if err := h.store.SaveLedgerMetadata(r.Context(), mux.Vars(r)["ledger"], md); err != nil {
		writeError(w, r, err)
		return
	}
	api.NoContent(w)
}

func (h *Handler) deleteLedgerMetadata(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	if err := h.store.DeleteLedgerMetadata(r.Context(), vars["ledger"], vars["key"]); err != nil {
		writeError(w, r, err)
		return
	}
	api.NoContent(w)
}

// transactionRequest is the body of POST /{ledger}/transactions.
type transactionRequest struct {
	Postings        ledger.Postings        `json:"postings"`
	Script          *scriptRequest         `json:"script"`
	Timestamp       *ledger.Time           `json:"timestamp"`
	Reference       string                 `json:"reference"`
	Metadata        ledger.Metadata        `json:"metadata"`
	AccountMetadata ledger.AccountMetadata `json:"accountMetadata"`
	Force           bool                   `json:"force"`
	Runtime         string                 `json:"runtime"`
}

type scriptRequest struct {
	Plain    string         `json:"plain"`
	Template string         `json:"template"`
	Vars     map[string]any `json:"vars"`
}

func (h *Handler) createTransaction(w http.ResponseWriter, r *http.Request) {
	var body transactionRequest
	if err := api.DecodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	hasScript := body.Script != nil && (body.Script.Plain != "" || body.Script.Template != "")
	switch {
	case hasScript && len(body.Postings) > 0:
		writeError(w, r, domain.Errorf(domain.CodeValidation, "cannot pass postings and script"))
		return
	case hasScript:
		writeError(w, r, domain.Errorf(domain.CodeValidation,
			"numscript transactions are not supported yet by this Kontor version: send postings instead"))
		return
	case len(body.Postings) == 0:
		writeError(w, r, domain.Errorf(domain.CodeNoPostings, "transaction has no postings"))
		return
	}
	cmd := ledger.CreateTransaction{
		Postings:        body.Postings,
		Metadata:        body.Metadata,
		Reference:       body.Reference,
		AccountMetadata: body.AccountMetadata,
		Force:           body.Force || queryBool(r, "force"),
	}
	if body.Timestamp != nil {
		cmd.Timestamp = *body.Timestamp
	}
	h.execute(w, r, "createTransaction", body, cmd, func(res eventstore.Result) {
		ok(w, r, http.StatusOK, res.Log.Data.(ledger.CreatedTransaction).Transaction)
	})
}

func (h *Handler) revertTransaction(w http.ResponseWriter, r *http.Request) {
	id, err := transactionID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body struct {
		Metadata ledger.Metadata `json:"metadata"`
	}
	if err := api.DecodeJSON(r, &body, true); err != nil {
		writeError(w, r, err)
		return
	}
	cmd := ledger.RevertTransaction{ID: id, Force: queryBool(r, "force"),
		AtEffectiveDate: queryBool(r, "atEffectiveDate"), Metadata: body.Metadata}
	h.execute(w, r, "revertTransaction", cmd, cmd, func(res eventstore.Result) {
		ok(w, r, http.StatusCreated, res.Log.Data.(ledger.RevertedTransaction).RevertTransaction)
	})
}

func (h *Handler) saveTransactionMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := transactionID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var md ledger.Metadata
	if err := api.DecodeJSON(r, &md, false); err != nil {
		writeError(w, r, err)
		return
	}
	cmd := ledger.SaveMetadata{Target: ledger.TransactionTarget(id), Metadata: md}
	h.execute(w, r, "saveTransactionMetadata", map[string]any{"id": id, "metadata": md}, cmd, noContent(w))
}

func (h *Handler) deleteTransactionMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := transactionID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	key := mux.Vars(r)["key"]
	cmd := ledger.DeleteMetadata{Target: ledger.TransactionTarget(id), Key: key}
	h.execute(w, r, "deleteTransactionMetadata", map[string]any{"id": id, "key": key}, cmd, noContent(w))
}

func (h *Handler) saveAccountMetadata(w http.ResponseWriter, r *http.Request) {
	address := mux.Vars(r)["address"]
	var md ledger.Metadata
	if err := api.DecodeJSON(r, &md, false); err != nil {
		writeError(w, r, err)
		return
	}
	cmd := ledger.SaveMetadata{Target: ledger.AccountTarget(address), Metadata: md}
	h.execute(w, r, "saveAccountMetadata", map[string]any{"address": address, "metadata": md}, cmd, noContent(w))
}

func (h *Handler) deleteAccountMetadata(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	cmd := ledger.DeleteMetadata{Target: ledger.AccountTarget(vars["address"]), Key: vars["key"]}
	h.execute(w, r, "deleteAccountMetadata", map[string]any{"address": vars["address"], "key": vars["key"]}, cmd, noContent(w))
}

// execute runs cmd on the request's ledger with its Idempotency-Key and
// dryRun options, then answers with respond, adding Idempotency-Hit on a
// replay. request is what identifies the call for idempotency: the same key
// with another request is refused.
func (h *Handler) execute(w http.ResponseWriter, r *http.Request, operation string, request any, cmd ledger.Command,
	respond func(eventstore.Result)) {
	ik := r.Header.Get("Idempotency-Key")
	if err := ledger.ValidateIdempotencyKey(ik); err != nil {
		writeError(w, r, err)
		return
	}
	req := eventstore.Request{Command: cmd, IdempotencyKey: ik, DryRun: queryBool(r, "dryRun")}
	if ik != "" {
		req.IdempotencyHash = ledger.IdempotencyHash(map[string]any{
			"operation": operation, "request": request,
			"force": queryBool(r, "force"), "atEffectiveDate": queryBool(r, "atEffectiveDate"),
		})
	}
	res, err := h.store.Execute(r.Context(), mux.Vars(r)["ledger"], req)
	if err != nil {
		if r.Context().Err() != nil && err == context.Canceled {
			return
		}
		writeError(w, r, err)
		return
	}
	if res.IdempotencyHit {
		w.Header().Set("Idempotency-Hit", "true")
	}
	respond(res)
}

func noContent(w http.ResponseWriter) func(eventstore.Result) {
	return func(eventstore.Result) { api.NoContent(w) }
}

func transactionID(r *http.Request) (uint64, error) {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return 0, domain.Errorf(domain.CodeValidation, "invalid transaction id %q: want a non-negative integer", raw)
	}
	return id, nil
}
