package main

import (
	"strings"
	"testing"
)

// run is a `go test -json` run: a package whose tests pass, fail and skip
// for two reasons, a package without tests, and a build error line.
const run = `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestPass"}
{"Action":"output","Package":"p","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"p","Test":"TestPass","Output":"    p_test.go:9: chatter\n"}
{"Action":"pass","Package":"p","Test":"TestPass"}
{"Action":"output","Package":"p","Test":"TestFail","Output":"    p_test.go:12: got 1, want 2\n"}
{"Action":"output","Package":"p","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"p","Test":"TestFail"}
{"Action":"output","Package":"p","Test":"TestPG","Output":"=== RUN   TestPG\n"}
{"Action":"output","Package":"p","Test":"TestPG","Output":"    pgtest.go:28: TOUCHPOINT_TEST_POSTGRES is not set\n"}
{"Action":"output","Package":"p","Test":"TestPG","Output":"--- SKIP: TestPG (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestPG"}
{"Action":"output","Package":"p","Test":"TestStore/postgres","Output":"    pgtest.go:28: TOUCHPOINT_TEST_POSTGRES is not set\n"}
{"Action":"skip","Package":"p","Test":"TestStore/postgres"}
{"Action":"output","Package":"p","Test":"TestBrowser","Output":"    browser_test.go:36: no Chromium found\n"}
{"Action":"skip","Package":"p","Test":"TestBrowser"}
{"Action":"output","Package":"p","Output":"PASS\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
{"Action":"output","Package":"q","Output":"?   \tq\t[no test files]\n"}
{"Action":"skip","Package":"q"}
# r
./r.go:3:1: syntax error
`

func TestStream(t *testing.T) {
	var b strings.Builder
	if err := stream(strings.NewReader(run), &b); err != nil {
		t.Fatal(err)
	}
	want := "    p_test.go:12: got 1, want 2\n--- FAIL: TestFail (0.00s)\nFAIL\tp\t0.1s\n?   \tq\t[no test files]\n# r\n./r.go:3:1: syntax error\n"
	if got := b.String(); got != want {
		t.Errorf("stream wrote\n%s\nwant\n%s", got, want)
	}
}

func TestSummary(t *testing.T) {
	var tl tally
	for range 2 { // two runs add up
		if err := tl.read(strings.NewReader(run)); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	tl.write(&b)
	want := "skipped 4: TOUCHPOINT_TEST_POSTGRES is not set (TestPG, TestPG, TestStore/postgres, TestStore/postgres)\n" +
		"skipped 2: no Chromium found (TestBrowser, TestBrowser)\n" +
		"tests: 2 passed, 2 failed, 6 skipped\n"
	if got := b.String(); got != want {
		t.Errorf("summary\n%s\nwant\n%s", got, want)
	}

	var none tally
	none.read(strings.NewReader(`{"Action":"pass","Package":"p","Test":"TestA"}`))
	b.Reset()
	none.write(&b)
	if got := b.String(); got != "skipped nothing\ntests: 1 passed, 0 failed, 0 skipped\n" {
		t.Errorf("summary of a clean run: %q", got)
	}
}
