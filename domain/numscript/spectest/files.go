package spectest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SpecsSuffix ends the name of a spec file; the script is the same path
// without ".specs.json".
const SpecsSuffix = ".num.specs.json"

// FileResult is the outcome of one spec file.
type FileResult struct {
	// Path is the spec file's path.
	Path string
	// Err is set when the file or its script could not be read or parsed;
	// Cases is then empty.
	Err   error
	Cases []CaseResult
}

// RunFile reads a spec file and its script and runs every case.
func RunFile(ctx context.Context, specsPath string) FileResult {
	result := FileResult{Path: specsPath}
	specsJSON, err := os.ReadFile(specsPath)
	if err != nil {
		result.Err = err
		return result
	}
	script, err := os.ReadFile(strings.TrimSuffix(specsPath, ".specs.json"))
	if err != nil {
		result.Err = err
		return result
	}
	result.Cases, result.Err = Run(ctx, string(script), specsJSON)
	return result
}

// RunDir runs every spec file under dir (recursively), in path order.
func RunDir(ctx context.Context, dir string) ([]FileResult, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, SpecsSuffix) {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	results := make([]FileResult, 0, len(paths))
	for _, path := range paths {
		results = append(results, RunFile(ctx, path))
	}
	return results, nil
}

// Summary counts the cases that passed, failed (a file that could not run,
// or has no case, counts as one failure) and were skipped.
func Summary(results []FileResult) (passed, failed, skipped int) {
	for _, file := range results {
		if file.Err != nil || len(file.Cases) == 0 {
			failed++
		}
		for _, c := range file.Cases {
			switch {
			case c.Skipped:
				skipped++
			case c.Passed():
				passed++
			default:
				failed++
			}
		}
	}
	return passed, failed, skipped
}

// Report writes a human-readable report of the results: one line per file,
// the diff of every failing case, and the closing line
// "N passed, N failed" (", N skipped" when some were).
func Report(w io.Writer, results []FileResult) error {
	var b strings.Builder
	for _, file := range results {
		switch {
		case file.Err != nil:
			fmt.Fprintf(&b, "FAIL %s: %v\n", file.Path, file.Err)
			continue
		case len(file.Cases) == 0:
			fmt.Fprintf(&b, "FAIL %s: no test cases\n", file.Path)
			continue
		}
		status := "ok  "
		for _, c := range file.Cases {
			if !c.Passed() && !c.Skipped {
				status = "FAIL"
			}
		}
		fmt.Fprintf(&b, "%s %s (%d cases)\n", status, file.Path, len(file.Cases))
		for _, c := range file.Cases {
			if c.Skipped || c.Passed() {
				continue
			}
			fmt.Fprintf(&b, "  x %s\n", c.It)
			for _, f := range c.Failures {
				fmt.Fprintf(&b, "    %s\n", f.Assertion)
				for _, line := range strings.Split(strings.TrimRight(f.Diff, "\n"), "\n") {
					fmt.Fprintf(&b, "      %s\n", line)
				}
			}
		}
	}
	passed, failed, skipped := Summary(results)
	fmt.Fprintf(&b, "%d passed, %d failed", passed, failed)
	if skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", skipped)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
