package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/graph"
	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
	"github.com/touchpoint/touchpoint/internal/testenv"
)

// edge serves the real GraphQL handler behind the real HTTP edge (real
// credentials, rate limits and body limit) over the demo data, and returns
// its URL with a key of the demo organisation and one whose budget of one
// request a minute is already spent. opts may replace dependencies.
func edge(t *testing.T, opts ...func(*httpapi.Deps)) (base, key, spent string) {
	t.Helper()
	db, org := testenv.DemoDB(t, 3)
	ctx := context.Background()
	mint := func(rate int) string {
		id, secret, err := auth.CreateKey(ctx, db, org.Name, auth.KeySpec{RateLimit: rate}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return id + ":" + secret
	}
	cfg := httpapi.DefaultConfig()
	cfg.MaxBodyBytes = 4096
	d := httpapi.Deps{
		Auth: &auth.Authenticator{Admin: db}, Limiter: ratelimit.NewMemory(), Reader: db,
		GraphQL: graph.NewHandler(graph.HandlerConfig{}), GraphQLError: graph.WriteError,
	}
	for _, o := range opts {
		o(&d)
	}
	srv := httptest.NewServer(httpapi.NewServer(cfg, d))
	t.Cleanup(srv.Close)
	key, spent = mint(0), mint(1)
	if status, _, body := send(t, srv.URL, http.MethodGet, spent, "", gqlRequest{Query: "{ __typename }"}); status != 200 {
		t.Fatalf("spending the limited key's budget: %d %s", status, body)
	}
	return srv.URL, key, spent
}

// send sends r by GET (in the query string) or by POST (as a JSON body)
// and returns the status, the first error's code ("" for none) and the
// body.
func send(t *testing.T, base, method, cred, accept string, r gqlRequest) (int, string, string) {
	t.Helper()
	req := r.newRequest(method, base)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	status, body := do(t, req, cred)
	var out struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: not JSON: %v: %s", method, err, body)
	}
	code := ""
	if len(out.Errors) > 0 {
		code = out.Errors[0].Extensions.Code
	}
	return status, code, string(body)
}

// do sends req with the credentials cred (KEY:SECRET, or none).
func do(t *testing.T, req *http.Request, cred string) (int, []byte) {
	t.Helper()
	if cred != "" {
		user, pass, _ := strings.Cut(cred, ":")
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestSameAnswerOverGETAndPOST: a document gets the same status and code
// whether it comes by GET or by POST, for application/json clients (a
// document that fails to parse or validate is 200) and
// application/graphql-response+json ones (400), as the GraphQL-over-HTTP
// spec has it. gqlgen's own GET transport answered 422 where POST
// answered 200.
func TestSameAnswerOverGETAndPOST(t *testing.T) {
	base, key, spent := edge(t)
	deep := strings.Repeat("{ a ", 40) + strings.Repeat("}", 40)
	ids := strings.Repeat(`"1000001",`, 100)
	tests := []struct {
		name string
		cred string
		req  gqlRequest
		// statuses for application/json and for
		// application/graphql-response+json
		status, statusGQL int
		code              string
	}{
		{"valid", key, gqlRequest{Query: `{ customer(id: "565039505") { id } }`}, 200, 200, ""},
		{"syntax error", key, gqlRequest{Query: `{ customer(`}, 200, 400, "GRAPHQL_PARSE_FAILED"},
		{"validation error", key, gqlRequest{Query: `{ secrets }`}, 200, 400, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown operation name", key, gqlRequest{Query: `query A { __typename }`, OperationName: "B"}, 200, 400, "GRAPHQL_VALIDATION_FAILED"},
		{"variables of the wrong type", key, gqlRequest{Query: `query($l: Int) { customer(id: "1") { interactions(limit: $l) { network } } }`,
			Variables: map[string]any{"l": "many"}}, 200, 400, "GRAPHQL_VALIDATION_FAILED"},
		{"variables not an object", key, gqlRequest{Query: `{ __typename }`, raw: `[1]`}, 400, 400, graph.CodeBadRequest},
		{"bad argument", key, gqlRequest{Query: `{ customer { id } }`}, 200, 200, graph.CodeBadUserInput},
		{"too deep", key, gqlRequest{Query: deep}, 200, 200, "DEPTH_LIMIT_EXCEEDED"},
		{"too complex", key, gqlRequest{Query: `{ customers(by: ID, values: [` + ids + `]) { interactions(limit: 500) { interactions { messages { id subject body } } } } }`},
			200, 200, graph.CodeComplexity},
		{"unauthenticated", "", gqlRequest{Query: `{ __typename }`}, 401, 401, graph.CodeUnauthenticated},
		{"wrong secret", strings.Split(key, ":")[0] + ":nope", gqlRequest{Query: `{ __typename }`}, 401, 401, graph.CodeUnauthenticated},
		{"rate limited", spent, gqlRequest{Query: `{ __typename }`}, 429, 429, graph.CodeRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, accept := range []string{"application/json", "application/graphql-response+json"} {
				want := tt.status
				if accept != "application/json" {
					want = tt.statusGQL
				}
				getStatus, getCode, getBody := send(t, base, http.MethodGet, tt.cred, accept, tt.req)
				postStatus, postCode, postBody := send(t, base, http.MethodPost, tt.cred, accept, tt.req)
				if getStatus != postStatus || getCode != postCode {
					t.Errorf("%s: GET %d %q, POST %d %q: want the same\nGET:  %.300s\nPOST: %.300s",
						accept, getStatus, getCode, postStatus, postCode, getBody, postBody)
				}
				for method, got := range map[string]struct {
					status int
					code   string
				}{"GET": {getStatus, getCode}, "POST": {postStatus, postCode}} {
					if got.status != want || got.code != tt.code {
						t.Errorf("%s %s: %d %q, want %d %q", method, accept, got.status, got.code, want, tt.code)
					}
				}
			}
		})
	}
}

// TestChunkedBodyOverTheLimit: a body of no declared length that runs
// past the edge's limit while the transport reads it is a 413 in the
// GraphQL envelope, not a 400 for a body that "is not a GraphQL request".
func TestChunkedBodyOverTheLimit(t *testing.T) {
	base, key, _ := edge(t)
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"`+strings.Repeat("x", 8192)+`"}`))
	req.ContentLength = -1 // sent chunked: only reading finds the size
	req.Header.Set("Content-Type", "application/json")
	status, body := do(t, req, key)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"code":"`+graph.CodeTooLarge+`"`) {
		t.Errorf("%d %s, want 413 with %s", status, body, graph.CodeTooLarge)
	}
}

// TestInternalErrorLoggedWithRequestID: an internal error answers
// INTERNAL_SERVER_ERROR with nothing of itself, and is logged with the
// request id the client was given, so that id finds the details.
func TestInternalErrorLoggedWithRequestID(t *testing.T) {
	var logs bytes.Buffer
	base, key, _ := edge(t, func(d *httpapi.Deps) {
		d.Reader = testenv.BrokenReader{Reader: d.Reader}
		d.GraphQL = graph.NewHandler(graph.HandlerConfig{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	})
	req := gqlRequest{Query: `{ customer(id: "565039505") { id } }`}.newRequest(http.MethodGet, base)
	req.Header.Set(httpapi.RequestIDHeader, "trace-me-1")
	status, body := do(t, req, key)
	if status != 200 || !strings.Contains(string(body), `"code":"`+graph.CodeInternal+`"`) || strings.Contains(string(body), testenv.ErrBroken.Error()) {
		t.Errorf("%d %s, want 200 with %s and no detail", status, body, graph.CodeInternal)
	}
	testenv.CheckInternalErrorLog(t, logs.Bytes(), "graphql: internal error", "trace-me-1")
}
