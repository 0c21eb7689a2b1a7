package ledgerv2

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/eventstore"
)

// The content types of the two bulk streams (spec §3.8); any other is a
// JSON array.
const (
	bulkJSONStream   = "application/vnd.formance.ledger.api.v2.bulk+json-stream"
	bulkScriptStream = "application/vnd.formance.ledger.api.v2.bulk+script-stream"
)

// The actions of bulk elements, which are also the responseType of their
// results.
const (
	actionCreateTransaction = "CREATE_TRANSACTION"
	actionAddMetadata       = "ADD_METADATA"
	actionRevertTransaction = "REVERT_TRANSACTION"
	actionDeleteMetadata    = "DELETE_METADATA"
	responseError           = "ERROR"
)

const (
	// maxBulkElements bounds an application/json bulk, like the
	// reference's --bulk-max-size; streams are bounded by the body size.
	maxBulkElements = 100
	// bulkParallelism is how many elements a parallel bulk runs at once,
	// like the reference's --bulk-parallel.
	bulkParallelism = 10
	// maxScriptLine bounds one line of a script stream.
	maxScriptLine = 1 << 20
)

// bulkElement is one element of a bulk as sent.
type bulkElement struct {
	Action string          `json:"action"`
	IK     string          `json:"ik"`
	Data   json.RawMessage `json:"data"`
}

// bulkCall is an element made ready to run.
type bulkCall struct {
	action string
	req    eventstore.Request
	// mapErr gives the store's errors the codes of the element's runtime.
	mapErr func(error) error
	// err, when set, is why the element cannot run: it fails with err.
	err error
}

// bulkResult is the result of one element (V2BulkElementResult).
type bulkResult struct {
	ResponseType     string `json:"responseType"`
	Data             any    `json:"data,omitempty"`
	ErrorCode        string `json:"errorCode,omitempty"`
	ErrorDescription string `json:"errorDescription,omitempty"`
	ErrorDetails     string `json:"errorDetails,omitempty"`
	LogID            uint64 `json:"logID"`
}

// bulk is POST /{ledger}/_bulk: runs the elements of the body in order,
// one after the other (default), ten at a time (parallel) or all or none
// (atomic), and answers with one result per element, in request order:
// 200, or 400 when any element failed. Without continueOnFailure, the
// elements after a failure are not run. A malformed body runs nothing.
func (h *Handler) bulk(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("ledger")
	if _, err := h.reader.Ledger(r.Context(), name); err != nil {
		writeError(w, r, err)
		return
	}
	atomicBulk, parallel, continueOnFailure := queryBool(r, "atomic"), queryBool(r, "parallel"), queryBool(r, "continueOnFailure")
	if atomicBulk && parallel {
		writeError(w, r, domain.Errorf(domain.CodeValidation, "a bulk cannot be both atomic and parallel"))
		return
	}
	elements, err := readBulk(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	calls := make([]bulkCall, len(elements))
	for i, e := range elements {
		if calls[i], err = h.bulkCall(e); err != nil {
			writeError(w, r, elementError(i, err))
			return
		}
	}

	var results []bulkResult
	switch {
	case atomicBulk:
		results, err = h.runAtomic(r, name, calls, continueOnFailure)
	case parallel:
		results = h.runParallel(r, name, calls, continueOnFailure)
	default:
		results = h.runSequential(r, name, calls, continueOnFailure)
	}
	if r.Context().Err() != nil {
		return // the caller went away
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	status := http.StatusOK
	for _, res := range results {
		if res.ResponseType == responseError {
			status = http.StatusBadRequest
		}
	}
	respond(w, r, status, map[string]any{"data": results})
}

// runSequential runs the calls one after the other.
func (h *Handler) runSequential(r *http.Request, name string, calls []bulkCall, continueOnFailure bool) []bulkResult {
	results := make([]bulkResult, len(calls))
	failed := -1
	for i, c := range calls {
		if failed >= 0 && !continueOnFailure {
			results[i] = canceledResult(fmt.Sprintf("not run: element %d failed", failed))
			continue
		}
		results[i] = h.runCall(r, name, c)
		if results[i].ResponseType == responseError && failed < 0 {
			failed = i
		}
	}
	return results
}

// runParallel runs the calls bulkParallelism at a time, started in order;
// the sequencer batches them.
func (h *Handler) runParallel(r *http.Request, name string, calls []bulkCall, continueOnFailure bool) []bulkResult {
	results := make([]bulkResult, len(calls))
	next := make(chan int)
	var (
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	for range min(bulkParallelism, len(calls)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if failed.Load() && !continueOnFailure {
					results[i] = canceledResult("not run: an element failed")
					continue
				}
				results[i] = h.runCall(r, name, calls[i])
				if results[i].ResponseType == responseError {
					failed.Store(true)
				}
			}
		}()
	}
	for i := range calls {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// runAtomic runs the calls in one batch: all are written, or none. When
// one fails, the others report that they were not written (without
// continueOnFailure, the ones after the first failure report that they
// were not run, as in the other modes).
func (h *Handler) runAtomic(r *http.Request, name string, calls []bulkCall, continueOnFailure bool) ([]bulkResult, error) {
	errs := make([]error, len(calls))
	var stored []eventstore.Result
	buildFailed := false
	for i, c := range calls {
		if c.err != nil {
			errs[i], buildFailed = c.err, true
		}
	}
	if !buildFailed {
		reqs := make([]eventstore.Request, len(calls))
		for i, c := range calls {
			reqs[i] = c.req
		}
		var err error
		if stored, errs, err = h.store.ExecuteAtomic(r.Context(), name, reqs); err != nil {
			return nil, err
		}
		for i, c := range calls {
			errs[i] = c.mapErr(errs[i])
		}
	}
	first := -1
	for i, err := range errs {
		if err != nil {
			first = i
			break
		}
	}
	results := make([]bulkResult, len(calls))
	for i, c := range calls {
		switch {
		case first < 0:
			results[i] = successResult(c.action, stored[i])
		case i > first && !continueOnFailure:
			results[i] = canceledResult(fmt.Sprintf("not run: element %d failed", first))
		case errs[i] != nil:
			results[i] = h.errorResult(r, errs[i])
		default:
			results[i] = canceledResult(fmt.Sprintf("not written: the bulk is atomic and element %d failed", first))
		}
	}
	return results, nil
}

// runCall runs one call on its own.
func (h *Handler) runCall(r *http.Request, name string, c bulkCall) bulkResult {
	if c.err != nil {
		return h.errorResult(r, c.err)
	}
	res, err := h.store.Execute(r.Context(), name, c.req)
	if err = c.mapErr(err); err != nil {
		return h.errorResult(r, err)
	}
	return successResult(c.action, res)
}

// successResult is the result of an element that wrote res's log: with
// the transaction for a creation or a revert.
func successResult(action string, res eventstore.Result) bulkResult {
	out := bulkResult{ResponseType: action, LogID: res.Log.ID}
	switch data := res.Log.Data.(type) {
	case ledger.CreatedTransaction:
		out.Data = data.Transaction
		if res.TransactionJSON != nil {
			out.Data = json.RawMessage(res.TransactionJSON)
		}
	case ledger.RevertedTransaction:
		out.Data = data.RevertTransaction
	}
	return out
}

// errorResult is the result of an element that failed with err.
func (h *Handler) errorResult(r *http.Request, err error) bulkResult {
	out := bulkResult{ResponseType: responseError, ErrorCode: domain.ErrorCode(err), ErrorDescription: domain.ErrorMessage(err)}
	var de *domain.Error
	if !errors.As(err, &de) {
		slog.ErrorContext(r.Context(), "bulk element failed", "path", r.URL.Path, "error", err)
		return out
	}
	switch d := de.Details.(type) {
	case nil:
	case string:
		out.ErrorDetails = d
	default:
		if b, err := json.Marshal(d); err == nil {
			out.ErrorDetails = string(b)
		}
	}
	return out
}

// canceledResult is the result of an element that was not run, or not
// written, because another one failed: the reference reports "context
// canceled" with code INTERNAL; details says why.
func canceledResult(details string) bulkResult {
	return bulkResult{ResponseType: responseError, ErrorCode: domain.CodeInternal,
		ErrorDescription: "context canceled", ErrorDetails: details}
}

// bulkCall turns an element into the store request a single request
// asking the same would make, with the same idempotency hash. A malformed
// element is an error; an element that is well formed but cannot run (no
// postings, a script that does not parse) is a call that fails.
func (h *Handler) bulkCall(e bulkElement) (bulkCall, error) {
	c := bulkCall{action: e.Action, mapErr: func(err error) error { return err }}
	if err := ledger.ValidateIdempotencyKey(e.IK); err != nil {
		return c, err
	}
	switch e.Action {
	case actionCreateTransaction, actionAddMetadata, actionRevertTransaction, actionDeleteMetadata:
	default:
		return c, domain.Errorf(domain.CodeValidation, "unknown action %q: want %s, %s, %s or %s", e.Action,
			actionCreateTransaction, actionAddMetadata, actionRevertTransaction, actionDeleteMetadata)
	}
	if data := bytes.TrimSpace(e.Data); len(data) == 0 || string(data) == "null" {
		return c, domain.Errorf(domain.CodeValidation, "data is required")
	}
	var (
		operation string
		request   any
		force     bool
		atDate    bool
	)
	switch e.Action {
	case actionCreateTransaction:
		var body transactionRequest
		if err := decodeData(e.Data, &body); err != nil {
			return c, err
		}
		req, mapErr, err := h.transactionCommand(body, false)
		if err != nil {
			c.err = err
			return c, nil
		}
		c.req, c.mapErr, operation, request = req, mapErr, "createTransaction", body
	case actionAddMetadata:
		var data struct {
			TargetType ledger.TargetType `json:"targetType"`
			TargetID   json.RawMessage   `json:"targetId"`
			Metadata   ledger.Metadata   `json:"metadata"`
		}
		if err := decodeData(e.Data, &data); err != nil {
			return c, err
		}
		target, err := metadataTarget(data.TargetType, data.TargetID)
		if err != nil {
			return c, err
		}
		if data.Metadata == nil {
			return c, domain.Errorf(domain.CodeValidation, "metadata is required")
		}
		operation, request, c.req = saveMetadataCall(target, data.Metadata)
	case actionRevertTransaction:
		var data struct {
			ID              *uint64         `json:"id"`
			Force           bool            `json:"force"`
			AtEffectiveDate bool            `json:"atEffectiveDate"`
			Metadata        ledger.Metadata `json:"metadata"`
		}
		if err := decodeData(e.Data, &data); err != nil {
			return c, err
		}
		if data.ID == nil {
			return c, domain.Errorf(domain.CodeValidation, "id is required: the id of the transaction to revert")
		}
		cmd := ledger.RevertTransaction{ID: *data.ID, Force: data.Force, AtEffectiveDate: data.AtEffectiveDate, Metadata: data.Metadata}
		operation, request, c.req = revertCall(cmd)
		force, atDate = data.Force, data.AtEffectiveDate
	case actionDeleteMetadata:
		var data struct {
			TargetType ledger.TargetType `json:"targetType"`
			TargetID   json.RawMessage   `json:"targetId"`
			Key        string            `json:"key"`
		}
		if err := decodeData(e.Data, &data); err != nil {
			return c, err
		}
		target, err := metadataTarget(data.TargetType, data.TargetID)
		if err != nil {
			return c, err
		}
		if data.Key == "" {
			return c, domain.Errorf(domain.CodeValidation, "key is required")
		}
		operation, request, c.req = deleteMetadataCall(target, data.Key)
	}
	req, err := withIdempotencyKey(c.req, e.IK, operation, request, force, atDate)
	if err != nil {
		return c, err
	}
	c.req = req
	return c, nil
}

// metadataTarget reads the targetType and targetId of a metadata element:
// an address string for an account, a non-negative integer (or a string
// holding one) for a transaction.
func metadataTarget(typ ledger.TargetType, id json.RawMessage) (ledger.MetadataTarget, error) {
	if len(id) == 0 || string(id) == "null" {
		return ledger.MetadataTarget{}, domain.Errorf(domain.CodeValidation, "targetId is required")
	}
	switch typ {
	case ledger.TargetAccount:
		var address string
		if err := json.Unmarshal(id, &address); err != nil {
			return ledger.MetadataTarget{}, domain.Errorf(domain.CodeValidation, "targetId of an ACCOUNT must be an address string, not %s", id)
		}
		return ledger.AccountTarget(address), nil
	case ledger.TargetTransaction:
		n, err := strconv.ParseUint(string(bytes.Trim(id, `"`)), 10, 64)
		if err != nil {
			return ledger.MetadataTarget{}, domain.Errorf(domain.CodeValidation, "targetId of a TRANSACTION must be a transaction id (a non-negative integer), not %s", id)
		}
		return ledger.TransactionTarget(n), nil
	}
	return ledger.MetadataTarget{}, domain.Errorf(domain.CodeValidation, "targetType must be ACCOUNT or TRANSACTION, not %q", typ)
}

// decodeData decodes an element's data into v, numbers kept as written.
func decodeData(data json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return malformed("data", err)
	}
	return nil
}

// malformed describes a JSON decoding error of what.
func malformed(what string, err error) error {
	var (
		de     *domain.Error
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &de):
		return de
	case errors.As(err, &syntax):
		return domain.Errorf(domain.CodeValidation, "malformed JSON %s: %s (at byte %d)", what, syntax, syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return domain.Errorf(domain.CodeValidation, "malformed %s: field %q cannot be a JSON %s", what, typ.Field, typ.Value)
	case errors.As(err, &typ):
		return domain.Errorf(domain.CodeValidation, "malformed %s: it cannot be a JSON %s", what, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Errorf(domain.CodeValidation, "malformed JSON %s: unexpected end of input", what)
	}
	return domain.Errorf(domain.CodeValidation, "malformed %s: %s", what, err)
}

// elementError prefixes a validation error with the element it is about.
func elementError(i int, err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return &domain.Error{Code: de.Code, Message: fmt.Sprintf("element %d: %s", i, de.Message), Details: de.Details}
	}
	return err
}

// readBulk reads the elements of a bulk body: a JSON array of at most
// maxBulkElements elements, unless the Content-Type names one of the two
// streams.
func readBulk(r *http.Request) ([]bulkElement, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case bulkJSONStream:
		return readJSONStream(r.Body)
	case bulkScriptStream:
		return readScriptStream(r.Body)
	}
	return readJSONArray(r.Body)
}

// readJSONArray reads a JSON array of at most maxBulkElements elements.
func readJSONArray(body io.Reader) ([]bulkElement, error) {
	dec := json.NewDecoder(body)
	notArray := domain.Errorf(domain.CodeValidation, "the body must be a JSON array of elements (or send %s)", bulkJSONStream)
	tok, err := dec.Token()
	if err != nil {
		return nil, bodyError(err, notArray)
	}
	if tok != json.Delim('[') {
		return nil, notArray
	}
	var elements []bulkElement
	for dec.More() {
		if len(elements) == maxBulkElements {
			return nil, domain.Errorf(domain.CodeBulkSizeExceeded, "a bulk holds at most %d elements (send larger ones as %s)",
				maxBulkElements, bulkJSONStream)
		}
		var e bulkElement
		if err := dec.Decode(&e); err != nil {
			return nil, bodyError(err, elementError(len(elements), malformed("element", err)))
		}
		elements = append(elements, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bodyError(err, malformed("body", err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bodyError(err, domain.Errorf(domain.CodeValidation, "malformed JSON body: unexpected data after the array"))
	}
	return elements, nil
}

// bodyError is err when it says the body is over the server's limit (a
// 413), else invalid.
func bodyError(err, invalid error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return invalid
}

// readJSONStream reads concatenated JSON elements.
func readJSONStream(body io.Reader) ([]bulkElement, error) {
	dec := json.NewDecoder(body)
	var elements []bulkElement
	for {
		var e bulkElement
		err := dec.Decode(&e)
		switch {
		case errors.Is(err, io.EOF):
			return elements, nil
		case err != nil:
			return nil, bodyError(err, elementError(len(elements), malformed("element", err)))
		}
		elements = append(elements, e)
	}
}

// readScriptStream reads a script stream: blocks of Numscript, each opened
// by a "//script" line, optionally "//script ik=KEY", and closed by an
// "//end" line; blank lines may separate blocks. Each block is a
// CREATE_TRANSACTION element.
func readScriptStream(body io.Reader) ([]bulkElement, error) {
	scanner := bufio.NewScanner(body)
	scanner.Buffer(nil, maxScriptLine)
	var (
		elements []bulkElement
		open     bool // inside a block
		start    int  // the line of the block's //script
		ik       string
		script   strings.Builder
	)
	for line := 1; scanner.Scan(); line++ {
		text := scanner.Text()
		marker := strings.TrimSpace(text)
		switch {
		case !open && marker == "":
		case !open && (marker == "//script" || strings.HasPrefix(marker, "//script ")):
			open, start, ik = true, line, ""
			script.Reset()
			for _, option := range strings.Fields(strings.TrimPrefix(marker, "//script")) {
				value, ok := strings.CutPrefix(option, "ik=")
				if !ok {
					return nil, domain.Errorf(domain.CodeValidation, "line %d: unknown //script option %q: the only one is ik=KEY", line, option)
				}
				ik = value
			}
		case !open:
			return nil, domain.Errorf(domain.CodeValidation, "line %d: expected a //script line, got %q", line, text)
		case marker == "//end":
			data, _ := json.Marshal(map[string]any{"script": map[string]string{"plain": script.String()}})
			elements = append(elements, bulkElement{Action: actionCreateTransaction, IK: ik, Data: data})
			open = false
		case marker == "//script" || strings.HasPrefix(marker, "//script "):
			return nil, domain.Errorf(domain.CodeValidation, "line %d: //script inside the script of line %d: close it with //end first", line, start)
		default:
			script.WriteString(text)
			script.WriteByte('\n')
		}
	}
	if err := scanner.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, domain.Errorf(domain.CodeValidation, "a line of the script stream is longer than %d bytes", maxScriptLine)
		}
		return nil, bodyError(err, domain.Errorf(domain.CodeValidation, "unreadable script stream: %v", err))
	}
	if open {
		return nil, domain.Errorf(domain.CodeValidation, "line %d: //script without //end", start)
	}
	return elements, nil
}
