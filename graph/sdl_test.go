package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/touchpoint/touchpoint/graph"
)

// TestSchemaSDL: the SDL served is the executable schema: it loads as a
// schema, every type and field the server runs is in it, and printing it
// again changes nothing.
func TestSchemaSDL(t *testing.T) {
	rec := httptest.NewRecorder()
	graph.SchemaHandler(true).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphql/schema.graphql", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	sdl := rec.Body.String()
	loaded, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: sdl})
	if err != nil {
		t.Fatalf("the SDL does not load: %v\n%s", err, sdl)
	}
	runs := graph.NewExecutableSchema(graph.Config{}).Schema()
	for name, def := range runs.Types {
		if def.BuiltIn {
			continue
		}
		got := loaded.Types[name]
		if got == nil {
			t.Errorf("type %s missing", name)
			continue
		}
		for _, f := range def.Fields {
			if g := got.Fields.ForName(f.Name); g == nil || g.Type.String() != f.Type.String() || len(g.Arguments) != len(f.Arguments) {
				t.Errorf("%s.%s: %v, want %s with %d arguments", name, f.Name, g, f.Type, len(f.Arguments))
			}
		}
	}
	if loaded.Query == nil || loaded.Query.Name != "Query" {
		t.Errorf("no query type")
	}
	var again bytes.Buffer
	formatter.NewFormatter(&again).FormatSchema(loaded)
	if again.String() != sdl {
		t.Errorf("printing the loaded SDL again differs:\n%s", again.String())
	}
}

func TestSchemaSDLDisabled(t *testing.T) {
	rec := httptest.NewRecorder()
	graph.SchemaHandler(false).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphql/schema.graphql", nil))
	var r response
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	if rec.Code != http.StatusNotFound || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeIntrospectionDisabled {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
}
