package numscript

import (
	"fmt"
	"sort"
)

// metaKey is an (account, metadata key) pair.
type metaKey struct{ account, key string }

// fetchMetadata asks the store for the needed pairs not fetched yet, in one
// query.
func (in *interp) fetchMetadata(needs map[metaKey]bool) error {
	query := map[string][]string{}
	for k := range needs {
		if !in.metaFetched[k] {
			query[k.account] = append(query[k.account], k.key)
		}
	}
	if len(query) == 0 {
		return nil
	}
	for _, keys := range query {
		sort.Strings(keys)
	}
	got, err := in.store.Metadata(in.ctx, query)
	if err != nil {
		return fmt.Errorf("numscript: querying account metadata: %w", err)
	}
	for account, keys := range query {
		for _, key := range keys {
			k := metaKey{account, key}
			in.metaFetched[k] = true
			if v, ok := got[account][key]; ok {
				in.meta[k] = v
			}
		}
	}
	return nil
}
