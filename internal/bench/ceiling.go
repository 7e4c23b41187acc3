package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"time"
)

// CeilingCommand is the (hidden) command that serves B0: Env.Server runs
// it as it runs `serve`.
const CeilingCommand = "bench-ceiling"

// CeilingOptions are B0's: every answer is Size bytes with Status.
type CeilingOptions struct {
	Addr   string
	Size   int
	Status int
}

// ServeCeiling serves B0 until ctx ends: the same net/http stack as the
// server under test, writing precomputed bytes of the size and status of
// the scenario's answer. It runs in a process of its own, as the server
// under test does, so the two are measured across the same process
// boundary: a B0 inside the load generator's process hands each request
// from client to server within one runtime, which a real server never
// can, and made the ceiling higher than any server could reach (the
// 304 scenario: B0 in-process against out-of-process, see the README).
func ServeCeiling(ctx context.Context, o CeilingOptions) error {
	fixed := bytes.Repeat([]byte("x"), o.Size)
	// Every path but /healthz gets the fixed answer; /healthz says it is
	// up, as the server under test's does, whatever the answer's status.
	h := http.NewServeMux()
	h.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(o.Status)
		w.Write(fixed)
	})
	h.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startCeiling starts B0 for answers of size bytes and status in a
// process command makes, and waits until it answers.
func startCeiling(ctx context.Context, command func([]string) (*exec.Cmd, error), size, status int) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{CeilingCommand, "--addr", addr, "--size", strconv.Itoa(size), "--status", strconv.Itoa(status)}
	s := &server{base: "http://" + addr}
	if s.cmd, err = command(args); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		return nil, fmt.Errorf("B0: %w", err)
	}
	return s, nil
}
