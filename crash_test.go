package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/sqlite"
)

// reportingSink prints the running total of committed records after every
// batch the store has committed, so the parent of a crashed import knows
// what it was promised.
type reportingSink struct {
	importer.Sink
	total int
}

func (s *reportingSink) Write(ctx context.Context, org interaction.OrgID, recs []interaction.Record) ([]interaction.Rejection, error) {
	rej, err := s.Sink.Write(ctx, org, recs)
	if err == nil {
		s.total += len(recs) - len(rej)
		fmt.Printf("committed %d\n", s.total)
	}
	return rej, err
}

// TestCrashImportHelper is the child process of TestImportSurvivesKill9.
func TestCrashImportHelper(t *testing.T) {
	dbPath, file := os.Getenv("TOUCHPOINT_CRASH_DB"), os.Getenv("TOUCHPOINT_CRASH_FILE")
	if dbPath == "" {
		return // run by itself it does nothing (a skip would count as one)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	org, err := db.EnsureOrg(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Import(ctx, f, &reportingSink{Sink: db}, org.ID, importer.Options{BatchSize: 2000}); err != nil {
		t.Fatal(err)
	}
}

func demoFile(t *testing.T, customers int) (string, int) {
	t.Helper()
	var buf bytes.Buffer
	if err := demo.Write(&buf, demo.Options{Customers: customers}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "demo.ndjson")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, bytes.Count(buf.Bytes(), []byte("\n"))
}

// TestImportSurvivesKill9 kills an import with SIGKILL after it reported
// some batches committed: every reported record must be there after a
// restart, and the file must pass PRAGMA integrity_check.
func TestImportSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	file, _ := demoFile(t, 4000)
	dbPath := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashImportHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TOUCHPOINT_CRASH_DB="+dbPath, "TOUCHPOINT_CRASH_FILE="+file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			reported, _ = strconv.Atoi(n)
			if reported >= 10_000 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	cmd.Wait()
	if reported < 10_000 {
		t.Fatalf("the import finished or failed before it could be killed (reported %d)", reported)
	}

	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CheckIntegrity(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Rows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rows < int64(reported) {
		t.Errorf("%d rows after the crash, but %d were reported committed", rows, reported)
	}
	t.Logf("killed after %d reported; %d rows survived", reported, rows)
}

// TestImportWhileServing imports into the database of a running server
// (as `touchpoint import` does beside a live service) while clients keep
// querying it: no reader fails and no row is lost.
func TestImportWhileServing(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "touchpoint.db")
	// The readers ask as fast as the server answers, for as long as the
	// import runs: the default limit (1,000 a minute) would answer the
	// faster runs with 429, which is not what this test is about.
	base := startServer(t, dbPath, "--rate-limit", "100000000")
	c := client{t: t, base: base, auth: basicAuth(demoKeyID, demoSecret)}
	file, lines := demoFile(t, 3000)

	before := rowCount(t, dbPath)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures, served := 0, 0
	for range 3 {
		wg.Go(func() {
			for ctx.Err() == nil {
				status, body := c.graphql(`{ customers(by: ID, values: ["565039505", "1000001", "1000002"]) { interactions(limit: 5) { interactions { count messages { id } } } } }`)
				mu.Lock()
				served++
				if status != 200 || strings.Contains(body, `"errors"`) {
					failures++
					t.Errorf("reader failed during import: %d %s", status, body)
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"import", "--org", "other", "--db", dbPath, file}, getenvFrom(nil), strings.NewReader(""), &out, &errOut)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	if got := rowCount(t, dbPath) - before; got != int64(lines) {
		t.Errorf("%d rows added, want one per line: %d", got, lines)
	}
	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, _ := db.OrgByName(context.Background(), "other")
	sums, err := db.CustomersByIdentifier(context.Background(), org.ID, interaction.ByID, []string{"565039505", "1003000"})
	if err != nil || len(sums) != 2 {
		t.Errorf("imported customers missing: %v %v", sums, err)
	}
	if served == 0 || failures > 0 {
		t.Errorf("%d reads served, %d failed", served, failures)
	}
	t.Logf("%d lines imported while %d reads were served", lines, served)
}

func rowCount(t *testing.T, path string) int64 {
	t.Helper()
	return fromDB(t, path, (*sqlite.DB).Rows)
}

// fromDB opens the store at path, reads from it with read and closes it.
func fromDB[T any](t *testing.T, path string, read func(*sqlite.DB, context.Context) (T, error)) T {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := read(db, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}
