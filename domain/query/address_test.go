package query

import (
	"slices"
	"testing"
)

func TestParseAddressPattern(t *testing.T) {
	tests := []struct {
		in       string
		segments []string
		open     bool
		full     bool
	}{
		{"world", []string{"world"}, false, true},
		{"users:001", []string{"users", "001"}, false, true},
		{"users:", []string{"users", ""}, false, false},
		{"::admin", []string{"", "", "admin"}, false, false},
		{":", []string{"", ""}, false, false},
		{"", []string{""}, false, false},
		{"users:...", []string{"users"}, true, false},
		{"...", []string{}, true, false},
		{":...", []string{""}, true, false},
		{"a:...:b", []string{"a", "...", "b"}, false, true}, // "..." is special only last
		{"a::b:...", []string{"a", "", "b"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p := ParseAddressPattern(tt.in)
			if !slices.Equal(p.Segments, tt.segments) || p.Open != tt.open {
				t.Fatalf("got %#v", p)
			}
			if p.IsFull() != tt.full {
				t.Fatalf("IsFull = %v", p.IsFull())
			}
			if p.String() != tt.in {
				t.Fatalf("String = %q", p.String())
			}
		})
	}
}

func TestAddressPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		noMatch []string
	}{
		{"world", []string{"world"}, []string{"worlds", "world:1", "users:world", ""}},
		{"users:001", []string{"users:001"}, []string{"users:002", "users:001:x", "users"}},
		{"users:", []string{"users:001", "users:x"}, []string{"users", "users:001:main", "merchants:001", "xusers:1"}},
		{"::admin", []string{"a:b:admin", "x:y:admin"}, []string{"admin", "a:admin", "a:b:c:admin", "a:b:admins"}},
		{"users:...", []string{"users", "users:001", "users:001:main:x"}, []string{"merchants:001", "user", "usersx:1"}},
		{"users::main", []string{"users:001:main"}, []string{"users:001:other", "users:main", "users:001:main:x"}},
		{"users::...", []string{"users:1", "users:1:2:3"}, []string{"users", "bank:1"}},
		{"...", []string{"world", "a:b:c"}, nil},
		{"", []string{"world", ""}, []string{"a:b"}}, // one wildcard segment, like the reference
		{":", []string{"a:b"}, []string{"a", "a:b:c"}},
		{"a:...:b", []string{"a:...:b"}, []string{"a:x:b", "a:b"}},
	}
	for _, tt := range tests {
		p := ParseAddressPattern(tt.pattern)
		for _, a := range tt.match {
			if !p.Match(a) {
				t.Errorf("%q should match %q", tt.pattern, a)
			}
		}
		for _, a := range tt.noMatch {
			if p.Match(a) {
				t.Errorf("%q should not match %q", tt.pattern, a)
			}
		}
	}
}

func TestMatchLike(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"%", "", true},
		{"%", "anything", true},
		{"abc", "abc", true},
		{"abc", "ABC", false},
		{"a%", "abc", true},
		{"a%", "ba", false},
		{"%c", "abc", true},
		{"%b%", "abc", true},
		{"%b%", "ac", false},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"a_c", "abbc", false},
		{"___", "été", true}, // characters, not bytes
		{"__", "été", false},
		{"a%b%c", "a1b2b3c", true},
		{"a%b%c", "a1b2b3", false},
		{"%%%a", "xxa", true},
		{"%a%a%a", "aaa", true},
		{"%a%a%a", "aa", false},
		{`100\%`, "100%", true},
		{`100\%`, "1000", false},
		{`a\_b`, "a_b", true},
		{`a\_b`, "axb", false},
		{`a\\b`, `a\b`, true},
		{`\a`, "a", true},
		{`abc\`, `abc\`, false}, // invalid pattern
		{"users:%", "users:001", true},
		{"users:%", "merchants:001", false},
	}
	for _, tt := range tests {
		if got := MatchLike(tt.pattern, tt.s); got != tt.want {
			t.Errorf("MatchLike(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
