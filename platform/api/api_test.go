package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

func TestEnvelopes(t *testing.T) {
	rec := httptest.NewRecorder()
	Ok(rec, map[string]int{"a": 1})
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"data":{"a":1}}` {
		t.Fatalf("Ok: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	WriteCursor(rec, Cursor[int]{PageSize: 2, HasMore: true, Next: "abc"})
	if got := strings.TrimSpace(rec.Body.String()); got != `{"cursor":{"pageSize":2,"hasMore":true,"next":"abc","data":[]}}` {
		t.Fatalf("cursor: %s", got)
	}
	rec = httptest.NewRecorder()
	Created(rec, 1)
	if rec.Code != 201 {
		t.Fatalf("Created: %d", rec.Code)
	}
}

func TestErrorMapping(t *testing.T) {
	req := httptest.NewRequest("GET", "/x", nil)
	cases := []struct {
		err    error
		status int
		body   string
	}{
		{domain.Errorf(domain.CodeValidation, "bad %s", "thing"), 400, `{"errorCode":"VALIDATION","errorMessage":"bad thing"}`},
		{domain.Errorf(domain.CodeNotFound, "nope"), 404, `{"errorCode":"NOT_FOUND","errorMessage":"nope"}`},
		{&domain.Error{Code: domain.CodeInsufficientFund, Message: "m", Details: map[string]string{"asset": "USD"}}, 400,
			`{"errorCode":"INSUFFICIENT_FUND","errorMessage":"m","details":"{\"asset\":\"USD\"}"}`},
		{errors.New("pq: password=secret"), 500, `{"errorCode":"INTERNAL","errorMessage":"Internal error. Consult logs/traces to have more details."}`},
		{&http.MaxBytesError{Limit: 10}, 413, `{"errorCode":"VALIDATION","errorMessage":"request body too large: the limit is 10 bytes"}`},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		WriteError(rec, req, tc.err)
		if rec.Code != tc.status || strings.TrimSpace(rec.Body.String()) != tc.body {
			t.Errorf("%v: got %d %s, want %d %s", tc.err, rec.Code, rec.Body, tc.status, tc.body)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name string `json:"name"`
	}
	decode := func(s string, allowEmpty bool, limit int64) error {
		r := httptest.NewRequest("POST", "/", strings.NewReader(s))
		if limit > 0 {
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
		}
		var b body
		return DecodeJSON(r, &b, allowEmpty)
	}
	if err := decode(`{"name":"x"}`, false, 0); err != nil {
		t.Fatal(err)
	}
	if err := decode(``, true, 0); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{``, `{`, `{"name":1}`, `{} {}`, `[1]`} {
		err := decode(bad, false, 0)
		if domain.ErrorCode(err) != domain.CodeValidation {
			t.Errorf("%q: got %v, want VALIDATION", bad, err)
		}
	}
	var tooLarge *http.MaxBytesError
	if err := decode(`{"name":"`+strings.Repeat("x", 100)+`"}`, false, 16); !errors.As(err, &tooLarge) {
		t.Errorf("oversized body: got %v", err)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	type q struct {
		PageSize int    `json:"pageSize"`
		Column   string `json:"column"`
	}
	token := EncodeCursor(q{PageSize: 15, Column: "id"})
	if strings.ContainsAny(token, "=+/") {
		t.Fatalf("token must be unpadded base64url: %s", token)
	}
	var back q
	if err := DecodeCursor(token, &back); err != nil || back.Column != "id" || back.PageSize != 15 {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	if err := DecodeCursor("!!", &back); domain.ErrorCode(err) != domain.CodeValidation {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestPageSize(t *testing.T) {
	for raw, want := range map[string]int{"": 15, "5": 5, "1000": 100, "0": 15} {
		n, err := PageSize(httptest.NewRequest("GET", "/?pageSize="+raw, nil))
		if err != nil || n != want {
			t.Errorf("%q: got %d %v, want %d", raw, n, err, want)
		}
	}
	if _, err := PageSize(httptest.NewRequest("GET", "/?pageSize=abc", nil)); domain.ErrorCode(err) != domain.CodeValidation {
		t.Errorf("abc: %v", err)
	}
}
