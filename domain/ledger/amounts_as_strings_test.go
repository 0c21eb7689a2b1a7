package ledger

import (
	"encoding/json"
	"testing"
)

func TestAmountsAsStrings(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{
			name: "transaction",
			in:   anchorTwoPostings,
			want: `{"postings":[{"source":"world","destination":"bank","amount":"1000","asset":"EUR/2"},{"source":"bank","destination":"users:002","amount":"250","asset":"EUR/2"}],"metadata":{},"timestamp":"2024-01-01T00:00:00Z","id":3,"insertedAt":"2026-11-21T13:20:49.448634Z","updatedAt":"2026-11-21T13:20:49.448634Z","postCommitVolumes":{"bank":{"EUR/2":{"input":"1000","output":"250","balance":"750"}},"users:002":{"EUR/2":{"input":"250","output":"0","balance":"250"}},"world":{"EUR/2":{"input":"0","output":"1000","balance":"-1000"}}},"postCommitEffectiveVolumes":{"bank":{"EUR/2":{"input":"1000","output":"250","balance":"750"}},"users:002":{"EUR/2":{"input":"250","output":"0","balance":"250"}},"world":{"EUR/2":{"input":"0","output":"1000","balance":"-1000"}}},"reverted":false,"preCommitVolumes":{"bank":{"EUR/2":{"input":"0","output":"0","balance":"0"}},"users:002":{"EUR/2":{"input":"0","output":"0","balance":"0"}},"world":{"EUR/2":{"input":"0","output":"0","balance":"0"}}},"preCommitEffectiveVolumes":{"bank":{"EUR/2":{"input":"0","output":"0","balance":"0"}},"users:002":{"EUR/2":{"input":"0","output":"0","balance":"0"}},"world":{"EUR/2":{"input":"0","output":"0","balance":"0"}}}}`,
		},
		{
			name: "volumes list, ids, page size and logID stay numbers",
			in:   `{"cursor":{"pageSize":3,"hasMore":true,"data":[{"account":"bank","asset":"EUR/2","input":123456789012345678901234567890,"output":250,"balance":-1}]},"logID":11,"id":2}`,
			want: `{"cursor":{"pageSize":3,"hasMore":true,"data":[{"account":"bank","asset":"EUR/2","input":"123456789012345678901234567890","output":"250","balance":"-1"}]},"logID":11,"id":2}`,
		},
		{
			name: "balances by asset, stats keep numbers",
			in:   `{"data":{"COIN":0,"EUR/2":-5,"transactions":7,"accounts":10}}`,
			want: `{"data":{"COIN":"0","EUR/2":"-5","transactions":7,"accounts":10}}`,
		},
		{
			name: "strings that look like keys or numbers are untouched",
			in:   `{"metadata":{"amount":"12","k":"\"amount\":3"},"amount":[1,2],"x":{"amount":{"input":4}},"balance":null}`,
			want: `{"metadata":{"amount":"12","k":"\"amount\":3"},"amount":[1,2],"x":{"amount":{"input":"4"}},"balance":null}`,
		},
		{
			name: "whitespace is kept",
			in:   "{ \"amount\" : 1 ,\n \"id\": 2 }",
			want: "{ \"amount\" : \"1\" ,\n \"id\": 2 }",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AmountsAsStrings([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Fatal("output is not JSON")
			}
		})
	}
	if _, err := AmountsAsStrings([]byte(`{"amount":`)); err == nil {
		t.Fatal("invalid JSON accepted")
	}
}
