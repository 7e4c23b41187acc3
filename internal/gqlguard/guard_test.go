package gqlguard

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/touchpoint/touchpoint/internal/gqlguard/guardtest"
)

func TestCheck(t *testing.T) {
	dashboard := `query Dash($ids: [String!]!) { customers(by: ID, values: $ids) { id
		interactions(limit: 20) { network interactions { type count lastInteractionTime usedStatus
		messages { id subject status sentAt } } } } }`
	tests := []struct {
		name, doc, code string
	}{
		{"dashboard", dashboard, ""},
		{"fragments and inline fragments", `{ customer(id: "1") { ...C ... on Customer { email } } } fragment C on Customer { id mobile }`, ""},
		{"aliases within limit", `{ a: customer(id: "1") { id } b: customer(id: "2") { id } }`, ""},
		{"input objects and lists are not selections", `{ customers(by: ID, values: ["1","2","3"]) { id } }`, ""},
		{"lex error passes through", `{ customer(id: "1) { id } }`, ""},
		{"tokens", `{ customers(by: ID, values: [` + strings.Repeat(`"1",`, 6000) + `]) { id } }`, "TOKEN_LIMIT_EXCEEDED"},
		{"depth", "{" + strings.Repeat(" a {", 17) + " b " + strings.Repeat("}", 18), "DEPTH_LIMIT_EXCEEDED"},
		{"depth through fragments", `{ a { ...F } } fragment F on T { b { ...G } } fragment G on T { ` + strings.Repeat("c { ", 15) + "d" + strings.Repeat(" }", 15) + ` }`, "DEPTH_LIMIT_EXCEEDED"},
		{"repeated fields", "{ " + strings.Repeat("__typename ", 101) + "}", "SELECTION_LIMIT_EXCEEDED"},
		{"fragment fan-out", guardtest.FanOut(8), "FIELD_LIMIT_EXCEEDED"},
		{"aliases", "{ " + strings.Repeat("x: __typename ", 51) + "}", "ALIAS_LIMIT_EXCEEDED"},
		{"aliases through fragments", "{ ...A ...A ...A } fragment A on Query { " + strings.Repeat("x: __typename ", 20) + "}", "ALIAS_LIMIT_EXCEEDED"},
		{"directives", "{ __typename " + strings.Repeat("@skip(if: false) ", 51) + "}", "DIRECTIVE_LIMIT_EXCEEDED"},
		{"root fields", "{ " + strings.Repeat("customer(id: \"1\") { id } ", 21) + "}", "ROOT_FIELD_LIMIT_EXCEEDED"},
		{"cycle does not hang", `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.doc, DefaultLimits)
			code := ""
			if err != nil {
				code = err.(*Error).Code
			}
			if code != tt.code {
				t.Errorf("Check = %v, want code %q", err, tt.code)
			}
		})
	}
}

// TestExtensionSkipsPassedDocuments: the extension refuses a document over
// a limit unless Passed says the handler already holds it parsed and
// validated (which only a document that passed can be).
func TestExtensionSkipsPassedDocuments(t *testing.T) {
	over := "{ " + strings.Repeat("x: __typename ", 51) + "}"
	tests := []struct {
		name   string
		passed func(context.Context, string) bool
		want   string
	}{
		{"no Passed", nil, "ALIAS_LIMIT_EXCEEDED"},
		{"not passed", func(context.Context, string) bool { return false }, "ALIAS_LIMIT_EXCEEDED"},
		{"passed", func(_ context.Context, q string) bool { return q == over }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Extension{Limits: DefaultLimits, Passed: tt.passed}
			err := e.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: over})
			code := ""
			if err != nil {
				code, _ = err.Extensions["code"].(string)
			}
			if code != tt.want {
				t.Errorf("MutateOperationParameters = %v, want code %q", err, tt.want)
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	f.Add(guardtest.FanOut(3))
	f.Add(`{ a: b(x: {y: [1, 2]}) @d { ... on T { c } ...F } } fragment F on T { e }`)
	f.Fuzz(func(t *testing.T, doc string) {
		start := time.Now()
		_ = Check(doc, DefaultLimits)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Check took %v", d)
		}
	})
}

// BenchmarkHostile: any document up to 1 MiB (four times the HTTP body
// limit) is rejected
// or passed in well under 10 ms.
func BenchmarkHostile(b *testing.B) {
	docs := map[string]string{
		"fanout":     guardtest.FanOut(30),
		"fields":     "{ " + strings.Repeat("__typename ", 100_000) + "}",
		"directives": "{ a " + strings.Repeat("@d ", 300_000) + "}",
		"list":       `{ a(x: [` + strings.Repeat("1,", 500_000) + `]) }`,
		"depth":      strings.Repeat("{a", 200_000) + strings.Repeat("}", 200_000),
		"string":     `{ a(x: "` + strings.Repeat("x", 1<<20-20) + `") }`,
	}
	for name, doc := range docs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				Check(doc, DefaultLimits)
			}
		})
	}
}
