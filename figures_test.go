package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under scripts/testdata/figures")

// TestFiguresScript reads the outputs of real runs kept under
// scripts/testdata/figures (and one with a table emptied)
// with scripts/figures.py, and holds its table to a golden file: the
// parsing of four tools' tables is what turns a run into the figures the
// engine is judged by. The exit status says whether all were met, or
// that the run is not whole.
func TestFiguresScript(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed; skipping scripts/figures.py")
	}
	for _, tc := range []struct {
		run  string
		exit int
	}{
		{"run-d", 1},      // one scripts/p99 cell at 10.86 ms
		{"run-h", 1},      // the bench's REST v1.1 p99 at 11.00 ms
		{"run-m", 2},      // every figure it measured met, without scripts/scale
		{"run-n", 1},      // the bench's p99 at 10.75 and 11.24 ms; scripts/scale met
		{"run-q", 0},      // every figure met
		{"run-z", 0},      // every figure met, the third whole run in a row to do so
		{"incomplete", 2}, // run d's outputs with scripts/p99's empty
	} {
		t.Run(tc.run, func(t *testing.T) {
			dir := filepath.Join("scripts", "testdata", "figures", tc.run)
			// Read here, the script and its inputs key go test's cache
			// (it does not see what a child process opens).
			inputs := []string{filepath.Join("scripts", "figures.py")}
			for _, f := range []string{"sbs.md", "bench.md", "p99.md", "run.txt"} {
				inputs = append(inputs, filepath.Join(dir, f))
			}
			for _, f := range inputs {
				if _, err := os.ReadFile(f); err != nil {
					t.Fatal(err)
				}
			}
			os.ReadFile(filepath.Join(dir, "scale.md")) // a run may lack it (run-m)
			var stderr bytes.Buffer
			cmd := exec.Command(python, filepath.Join("scripts", "figures.py"), dir)
			cmd.Stderr = &stderr
			got, err := cmd.Output()
			exit := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if exit != tc.exit {
				t.Errorf("exit status %d, want %d\n%s", exit, tc.exit, stderr.String())
			}
			golden := filepath.Join(dir, "figures.golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("figures of %s differ from %s (go test -run TestFiguresScript -update rewrites it):\n%s", dir, golden, got)
			}
		})
	}
}
