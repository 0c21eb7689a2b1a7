package numscript

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

// FuzzParse checks that Parse never panics, that it only fails with parse
// errors, and that whatever parses can be checked and run without panicking.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/specs/*.num")
	for _, path := range seeds {
		if src, err := os.ReadFile(path); err == nil {
			f.Add(string(src))
		}
	}
	for _, s := range []string{
		"", "send", "vars {", "send [USD 1] (", "@", "$", "#!", "\"", "/*", "1.", "[USD *]",
		"send [USD/2 1_000] (source = { 1/3 from @a remaining from @b } destination = { max [USD/2 1] kept remaining to @c })",
		"send [A *] (source = oneof { @a \\ \"X\" allowing overdraft up to [A 1] @b with scaling through @c } destination = oneof { remaining kept })",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInterpreterParse {
				t.Fatalf("non-parse error %v", err)
			}
			return
		}
		_ = p.Check(nil)
		flags := map[string]bool{}
		for _, flag := range AllFlags {
			flags[flag] = true
		}
		_, _ = p.Execute(context.Background(), StaticStore{Assets: balancesOf("a A 10", "b A -3")}, nil, flags)
	})
}
