package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kontorhq/kontor/platform/pgtest"
)

// runMainEnv makes the test binary run kontor's main instead of the tests,
// so that a test can start `kontor serve` as a process of its own without
// compiling the binary.
const runMainEnv = "KONTOR_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCrashSafety kills `kontor serve` with SIGKILL while 16 writers load
// one ledger, restarts it on the same database, and checks that every
// acknowledged transaction survived as it was acknowledged, that nothing
// half-written did, that volumes, balances and moves agree with the
// transactions, that the log is dense and its hash chain verifies, and
// that retrying an unanswered request with its idempotency key writes it
// exactly once. It does so three times (each check after a kill also
// covers the retries of the kill before).
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	start := time.Now()
	uri := pgtest.NewDatabase(t)
	l := &crashLoad{sent: map[string]sentTx{}, acked: map[string]uint64{}}

	srv := startProcess(t, uri)
	if code, body := srv.do(t, "POST", "/api/ledger/v2/main", `{"features":{"MOVES_HISTORY":"ON",
		"MOVES_HISTORY_POST_COMMIT_EFFECTIVE_VOLUMES":"SYNC","HASH_LOGS":"SYNC",
		"ACCOUNT_METADATA_HISTORY":"SYNC","TRANSACTION_METADATA_HISTORY":"SYNC"}}`, nil); code != 204 {
		t.Fatalf("create ledger: %d %s", code, body)
	}
	const rounds = 3
	for round := 1; round <= rounds; round++ {
		wait := l.run(t, srv, round)
		srv.kill(t)
		unanswered := wait()
		if t.Failed() {
			t.FailNow()
		}
		srv = startProcess(t, uri)
		l.check(t, srv, fmt.Sprintf("after kill %d", round))
		l.retry(t, srv, unanswered)
	}
	// The ledger still takes writes; the retries are checked with them.
	name := "after-the-kills"
	tx := sentTx{Postings: []crashPosting{{"world", "users:00", 1, "EUR"}}, Metadata: map[string]string{"req": name}}
	body, _ := json.Marshal(tx)
	var res struct{ Data crashTx }
	if code, raw := srv.do(t, "POST", "/api/ledger/v2/main/transactions", string(body), &res, "Idempotency-Key", name); code != 200 || !tx.matches(res.Data) {
		t.Fatalf("write after the kills: %d %s", code, raw)
	}
	l.sent[name], l.acked[name] = tx, res.Data.ID
	l.check(t, srv, "at the end")
	if len(l.acked) < rounds*crashMinAcks {
		t.Fatalf("only %d transactions acknowledged", len(l.acked))
	}
	t.Logf("%d kills, %d transactions acknowledged, %d sent, in %v", rounds, len(l.acked), len(l.sent), time.Since(start).Round(time.Millisecond))
}

// kontorProcess is a running `kontor serve`.
type kontorProcess struct {
	cmd    *exec.Cmd
	base   string
	client *http.Client
	stderr *lockedBuffer
	exited chan struct{}
}

// startProcess starts `kontor serve` on uri and a free port, and returns
// once it serves. The process is killed when the test ends.
func startProcess(t *testing.T, uri string) *kontorProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--postgres-uri", uri, "--bind", "127.0.0.1:0",
		"--bus", "none", "--log-level", "error", "--shutdown-timeout", "1s")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &kontorProcess{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(out)
		for scanner.Scan() {
			line := scanner.Text()
			p.stderr.WriteString(line + "\n")
			if _, addr, ok := strings.Cut(line, " is listening on "); ok {
				listening <- addr
			}
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		p.client.CloseIdleConnections()
	})
	select {
	case p.base = <-listening:
		return p
	case <-p.exited:
		t.Fatalf("kontor serve exited: %s", p.stderr)
	case <-time.After(15 * time.Second):
		t.Fatalf("kontor serve did not start: %s", p.stderr)
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *kontorProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	p.client.CloseIdleConnections()
}

// do sends a request to the ledger API and decodes a JSON answer into out
// (when not nil and the status is 2xx); it fails the test when the server
// does not answer.
func (p *kontorProcess) do(t *testing.T, method, path, body string, out any, header ...string) (int, string) {
	t.Helper()
	code, raw, err := p.send(method, path, body, header...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, p.stderr)
	}
	if out != nil && code/100 == 2 {
		if err := json.Unmarshal([]byte(raw), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return code, raw
}

func (p *kontorProcess) send(method, path, body string, header ...string) (int, string, error) {
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

// crashPosting is a posting as the API shows it.
type crashPosting struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Amount      int64  `json:"amount"`
	Asset       string `json:"asset"`
}

// sentTx is a transaction request the load sent; its metadata "req" (also
// its idempotency key) names it.
type sentTx struct {
	Postings        []crashPosting               `json:"postings"`
	Reference       string                       `json:"reference,omitempty"`
	Metadata        map[string]string            `json:"metadata"`
	AccountMetadata map[string]map[string]string `json:"accountMetadata,omitempty"`
}

// crashTx is a transaction as the API returns it.
type crashTx struct {
	ID                         uint64                       `json:"id"`
	Postings                   []crashPosting               `json:"postings"`
	Reference                  string                       `json:"reference"`
	Metadata                   map[string]string            `json:"metadata"`
	Timestamp                  time.Time                    `json:"timestamp"`
	PostCommitVolumes          map[string]map[string]volume `json:"postCommitVolumes"`
	PostCommitEffectiveVolumes map[string]map[string]volume `json:"postCommitEffectiveVolumes"`
}

type volume struct {
	Input   int64 `json:"input"`
	Output  int64 `json:"output"`
	Balance int64 `json:"balance"`
}

// crashLoad is what the writers sent and what the server acknowledged, by
// request name.
type crashLoad struct {
	sent  map[string]sentTx
	acked map[string]uint64 // transaction id
}

const (
	crashWriters = 16
	crashMinAcks = 120
	crashUsers   = 12
)

// run loads srv with the writers until at least crashMinAcks requests of
// this round are acknowledged and a random instant after, then returns
// with the writers still running; they stop when srv is killed. wait waits
// for them and returns the names of the requests left without an answer.
func (l *crashLoad) run(t *testing.T, srv *kontorProcess, round int) (wait func() []string) {
	t.Helper()
	var (
		acks atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
		lost []string
	)
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
			for n := 0; ; n++ {
				name := fmt.Sprintf("r%d-w%d-%d", round, w, n)
				tx := randomTx(rng, name)
				body, _ := json.Marshal(tx)
				mu.Lock()
				l.sent[name] = tx
				mu.Unlock()
				code, raw, err := srv.send("POST", "/api/ledger/v2/main/transactions", string(body), "Idempotency-Key", name)
				switch {
				case err != nil: // the server died: the request may or may not be written
					mu.Lock()
					lost = append(lost, name)
					mu.Unlock()
					return
				case code == 200:
					var res struct{ Data crashTx }
					if err := json.Unmarshal([]byte(raw), &res); err != nil || !tx.matches(res.Data) {
						t.Errorf("%s: answer %s does not match request %s", name, raw, body)
						return
					}
					mu.Lock()
					l.acked[name] = res.Data.ID
					mu.Unlock()
					acks.Add(1)
				case code == 400 && strings.Contains(raw, `"INSUFFICIENT_FUND"`):
				default:
					t.Errorf("%s: %d %s", name, code, raw)
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for acks.Load() < crashMinAcks {
		if time.Now().After(deadline) {
			t.Fatalf("round %d: only %d acknowledgements in 20s", round, acks.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(time.Duration(rand.IntN(50)) * time.Millisecond)
	return func() []string {
		wg.Wait()
		sort.Strings(lost)
		return lost
	}
}

// randomTx is one of: a deposit from world, a transfer between users that
// needs funds, a two-leg payment, or a deposit that sets account metadata;
// half of them carry a reference.
func randomTx(rng *rand.Rand, name string) sentTx {
	user := func() string { return fmt.Sprintf("users:%02d", rng.IntN(crashUsers)) }
	asset := []string{"USD/2", "EUR"}[rng.IntN(2)]
	amount := rng.Int64N(100) + 1
	tx := sentTx{Metadata: map[string]string{"req": name}}
	switch rng.IntN(4) {
	case 0:
		tx.Postings = []crashPosting{{"world", user(), amount, asset}}
	case 1:
		from := rng.IntN(crashUsers)
		to := (from + 1 + rng.IntN(crashUsers-1)) % crashUsers
		tx.Postings = []crashPosting{{fmt.Sprintf("users:%02d", from), fmt.Sprintf("users:%02d", to), amount / 4, asset}}
	case 2:
		u := user()
		tx.Postings = []crashPosting{{"world", u, amount, asset}, {u, fmt.Sprintf("merchants:%d", rng.IntN(3)), amount, asset}}
	default:
		u := user()
		tx.Postings = []crashPosting{{"world", u, amount, asset}}
		tx.AccountMetadata = map[string]map[string]string{u: {"last": name}}
	}
	if rng.IntN(2) == 0 {
		tx.Reference = "ref-" + name
	}
	return tx
}

// matches reports whether tx is the transaction s asked for.
func (s sentTx) matches(tx crashTx) bool {
	return reflect.DeepEqual(s.Postings, tx.Postings) && s.Reference == tx.Reference &&
		reflect.DeepEqual(s.Metadata, tx.Metadata)
}

// retry sends again, with their idempotency keys, the requests the kill
// left unanswered: each must be answered now, as a replay of the stored
// transaction if the first attempt was written.
func (l *crashLoad) retry(t *testing.T, srv *kontorProcess, names []string) {
	t.Helper()
	present := map[string]uint64{}
	for _, tx := range listAll[crashTx](t, srv, "/api/ledger/v2/main/transactions") {
		present[tx.Metadata["req"]] = tx.ID
	}
	written := 0
	for _, name := range names {
		body, _ := json.Marshal(l.sent[name])
		req, _ := http.NewRequest("POST", srv.base+"/api/ledger/v2/main/transactions", bytes.NewReader(body))
		req.Header.Set("Idempotency-Key", name)
		resp, err := srv.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id, wasWritten := present[name]
		if wasWritten {
			written++
		}
		switch {
		case resp.StatusCode == 200:
			var res struct{ Data crashTx }
			if err := json.Unmarshal(raw, &res); err != nil || !l.sent[name].matches(res.Data) {
				t.Fatalf("retry of %s: %s", name, raw)
			}
			hit := resp.Header.Get("Idempotency-Hit") == "true"
			if hit != wasWritten || (wasWritten && res.Data.ID != id) {
				t.Fatalf("retry of %s: hit %v, id %d; before the retry: present %v, id %d", name, hit, res.Data.ID, wasWritten, id)
			}
			l.acked[name] = res.Data.ID
		case resp.StatusCode == 400 && strings.Contains(string(raw), `"INSUFFICIENT_FUND"`) && !wasWritten:
		default:
			t.Fatalf("retry of %s (written before: %v): %d %s", name, wasWritten, resp.StatusCode, raw)
		}
	}
	t.Logf("%d requests unanswered at the kill, %d of them written", len(names), written)
}

// check verifies the ledger's invariants through the API.
func (l *crashLoad) check(t *testing.T, srv *kontorProcess, when string) {
	t.Helper()
	txs := listAll[crashTx](t, srv, "/api/ledger/v2/main/transactions", "expand", "volumes", "expand", "effectiveVolumes")
	sort.Slice(txs, func(i, j int) bool { return txs[i].ID < txs[j].ID })

	// Transactions: ids dense from 1, each one a request sent, with its
	// content, once; every acknowledged one present with its id.
	byName := map[string]crashTx{}
	for i, tx := range txs {
		if tx.ID != uint64(i+1) {
			t.Fatalf("%s: transaction ids are not dense: #%d is %d", when, i+1, tx.ID)
		}
		name := tx.Metadata["req"]
		sent, ok := l.sent[name]
		if !ok || !sent.matches(tx) {
			t.Fatalf("%s: transaction %d was not sent like this: %+v", when, tx.ID, tx)
		}
		if other, dup := byName[name]; dup {
			t.Fatalf("%s: %s written twice: %d and %d", when, name, other.ID, tx.ID)
		}
		byName[name] = tx
	}
	for name, id := range l.acked {
		if tx, ok := byName[name]; !ok || tx.ID != id {
			t.Fatalf("%s: acknowledged transaction %d (%s) is missing", when, id, name)
		}
	}

	// Post-commit volumes follow the transactions in id order, effective
	// ones in (timestamp, id) order.
	replay := func(order []crashTx, effective bool) map[string]map[string]volume {
		vols := map[string]map[string]volume{}
		for _, tx := range order {
			for _, p := range tx.Postings {
				for _, side := range []struct {
					account string
					in, out int64
				}{{p.Source, 0, p.Amount}, {p.Destination, p.Amount, 0}} {
					if vols[side.account] == nil {
						vols[side.account] = map[string]volume{}
					}
					v := vols[side.account][p.Asset]
					v.Input += side.in
					v.Output += side.out
					v.Balance = v.Input - v.Output
					vols[side.account][p.Asset] = v
				}
			}
			got := tx.PostCommitVolumes
			if effective {
				got = tx.PostCommitEffectiveVolumes
			}
			if len(got) != len(accountsOf(tx)) {
				t.Fatalf("%s: transaction %d: effective %v: volumes of %d accounts for %d", when, tx.ID, effective, len(got), len(accountsOf(tx)))
			}
			for account, assets := range got {
				for asset, v := range assets {
					if vols[account][asset] != v {
						t.Fatalf("%s: transaction %d: effective %v: %s %s is %+v, want %+v",
							when, tx.ID, effective, account, asset, v, vols[account][asset])
					}
				}
			}
		}
		return vols
	}
	want := replay(txs, false)
	byDate := append([]crashTx(nil), txs...)
	sort.SliceStable(byDate, func(i, j int) bool { return byDate[i].Timestamp.Before(byDate[j].Timestamp) })
	replay(byDate, true)

	// Volumes: the sums of the postings; balances: zero per asset.
	type row struct {
		Account string `json:"account"`
		Asset   string `json:"asset"`
		volume
	}
	rows := listAll[row](t, srv, "/api/ledger/v2/main/volumes")
	got := map[string]map[string]volume{}
	for _, r := range rows {
		if got[r.Account] == nil {
			got[r.Account] = map[string]volume{}
		}
		got[r.Account][r.Asset] = r.volume
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: volumes are not the sums of the postings:\n got %v\nwant %v", when, got, want)
	}
	var balances struct{ Data map[string]int64 }
	srv.do(t, "GET", "/api/ledger/v2/main/aggregate/balances", "", &balances)
	if len(balances.Data) != len(wantAssets(txs)) {
		t.Fatalf("%s: aggregate balances %v, want one per asset of %v", when, balances.Data, wantAssets(txs))
	}
	for asset, sum := range balances.Data {
		if sum != 0 {
			t.Fatalf("%s: %s balances sum to %d", when, asset, sum)
		}
	}

	// Account metadata: the last transaction setting it wins.
	wantMeta := map[string]string{}
	for _, tx := range txs {
		for account, md := range l.sent[tx.Metadata["req"]].AccountMetadata {
			wantMeta[account] = md["last"]
		}
	}
	type account struct {
		Address  string            `json:"address"`
		Metadata map[string]string `json:"metadata"`
	}
	for _, a := range listAll[account](t, srv, "/api/ledger/v2/main/accounts") {
		if a.Metadata["last"] != wantMeta[a.Address] {
			t.Fatalf("%s: %s has metadata %v, want last=%q", when, a.Address, a.Metadata, wantMeta[a.Address])
		}
	}

	// Logs: one per transaction, dense ids, keyed by the request, chain valid.
	type logEntry struct {
		ID             uint64 `json:"id"`
		Type           string `json:"type"`
		IdempotencyKey string `json:"idempotencyKey"`
		Data           struct {
			Transaction crashTx `json:"transaction"`
		} `json:"data"`
	}
	logs := listAll[logEntry](t, srv, "/api/ledger/v2/main/logs")
	sort.Slice(logs, func(i, j int) bool { return logs[i].ID < logs[j].ID })
	if len(logs) != len(txs) {
		t.Fatalf("%s: %d logs for %d transactions", when, len(logs), len(txs))
	}
	for i, lg := range logs {
		tx := lg.Data.Transaction
		if lg.ID != uint64(i+1) || lg.Type != "NEW_TRANSACTION" || tx.ID == 0 || tx.ID > uint64(len(txs)) ||
			!reflect.DeepEqual(tx.Postings, txs[tx.ID-1].Postings) || lg.IdempotencyKey != tx.Metadata["req"] {
			t.Fatalf("%s: log #%d does not record its transaction: %+v", when, i+1, lg)
		}
	}
	var verify struct {
		Data struct {
			Checked uint64          `json:"checked"`
			LastID  uint64          `json:"lastId"`
			Break   json.RawMessage `json:"break"`
		}
	}
	srv.do(t, "GET", "/api/ledger/v2/main/logs/verify", "", &verify)
	if verify.Data.Checked != uint64(len(logs)) || verify.Data.LastID != uint64(len(logs)) || verify.Data.Break != nil {
		t.Fatalf("%s: chain verification: %+v for %d logs", when, verify.Data, len(logs))
	}
}

// accountsOf is the set of accounts tx's postings touch.
func accountsOf(tx crashTx) map[string]bool {
	set := map[string]bool{}
	for _, p := range tx.Postings {
		set[p.Source], set[p.Destination] = true, true
	}
	return set
}

// wantAssets is the set of assets the transactions move.
func wantAssets(txs []crashTx) map[string]bool {
	set := map[string]bool{}
	for _, tx := range txs {
		for _, p := range tx.Postings {
			set[p.Asset] = true
		}
	}
	return set
}

// listAll reads every page of a list endpoint; params are name, value
// pairs of the first page's query.
func listAll[T any](t *testing.T, srv *kontorProcess, path string, params ...string) []T {
	t.Helper()
	var all []T
	next := ""
	for {
		q := url.Values{"pageSize": {"100"}}
		for i := 0; i+1 < len(params); i += 2 {
			q.Add(params[i], params[i+1])
		}
		if next != "" {
			q = url.Values{"cursor": {next}}
		}
		var page struct {
			Cursor struct {
				HasMore bool   `json:"hasMore"`
				Next    string `json:"next"`
				Data    []T    `json:"data"`
			} `json:"cursor"`
		}
		if code, raw := srv.do(t, "GET", path+"?"+q.Encode(), "", &page); code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, raw)
		}
		all = append(all, page.Cursor.Data...)
		if !page.Cursor.HasMore {
			return all
		}
		next = page.Cursor.Next
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
