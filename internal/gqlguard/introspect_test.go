package gqlguard

import (
	"os"
	"testing"
)

// TestIntrospectionPasses: the introspection query GraphiQL sends (graphql-js
// getIntrospectionQuery with every option on) must pass the default limits,
// or the playground's documentation explorer breaks.
func TestIntrospectionPasses(t *testing.T) {
	q, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(string(q), DefaultLimits); err != nil {
		t.Fatal(err)
	}
}
