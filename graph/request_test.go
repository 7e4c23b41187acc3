package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// gqlRequest is a GraphQL request with any of the ways a client names its
// document (text, documentId, the APQ extension), sent by GET (in the
// query string) or by POST (as a JSON body).
type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	DocumentID    string         `json:"documentId,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
	// raw, when set, is sent instead: the variables parameter of a GET and
	// the whole body of a POST.
	raw string
}

// response is a GraphQL answer.
type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// apq is the automatic persisted-query extension naming the document by
// its SHA-256 hash.
func apq(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

// newRequest builds r as a request by method to base+"/graphql": a
// server's URL, or, where base is "", a handler served in-process.
func (r gqlRequest) newRequest(method, base string) *http.Request {
	target := "/graphql"
	var body io.Reader
	if method == http.MethodGet {
		q := url.Values{}
		for name, v := range map[string]string{"query": r.Query, "operationName": r.OperationName, "documentId": r.DocumentID} {
			if v != "" {
				q.Set(name, v)
			}
		}
		for name, v := range map[string]map[string]any{"variables": r.Variables, "extensions": r.Extensions} {
			if v != nil {
				q.Set(name, string(must(json.Marshal(v))))
			}
		}
		if r.raw != "" {
			q.Set("variables", r.raw)
		}
		target += "?" + q.Encode()
	} else {
		b := must(json.Marshal(r))
		if r.raw != "" {
			b = []byte(`{"query":` + string(must(json.Marshal(r.Query))) + `,"variables":` + r.raw + `}`)
		}
		body = bytes.NewReader(b)
	}
	var req *http.Request
	if base == "" {
		req = httptest.NewRequest(method, target, body)
	} else {
		req, _ = http.NewRequest(method, base+target, body)
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// serve serves req by h in-process and decodes the answer.
func serve(t testing.TB, h http.Handler, req *http.Request) (*httptest.ResponseRecorder, response) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r response
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	return rec, r
}
