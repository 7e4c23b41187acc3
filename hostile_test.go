package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/graph"
	"github.com/touchpoint/touchpoint/internal/gqlguard/guardtest"
	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
)

// TestHostileRequests sends a catalogue of hostile documents and malformed
// HTTP requests to a real server: each is refused with the right status
// and code, and ordinary queries keep working between them.
func TestHostileRequests(t *testing.T) {
	base := startServer(t, filepath.Join(t.TempDir(), "touchpoint.db"))
	auth := basicAuth(demoKeyID, demoSecret)
	gql := func(q string) string { b, _ := json.Marshal(map[string]string{"query": q}); return string(b) }
	ids := strings.Repeat(`"1000001",`, 100)
	tests := []struct {
		name, method, ctype, body string
		header                    map[string]string
		status                    int
		code                      string
	}{
		{"fragment fan-out", "POST", "application/json", gql(guardtest.FanOut(30)), nil, 200, "FIELD_LIMIT_EXCEEDED"},
		{"thousands of repeated fields", "POST", "application/json", gql("{ " + strings.Repeat("__typename ", 10000) + "}"), nil, 200, "SELECTION_LIMIT_EXCEEDED"},
		{"a long document", "POST", "application/json", gql("{ " + strings.Repeat("a { "+strings.Repeat("__typename ", 90)+"} ", 60) + "}"), nil, 200, "TOKEN_LIMIT_EXCEEDED"},
		{"directive flood", "POST", "application/json", gql("{ __typename " + strings.Repeat("@skip(if: false) ", 200) + "}"), nil, 200, "DIRECTIVE_LIMIT_EXCEEDED"},
		{"deep nesting", "POST", "application/json", gql(strings.Repeat("{ a ", 40) + strings.Repeat("}", 40)), nil, 200, "DEPTH_LIMIT_EXCEEDED"},
		{"huge list literal", "POST", "application/json", gql(`{ customers(by: ID, values: [` + strings.Repeat(`"1",`, 20000) + `]) { id } }`), nil, 200, "TOKEN_LIMIT_EXCEEDED"},
		{"many aliases", "POST", "application/json", gql("{ " + strings.Repeat(`a: customer(id: "1") { id } `, 60)[:0] + aliases(60) + " }"), nil, 200, "ALIAS_LIMIT_EXCEEDED"},
		{"many root fields", "POST", "application/json", gql("{ " + strings.Repeat(`customer(id: "1") { id } `, 25) + "}"), nil, 200, "ROOT_FIELD_LIMIT_EXCEEDED"},
		{"too complex", "POST", "application/json", gql(`{ customers(by: ID, values: [` + ids + `]) { interactions(limit: 500) { interactions { messages { id subject body } } } } }`), nil, 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"body over the limit", "POST", "application/json", `{"query":"{ __typename }","x":"` + strings.Repeat("x", 256<<10) + `"}`, nil, 413, "REQUEST_TOO_LARGE"},
		{"malformed JSON", "POST", "application/json", `{"query": "{ __typename }"`, nil, 400, "BAD_REQUEST"},
		{"JSON that is not an object", "POST", "application/json", `["{ __typename }"]`, nil, 400, "BAD_REQUEST"},
		{"parse error", "POST", "application/json", gql("{ customer("), nil, 200, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", "POST", "application/json", gql("{ secrets }"), nil, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"variables of the wrong type", "POST", "application/json", `{"query":"query($l: Int) { customer(id: \"1\") { interactions(limit: $l) { network } } }","variables":{"l":"many"}}`, nil, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"mutation (none exist)", "POST", "application/json", gql("mutation { dropAll }"), nil, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"graphql-response+json parse error", "POST", "application/json", gql("{"), map[string]string{"Accept": "application/graphql-response+json"}, 400, "GRAPHQL_PARSE_FAILED"},
		{"unsupported content type", "POST", "text/plain", "{ __typename }", nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"unsupported method", "PUT", "application/json", gql("{ __typename }"), nil, 405, "METHOD_NOT_ALLOWED"},
		{"OPTIONS without CORS", "OPTIONS", "", "", nil, 405, "METHOD_NOT_ALLOWED"},
		{"unacceptable Accept", "POST", "application/json", gql("{ __typename }"), map[string]string{"Accept": "text/html"}, 406, "NOT_ACCEPTABLE"},
		{"GET without a query", "GET", "", "", nil, 400, "BAD_REQUEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+"/graphql", strings.NewReader(tt.body))
			req.Header.Set("Authorization", auth)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %.300s", resp.StatusCode, tt.status, body)
			}
			if tt.code != "" && !bytes.Contains(body, []byte(`"code":"`+tt.code+`"`)) {
				t.Errorf("body lacks code %s: %.300s", tt.code, body)
			}
			if len(tt.body) > 100 && bytes.Contains(body, []byte(tt.body[:100])) {
				t.Error("the request body is echoed back")
			}
			// An ordinary query still works.
			if status, b := (client{t: t, base: base, auth: auth}).graphql(`{ customer(mobile: "919988221100") { id } }`); status != 200 || !strings.Contains(b, "565039505") {
				t.Errorf("normal query after a hostile one: %d %s", status, b)
			}
		})
	}

	// Headers over the limit: 431 from the HTTP server itself.
	req, _ := http.NewRequest("GET", base+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 200<<10))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("huge header: %d", resp.StatusCode)
		}
	}
}

func aliases(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: __typename ", i)
	}
	return b.String()
}

// inProcess builds the real handler over a fresh database with the demo
// data, for fuzzing and benchmarks; with the response cache on, as serve
// has it, so hostile bodies go through its keying too.
func inProcess(t testing.TB) http.Handler {
	t.Helper()
	db := demoStore(t, filepath.Join(t.TempDir(), "touchpoint.db"))
	cfg := httpapi.DefaultConfig()
	cfg.DefaultRateLimit = 1 << 30
	return newHandler(cfg, db, slog.New(slog.DiscardHandler), ratelimit.NewMemory(), nil, graph.HandlerConfig{Introspection: true}, "", 1<<20)
}

// FuzzGraphQLEndpoint throws arbitrary bodies and content types at the real
// GraphQL endpoint: never a 500, always a JSON answer, never the body
// echoed back.
func FuzzGraphQLEndpoint(f *testing.F) {
	for _, s := range []string{`{"query":"{ __typename }"}`, `{"query":"{ customer(mobile: \"919988221100\") { id } }"}`,
		`{"query":"query($v: Int) { __typename }","variables":{"v":"x"}}`, `{"query": 1}`, `{`, guardtest.FanOut(3), `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`} {
		f.Add(s, "application/json")
	}
	h := inProcess(f)
	f.Fuzz(func(t *testing.T, body, ctype string) {
		req := httptest.NewRequest("POST", "/graphql", strings.NewReader(body))
		req.SetBasicAuth(demoKeyID, demoSecret)
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q (%s): %s", rec.Code, body, ctype, rec.Body)
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON for %q: %s", body, rec.Body)
		}
	})
}

// BenchmarkHostileDocuments: the cost of refusing each hostile document,
// each close to the 256 KiB body limit, through the whole handler
// (authentication included).
func BenchmarkHostileDocuments(b *testing.B) {
	h := inProcess(b)
	docs := map[string]string{
		"fanout":     guardtest.FanOut(30),
		"fields":     "{ " + strings.Repeat("__typename ", 23_000) + "}",
		"directives": "{ a " + strings.Repeat("@d ", 85_000) + "}",
		"nesting":    strings.Repeat("{a", 42_000) + strings.Repeat("}", 42_000),
		"list":       `{ customers(by: ID, values: [` + strings.Repeat(`1,`, 125_000) + `]) { id } }`,
	}
	for name, doc := range docs {
		body, _ := json.Marshal(map[string]string{"query": doc})
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
				req.SetBasicAuth(demoKeyID, demoSecret)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if !bytes.Contains(rec.Body.Bytes(), []byte("LIMIT_EXCEEDED")) {
					b.Fatalf("not refused: %.200s", rec.Body)
				}
			}
		})
	}
}
