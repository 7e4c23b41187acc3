package demo_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/touchpoint/touchpoint/internal/demo"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestGolden pins a small demo file. The REST and GraphQL golden payloads
// are built from demo data, so a change here must be deliberate: rerun with
// -update and review the diff.
func TestGolden(t *testing.T) {
	var got bytes.Buffer
	if err := demo.Write(&got, demo.Options{Customers: 5}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "customers-5.ndjson")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("demo output differs from %s (rerun with -update if intended)", path)
	}
}
