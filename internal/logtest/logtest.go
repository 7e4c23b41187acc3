// Package logtest holds what tests use to read a log that other
// goroutines write.
package logtest

import (
	"bytes"
	"sync"
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
