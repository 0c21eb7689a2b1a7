package spectest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain/numscript/spectest"
)

// TestConformance runs the spec corpus of testdata/specs: every case of
// every file must pass.
func TestConformance(t *testing.T) {
	results, err := spectest.RunDir(context.Background(), "../testdata/specs")
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no spec files found")
	}
	for _, file := range results {
		t.Run(strings.TrimSuffix(file.Path[strings.LastIndex(file.Path, "/")+1:], spectest.SpecsSuffix), func(t *testing.T) {
			if file.Err != nil {
				t.Fatal(file.Err)
			}
			if len(file.Cases) == 0 {
				t.Fatal("no test cases")
			}
			for _, c := range file.Cases {
				if c.Skipped {
					t.Errorf("%s: skipped (focus/skip must not be committed)", c.It)
				}
				for _, f := range c.Failures {
					t.Errorf("%s: %s", c.It, f)
				}
			}
		})
	}
	passed, failed, _ := spectest.Summary(results)
	t.Logf("%d spec cases in %d files: %d passed, %d failed", passed+failed, len(results), passed, failed)
}
