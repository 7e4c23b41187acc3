// Package metrics exposes Touchpoint's Prometheus metrics: HTTP requests
// and latency by route, GraphQL errors by code, rate-limit rejections,
// loader batch sizes, SQL statements and connection-pool statistics, plus
// the Go runtime and process collectors.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Store is what the metrics read from the database.
type Store interface {
	Statements() int64
	// Stats are the read path's pool statistics. That pool is no *sql.DB
	// in either store (SQLite's own connections, a pgx pool), so it has a
	// collector of its own here: touchpoint_sql_pool_*.
	Stats() sql.DBStats
	// SQLPools are the store's database/sql pools by role ("writer",
	// "admin"), reported by Prometheus' DBStatsCollector as go_sql_*
	// with that role as db_name.
	SQLPools() map[string]*sql.DB
}

// Metrics holds the collectors; it implements httpapi.Observer.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
	batches     *prometheus.HistogramVec
	gqlErrors   *prometheus.CounterVec
}

// New registers the collectors, reading SQL figures from store.
func New(store Store) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchpoint_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "touchpoint_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchpoint_rate_limited_total", Help: "Requests rejected by the per-key rate limit, by route.",
		}, []string{"route"}),
		batches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "touchpoint_loader_batch_keys", Help: "Keys per dataloader batch, by loader.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}, []string{"loader"}),
		gqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchpoint_graphql_errors_total", Help: "GraphQL errors by extensions.code.",
		}, []string{"code"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.rateLimited, m.batches, m.gqlErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "touchpoint_sql_statements_total", Help: "SQL statements executed, counted at the driver.",
		}, func() float64 { return float64(store.Statements()) }),
		poolCollector{store: store},
	)
	for role, db := range store.SQLPools() {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db, role))
	}
	return m
}

// RedisUp reports, as touchpoint_redis_up, whether the rate limits are
// shared through Redis (1) or each replica enforces them alone (0).
func (m *Metrics) RedisUp(up func() bool) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "touchpoint_redis_up", Help: "1 while rate limits are shared through Redis, 0 while this replica enforces them alone.",
	}, func() float64 {
		if up() {
			return 1
		}
		return 0
	}))
}

// CacheStats are the response cache's counters and size (respcache.Stats,
// which this package does not import).
type CacheStats struct {
	Hits, Misses, Evictions uint64
	Bytes                   int64
	Entries                 int
}

// ResponseCache reports the response cache's counters and size, read
// from stats at each scrape.
func (m *Metrics) ResponseCache(stats func() CacheStats) {
	counter := func(name, help string, f func(CacheStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(stats())) })
	}
	gauge := func(name, help string, f func(CacheStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(stats()) })
	}
	m.reg.MustRegister(
		counter("touchpoint_response_cache_hits_total", "API answers served from the response cache.", func(s CacheStats) uint64 { return s.Hits }),
		counter("touchpoint_response_cache_misses_total", "API answers computed because the cache did not hold them.", func(s CacheStats) uint64 { return s.Misses }),
		counter("touchpoint_response_cache_evictions_total", "Answers evicted from the response cache to make room.", func(s CacheStats) uint64 { return s.Evictions }),
		gauge("touchpoint_response_cache_bytes", "Bytes of answers the response cache holds.", func(s CacheStats) float64 { return float64(s.Bytes) }),
		gauge("touchpoint_response_cache_entries", "Answers the response cache holds.", func(s CacheStats) float64 { return float64(s.Entries) }),
	)
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest implements httpapi.Observer.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveRateLimited implements httpapi.Observer.
func (m *Metrics) ObserveRateLimited(route string) { m.rateLimited.WithLabelValues(route).Inc() }

// ObserveBatch implements httpapi.Observer.
func (m *Metrics) ObserveBatch(loader string, keys int) {
	m.batches.WithLabelValues(loader).Observe(float64(keys))
}

// GraphQLError counts one GraphQL error by its code.
func (m *Metrics) GraphQLError(code string) { m.gqlErrors.WithLabelValues(code).Inc() }

// poolCollector reports the read path's pool statistics, which come in
// database/sql's terms from a pool that is not a *sql.DB, so
// collectors.NewDBStatsCollector cannot read them. The names are older
// than the go_sql_* series and kept for the dashboards that use them.
type poolCollector struct{ store Store }

var (
	poolOpen     = prometheus.NewDesc("touchpoint_sql_pool_open_connections", "Open connections in the read pool.", nil, nil)
	poolInUse    = prometheus.NewDesc("touchpoint_sql_pool_in_use_connections", "Read-pool connections in use.", nil, nil)
	poolIdle     = prometheus.NewDesc("touchpoint_sql_pool_idle_connections", "Idle read-pool connections.", nil, nil)
	poolWaits    = prometheus.NewDesc("touchpoint_sql_pool_wait_total", "Times a query waited for a read-pool connection.", nil, nil)
	poolWaitTime = prometheus.NewDesc("touchpoint_sql_pool_wait_seconds_total", "Time spent waiting for read-pool connections.", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpen, poolInUse, poolIdle, poolWaits, poolWaitTime} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.store.Stats()
	ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.OpenConnections))
	ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(poolWaitTime, prometheus.CounterValue, s.WaitDuration.Seconds())
}
