package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/graph"
	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/pgtest"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
	"github.com/touchpoint/touchpoint/internal/rest"
)

// TestBenchSmoke runs the benchmark command at its smallest setting: every
// scenario answers without errors and the report and charts are written.
// No thresholds: CI machines are shared and noisy.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the benchmark command")
	}
	out := t.TempDir()
	benchServerCommand = helperServer
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"bench", "--customers", "100", "--concurrency", "4",
		"--warmup", "100ms", "--duration", "300ms", "--out", out}, getenvFrom(nil), strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	rows := regexp.MustCompile(`(?m)^\| (REST|GraphQL)[^|]*\| (\d+) \|(?:[^|]*\|){3} (\d+) \|`).FindAllStringSubmatch(stdout.String(), -1)
	if len(rows) != 9 { // the engine's six, the cache's three
		t.Fatalf("want 9 scenario rows:\n%s", stdout.String())
	}
	for _, r := range rows {
		if r[2] == "0" || r[3] != "0" {
			t.Errorf("scenario row %q: no throughput or errors", r[0])
		}
	}
	for _, f := range []string{"report.md", "throughput.svg", "latency.svg"} {
		if b, err := os.ReadFile(filepath.Join(out, f)); err != nil || len(b) == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// helperServer runs `touchpoint args...` as this test binary running
// TestBenchServerHelper: the bench command's server is a process of its
// own.
func helperServer(args []string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchServerHelper$", "-test.count=1")
	b, _ := json.Marshal(args)
	cmd.Env = append(os.Environ(), "TOUCHPOINT_HELPER_ARGS="+string(b))
	return cmd, nil
}

// TestBenchServerHelper is the touchpoint binary for helperServer; run by
// itself it does nothing.
func TestBenchServerHelper(t *testing.T) {
	var args []string
	if json.Unmarshal([]byte(os.Getenv("TOUCHPOINT_HELPER_ARGS")), &args) != nil || len(args) == 0 {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, args, os.Getenv, strings.NewReader(""), io.Discard, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// fixedAuth authenticates every request as one principal, and allowAll
// never limits: BenchmarkAuthOverhead's edge without the two.
type fixedAuth struct{ p interaction.Principal }

func (f fixedAuth) Authenticate(context.Context, *http.Request) (interaction.Principal, error) {
	return f.p, nil
}

type allowAll struct{}

func (allowAll) Allow(context.Context, string, int, time.Time) (ratelimit.Decision, error) {
	return ratelimit.Decision{Allowed: true}, nil
}

// BenchmarkAuthOverhead measures what authentication and rate limiting add
// to a REST v2 request: the same request through the whole HTTP edge with
// the real authenticator and limiter, and with a fixed principal and a
// limiter that always allows, alternated in one run. overhead-% is the
// difference as a share of the full request.
func BenchmarkAuthOverhead(b *testing.B) {
	ctx := context.Background()
	db := demoStore(b, filepath.Join(b.TempDir(), "touchpoint.db"))
	org, _ := db.OrgByName(ctx, demo.OrgName)
	cfg := httpapi.DefaultConfig()
	cfg.DefaultRateLimit = 1 << 30
	edge := func(a httpapi.Authenticator, l ratelimit.Limiter) http.Handler {
		return httpapi.NewServer(cfg, httpapi.Deps{
			Logger: slog.New(slog.DiscardHandler), Auth: a, Limiter: l, Reader: db, Ready: db.Ready,
			V2: rest.V2(rest.Options{}), V2Error: rest.WriteV2Error,
		})
	}
	full := edge(&auth.Authenticator{Admin: db}, ratelimit.NewMemory())
	without := edge(fixedAuth{interaction.Principal{Org: org, KeyID: demoKeyID, Scopes: []interaction.Scope{interaction.ScopeRead}}}, allowAll{})
	const target = "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100&limit=20"
	handlers := []http.Handler{full, without}
	var spent [2]time.Duration
	for n := 0; b.Loop(); n++ {
		// Alternate which goes first, so neither always finds caches warm.
		for _, i := range [][]int{{0, 1}, {1, 0}}[n%2] {
			req := httptest.NewRequest("GET", target, nil)
			req.SetBasicAuth(demoKeyID, demoSecret)
			rec := httptest.NewRecorder()
			start := time.Now()
			handlers[i].ServeHTTP(rec, req)
			spent[i] += time.Since(start)
			if rec.Code != 200 {
				b.Fatal(rec.Code, rec.Body)
			}
		}
	}
	b.ReportMetric(float64(spent[0])/float64(b.N)/1e3, "full-µs/req")
	b.ReportMetric(float64(spent[1])/float64(b.N)/1e3, "no-auth-µs/req")
	b.ReportMetric(100*float64(spent[0]-spent[1])/float64(spent[0]), "overhead-%")
}

// BenchmarkStores runs the same GraphQL and REST requests against the
// service on SQLite and, when TOUCHPOINT_TEST_POSTGRES is set, on
// PostgreSQL, side by side (go test -bench Stores -run X .).
func BenchmarkStores(b *testing.B) {
	stores := map[string]func(testing.TB) string{
		"sqlite":   func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "touchpoint.db") },
		"postgres": func(tb testing.TB) string { return pgtest.DSN(tb) },
	}
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprintf(`"%d"`, 1_000_001+i*7)
	}
	requests := []struct {
		name string
		make func() *http.Request
	}{
		{"rest-v1.1", func() *http.Request {
			return httptest.NewRequest("GET", "/v1.1/customer/interaction?mobile=919988221100&format=json&limit=20", nil)
		}},
		{"rest-v2", func() *http.Request {
			return httptest.NewRequest("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=917385022695&limit=20", nil)
		}},
		{"graphql-one", func() *http.Request {
			r := httptest.NewRequest("POST", "/graphql", strings.NewReader(`{"query":"{ customer(mobile: \"919988221100\") { id email interactions(limit: 20) { network interactions { type count messages { id subject status sentAt } } } } }"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
		{"graphql-dashboard-50", func() *http.Request {
			q := `{ customers(by: ID, values: [` + strings.Join(ids, ",") + `]) { id interactions(limit: 20) { network interactions { type count lastInteractionTime messages { id subject status sentAt } } } } }`
			body, _ := json.Marshal(map[string]string{"query": q})
			r := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
	}
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			db := demoStore(b, stores[store](b))
			cfg := httpapi.DefaultConfig()
			cfg.DefaultRateLimit = 1 << 30
			h := newHandler(cfg, db, slog.New(slog.DiscardHandler), ratelimit.NewMemory(), nil, graph.HandlerConfig{Introspection: true}, "", 0)
			for _, rq := range requests {
				b.Run(rq.name, func(b *testing.B) {
					for b.Loop() {
						req := rq.make()
						req.SetBasicAuth(demoKeyID, demoSecret)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != 200 {
							b.Fatal(rec.Code, rec.Body)
						}
					}
				})
			}
		})
	}
}
