package ledgerv2

import (
	"context"
	"errors"
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
	case body.Runtime != "" && body.Runtime != runtimeMachine && body.Runtime != runtimeInterpreter:
		writeError(w, r, domain.Errorf(domain.CodeValidation, "unknown runtime %q: want %q or %q",
			body.Runtime, runtimeMachine, runtimeInterpreter))
		return
	case hasScript:
		h.runScript(w, r, body)
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
	h.execute(w, r, "createTransaction", body, eventstore.Request{Command: cmd}, respondTransaction(w, r))
}

// runScript creates the transaction of a Numscript request. The machine
// runtime, the reference's default, reports parse and variable errors as
// COMPILATION_FAILED; the interpreter as INTERPRETER_PARSE and
// INTERPRETER_RUNTIME.
func (h *Handler) runScript(w http.ResponseWriter, r *http.Request, body transactionRequest) {
	machine := body.Runtime != runtimeInterpreter
	if body.Script.Template != "" {
		writeError(w, r, domain.Errorf(domain.CodeValidation,
			"transaction templates need a ledger schema, which this ledger does not have: send the script in plain"))
		return
	}
	vars, err := scriptVars(body.Script.Vars)
	if err != nil {
		writeError(w, r, err)
		return
	}
	prog, err := h.scripts.parse(body.Script.Plain)
	if err != nil {
		if machine {
			err = legacyError(nil, err)
		}
		writeError(w, r, err)
		return
	}
	script := &eventstore.Script{
		Program:         prog,
		Vars:            vars,
		Metadata:        body.Metadata,
		Reference:       body.Reference,
		AccountMetadata: body.AccountMetadata,
	}
	if body.Timestamp != nil {
		script.Timestamp = *body.Timestamp
	}
	res, err := h.submit(r, "createTransaction", body, eventstore.Request{Script: script})
	if err != nil && machine {
		err = legacyError(prog, err)
	}
	answer(w, r, res, err, respondTransaction(w, r))
}

// respondTransaction answers with the transaction a log created.
func respondTransaction(w http.ResponseWriter, r *http.Request) func(eventstore.Result) {
	return func(res eventstore.Result) {
		ok(w, r, http.StatusOK, res.Log.Data.(ledger.CreatedTransaction).Transaction)
	}
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
	h.execute(w, r, "revertTransaction", cmd, eventstore.Request{Command: cmd}, func(res eventstore.Result) {
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
	h.execute(w, r, "saveTransactionMetadata", map[string]any{"id": id, "metadata": md}, eventstore.Request{Command: cmd}, noContent(w))
}

func (h *Handler) deleteTransactionMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := transactionID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	key := mux.Vars(r)["key"]
	cmd := ledger.DeleteMetadata{Target: ledger.TransactionTarget(id), Key: key}
	h.execute(w, r, "deleteTransactionMetadata", map[string]any{"id": id, "key": key}, eventstore.Request{Command: cmd}, noContent(w))
}

func (h *Handler) saveAccountMetadata(w http.ResponseWriter, r *http.Request) {
	address := mux.Vars(r)["address"]
	var md ledger.Metadata
	if err := api.DecodeJSON(r, &md, false); err != nil {
		writeError(w, r, err)
		return
	}
	cmd := ledger.SaveMetadata{Target: ledger.AccountTarget(address), Metadata: md}
	h.execute(w, r, "saveAccountMetadata", map[string]any{"address": address, "metadata": md}, eventstore.Request{Command: cmd}, noContent(w))
}

func (h *Handler) deleteAccountMetadata(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	cmd := ledger.DeleteMetadata{Target: ledger.AccountTarget(vars["address"]), Key: vars["key"]}
	h.execute(w, r, "deleteAccountMetadata", map[string]any{"address": vars["address"], "key": vars["key"]}, eventstore.Request{Command: cmd}, noContent(w))
}

// execute runs req on the request's ledger (see submit) and answers with
// respond.
func (h *Handler) execute(w http.ResponseWriter, r *http.Request, operation string, request any, req eventstore.Request,
	respond func(eventstore.Result)) {
	res, err := h.submit(r, operation, request, req)
	answer(w, r, res, err, respond)
}

// submit runs req on the request's ledger with its Idempotency-Key and
// dryRun options. request is what identifies the call for idempotency: the
// same key with another request is refused.
func (h *Handler) submit(r *http.Request, operation string, request any, req eventstore.Request) (eventstore.Result, error) {
	ik := r.Header.Get("Idempotency-Key")
	if err := ledger.ValidateIdempotencyKey(ik); err != nil {
		return eventstore.Result{}, err
	}
	req.IdempotencyKey, req.DryRun = ik, queryBool(r, "dryRun")
	if ik != "" {
		req.IdempotencyHash = ledger.IdempotencyHash(map[string]any{
			"operation": operation, "request": request,
			"force": queryBool(r, "force"), "atEffectiveDate": queryBool(r, "atEffectiveDate"),
		})
	}
	return h.store.Execute(r.Context(), mux.Vars(r)["ledger"], req)
}

// answer writes err, or res with respond, adding Idempotency-Hit on a
// replay. Nothing is written for a caller that went away.
func answer(w http.ResponseWriter, r *http.Request, res eventstore.Result, err error, respond func(eventstore.Result)) {
	if err != nil {
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
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
