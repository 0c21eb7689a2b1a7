package ledgerv2

import (
	"container/list"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/numscript"
)

// The runtimes a transaction request may name. Kontor has one
// interpreter; the runtime only picks the error codes (see legacyError).
const (
	runtimeMachine     = "machine"
	runtimeInterpreter = "experimental-interpreter"
)

// maxCachedScripts bounds the parsed-script cache, like the reference's
// --numscript-cache-max-count.
const maxCachedScripts = 1024

// scriptCache keeps the most recently used parsed scripts, keyed by the
// SHA-256 of their text, so that a script sent again is not parsed again.
// Programs are read-only once parsed: runs share them.
type scriptCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *cachedScript, most recently used first
	byKey map[[sha256.Size]byte]*list.Element
}

type cachedScript struct {
	key  [sha256.Size]byte
	prog *numscript.Program
}

func newScriptCache(max int) *scriptCache {
	return &scriptCache{max: max, order: list.New(), byKey: map[[sha256.Size]byte]*list.Element{}}
}

// parse returns the program of src, parsed once per cache lifetime. A
// script that does not parse is not kept.
func (c *scriptCache) parse(src string) (*numscript.Program, error) {
	k := sha256.Sum256([]byte(src))
	c.mu.Lock()
	if e, ok := c.byKey[k]; ok {
		c.order.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*cachedScript).prog, nil
	}
	c.mu.Unlock()
	prog, err := numscript.Parse(src)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; !ok {
		c.byKey[k] = c.order.PushFront(&cachedScript{key: k, prog: prog})
		if c.order.Len() > c.max {
			oldest := c.order.Remove(c.order.Back()).(*cachedScript)
			delete(c.byKey, oldest.key)
		}
	}
	return prog, nil
}

// scriptVars converts the vars of a request to the string forms the
// interpreter reads: a string as it is, a number in decimal, and
// {"amount": n, "asset": "X"} as "X n", like the reference's v1 scripts.
// Anything else is refused.
func scriptVars(raw map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(raw))
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch v := raw[name].(type) {
		case string:
			out[name] = v
		case json.Number:
			out[name] = decimal(v)
		case map[string]any:
			asset, okAsset := v["asset"].(string)
			amount, okAmount := v["amount"].(json.Number)
			if !okAsset || !okAmount {
				return nil, domain.Errorf(domain.CodeValidation,
					`invalid value of variable '%s': an object must be {"amount": number, "asset": string}`, name)
			}
			out[name] = asset + " " + decimal(amount)
		default:
			return nil, domain.Errorf(domain.CodeValidation,
				"invalid value of variable '%s': want a string, a number or {\"amount\", \"asset\"}", name)
		}
	}
	return out, nil
}

// decimal writes a JSON number in decimal: an integer as written (exact,
// however large), another number without exponent (1e3 → 1000, 0.5).
func decimal(n json.Number) string {
	if !strings.ContainsAny(n.String(), ".eE") {
		return n.String()
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsInf(f, 0) {
		return n.String()
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// legacyError maps, for the machine runtime, the errors that the
// reference's machine reports as COMPILATION_FAILED: a script that does
// not parse, and variables that are missing or malformed.
func legacyError(prog *numscript.Program, err error) error {
	var e *domain.Error
	if !errors.As(err, &e) {
		return err
	}
	compilation := &domain.Error{Code: domain.CodeCompilationFailed, Message: e.Message, Details: e.Details}
	if e.Code == domain.CodeInterpreterParse {
		return compilation
	}
	d, ok := e.Details.(*numscript.ErrorDetails)
	if prog == nil || e.Code != domain.CodeInterpreterRuntime || !ok {
		return err
	}
	for _, decl := range prog.Vars {
		if d.Range == decl.NameRange || d.Range == decl.TypeRange {
			return compilation
		}
	}
	return err
}
