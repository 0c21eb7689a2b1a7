package ledgerv2

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/handlers/route"
	"github.com/kontorhq/kontor/platform/api"
)

func (h *Handler) mountWrites(r *route.Router) {
	r.Handle(http.MethodPost, "/{ledger}/transactions", h.createTransaction)
	r.Handle(http.MethodPost, "/{ledger}", h.createLedger)
	r.Handle(http.MethodPut, "/{ledger}/metadata", h.saveLedgerMetadata)
	r.Handle(http.MethodDelete, "/{ledger}/metadata/{key}", h.deleteLedgerMetadata)
	r.Handle(http.MethodPost, "/{ledger}/transactions/{id}/revert", h.revertTransaction)
	r.Handle(http.MethodPost, "/{ledger}/transactions/{id}/metadata", h.saveTransactionMetadata)
	r.Handle(http.MethodDelete, "/{ledger}/transactions/{id}/metadata/{key}", h.deleteTransactionMetadata)
	r.Handle(http.MethodPost, "/{ledger}/accounts/{address}/metadata", h.saveAccountMetadata)
	r.Handle(http.MethodDelete, "/{ledger}/accounts/{address}/metadata/{key}", h.deleteAccountMetadata)
	r.Handle(http.MethodPost, "/{ledger}/_bulk", h.bulk)
}

func (h *Handler) createLedger(w http.ResponseWriter, r *http.Request) {
	var cfg ledger.LedgerConfiguration
	if err := api.DecodeJSON(r, &cfg, true); err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := h.store.CreateLedger(r.Context(), r.PathValue("ledger"), cfg); err != nil {
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
	if err := h.store.SaveLedgerMetadata(r.Context(), r.PathValue("ledger"), md); err != nil {
		writeError(w, r, err)
		return
	}
	api.NoContent(w)
}

func (h *Handler) deleteLedgerMetadata(w http.ResponseWriter, r *http.Request) {
	if err := h.store.DeleteLedgerMetadata(r.Context(), r.PathValue("ledger"), r.PathValue("key")); err != nil {
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
	if err := decodeTransactionRequest(r, &body); err != nil {
		writeError(w, r, err)
		return
	}
	req, mapErr, err := h.transactionCommand(body, queryBool(r, "force"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	res, err := h.submit(r, "createTransaction", body, req)
	answer(w, r, res, mapErr(err), respondTransaction(w, r))
}

// transactionCommand turns the body of a transaction request into the
// store's request, for POST /transactions and the bulk's
// CREATE_TRANSACTION alike; force is the request's ?force flag. mapErr
// gives the errors of running it the codes of the body's runtime.
func (h *Handler) transactionCommand(body transactionRequest, force bool) (req eventstore.Request, mapErr func(error) error, err error) {
	hasScript := body.Script != nil && (body.Script.Plain != "" || body.Script.Template != "")
	switch {
	case hasScript && len(body.Postings) > 0:
		return req, nil, domain.Errorf(domain.CodeValidation, "cannot pass postings and script")
	case body.Runtime != "" && body.Runtime != runtimeMachine && body.Runtime != runtimeInterpreter:
		return req, nil, domain.Errorf(domain.CodeValidation, "unknown runtime %q: want %q or %q",
			body.Runtime, runtimeMachine, runtimeInterpreter)
	case hasScript:
		return h.scriptCommand(body)
	case len(body.Postings) == 0:
		return req, nil, domain.Errorf(domain.CodeNoPostings, "transaction has no postings")
	}
	cmd := ledger.CreateTransaction{
		Postings:        body.Postings,
		Metadata:        body.Metadata,
		Reference:       body.Reference,
		AccountMetadata: body.AccountMetadata,
		Force:           body.Force || force,
	}
	if body.Timestamp != nil {
		cmd.Timestamp = *body.Timestamp
	}
	return eventstore.Request{Command: cmd}, func(err error) error { return err }, nil
}

// scriptCommand is transactionCommand for a Numscript request. The machine
// runtime, the reference's default, reports parse and variable errors as
// COMPILATION_FAILED; the interpreter as INTERPRETER_PARSE and
// INTERPRETER_RUNTIME.
func (h *Handler) scriptCommand(body transactionRequest) (req eventstore.Request, mapErr func(error) error, err error) {
	machine := body.Runtime != runtimeInterpreter
	if body.Script.Template != "" {
		return req, nil, domain.Errorf(domain.CodeValidation,
			"transaction templates need a ledger schema, which this ledger does not have: send the script in plain")
	}
	vars, err := scriptVars(body.Script.Vars)
	if err != nil {
		return req, nil, err
	}
	prog, err := h.scripts.parse(body.Script.Plain)
	if err != nil {
		if machine {
			err = legacyError(nil, err)
		}
		return req, nil, err
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
	mapErr = func(err error) error {
		if err != nil && machine {
			return legacyError(prog, err)
		}
		return err
	}
	return eventstore.Request{Script: script}, mapErr, nil
}

// respondTransaction answers with the transaction a log created.
func respondTransaction(w http.ResponseWriter, r *http.Request) func(eventstore.Result) {
	return func(res eventstore.Result) {
		if res.TransactionJSON != nil {
			write(w, r, http.StatusOK, dataEnvelope(res.TransactionJSON))
			return
		}
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
	operation, request, req := revertCall(ledger.RevertTransaction{ID: id, Force: queryBool(r, "force"),
		AtEffectiveDate: queryBool(r, "atEffectiveDate"), Metadata: body.Metadata})
	h.execute(w, r, operation, request, req, func(res eventstore.Result) {
		ok(w, r, http.StatusCreated, res.Log.Data.(ledger.RevertedTransaction).RevertTransaction)
	})
}

// revertCall returns the store request of cmd, with the operation and
// request that identify it for idempotency, for the single endpoint and
// the bulk's REVERT_TRANSACTION alike.
func revertCall(cmd ledger.RevertTransaction) (operation string, request any, req eventstore.Request) {
	return "revertTransaction", cmd, eventstore.Request{Command: cmd}
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
	operation, request, req := saveMetadataCall(ledger.TransactionTarget(id), md)
	h.execute(w, r, operation, request, req, noContent(w))
}

func (h *Handler) deleteTransactionMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := transactionID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	operation, request, req := deleteMetadataCall(ledger.TransactionTarget(id), r.PathValue("key"))
	h.execute(w, r, operation, request, req, noContent(w))
}

func (h *Handler) saveAccountMetadata(w http.ResponseWriter, r *http.Request) {
	var md ledger.Metadata
	if err := api.DecodeJSON(r, &md, false); err != nil {
		writeError(w, r, err)
		return
	}
	operation, request, req := saveMetadataCall(ledger.AccountTarget(r.PathValue("address")), md)
	h.execute(w, r, operation, request, req, noContent(w))
}

func (h *Handler) deleteAccountMetadata(w http.ResponseWriter, r *http.Request) {
	operation, request, req := deleteMetadataCall(ledger.AccountTarget(r.PathValue("address")), r.PathValue("key"))
	h.execute(w, r, operation, request, req, noContent(w))
}

// saveMetadataCall returns the store request that adds md to target, with
// the operation and request that identify it for idempotency, for the
// single endpoints and the bulk's ADD_METADATA alike.
func saveMetadataCall(target ledger.MetadataTarget, md ledger.Metadata) (operation string, request any, req eventstore.Request) {
	req = eventstore.Request{Command: ledger.SaveMetadata{Target: target, Metadata: md}}
	if target.Type == ledger.TargetTransaction {
		return "saveTransactionMetadata", map[string]any{"id": target.TransactionID, "metadata": md}, req
	}
	return "saveAccountMetadata", map[string]any{"address": target.Address, "metadata": md}, req
}

// deleteMetadataCall is saveMetadataCall for the deletion of key.
func deleteMetadataCall(target ledger.MetadataTarget, key string) (operation string, request any, req eventstore.Request) {
	req = eventstore.Request{Command: ledger.DeleteMetadata{Target: target, Key: key}}
	if target.Type == ledger.TargetTransaction {
		return "deleteTransactionMetadata", map[string]any{"id": target.TransactionID, "key": key}, req
	}
	return "deleteAccountMetadata", map[string]any{"address": target.Address, "key": key}, req
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
	req, err := withIdempotencyKey(req, r.Header.Get("Idempotency-Key"), operation, request,
		queryBool(r, "force"), queryBool(r, "atEffectiveDate"))
	if err != nil {
		return eventstore.Result{}, err
	}
	req.DryRun = queryBool(r, "dryRun")
	return h.store.Execute(r.Context(), r.PathValue("ledger"), req)
}

// withIdempotencyKey returns req with the idempotency key ik (when not
// empty) and the hash of what identifies the call: the operation, its
// request and its force and atEffectiveDate flags. A single request and a
// bulk element asking the same thing hash alike.
func withIdempotencyKey(req eventstore.Request, ik, operation string, request any, force, atEffectiveDate bool) (eventstore.Request, error) {
	if err := ledger.ValidateIdempotencyKey(ik); err != nil {
		return req, err
	}
	req.IdempotencyKey = ik
	if ik != "" {
		req.IdempotencyHash = ledger.IdempotencyHash(map[string]any{
			"operation": operation, "request": request,
			"force": force, "atEffectiveDate": atEffectiveDate,
		})
	}
	return req, nil
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
	raw := r.PathValue("id")
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return 0, domain.Errorf(domain.CodeValidation, "invalid transaction id %q: want a non-negative integer", raw)
	}
	return id, nil
}
