package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
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
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"bench", "--customers", "100", "--concurrency", "4",
		"--warmup", "100ms", "--duration", "300ms", "--out", out}, getenvFrom(nil), strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	rows := regexp.MustCompile(`(?m)^\| (REST|GraphQL)[^|]*\| (\d+) \|(?:[^|]*\|){3} (\d+) \|`).FindAllStringSubmatch(stdout.String(), -1)
	if len(rows) != 5 {
		t.Fatalf("want 5 scenario rows:\n%s", stdout.String())
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

// BenchmarkAuthOverhead measures what authentication, rate limiting and
// the rest of the HTTP edge add to a REST v2 request: the same request
// through the full handler and straight to the shim with the principal
// and loaders put in place by hand, alternated in one run. It reports the
// edge's share of the full request as overhead-%.
func BenchmarkAuthOverhead(b *testing.B) {
	ctx := context.Background()
	db, err := openStore(ctx, filepath.Join(b.TempDir(), "touchpoint.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := loadDemo(ctx, db, io.Discard); err != nil {
		b.Fatal(err)
	}
	cfg := httpapi.DefaultConfig()
	cfg.DefaultRateLimit = 1 << 30
	full := newHandler(cfg, db, slog.New(slog.DiscardHandler), ratelimit.NewMemory(), true, "")
	org, _ := db.OrgByName(ctx, demo.OrgName)
	shim := rest.V2(rest.Options{})
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := interaction.NewContext(r.Context(), interaction.Principal{Org: org, KeyID: demoKeyID, Scopes: []interaction.Scope{interaction.ScopeRead}})
		shim.ServeHTTP(w, r.WithContext(loader.NewContext(c, loader.New(db, org.ID, loader.Options{}))))
	})
	const target = "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100&limit=20"
	var tFull, tBare time.Duration
	handlers := []http.Handler{full, bare}
	for n := 0; b.Loop(); n++ {
		// Alternate which goes first, so neither always finds caches warm.
		for _, i := range [][]int{{0, 1}, {1, 0}}[n%2] {
			h := handlers[i]
			req := httptest.NewRequest("GET", target, nil)
			req.SetBasicAuth(demoKeyID, demoSecret)
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			d := time.Since(start)
			if rec.Code != 200 {
				b.Fatal(rec.Code, rec.Body)
			}
			if i == 0 {
				tFull += d
			} else {
				tBare += d
			}
		}
	}
	b.ReportMetric(float64(tFull)/float64(b.N)/1e3, "full-µs/req")
	b.ReportMetric(float64(tBare)/float64(b.N)/1e3, "bare-µs/req")
	b.ReportMetric(100*float64(tFull-tBare)/float64(tFull), "overhead-%")
}
