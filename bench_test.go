package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
