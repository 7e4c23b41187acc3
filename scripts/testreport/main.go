// Command testreport reads `go test -json` and writes what plain `go test`
// would (package lines, and the output of failed tests only), so a full
// run stays readable; with -summary it reads saved runs and writes one line
// per reason tests were skipped, with the tests, and the totals. Both kinds
// of line are what scripts/test ends with.
//
//	go test -json ./... 2>&1 | tee run.json | go run ./scripts/testreport
//	go run ./scripts/testreport -summary [-fail-on-skip] run.json...
//
// Lines that are not test events (build errors, say) pass through as they
// are.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	summary := flag.Bool("summary", false, "summarise the saved runs named as arguments instead of streaming stdin")
	failOnSkip := flag.Bool("fail-on-skip", false, "with -summary, exit 1 when any test was skipped")
	flag.Parse()
	if !*summary {
		if err := stream(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(1)
		}
		return
	}
	var t tally
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(1)
		}
		err = t.read(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(1)
		}
	}
	t.write(os.Stdout)
	if *failOnSkip && len(t.skips) > 0 {
		fmt.Println("testreport: tests were skipped where everything they need should be installed")
		os.Exit(1)
	}
}

// decode returns the event on line, or false when the line is not one.
func decode(line []byte) (event, bool) {
	var e event
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
		return e, false
	}
	return e, true
}

// stream writes the run on r as plain `go test` would: package lines, the
// output of every failed test, build output; not the output of tests that
// passed or skipped.
func stream(r io.Reader, w io.Writer) error {
	held := map[[2]string][]string{} // package, test -> output so far
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		e, ok := decode(sc.Bytes())
		if !ok {
			fmt.Fprintln(w, sc.Text())
			continue
		}
		key := [2]string{e.Package, e.Test}
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Action == "output" && e.Test == "":
			if e.Output != "PASS\n" {
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			held[key] = append(held[key], e.Output)
		case e.Action == "fail" && e.Test != "":
			fmt.Fprint(w, strings.Join(held[key], ""))
			delete(held, key)
		case e.Action == "pass" || e.Action == "skip":
			delete(held, key)
		}
	}
	return sc.Err()
}

// tally counts tests by outcome and groups the skipped ones by reason.
type tally struct {
	passed, failed int
	skips          map[string][]string // reason -> tests
	output         map[[2]string][]string
}

func (t *tally) read(r io.Reader) error {
	if t.skips == nil {
		t.skips, t.output = map[string][]string{}, map[[2]string][]string{}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		e, ok := decode(sc.Bytes())
		if !ok || e.Test == "" {
			continue
		}
		key := [2]string{e.Package, e.Test}
		switch e.Action {
		case "output":
			t.output[key] = append(t.output[key], e.Output)
		case "pass":
			t.passed++
		case "fail":
			t.failed++
		case "skip":
			why := reason(t.output[key])
			t.skips[why] = append(t.skips[why], e.Test)
		}
		if e.Action == "pass" || e.Action == "fail" || e.Action == "skip" {
			delete(t.output, key)
		}
	}
	return sc.Err()
}

// location is the "file_test.go:26: " a test's log line starts with.
var location = regexp.MustCompile(`^\S+\.go:\d+: `)

// reason is what a skipped test said: its log lines, without the
// framework's own lines and the file:line prefix.
func reason(output []string) string {
	var parts []string
	for _, o := range output {
		for line := range strings.SplitSeq(o, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- ") {
				continue
			}
			parts = append(parts, location.ReplaceAllString(line, ""))
		}
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

// write writes one line per skip reason, most tests first, then the
// totals as the plain "N passed, N failed, N skipped" line.
func (t *tally) write(w io.Writer) {
	type group struct {
		why   string
		tests []string
	}
	var groups []group
	skipped := 0
	for why, tests := range t.skips {
		slices.Sort(tests)
		groups = append(groups, group{why, tests})
		skipped += len(tests)
	}
	slices.SortFunc(groups, func(a, b group) int {
		return cmp.Or(cmp.Compare(len(b.tests), len(a.tests)), cmp.Compare(a.why, b.why))
	})
	for _, g := range groups {
		names := g.tests
		more := ""
		if len(names) > 4 {
			names, more = names[:4], fmt.Sprintf(" and %d more", len(g.tests)-4)
		}
		fmt.Fprintf(w, "skipped %d: %s (%s%s)\n", len(g.tests), g.why, strings.Join(names, ", "), more)
	}
	if skipped == 0 {
		fmt.Fprintln(w, "skipped nothing")
	}
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", t.passed, t.failed, skipped)
}
