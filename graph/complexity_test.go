package graph_test

import (
	"encoding/json"
	"fmt"
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

// TestComplexityKeptPerListLength: costs are kept under the variables'
// numbers and list lengths, not their strings, so a longer list of values
// is still refused after a shorter one was kept, and the same question
// about other customers is accepted.
func TestComplexityKeptPerListLength(t *testing.T) {
	e := newEnvConfig(t, 10, graph.HandlerConfig{ComplexityLimit: 2_000})
	const q = `query($v: [String!]!) { customers(by: MOBILE, values: $v) { id interactions(limit: 20) { interactions { messages { id } } } } }`
	mobiles := func(from, n int) []any {
		var v []any
		for i := range n {
			v = append(v, fmt.Sprint(919000000000+from+i))
		}
		return v
	}
	for i, tt := range []struct {
		values  []any
		refused bool
	}{
		{mobiles(1, 1), false},
		{mobiles(2, 1), false},
		{mobiles(1, 10), true},
		{mobiles(3, 1), false},
		{mobiles(20, 10), true},
	} {
		r := e.query(t, q, map[string]any{"v": tt.values})
		refused := len(r.Errors) == 1 && r.Errors[0].Extensions["code"] == graph.CodeComplexity
		if refused != tt.refused || (!refused && len(r.Errors) > 0) {
			t.Errorf("ask %d (%d values): errors %+v, want refused %v", i, len(tt.values), r.Errors, tt.refused)
		}
	}
}

// TestCostVars: the text a cost is kept under blanks strings and keeps
// the rest, keys sorted.
func TestCostVars(t *testing.T) {
	for _, tt := range []struct {
		vars map[string]any
		want string
	}{
		{map[string]any{"m": "919000000005"}, `{"m":"s"}`},
		{map[string]any{"m": "other"}, `{"m":"s"}`},
		{map[string]any{"v": []any{"a", "b"}, "n": json.Number("20"), "b": true, "x": nil}, `{"b":true,"n":20,"v":["s","s"],"x":null}`},
		{map[string]any{"f": map[string]any{"z": int64(3), "a": 1.5}}, `{"f":{"a":1.5,"z":3}}`},
	} {
		if got := graph.CostVars(tt.vars); got != tt.want {
			t.Errorf("CostVars(%v) = %s, want %s", tt.vars, got, tt.want)
		}
	}
}
