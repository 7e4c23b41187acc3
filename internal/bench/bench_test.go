package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/loadgen"
)

// The whole run (data set, server process, load) is the bench command's
// smoke test in the main package, TestBenchSmoke: only it can start a
// touchpoint server. These are the parts that read what the server says
// and write what the run found.

func TestCPUOf(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
	// majflt cmajflt utime stime ...
	line := func(comm, utime, stime string) []byte {
		return []byte("4242 (" + comm + ") S 1 4242 4242 0 -1 4194560 100 0 0 0 " + utime + " " + stime + " 0 0 20 0 8 0 123\n")
	}
	tests := []struct {
		name string
		stat []byte
		want time.Duration
		ok   bool
	}{
		{"plain", line("touchpoint", "150", "50"), 2 * time.Second, true},
		{"a name with spaces and parentheses", line("touch (point) 2", "7", "3"), 100 * time.Millisecond, true},
		{"cut short", []byte("4242 (touchpoint) S 1 4242"), 0, false},
		{"not a number", line("touchpoint", "x", "50"), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cpuOf(tt.stat)
			if got != tt.want || ok != tt.ok {
				t.Errorf("cpuOf = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCountersOf(t *testing.T) {
	tests := []struct {
		name            string
		metrics         string
		want            counters
		wantErrContains string
	}{
		{"both", "# HELP go_memstats_mallocs_total x\ngo_memstats_mallocs_total 1.5e+06\ntouchpoint_sql_statements_total{} 1\ntouchpoint_sql_statements_total 42\n", counters{stmts: 42, mallocs: 1.5e6}, ""},
		{"with the cache", "go_memstats_mallocs_total 10\ntouchpoint_response_cache_hits_total 7\ntouchpoint_sql_statements_total 3\ntouchpoint_response_cache_misses_total 2\n", counters{stmts: 3, mallocs: 10, hits: 7, misses: 2}, ""},
		{"no statements", "go_memstats_mallocs_total 10\n", counters{}, "lacks"},
		{"not a number", "touchpoint_sql_statements_total many\ngo_memstats_mallocs_total 10\n", counters{}, "invalid syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := countersOf(strings.NewReader(tt.metrics))
			if tt.wantErrContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrContains) {
					t.Errorf("err %v, want one containing %q", err, tt.wantErrContains)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("countersOf = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestReport: the table has a row a scenario with its numbers and ratios
// ("-" where a ceiling or the CPU is unknown) and its cache hit ratio
// ("off" against the server without a cache), and the files are written.
func TestReport(t *testing.T) {
	ms := time.Millisecond
	res := func(requests int, lat ...time.Duration) loadgen.Result {
		return loadgen.Result{Requests: requests, Elapsed: time.Second, Latencies: lat}
	}
	rows := []measurement{
		{name: "REST v2, random customers", res: res(500, ms, 2*ms, 4*ms), b0: res(1000), b1: res(250),
			allocs: 261, stmts: 3.2, bodySize: 9063, cpu: 310 * time.Microsecond, hitRatio: -1},
		{name: "GraphQL one customer, few fields", res: res(100, 3*ms), allocs: 352, stmts: 2, bodySize: 626, hitRatio: 0.75},
	}
	o := Options{Concurrency: 4, Warmup: 100 * ms, Duration: 300 * ms}
	report := formatReport(o, rows, 1000, importer.Report{Customers: 100, Messages: 2000}, 64<<10)
	for _, want := range []string{
		"100 customers, 2000 messages; 4 connections, 300ms measured after 100ms warm-up",
		"| REST v2, random customers | 500 | 2.00 | 4.00 | 4.00 | 0 | 0.31 | 261 | 3.2 | 9063 | 1000 | 50% | 250 | 200% | off |",
		"| GraphQL one customer, few fields | 100 | 3.00 | 3.00 | 3.00 | 0 | - | 352 | 2.0 | 626 | 0 | - | 0 | - | 75.0% |",
		"Peak RSS: 64 MiB.",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := writeFiles(dir, report, rows); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.md", "throughput.svg", "latency.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v, %d bytes", f, err, len(b))
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "report.md")); !strings.HasPrefix(string(b), "# Touchpoint benchmark\n\n"+report) {
		t.Errorf("report.md does not hold the report:\n%s", b)
	}
}
