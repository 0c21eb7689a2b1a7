package spectest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
)

// Specs is a parsed .num.specs.json file.
type Specs struct {
	Schema       string            `json:"$schema,omitempty"`
	Balances     []BalanceRow      `json:"balances,omitempty"`
	Variables    map[string]string `json:"variables,omitempty"`
	Metadata     AccountsMetadata  `json:"metadata,omitempty"`
	FeatureFlags []string          `json:"featureFlags,omitempty"`
	TestCases    []TestCase        `json:"testCases"`
}

// AccountsMetadata maps an account to its metadata.
type AccountsMetadata map[string]map[string]string

// BalanceRow is the balance of an account in an asset, optionally colored.
type BalanceRow struct {
	Account string   `json:"account"`
	Asset   string   `json:"asset"`
	Amount  *big.Int `json:"amount"`
	Color   string   `json:"color,omitempty"`
}

// Movement is what a source sent to a destination in an asset, over all
// postings.
type Movement struct {
	Source      string   `json:"source"`
	Destination string   `json:"destination"`
	Asset       string   `json:"asset"`
	Amount      *big.Int `json:"amount"`
	Color       string   `json:"color,omitempty"`
}

// Posting is an expected posting; Color, when set, colors the asset.
type Posting = Movement

// TestCase is one case of a spec file: preconditions overriding the file's,
// and expectations. Only the expectations present are checked.
type TestCase struct {
	It    string `json:"it"`
	Focus bool   `json:"focus,omitempty"`
	Skip  bool   `json:"skip,omitempty"`

	Balances  []BalanceRow      `json:"balances,omitempty"`
	Variables map[string]string `json:"variables,omitempty"`
	Metadata  AccountsMetadata  `json:"metadata,omitempty"`

	ExpectPostings           []Posting         `json:"expect.postings,omitempty"`
	ExpectEndBalances        []BalanceRow      `json:"expect.endBalances,omitempty"`
	ExpectEndBalancesInclude []BalanceRow      `json:"expect.endBalances.include,omitempty"`
	ExpectMovements          []Movement        `json:"expect.movements,omitempty"`
	ExpectTxMetadata         map[string]string `json:"expect.txMetadata,omitempty"`
	ExpectMetadata           AccountsMetadata  `json:"expect.metadata,omitempty"`
	ExpectMissingFunds       bool              `json:"expect.error.missingFunds,omitempty"`
	ExpectNegativeAmount     bool              `json:"expect.error.negativeAmount,omitempty"`
	ExpectError              string            `json:"expect.error,omitempty"`
}

// ParseSpecs decodes a spec file. Unknown fields are errors, so that a
// misspelled expectation never passes silently.
func ParseSpecs(data []byte) (*Specs, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var specs Specs
	if err := dec.Decode(&specs); err != nil {
		return nil, fmt.Errorf("invalid specs: %w", err)
	}
	for i, tc := range specs.TestCases {
		if tc.It == "" {
			return nil, fmt.Errorf("invalid specs: test case %d has no \"it\"", i)
		}
	}
	for _, rows := range append([][]BalanceRow{specs.Balances}, caseBalances(specs.TestCases)...) {
		for _, row := range rows {
			if row.Amount == nil {
				return nil, fmt.Errorf("invalid specs: balance of %s in %s has no amount", row.Account, row.Asset)
			}
		}
	}
	return &specs, nil
}

// caseBalances returns the balance lists of every case.
func caseBalances(cases []TestCase) [][]BalanceRow {
	out := make([][]BalanceRow, 0, len(cases))
	for _, tc := range cases {
		out = append(out, tc.Balances, tc.ExpectEndBalances, tc.ExpectEndBalancesInclude)
	}
	return out
}
