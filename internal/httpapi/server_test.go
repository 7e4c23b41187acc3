package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
	"github.com/touchpoint/touchpoint/internal/logtest"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
	"github.com/touchpoint/touchpoint/internal/testenv"
	"github.com/touchpoint/touchpoint/sqlite"
)

type fixture struct {
	srv    *httptest.Server
	db     *sqlite.DB
	logs   *logtest.Buffer
	key    string // KEY:SECRET
	secret string
	ready  error
	deps   httpapi.Deps
}

// echo answers with the principal's org and whether loaders are installed.
func echo(w http.ResponseWriter, r *http.Request) {
	p, _ := interaction.FromContext(r.Context())
	loader.For(r.Context()) // panics without loaders
	json.NewEncoder(w).Encode(map[string]string{"org": p.Org.Name, "key": p.KeyID})
}

// restError and graphQLError stand for the transports' error writers:
// each route's errors must come out in its own.
func restError(w http.ResponseWriter, r *http.Request, err error) { routeError(w, "rest_error", err) }

func graphQLError(w http.ResponseWriter, r *http.Request, err error) {
	routeError(w, "graphql_error", err)
}

func routeError(w http.ResponseWriter, name string, err error) {
	w.WriteHeader(httpapi.StatusOf(interaction.KindOf(err)))
	json.NewEncoder(w).Encode(map[string]any{name: interaction.MessageOf(err)})
}

// newFixture starts the real handler over a fresh SQLite file with one key
// for org acme; opts may replace any dependency.
func newFixture(t testing.TB, rate int, opts ...func(*httpapi.Deps)) *fixture {
	t.Helper()
	cfg := httpapi.DefaultConfig()
	cfg.MaxBodyBytes = 1024
	return newFixtureConfig(t, cfg, rate, opts...)
}

// newFixtureConfig is newFixture with the edge's configuration.
func newFixtureConfig(t testing.TB, cfg httpapi.Config, rate int, opts ...func(*httpapi.Deps)) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, secret, err := auth.CreateKey(ctx, db, "acme", auth.KeySpec{RateLimit: rate}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, logs: &logtest.Buffer{}, key: id + ":" + secret, secret: secret}
	d := httpapi.Deps{
		Logger:       slog.New(slog.NewJSONHandler(f.logs, nil)),
		Auth:         &auth.Authenticator{Admin: db},
		Limiter:      ratelimit.NewMemory(),
		Reader:       db,
		Ready:        func(context.Context) error { return f.ready },
		GraphQL:      http.HandlerFunc(echo),
		V11:          http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom: secret internals") }),
		V2:           http.HandlerFunc(echo),
		GraphQLError: graphQLError,
		V11Error:     restError,
		V2Error:      restError,
		OpenAPI: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"openapi":"3.1.0"}`)
		}),
		Playground: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<html>playground</html>")
		}),
	}
	for _, o := range opts {
		o(&d)
	}
	f.deps = d
	f.srv = httptest.NewServer(httpapi.NewServer(cfg, d))
	t.Cleanup(f.srv.Close)
	return f
}

// do sends a request with the credentials cred (KEY:SECRET, or none), a
// JSON body (or none) and header, name and value pairs.
func (f *fixture) do(t testing.TB, method, path, cred string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, body)
	if cred != "" {
		user, pass, _ := strings.Cut(cred, ":")
		req.SetBasicAuth(user, pass)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRoutes(t *testing.T) {
	f := newFixture(t, 0)
	tests := []struct {
		method, path, cred string
		body               io.Reader
		status             int
		contains           string
	}{
		{"GET", "/healthz", "", nil, 200, "ok"},
		{"GET", "/readyz", "", nil, 200, "ready"},
		{"GET", "/", "", nil, 200, "playground"},
		{"GET", "/graphql?query=%7Bx%7D", f.key, nil, 200, `"org":"acme"`},
		{"POST", "/graphql", f.key, strings.NewReader(`{"query":"{x}"}`), 200, `"org":"acme"`},
		{"GET", "/v2/customers/interaction", f.key, nil, 200, `"org":"acme"`},
		{"GET", "/graphql?query=%7Bx%7D", "", nil, 401, `"graphql_error":"invalid or missing API credentials"`},
		{"GET", "/v2/customers/interaction", "tp_x:nope", nil, 401, `"rest_error"`},
		{"POST", "/graphql", f.key, strings.NewReader(`{"query":"` + strings.Repeat("x", 2000) + `"}`), 413, `"graphql_error":"request body larger than 1024 bytes"`},
		{"GET", "/v1.1/customer/interaction", f.key, nil, 500, `"rest_error":"internal error"`},
		// Every API route answers other methods in its own envelope,
		// before authentication (there is nothing to authorise).
		{"DELETE", "/graphql", f.key, nil, 405, `"graphql_error":"method DELETE is not allowed: this route serves GET, HEAD and POST"`},
		{"PUT", "/graphql", "", nil, 405, `"graphql_error":"method PUT is not allowed`},
		{"POST", "/v2/customers/interaction", "", nil, 405, `"rest_error":"method POST is not allowed: this route serves GET and HEAD"`},
		{"PUT", "/v1.1/customer/interaction", f.key, nil, 405, `"rest_error":"method PUT is not allowed`},
		{"HEAD", "/v2/customers/interaction", f.key, nil, 200, ""},
		{"GET", "/openapi.json", "", nil, 200, `"openapi"`},
		{"GET", "/nope", "", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.path, tt.cred, tt.body)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("status %d body %q, want %d containing %q", resp.StatusCode, body, tt.status, tt.contains)
			}
			if resp.Header.Get(httpapi.RequestIDHeader) == "" {
				t.Error("no request id header")
			}
			if allow := "GET, HEAD"; tt.status == 405 {
				if tt.path == "/graphql" {
					allow = "GET, HEAD, POST"
				}
				if got := resp.Header.Get("Allow"); got != allow {
					t.Errorf("Allow = %q, want %q", got, allow)
				}
			}
			if tt.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.cred == f.key && tt.status != 413 && tt.status != 405 && resp.Header.Get("X-RateLimit-Limit") != "1000" {
				t.Errorf("X-RateLimit-Limit = %q", resp.Header.Get("X-RateLimit-Limit"))
			}
			if strings.Contains(body, "secret internals") || strings.Contains(body, "goroutine") {
				t.Error("internals leaked in body")
			}
		})
	}
	logs := f.logs.String()
	if strings.Contains(logs, f.secret) {
		t.Error("a secret reached the log")
	}
	if !strings.Contains(logs, `"panic":"boom: secret internals"`) || !strings.Contains(logs, `"route":"v1.1"`) {
		t.Errorf("panic or route not logged: %s", logs)
	}
	f.ready = errors.New("db down")
	if resp, _ := f.do(t, "GET", "/readyz", "", nil); resp.StatusCode != 503 {
		t.Errorf("readyz with db down = %d", resp.StatusCode)
	}
}

func TestRequestIDPassedThrough(t *testing.T) {
	f := newFixture(t, 0)
	resp, _ := f.do(t, "GET", "/healthz", "", nil, httpapi.RequestIDHeader, "abc-123")
	if got := resp.Header.Get(httpapi.RequestIDHeader); got != "abc-123" {
		t.Errorf("request id = %q", got)
	}
	resp, _ = f.do(t, "GET", "/healthz", "", nil, httpapi.RequestIDHeader, "bad id\twith spaces")
	if got := resp.Header.Get(httpapi.RequestIDHeader); got == "" || strings.Contains(got, " ") {
		t.Errorf("unsafe request id echoed: %q", got)
	}
}

// newClock is the edge's clock in tests: time moves when the test says.
func newClock() *testenv.Clock { return testenv.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) }

// TestRateLimit: a key gets its limit a minute and no more, on every
// route, in the route's envelope, with a Retry-After that says when the
// next one fits; once the window has moved on it is served again. The
// clock is the edge's, moved by the test, so no test waits a minute.
func TestRateLimit(t *testing.T) {
	clock := newClock()
	f := newFixture(t, 5, func(d *httpapi.Deps) { d.Now = clock.Now })
	var limited int
	for i := range 8 {
		clock.Advance(time.Second) // the first request at 12:00:01, the fifth at 12:00:05
		resp, body := f.do(t, "GET", "/v2/customers/interaction", f.key, nil)
		if resp.StatusCode != 429 {
			continue
		}
		limited++
		// The oldest of the five leaves the window at 12:01:01.
		wantRetry := strconv.Itoa(60 - i)
		if got := resp.Header.Get("Retry-After"); got != wantRetry || !strings.Contains(body, "rest_error") || resp.Header.Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("request %d: Retry-After %q (want %s), remaining %q: %s", i+1, got, wantRetry, resp.Header.Get("X-RateLimit-Remaining"), body)
		}
	}
	if limited != 3 {
		t.Errorf("%d requests limited, want 3", limited)
	}
	resp, body := f.do(t, "GET", "/graphql?query=%7Bx%7D", f.key, nil)
	if resp.StatusCode != 429 || !strings.Contains(body, `"graphql_error":"rate limit of 5 requests a minute exceeded`) {
		t.Errorf("graphql over limit: %d %s", resp.StatusCode, body)
	}
	// 12:01:00.999999: the first request is still in the window.
	clock.Advance(time.Date(2025, 3, 1, 12, 1, 0, 999_999_000, time.UTC).Sub(clock.Now()))
	if resp, _ := f.do(t, "GET", "/v2/customers/interaction", f.key, nil); resp.StatusCode != 429 {
		t.Errorf("a microsecond before the window moves: %d, want 429", resp.StatusCode)
	}
	// 12:01:01: it has left; one request fits, and only one.
	clock.Advance(time.Microsecond)
	if resp, body := f.do(t, "GET", "/v2/customers/interaction", f.key, nil); resp.StatusCode != 200 {
		t.Errorf("once the window has moved: %d %s, want 200", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "GET", "/v2/customers/interaction", f.key, nil); resp.StatusCode != 429 {
		t.Errorf("the second request once the window has moved: %d, want 429", resp.StatusCode)
	}
}

func BenchmarkBare(b *testing.B) {
	h := http.HandlerFunc(echoNoLoader)
	req := httptest.NewRequest("GET", "/v2/customers/interaction", nil)
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

func echoNoLoader(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }

// BenchmarkAuthRateLimit is BenchmarkBare through the whole middleware
// chain (request id, log, auth against SQLite, rate limit, loaders).
func BenchmarkAuthRateLimit(b *testing.B) {
	db := newFixture(b, 0).db
	ctx := context.Background()
	id, secret, _ := auth.CreateKey(ctx, db, "bench", auth.KeySpec{RateLimit: 1_000_000_000}, time.Now())
	h := httpapi.NewServer(httpapi.DefaultConfig(), httpapi.Deps{
		Logger: slog.New(slog.DiscardHandler), Auth: &auth.Authenticator{Admin: db}, Limiter: ratelimit.NewMemory(),
		Reader: db, V2: http.HandlerFunc(echoNoLoader), V2Error: restError,
	})
	req := httptest.NewRequest("GET", "/v2/customers/interaction", nil)
	req.SetBasicAuth(id, secret)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
