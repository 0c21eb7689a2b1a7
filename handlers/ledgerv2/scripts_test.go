package ledgerv2_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	formance "github.com/formancehq/formance-sdk-go/v3"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/operations"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/sdkerrors"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/shared"
)

const payScript = `vars {
  monetary $amount
  account  $user
  portion  $fee
}
send $amount (
  source = @users:funded
  destination = {
    $fee to @fees
    remaining to $user
  }
)
set_tx_meta("kind", "payment")
set_account_meta($user, "paid", "yes")`

// TestScriptsThroughSDK creates Numscript transactions with the Formance
// SDK: success, dry run, idempotency, and every error code a script gets.
func TestScriptsThroughSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v2 := formance.New(formance.WithServerURL(newKontor(t))).Ledger.V2
	if _, err := v2.CreateLedger(ctx, operations.V2CreateLedgerRequest{Ledger: "main"}); err != nil {
		t.Fatal(err)
	}
	post := func(src string, vars map[string]string, runtime *shared.Runtime, md map[string]string) (*shared.V2Transaction, error) {
		res, err := v2.CreateTransaction(ctx, operations.V2CreateTransactionRequest{Ledger: "main", V2PostTransaction: shared.V2PostTransaction{
			Script: &shared.V2PostTransactionScript{Plain: &src, Vars: vars}, Runtime: runtime, Metadata: md}})
		if err != nil {
			return nil, err
		}
		return &res.V2CreateTransactionResponse.Data, nil
	}
	if _, err := post(`send [USD/2 1000] (source = @world destination = @users:funded)`, nil, nil, nil); err != nil {
		t.Fatalf("funding: %v", err)
	}

	vars := map[string]string{"amount": "USD/2 100", "user": "users:001", "fee": "10%"}
	tx, err := post(payScript, vars, shared.RuntimeExperimentalInterpreter.ToPointer(), map[string]string{"order": "1"})
	if err != nil {
		t.Fatalf("script: %v", err)
	}
	if tx.ID.Int64() != 2 || len(tx.Postings) != 2 || tx.Postings[0].Destination != "fees" || tx.Postings[0].Amount.Int64() != 10 ||
		tx.Postings[1].Amount.Int64() != 90 || tx.Metadata["kind"] != "payment" || tx.Metadata["order"] != "1" ||
		tx.PostCommitVolumes["users:funded"]["USD/2"].Balance.Int64() != 900 {
		t.Fatalf("transaction: %+v", tx)
	}
	account, err := v2.GetAccount(ctx, operations.V2GetAccountRequest{Ledger: "main", Address: "users:001"})
	if err != nil || account.V2AccountResponse.Data.Metadata["paid"] != "yes" {
		t.Fatalf("account metadata set by the script: %+v %v", account, err)
	}

	dry, err := v2.CreateTransaction(ctx, operations.V2CreateTransactionRequest{Ledger: "main", DryRun: ptr(true),
		V2PostTransaction: shared.V2PostTransaction{Script: &shared.V2PostTransactionScript{Plain: ptr(payScript), Vars: vars}}})
	if err != nil || dry.V2CreateTransactionResponse.Data.ID.Int64() != 3 ||
		dry.V2CreateTransactionResponse.Data.PostCommitVolumes["users:funded"]["USD/2"].Balance.Int64() != 800 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}

	ik := "script-1"
	withKey := operations.V2CreateTransactionRequest{Ledger: "main", IdempotencyKey: &ik,
		V2PostTransaction: shared.V2PostTransaction{Script: &shared.V2PostTransactionScript{Plain: ptr(payScript), Vars: vars}}}
	first, err := v2.CreateTransaction(ctx, withKey)
	if err != nil || first.V2CreateTransactionResponse.Data.ID.Int64() != 3 {
		t.Fatalf("after a dry run: %+v %v", first, err)
	}
	replay, err := v2.CreateTransaction(ctx, withKey)
	if err != nil || replay.RawResponse.Header.Get("Idempotency-Hit") != "true" || replay.V2CreateTransactionResponse.Data.ID.Int64() != 3 {
		t.Fatalf("replay: %v", err)
	}
	withKey.V2PostTransaction.Script.Vars = map[string]string{"amount": "USD/2 101", "user": "users:001", "fee": "10%"}
	var apiErr *sdkerrors.V2ErrorResponse
	if _, err := v2.CreateTransaction(ctx, withKey); !errors.As(err, &apiErr) || apiErr.ErrorCode != shared.V2ErrorsEnumValidation {
		t.Fatalf("same key, other vars: %v", err)
	}

	machine, interpreter := shared.RuntimeMachine.ToPointer(), shared.RuntimeExperimentalInterpreter.ToPointer()
	cases := []struct {
		name    string
		src     string
		vars    map[string]string
		runtime *shared.Runtime
		md      map[string]string
		want    shared.V2ErrorsEnum
	}{
		{"parse error, interpreter", `send [USD/2 1] (`, nil, interpreter, nil, shared.V2ErrorsEnumInterpreterParse},
		{"parse error, machine", `send [USD/2 1] (`, nil, machine, nil, shared.V2ErrorsEnumCompilationFailed},
		{"parse error, default runtime", `send [USD/2 1] (`, nil, nil, nil, shared.V2ErrorsEnumCompilationFailed},
		{"missing variable, interpreter", payScript, nil, interpreter, nil, shared.V2ErrorsEnumInterpreterRuntime},
		{"missing variable, machine", payScript, nil, machine, nil, shared.V2ErrorsEnumCompilationFailed},
		{"malformed variable, machine", payScript, map[string]string{"amount": "100", "user": "u", "fee": "10%"}, machine, nil,
			shared.V2ErrorsEnumCompilationFailed},
		{"missing metadata", `vars { account $a = meta(@users:001, "nope") } send [USD/2 1] (source = @world destination = $a)`,
			nil, machine, nil, shared.V2ErrorsEnumInterpreterRuntime},
		{"insufficient funds", `send [USD/2 1] (source = @users:empty destination = @b)`, nil, nil, nil, shared.V2ErrorsEnumInsufficientFund},
		{"no postings", `set_tx_meta("a", "b")`, nil, interpreter, nil, shared.V2ErrorsEnumNoPostings},
		{"metadata override", payScript, vars, interpreter, map[string]string{"kind": "other"}, shared.V2ErrorsEnumMetadataOverride},
	}
	for _, tc := range cases {
		_, err := post(tc.src, tc.vars, tc.runtime, tc.md)
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != tc.want {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.want)
		}
	}
	if _, err := v2.CreateTransaction(ctx, operations.V2CreateTransactionRequest{Ledger: "main", V2PostTransaction: shared.V2PostTransaction{
		Script: &shared.V2PostTransactionScript{Template: ptr("DEPOSIT")}}}); !errors.As(err, &apiErr) || apiErr.ErrorCode != shared.V2ErrorsEnumValidation {
		t.Errorf("template without schema: %v", err)
	}
	if _, err := v2.CreateTransaction(ctx, operations.V2CreateTransactionRequest{Ledger: "main", V2PostTransaction: shared.V2PostTransaction{
		Postings: []shared.V2Posting{{Source: "world", Destination: "a", Amount: big.NewInt(1), Asset: "USD"}},
		Script:   &shared.V2PostTransactionScript{Plain: ptr(payScript)}}}); !errors.As(err, &apiErr) || apiErr.ErrorCode != shared.V2ErrorsEnumValidation {
		t.Errorf("postings and script: %v", err)
	}
}

// TestScriptVars sends vars the SDK's string map cannot: numbers and
// {"amount", "asset"} objects are converted, other types refused.
func TestScriptVars(t *testing.T) {
	t.Parallel()
	v2 := newKontor(t) + "/api/ledger/v2"
	if code, _, _ := call(t, "POST", v2+"/main", ""); code != 204 {
		t.Fatalf("create ledger: %d", code)
	}
	script := `"vars { monetary $m number $n account $a } send $m (source = @world destination = $a) set_tx_meta(\"n\", $n)"`
	code, _, body := call(t, "POST", v2+"/main/transactions",
		`{"script":{"plain":`+script+`,"vars":{"m":{"amount":150,"asset":"USD/2"},"n":1e3,"a":"users:1"}}}`)
	if code != 200 || !strings.Contains(body, `"amount":150`) || !strings.Contains(body, `"n":"1000"`) {
		t.Fatalf("converted vars: %d %s", code, body)
	}
	for _, vars := range []string{
		`{"m":true,"n":1,"a":"users:1"}`,
		`{"m":["USD/2",1],"n":1,"a":"users:1"}`,
		`{"m":{"amount":"x"},"n":1,"a":"users:1"}`,
		`{"m":"USD/2 1","n":null,"a":"users:1"}`,
	} {
		code, _, body := call(t, "POST", v2+"/main/transactions", `{"script":{"plain":`+script+`,"vars":`+vars+`}}`)
		if code != 400 || errorCode(t, body) != "VALIDATION" {
			t.Errorf("vars %s: %d %s, want 400 VALIDATION", vars, code, body)
		}
	}
	code, _, body = call(t, "POST", v2+"/main/transactions",
		`{"runtime":"wasm","script":{"plain":`+script+`,"vars":{"m":"USD 1","n":1,"a":"b"}}}`)
	if code != 400 || errorCode(t, body) != "VALIDATION" {
		t.Errorf("unknown runtime: %d %s", code, body)
	}
}

func ptr[T any](v T) *T { return &v }
