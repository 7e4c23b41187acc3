package logbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the flush goroutine and the test.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

// TestLinesWaitThenArriveTogether: lines written close together reach the
// underlying writer in one write, after the delay, whole and in order.
func TestLinesWaitThenArriveTogether(t *testing.T) {
	var out lockedBuffer
	w := New(&out, 50*time.Millisecond)
	defer w.Close()
	for i := range 3 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if s, _ := out.String(); s != "" {
		t.Errorf("written before the delay: %q", s)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, n := out.String()
		if s != "" {
			if s != "line 0\nline 1\nline 2\n" || n != 1 {
				t.Errorf("got %q in %d writes, want the three lines in one", s, n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing written after the delay")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCloseWritesWhatWaits: Close writes the batch at once, and later
// writes go straight through.
func TestCloseWritesWhatWaits(t *testing.T) {
	var out lockedBuffer
	w := New(&out, time.Hour)
	w.Write([]byte("a\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("b\n"))
	if s, n := out.String(); s != "a\nb\n" || n != 2 {
		t.Errorf("got %q in %d writes", s, n)
	}
}

// TestFullBatchIsWritten: a batch over maxBatch is written without waiting.
func TestFullBatchIsWritten(t *testing.T) {
	var out lockedBuffer
	w := New(&out, time.Hour)
	defer w.Close()
	line := strings.Repeat("x", 1023) + "\n"
	for range maxBatch / len(line) {
		w.Write([]byte(line))
	}
	if s, _ := out.String(); len(s) != maxBatch {
		t.Errorf("%d bytes written, want %d", len(s), maxBatch)
	}
}

// TestConcurrentWritesStayWhole: lines written by many goroutines arrive
// whole (under -race in CI), none lost.
func TestConcurrentWritesStayWhole(t *testing.T) {
	var out lockedBuffer
	w := New(&out, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w, "g%d-%03d %s\n", g, i, strings.Repeat("y", 100))
			}
		})
	}
	wg.Wait()
	w.Close()
	s, _ := out.String()
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		if len(l) != len("g0-000 ")+100 {
			t.Fatalf("a torn line: %q", l)
		}
	}
}
