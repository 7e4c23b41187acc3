package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/graph"
)

func sha(s string) string {
	b := sha256.Sum256([]byte(s))
	return hex.EncodeToString(b[:])
}

func TestParseTrustedDocuments(t *testing.T) {
	const q = `{ customer(mobile: "917385022695") { id } }`
	tests := []struct {
		name     string
		manifest string
		len      int
		wantErr  string // part of the error; "" for none
	}{
		{name: "hash map", manifest: `{"` + sha(q) + `": "` + strings.ReplaceAll(q, `"`, `\"`) + `"}`, len: 1},
		{name: "prefixed hash of another document", manifest: `{"sha256:` + strings.ToUpper(sha(q)) + `": "{ a }"}`, wantErr: "not its id"},
		{name: "prefixed hash", manifest: `{"sha256:` + strings.ToUpper(sha("{ a }")) + `": "{ a }", "` + sha("{ b }") + `": "{ b }"}`, len: 2},
		{name: "apollo manifest", manifest: `{"format":"apollo-persisted-query-manifest","version":1,"operations":[
			{"id":"` + sha("query A { a }") + `","body":"query A { a }","name":"A","type":"query"},
			{"id":"` + sha("query B { b }") + `","body":"query B { b }","name":"B","type":"query"}]}`, len: 2},
		{name: "apollo manifest, wrong hash", manifest: `{"format":"apollo-persisted-query-manifest","version":1,"operations":[
			{"id":"` + sha("query A { a }") + `","body":"query A { a } ","name":"A","type":"query"}]}`, wantErr: `operation 0 ("A"): the SHA-256 of the document is ` + sha("query A { a } ")},
		{name: "apollo manifest, other version", manifest: `{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}`, wantErr: "want \"apollo-persisted-query-manifest\" version 1"},
		{name: "other format", manifest: `{"format":"relay","version":1}`, wantErr: `format "relay"`},
		{name: "hash that is not its document's", manifest: `{"` + sha("{ a }") + `": "{ b }"}`, wantErr: "the SHA-256 of the document is " + sha("{ b }") + ", not its id"},
		{name: "sha1 hashes", manifest: `{"da39a3ee5e6b4b0d3255bfef95601890afd80709": "{ a }"}`, wantErr: "not a SHA-256 hash"},
		{name: "not hex", manifest: `{"` + strings.Repeat("z", 64) + `": "{ a }"}`, wantErr: "not a SHA-256 hash"},
		{name: "document not a string", manifest: `{"` + sha("{ a }") + `": {"query": "{ a }"}}`, wantErr: "not a JSON string"},
		{name: "empty document", manifest: `{"` + sha("") + `": ""}`, wantErr: "empty"},
		{name: "empty", manifest: `{}`, wantErr: "lists no documents"},
		{name: "not JSON", manifest: `query { a }`, wantErr: "not a JSON object"},
		{name: "a list", manifest: `["{ a }"]`, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := graph.ParseTrustedDocuments([]byte(tt.manifest))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one with %q", err, tt.wantErr)
			case tt.wantErr == "" && d.Len() != tt.len:
				t.Errorf("%d documents, want %d", d.Len(), tt.len)
			}
		})
	}
}

// ask sends g to h in-process by method, accepting accept, and returns
// the status and the answer.
func (g gqlRequest) ask(t *testing.T, h http.Handler, method, accept string) (int, response) {
	t.Helper()
	req := g.newRequest(method, "")
	req.Header.Set("Accept", accept)
	rec, r := serve(t, h, req)
	return rec.Code, r
}

// TestTrustedDocuments: with a manifest, its documents run by hash (the
// APQ extension or documentId) or by identical text, over GET and POST,
// and everything else is refused with PERSISTED_QUERY_NOT_TRUSTED,
// automatic persisted-query registration included.
func TestTrustedDocuments(t *testing.T) {
	const (
		listed   = `{ customer(mobile: "917385022695") { id } }`
		unlisted = `{ customer(mobile: "917385022695") { id mobile } }`
		want     = `{"customer":{"id":"565200001"}}`
	)
	docs, err := graph.ParseTrustedDocuments([]byte(`{"` + sha(listed) + `": "` + strings.ReplaceAll(listed, `"`, `\"`) + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	trusted := newEnvConfig(t, 10, graph.HandlerConfig{Introspection: true, TrustedDocuments: docs})
	open := newEnv(t, 10)

	tests := []struct {
		name   string
		steps  []gqlRequest // run in order; the last one's answer is checked
		refuse bool
	}{
		{name: "listed, by text", steps: []gqlRequest{{Query: listed}}},
		{name: "listed, by APQ hash", steps: []gqlRequest{{Extensions: apq(sha(listed))}}},
		{name: "listed, by documentId", steps: []gqlRequest{{DocumentID: sha(listed)}}},
		{name: "listed, by prefixed documentId", steps: []gqlRequest{{DocumentID: "sha256:" + sha(listed)}}},
		{name: "listed, by hash and its text", steps: []gqlRequest{{Query: listed, Extensions: apq(sha(listed))}}},
		{name: "listed, documentId and APQ hash agree", steps: []gqlRequest{{DocumentID: sha(listed), Extensions: apq(sha(listed))}}},
		{name: "unlisted text", steps: []gqlRequest{{Query: unlisted}}, refuse: true},
		{name: "listed text but for a space", steps: []gqlRequest{{Query: listed + " "}}, refuse: true},
		{name: "introspection", steps: []gqlRequest{{Query: `{ __schema { queryType { name } } }`}}, refuse: true},
		{name: "unknown APQ hash", steps: []gqlRequest{{Extensions: apq(sha(unlisted))}}, refuse: true},
		{name: "unknown documentId", steps: []gqlRequest{{DocumentID: sha(unlisted)}}, refuse: true},
		{name: "listed hash, other text", steps: []gqlRequest{{Query: unlisted, Extensions: apq(sha(listed))}}, refuse: true},
		{name: "listed documentId, other text", steps: []gqlRequest{{Query: unlisted, DocumentID: sha(listed)}}, refuse: true},
		{name: "documentId and APQ hash disagree", steps: []gqlRequest{{DocumentID: sha(listed), Extensions: apq(sha(unlisted))}}, refuse: true},
		{name: "APQ registration", steps: []gqlRequest{{Query: unlisted, Extensions: apq(sha(unlisted))}}, refuse: true},
		{name: "APQ registration, then the hash", steps: []gqlRequest{{Query: unlisted, Extensions: apq(sha(unlisted))}, {Extensions: apq(sha(unlisted))}}, refuse: true},
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		for _, tt := range tests {
			t.Run(method+"/"+tt.name, func(t *testing.T) {
				var status int
				var r response
				for _, step := range tt.steps {
					status, r = step.ask(t, trusted.handler, method, "application/json")
				}
				if !tt.refuse {
					if status != http.StatusOK || string(r.Data) != want || len(r.Errors) > 0 {
						t.Errorf("%d %s %+v, want 200 %s", status, r.Data, r.Errors, want)
					}
					return
				}
				if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeNotTrusted || string(r.Data) != "null" && r.Data != nil {
					t.Fatalf("%d %s %+v, want %s", status, r.Data, r.Errors, graph.CodeNotTrusted)
				}
				// A request error, answered as a document that fails to
				// parse is on the same transport.
				parseStatus, _ := gqlRequest{Query: "{"}.ask(t, trusted.handler, method, "application/json")
				if status != parseStatus {
					t.Errorf("status %d, but %d for a parse error", status, parseStatus)
				}
				status, _ = tt.steps[len(tt.steps)-1].ask(t, trusted.handler, method, "application/graphql-response+json")
				if status != http.StatusBadRequest {
					t.Errorf("application/graphql-response+json: status %d, want 400", status)
				}
			})
		}
	}

	// Without a manifest the same registration is automatic persisted
	// queries at work: what refused it above was the manifest.
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		gqlRequest{Query: unlisted, Extensions: apq(sha(unlisted))}.ask(t, open.handler, method, "application/json")
		status, r := gqlRequest{Extensions: apq(sha(unlisted))}.ask(t, open.handler, method, "application/json")
		if status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"mobile":"917385022695"`) {
			t.Errorf("%s without a manifest: APQ: %d %s %+v", method, status, r.Data, r.Errors)
		}
	}
}
