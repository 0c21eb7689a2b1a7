package ledger

import (
	"encoding/json"
	"math/big"
	"testing"
)

func TestVolumesJSON(t *testing.T) {
	huge := "123456789012345678901234567890"
	for _, tc := range []struct {
		v    Volumes
		want string
	}{
		{Volumes{}, `{"input":0,"output":0,"balance":0}`},
		{Volumes{Input: big.NewInt(12), Output: big.NewInt(107)}, `{"input":12,"output":107,"balance":-95}`},
		{Volumes{Input: bigInt(t, huge), Output: big.NewInt(0)}, `{"input":` + huge + `,"output":0,"balance":` + huge + `}`},
	} {
		got, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Fatalf("got %s, want %s", got, tc.want)
		}
		var back Volumes
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if back.Balance().Cmp(tc.v.Balance()) != 0 {
			t.Fatalf("balance after round trip = %s", back.Balance())
		}
	}
}

func TestComputePostCommitVolumes(t *testing.T) {
	// The anchor's tx 7 (force): users:005 → world 5 USD/2, world at
	// input 0, output 107 before.
	pre := PostCommitVolumes{"world": {"USD/2": {Input: big.NewInt(0), Output: big.NewInt(107)}}}
	postings := Postings{NewPosting("users:005", "world", "USD/2", big.NewInt(5))}
	calls := 0
	post := ComputePostCommitVolumes(postings, func(account, asset string) Volumes {
		calls++
		return pre.Get(account, asset)
	})
	want := `{"users:005":{"USD/2":{"input":0,"output":5,"balance":-5}},"world":{"USD/2":{"input":5,"output":107,"balance":-102}}}`
	if got, _ := json.Marshal(post); string(got) != want {
		t.Fatalf("post = %s, want %s", got, want)
	}
	if calls != 2 {
		t.Fatalf("pre called %d times, want 2", calls)
	}
	if pre.Get("world", "USD/2").Input.Sign() != 0 {
		t.Fatal("pre volumes must not be modified")
	}
	wantPre := `{"users:005":{"USD/2":{"input":0,"output":0,"balance":0}},"world":{"USD/2":{"input":0,"output":107,"balance":-107}}}`
	if got := appendPreCommitVolumes(nil, post, postings); string(got) != wantPre {
		t.Fatalf("pre = %s, want %s", got, wantPre)
	}
}

func TestComputePostCommitVolumesSeveralPostingsSameAccount(t *testing.T) {
	postings := Postings{
		NewPosting("world", "a", "USD", big.NewInt(10)),
		NewPosting("a", "a", "USD", big.NewInt(3)),
		NewPosting("a", "b", "USD", big.NewInt(4)),
		NewPosting("a", "b", "EUR", big.NewInt(1)),
	}
	post := ComputePostCommitVolumes(postings, func(string, string) Volumes { return Volumes{} })
	want := `{"a":{"EUR":{"input":0,"output":1,"balance":-1},"USD":{"input":13,"output":7,"balance":6}},"b":{"EUR":{"input":1,"output":0,"balance":1},"USD":{"input":4,"output":0,"balance":4}},"world":{"USD":{"input":0,"output":10,"balance":-10}}}`
	if got, _ := json.Marshal(post); string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	// Post minus postings is where every account started.
	zero := `{"input":0,"output":0,"balance":0}`
	wantPre := `{"a":{"EUR":` + zero + `,"USD":` + zero + `},"b":{"EUR":` + zero + `,"USD":` + zero + `},"world":{"USD":` + zero + `}}`
	if got := appendPreCommitVolumes(nil, post, postings); string(got) != wantPre {
		t.Fatalf("pre = %s, want %s", got, wantPre)
	}
}

func TestPostCommitVolumesCopyIsDeep(t *testing.T) {
	p := PostCommitVolumes{"a": {"USD": {Input: big.NewInt(1), Output: big.NewInt(2)}}}
	c := p.Copy()
	c["a"]["USD"].Input.SetInt64(100)
	c.AddInput("b", "USD", big.NewInt(1))
	if p.Get("a", "USD").Input.Int64() != 1 || p["b"] != nil {
		t.Fatal("Copy shares state with the original")
	}
}
