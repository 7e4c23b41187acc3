package graph

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// SchemaHandler serves the schema as SDL (for codegen and IDE tooling that
// reads a file rather than introspecting), printed by gqlparser from the
// executable schema, so it is the schema the server runs, never a copy
// kept by hand. It is introspection by another name, so the same switch
// governs it: with introspection off it answers 404 with
// INTROSPECTION_DISABLED.
func SchemaHandler(introspection bool) http.Handler {
	if !introspection {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			off := Disabled{"introspection"}
			w.Header().Set("Content-Type", mediaJSON)
			writeResponse(w, http.StatusNotFound, &graphql.Response{Errors: gqlerror.List{{
				Message: off.Error(), Extensions: map[string]any{"code": off.Code()},
			}}})
		})
	}
	var b bytes.Buffer
	formatter.NewFormatter(&b).FormatSchema(NewExecutableSchema(Config{}).Schema())
	sdl := b.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", strconv.Itoa(len(sdl)))
		w.Write(sdl)
	})
}
