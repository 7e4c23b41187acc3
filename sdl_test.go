package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeSchemaSDL: /graphql/schema.graphql is authenticated like
// /graphql and follows --introspection; other methods than GET and HEAD
// get a GraphQL error, not ServeMux's text.
func TestServeSchemaSDL(t *testing.T) {
	on := startServer(t, filepath.Join(t.TempDir(), "on.db"))
	off := startServer(t, filepath.Join(t.TempDir(), "off.db"), "--introspection=false")
	demo := basicAuth(demoKeyID, demoSecret)
	for _, tc := range []struct {
		name, method, base, auth string
		status                   int
		ctype, body              string // body: a part of it
	}{
		{"introspection on", "GET", on, demo, 200, "text/plain; charset=utf-8", "type Query {"},
		{"no credentials", "GET", on, "", 401, "application/json", `"code":"UNAUTHENTICATED"`},
		{"introspection off", "GET", off, demo, 404, "application/json", `"code":"INTROSPECTION_DISABLED"`},
		{"introspection off, no credentials", "GET", off, "", 401, "application/json", `"code":"UNAUTHENTICATED"`},
		{"POST", "POST", on, demo, 405, "application/json", `"code":"METHOD_NOT_ALLOWED"`},
		{"DELETE, no credentials", "DELETE", off, "", 405, "application/json", `"message":"method DELETE is not allowed: this route serves GET and HEAD"`},
	} {
		c := client{t: t, base: tc.base, auth: tc.auth}
		status, body, h := c.do(tc.method, "/graphql/schema.graphql", "")
		if status == 405 && h.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: Allow = %q, want GET, HEAD", tc.name, h.Get("Allow"))
		}
		if status != tc.status || h.Get("Content-Type") != tc.ctype || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %q %.200s; want %d %q with %s", tc.name, status, h.Get("Content-Type"), body, tc.status, tc.ctype, tc.body)
		}
	}
}
