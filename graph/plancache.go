package graph

import (
	"runtime"
	"sync"
	"weak"

	"github.com/vektah/gqlparser/v2/ast"
)

// sharedPlans keeps the plans of directive-free documents from one
// request to the next. Collecting them anew was a tenth of a one-customer
// question's allocations (gqlgen's field collection for every selection
// set, and the plan's keys), for the same result every time.
var sharedPlans = planCache{max: 4096}

// planCache maps a field of a parsed document to its plan. The field is
// held weakly: an entry lives as long as its document, which gqlgen's
// query cache keeps while it is in use, and goes when the document is
// collected. max bounds the entries (documents never asked twice, such as
// ones with their values written in, are many): past it, plans are
// collected for the request only.
type planCache struct {
	mu  sync.RWMutex
	m   map[planKey]*plan
	max int
}

type planKey struct {
	field    weak.Pointer[ast.Field]
	typename string
}

// get returns the plan kept for field as typename.
func (c *planCache) get(field *ast.Field, typename string) (*plan, bool) {
	c.mu.RLock()
	p, ok := c.m[planKey{weak.Make(field), typename}]
	c.mu.RUnlock()
	return p, ok
}

// put keeps p for field as typename, unless the cache is full, and
// returns the plan kept: p, or the one another request kept meanwhile.
func (c *planCache) put(field *ast.Field, typename string, p *plan) *plan {
	k := planKey{weak.Make(field), typename}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok {
		return old
	}
	if len(c.m) >= c.max {
		return p
	}
	if c.m == nil {
		c.m = make(map[planKey]*plan)
	}
	c.m[k] = p
	runtime.AddCleanup(field, c.forget, k)
	return p
}

// forget drops the entry of a field whose document is gone.
func (c *planCache) forget(k planKey) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

func (c *planCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// hasDirectives reports whether any selection of doc, its operations' and
// its fragments', carries a directive.
func hasDirectives(doc *ast.QueryDocument) bool {
	if doc == nil {
		return true // nothing to vouch for the plans: keep them per request
	}
	for _, op := range doc.Operations {
		if len(op.Directives) > 0 || selectionsHaveDirectives(op.SelectionSet) {
			return true
		}
	}
	for _, f := range doc.Fragments {
		if len(f.Directives) > 0 || selectionsHaveDirectives(f.SelectionSet) {
			return true
		}
	}
	return false
}

func selectionsHaveDirectives(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 || selectionsHaveDirectives(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || selectionsHaveDirectives(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 {
				return true
			} // the fragment's own selections are walked with doc.Fragments
		}
	}
	return false
}
