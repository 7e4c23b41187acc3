package graph_test

import (
	"testing"

	"github.com/touchpoint/touchpoint/graph"
)

// TestComplexityKeptPerVariables: an operation's cost is kept once walked,
// under its document, operation and variables' values; the same document
// with a page size over the limit is still refused, before and after one
// within it, and a document without variables is costed alike every time.
func TestComplexityKeptPerVariables(t *testing.T) {
	e := newEnvConfig(t, 10, graph.HandlerConfig{ComplexityLimit: 2_000})
	const q = `query($n: Int) { customer(id: "565039505") { interactions(limit: $n) { interactions { messages { id } } } } }`
	for i, tt := range []struct {
		limit   int
		refused bool
	}{{5, false}, {500, true}, {5, false}, {500, true}, {6, false}} {
		r := e.query(t, q, map[string]any{"n": tt.limit})
		refused := len(r.Errors) == 1 && r.Errors[0].Extensions["code"] == graph.CodeComplexity
		if refused != tt.refused || (!refused && len(r.Errors) > 0) {
			t.Errorf("ask %d, limit %d: errors %+v, want refused %v", i, tt.limit, r.Errors, tt.refused)
		}
	}
	const fixed = `{ customer(id: "565039505") { interactions(limit: 500) { interactions { messages { id } } } } }`
	for i := range 3 {
		if r := e.query(t, fixed, nil); len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeComplexity {
			t.Errorf("ask %d without variables: %+v, want refused", i, r.Errors)
		}
	}
}
