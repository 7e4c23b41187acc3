// Package logtest holds what tests use to read a log that other
// goroutines write.
package logtest

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// Buffer is an io.Writer for a log the code under test writes from its
// own goroutines (a server's, a limiter's) while the test reads it. The
// zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what has been written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Await returns the log once it holds sub, or as it is after a few
// seconds: a server's log is written in batches (internal/logbuf), a few
// milliseconds after the line is logged.
func (s *Buffer) Await(sub string) string {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if l := s.String(); strings.Contains(l, sub) || time.Now().After(deadline) {
			return l
		}
	}
}
