package ledgerv2

import (
	"fmt"
	"testing"
)

func TestScriptCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newScriptCache(2)
	src := func(i int) string { return fmt.Sprintf("send [USD %d] (source = @world destination = @a)", i) }
	first, err := c.parse(src(1))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.parse(src(1)); again != first {
		t.Fatal("a cached script was parsed again")
	}
	_, _ = c.parse(src(2))
	_, _ = c.parse(src(1)) // 1 is now more recent than 2
	_, _ = c.parse(src(3))
	if c.order.Len() != 2 || len(c.byKey) != 2 {
		t.Fatalf("cache holds %d scripts, want 2", c.order.Len())
	}
	if again, _ := c.parse(src(1)); again != first {
		t.Fatal("the most recently used script was evicted")
	}
	if _, err := c.parse("send ("); err == nil || c.order.Len() != 2 {
		t.Fatalf("a script that does not parse: %v, cache of %d", err, c.order.Len())
	}
}
