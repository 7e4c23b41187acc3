// Package redistest gives tests a redis-server of their own on a free
// loopback port, which they may pause (SIGSTOP), resume or kill without
// touching the Redis other tests and engineers share. Tests skip when no
// redis-server is installed.
package redistest

import (
	"context"
	"net"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a test's own redis-server.
type Server struct {
	Addr string
	cmd  *exec.Cmd
}

// Start runs a redis-server on addr (a free port when empty) until t ends.
func Start(t testing.TB, addr string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server on PATH")
	}
	if addr == "" {
		addr = FreeAddr(t)
	}
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--bind", host, "--port", port, "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: addr, cmd: cmd}
	t.Cleanup(s.Kill)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for deadline := time.Now().Add(5 * time.Second); c.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// Pause stops the server (SIGSTOP): connections stay open, nothing is
// answered.
func (s *Server) Pause() { s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() { s.cmd.Process.Signal(syscall.SIGCONT) }

// Kill ends the server (idempotent).
func (s *Server) Kill() {
	s.Resume()
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// FreeAddr returns a loopback address nothing listens on (as of now).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
