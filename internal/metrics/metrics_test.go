package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/metrics"
	"github.com/touchpoint/touchpoint/internal/pgtest"
	"github.com/touchpoint/touchpoint/postgres"
	"github.com/touchpoint/touchpoint/sqlite"
)

type store interface {
	metrics.Store
	Close() error
}

// TestPoolMetrics: every connection pool of a store is on /metrics: its
// database/sql pools through Prometheus' DBStatsCollector (go_sql_*, by
// role) and the read path's own pool as touchpoint_sql_pool_*, on both
// stores, with and without a PostgreSQL read replica.
func TestPoolMetrics(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		open func(t *testing.T) (store, error)
		want []string
		not  []string
	}{
		{"sqlite", func(t *testing.T) (store, error) { return sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db")) },
			[]string{`go_sql_open_connections{db_name="writer"} 1`, `go_sql_max_open_connections{db_name="admin"} 4`}, nil},
		{"postgres", func(t *testing.T) (store, error) { return postgres.Open(ctx, pgtest.DSN(t), postgres.Options{}) },
			[]string{`go_sql_max_open_connections{db_name="writer"} 16`},
			[]string{`db_name="admin"`}}, // the admin queries share the writer's pool
		{"postgres with a replica", func(t *testing.T) (store, error) {
			dsn := pgtest.DSN(t)
			return postgres.Open(ctx, dsn, postgres.Options{ReadDSN: dsn})
		}, []string{`go_sql_max_open_connections{db_name="writer"} 16`, `go_sql_max_open_connections{db_name="admin"} 16`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := tt.open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rec := httptest.NewRecorder()
			metrics.New(db).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			body, _ := io.ReadAll(rec.Body)
			for _, series := range append(tt.want, "touchpoint_sql_pool_open_connections", "touchpoint_sql_pool_wait_seconds_total",
				"touchpoint_sql_statements_total", `go_sql_wait_duration_seconds_total{db_name="writer"}`) {
				if !strings.Contains(string(body), series) {
					t.Errorf("/metrics lacks %s", series)
				}
			}
			for _, series := range tt.not {
				if strings.Contains(string(body), series) {
					t.Errorf("/metrics has %s", series)
				}
			}
		})
	}
}

// TestResponseCacheMetrics: the response cache's counters and size are
// read from its stats at each scrape.
func TestResponseCacheMetrics(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := metrics.New(db)
	stats := metrics.CacheStats{Hits: 7, Misses: 3, Evictions: 2, Bytes: 4096, Entries: 5}
	m.ResponseCache(func() metrics.CacheStats { return stats })
	scrape := func(want ...string) {
		t.Helper()
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, series := range want {
			if !strings.Contains(rec.Body.String(), series+"\n") {
				t.Errorf("/metrics lacks %s", series)
			}
		}
	}
	scrape("touchpoint_response_cache_hits_total 7", "touchpoint_response_cache_misses_total 3",
		"touchpoint_response_cache_evictions_total 2", "touchpoint_response_cache_bytes 4096", "touchpoint_response_cache_entries 5")
	// Read again at the next scrape, not kept from the first.
	stats = metrics.CacheStats{Hits: 9, Misses: 4, Evictions: 2, Bytes: 1024, Entries: 1}
	scrape("touchpoint_response_cache_hits_total 9", "touchpoint_response_cache_bytes 1024", "touchpoint_response_cache_entries 1")
}
