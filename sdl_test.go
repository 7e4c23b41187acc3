package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeSchemaSDL: /graphql/schema.graphql is authenticated like
// /graphql and follows --introspection.
func TestServeSchemaSDL(t *testing.T) {
	on := startServer(t, filepath.Join(t.TempDir(), "on.db"))
	off := startServer(t, filepath.Join(t.TempDir(), "off.db"), "--introspection=false")
	demo := basicAuth(demoKeyID, demoSecret)
	for _, tc := range []struct {
		name, base, auth string
		status           int
		ctype, body      string // body: a part of it
	}{
		{"introspection on", on, demo, 200, "text/plain; charset=utf-8", "type Query {"},
		{"no credentials", on, "", 401, "application/json", `"code":"UNAUTHENTICATED"`},
		{"introspection off", off, demo, 404, "application/json", `"code":"INTROSPECTION_DISABLED"`},
		{"introspection off, no credentials", off, "", 401, "application/json", `"code":"UNAUTHENTICATED"`},
	} {
		c := client{t: t, base: tc.base, auth: tc.auth}
		status, body, h := c.do("GET", "/graphql/schema.graphql", "")
		if status != tc.status || h.Get("Content-Type") != tc.ctype || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %q %.200s; want %d %q with %s", tc.name, status, h.Get("Content-Type"), body, tc.status, tc.ctype, tc.body)
		}
	}
}
