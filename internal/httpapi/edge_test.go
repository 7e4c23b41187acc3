package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/httpapi"
)

func panics(w http.ResponseWriter, r *http.Request) { panic("boom: secret internals") }

// TestRecoveryPerRoute: a panic is answered 500 in the route's own error
// format, and the stack goes to the log only.
func TestRecoveryPerRoute(t *testing.T) {
	f := newFixture(t, 0, func(d *httpapi.Deps) {
		d.GraphQL = http.HandlerFunc(panics)
		d.Playground = http.HandlerFunc(panics)
	})
	tests := []struct {
		path, cred, want string
	}{
		{"/graphql?query=%7Bx%7D", f.key, `{"graphql_error":"internal error"}`},
		{"/v1.1/customer/interaction", f.key, `{"rest_error":"internal error"}`},
		{"/", "", `{"error":{"message":"internal error","status":500}}`},
	}
	for _, tt := range tests {
		resp, body := f.do(t, "GET", tt.path, tt.cred, nil)
		if resp.StatusCode != 500 || strings.TrimSpace(body) != tt.want {
			t.Errorf("%s: %d %s, want 500 %s", tt.path, resp.StatusCode, body, tt.want)
		}
	}
	logs := f.logs.String()
	if n := strings.Count(logs, `"msg":"panic"`); n != len(tests) {
		t.Errorf("%d panics logged, want %d", n, len(tests))
	}
	if !strings.Contains(logs, "goroutine") || !strings.Contains(logs, "edge_test.go") {
		t.Error("no stack in the log")
	}
}

// TestAccessLog: one line a request, carrying what finds the request again
// (its id, route, org, key, status, size, duration) and never credentials.
func TestAccessLog(t *testing.T) {
	f := newFixture(t, 0)
	resp, body := f.do(t, "GET", "/v2/customers/interaction?mobile=1", f.key, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	f.do(t, "GET", "/v2/customers/interaction", "tp_nobody:guess", nil)

	var lines []map[string]any
	for l := range strings.Lines(f.logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d access log lines, want 2: %v", len(lines), lines)
	}
	ok, denied := lines[0], lines[1]
	keyID, _, _ := strings.Cut(f.key, ":")
	for field, want := range map[string]any{
		"request_id": resp.Header.Get(httpapi.RequestIDHeader), "route": "v2", "org": "acme", "key": keyID,
		"status": float64(200), "bytes": float64(len(body)), "path": "/v2/customers/interaction", "method": "GET",
	} {
		if ok[field] != want {
			t.Errorf("%s = %v, want %v", field, ok[field], want)
		}
	}
	if d, _ := ok["duration"].(float64); d <= 0 {
		t.Errorf("duration = %v", ok["duration"])
	}
	if denied["status"] != float64(401) || denied["org"] != "" || denied["request_id"] == ok["request_id"] {
		t.Errorf("401 line: %v", denied)
	}
	logs := f.logs.String()
	for _, leak := range []string{f.secret, "guess", "Basic ", "Authorization", "mobile=1"} {
		if strings.Contains(logs, leak) {
			t.Errorf("log contains %q", leak)
		}
	}
}

// TestRateHeaders: every authenticated response says the budget; the
// limit is the key's, else the organisation's, else the default, and
// changes to the organisation apply on the next request.
func TestRateHeaders(t *testing.T) {
	clock := newClock()
	f := newFixture(t, 0, func(d *httpapi.Deps) { d.Now = clock.Now })
	check := func(wantLimit, wantRemaining string) {
		t.Helper()
		resp, body := f.do(t, "GET", "/v2/customers/interaction", f.key, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		// The budget is whole again a window after the newest request.
		wantReset := strconv.FormatInt(clock.Now().Add(time.Minute).Unix(), 10)
		h := resp.Header
		if h.Get("X-RateLimit-Limit") != wantLimit || h.Get("X-RateLimit-Remaining") != wantRemaining || h.Get("X-RateLimit-Reset") != wantReset {
			t.Errorf("limit %q remaining %q reset %q; want %s, %s, %s",
				h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"), wantLimit, wantRemaining, wantReset)
		}
	}
	check("1000", "999")
	clock.Advance(10 * time.Second)
	ctx := context.Background()
	org, err := f.db.OrgByName(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	org.RateLimit = 40
	if err := f.db.UpdateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	check("40", "38")

	keyed := newFixture(t, 7)
	resp, _ := keyed.do(t, "GET", "/v2/customers/interaction", keyed.key, nil)
	if got := resp.Header.Get("X-RateLimit-Limit"); got != "7" {
		t.Errorf("key limit: X-RateLimit-Limit = %q, want 7", got)
	}
	if resp, _ := keyed.do(t, "GET", "/v2/customers/interaction", "", nil); resp.Header.Get("X-RateLimit-Limit") != "" {
		t.Error("rate headers on an unauthenticated response")
	}
}

// TestRevokedKeyFailsNextRequest goes through the real store: a key that
// just worked is refused on its very next request once revoked.
func TestRevokedKeyFailsNextRequest(t *testing.T) {
	f := newFixture(t, 0)
	if resp, _ := f.do(t, "GET", "/v2/customers/interaction", f.key, nil); resp.StatusCode != 200 {
		t.Fatalf("before revocation: %d", resp.StatusCode)
	}
	id, _, _ := strings.Cut(f.key, ":")
	if err := f.db.RevokeKey(context.Background(), id, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, body := f.do(t, "GET", "/v2/customers/interaction", f.key, nil)
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("after revocation: %d %s", resp.StatusCode, body)
	}
}

// TestBodyLimit: a declared body over the limit is a 413 in the route's
// format, whatever the route. (A chunked one is caught by the handler that
// reads it, through the edge's http.MaxBytesReader: graph's transport test.)
func TestBodyLimit(t *testing.T) {
	f := newFixture(t, 0)
	big := strings.Repeat("x", 2000)
	tests := []struct {
		name, method, path, contains string
	}{
		{"graphql", "POST", "/graphql", `"graphql_error"`},
		{"rest", "GET", "/v2/customers/interaction", `"rest_error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.send(t, tt.method, tt.path, f.key, `{"query":"`+big+`"}`)
			if resp.StatusCode != 413 || !strings.Contains(body, tt.contains) || resp.Header.Get(httpapi.RequestIDHeader) == "" {
				t.Errorf("%d %s, want 413 containing %s", resp.StatusCode, body, tt.contains)
			}
		})
	}
}

// TestZeroConfig: fields left zero take the defaults, so a bare Config
// neither refuses every body nor turns rate limiting off.
func TestZeroConfig(t *testing.T) {
	f := newFixtureConfig(t, httpapi.Config{}, 0, func(d *httpapi.Deps) {
		*d = httpapi.Deps{Auth: d.Auth, Limiter: d.Limiter, Reader: d.Reader, GraphQL: d.GraphQL}
	})
	resp, _ := f.send(t, "POST", "/graphql", f.key, `{"query":"{x}"}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "1000" {
		t.Errorf("%d, limit %q; want 200 and the default 1000", resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"))
	}
	// Routes without a handler are not served.
	resp, _ = f.send(t, "GET", "/v2/customers/interaction", "", "")
	if resp.StatusCode != 404 {
		t.Errorf("unmounted route: %d, want 404", resp.StatusCode)
	}
}

func TestMissingDependencyPanicsAtStart(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "missing dependencies: Auth, Limiter") {
			t.Errorf("panic %q, want one naming Auth and Limiter", msg)
		}
	}()
	httpapi.NewServer(httpapi.DefaultConfig(), httpapi.Deps{Reader: newFixture(t, 0).db})
}

// TestScopeReleasedAsTheAnswerStarts: what the store keeps for a request's
// reads (Deps.Scope) is let go once, when the handler starts its answer,
// before a byte of it can wait on the client; a handler that writes
// nothing, and a request refused before its handler, let it go too.
func TestScopeReleasedAsTheAnswerStarts(t *testing.T) {
	type scopeKey struct{}
	released := make(chan int, 8) // how many times a scope was released
	var atWrite []bool            // whether it was, when the handler wrote
	f := newFixture(t, 0, func(d *httpapi.Deps) {
		d.Scope = func(ctx context.Context) (context.Context, func()) {
			n := new(int)
			return context.WithValue(ctx, scopeKey{}, n), func() { *n++; released <- *n }
		}
		d.V2 = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := r.Context().Value(scopeKey{}).(*int)
			if r.URL.Query().Get("silent") != "" {
				return
			}
			w.WriteHeader(200)
			atWrite = append(atWrite, *n == 1)
			w.Write([]byte("{}"))
		})
	})
	tests := []struct {
		name, path, cred string
		status           int
		wrote            bool
	}{
		{"answer", "/v2/customers/interaction", f.key, 200, true},
		{"no answer", "/v2/customers/interaction?silent=1", f.key, 200, false},
		{"refused", "/v2/customers/interaction", "tp_nobody:guess", 401, false},
	}
	for _, tt := range tests {
		atWrite = nil
		resp, body := f.do(t, "GET", tt.path, tt.cred, nil)
		if resp.StatusCode != tt.status {
			t.Fatalf("%s: %d %s", tt.name, resp.StatusCode, body)
		}
		// The handler has returned before the client has all of the
		// answer, but the release may come after the last byte: wait.
		select {
		case n := <-released:
			if n != 1 {
				t.Errorf("%s: released %d times", tt.name, n)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: never released", tt.name)
		}
		select {
		case n := <-released:
			t.Errorf("%s: released again (%d)", tt.name, n)
		default:
		}
		if tt.wrote && (len(atWrite) != 1 || !atWrite[0]) {
			t.Errorf("%s: released before the answer's first byte: %v, want [true]", tt.name, atWrite)
		}
	}
}
