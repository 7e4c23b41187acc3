package graph

import (
	"runtime"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
)

// interactionsField parses q, a query of customer { interactions ... },
// and returns its operation and the interactions field as collected.
func interactionsField(t *testing.T, q string) (*graphql.OperationContext, graphql.CollectedField) {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(NewExecutableSchema(Config{}).Schema(), q, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	op := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
	root := graphql.CollectFields(op, doc.Operations[0].SelectionSet, []string{"Query"})
	return op, graphql.CollectFields(op, root[0].Selections, []string{"Customer"})[0]
}

// TestPlanCacheForgetsCollectedDocuments: a kept plan lives as long as
// its document; once nothing else holds the document, its entries go.
func TestPlanCacheForgetsCollectedDocuments(t *testing.T) {
	c := &planCache{max: 10}
	keep := func() {
		op, f := interactionsField(t, `{ customer(id: "1") { interactions { network interactions { type count } } } }`)
		p := c.put(f.Field, "NetworkInteractions", collect(op, f.Selections, "NetworkInteractions"))
		if again, ok := c.get(f.Field, "NetworkInteractions"); !ok || again != p {
			t.Error("the field's plan not kept")
		}
		if again := c.put(f.Field, "NetworkInteractions", collect(op, f.Selections, "NetworkInteractions")); again != p {
			t.Error("a second put replaced the kept plan")
		}
		if len(p.fields) != 2 || p.fields[0].alias != "network" || p.fields[1].sub == nil {
			t.Errorf("plan %+v", p.fields)
		}
	}
	keep()
	if n := c.len(); n != 1 {
		t.Fatalf("%d plans kept, want 1", n)
	}
	for deadline := time.Now().Add(10 * time.Second); c.len() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d plans still kept after their document was collected", c.len())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPlanCacheBounded: past max entries, plans are collected per call
// and not kept.
func TestPlanCacheBounded(t *testing.T) {
	c := &planCache{max: 2}
	var docs []any // held, so that no entry is forgotten meanwhile
	for range 5 {
		op, f := interactionsField(t, `{ customer(id: "1") { interactions { network } } }`)
		docs = append(docs, op.Doc)
		if p := c.put(f.Field, "NetworkInteractions", collect(op, f.Selections, "NetworkInteractions")); len(p.fields) != 1 {
			t.Errorf("plan %+v", p.fields)
		}
	}
	if n := c.len(); n != 2 {
		t.Errorf("%d plans kept, want the bound, 2", n)
	}
	runtime.KeepAlive(docs)
}

// TestHasDirectives: any directive anywhere in the document, operation,
// selection, inline fragment, spread or fragment, keeps plans per
// request.
func TestHasDirectives(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	tests := []struct {
		q    string
		want bool
	}{
		{`{ customer(id: "1") { id interactions { network } } }`, false},
		{`query($l: Int) { customer(id: "1") { ...F } } fragment F on Customer { interactions(limit: $l) { network } }`, false},
		{`query($s: Boolean!) { customer(id: "1") { interactions { network @skip(if: $s) } } }`, true},
		{`query($s: Boolean!) { customer(id: "1") { ... on Customer @include(if: $s) { id } } }`, true},
		{`query($s: Boolean!) { customer(id: "1") { ...F @skip(if: $s) } } fragment F on Customer { id }`, true},
		{`query($s: Boolean!) { customer(id: "1") { ...F } } fragment F on Customer { id @include(if: $s) }`, true},
		{`{ customer(id: "1") @skip(if: false) { id } }`, true},
	}
	for _, tt := range tests {
		doc, errs := gqlparser.LoadQueryWithRules(schema, tt.q, nil)
		if errs != nil {
			t.Fatalf("%s: %v", tt.q, errs)
		}
		if got := hasDirectives(doc); got != tt.want {
			t.Errorf("%s: hasDirectives %v, want %v", tt.q, got, tt.want)
		}
	}
}
