package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// server is the server the benchmark measures, in a process of its
// own: the load generator then takes none of its CPU, and the server's CPU
// per request is read off the process (/proc/PID/stat on Linux), as an
// operator would see it. Its statements and allocations come from its
// /metrics.
type server struct {
	base  string // http://host:port
	debug string // its pprof listener, when profiling
	cmd   *exec.Cmd
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer serves db (already holding the data set and key) with
// production settings but a rate limit no benchmark reaches, in the
// process command makes, with its response cache on or off.
func startServer(ctx context.Context, command func([]string) (*exec.Cmd, error), db string, profile, cache bool) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--db", db, "--addr", addr, "--demo=false", "--rate-limit", strconv.Itoa(1 << 30), "--log-format", "json",
		"--cache=" + strconv.FormatBool(cache)}
	s := &server{base: "http://" + addr}
	if profile {
		if s.debug, err = freePort(); err != nil {
			return nil, err
		}
		args = append(args, "--debug-addr", s.debug)
	}
	if s.cmd, err = command(args); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// start starts s's command and waits until its /healthz answers 200.
func (s *server) start(ctx context.Context) error {
	// Nil, not io.Discard: the null device itself. An io.Writer that is
	// not a file costs a pipe, and a goroutine of the generator's process
	// copying the server's access log out of it while it measures.
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return fmt.Errorf("bench server did not start on %s: %v", s.base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times; it is
// 100 on every architecture Go supports there.
const clockTicks = 100

// cpu is the CPU time the server has used so far; ok is false where /proc
// does not tell.
func (s *server) cpu() (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	return cpuOf(b)
}

// cpuOf reads the user and system CPU time off a /proc/PID/stat line.
func cpuOf(stat []byte) (time.Duration, bool) {
	// Fields after the parenthesised command name (which may hold spaces
	// and parentheses of its own); utime and stime are the 14th and 15th
	// fields of the whole line.
	rest := string(stat)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+st) * time.Second / clockTicks, true
}

// counters is what the server has counted so far, read off its /metrics:
// statements, allocations and, with its response cache on, hits and
// misses (zero without).
type counters struct {
	stmts, mallocs, hits, misses float64
}

// add adds what the counters moved by from before to after.
func (c *counters) add(before, after counters) {
	c.stmts += after.stmts - before.stmts
	c.mallocs += after.mallocs - before.mallocs
	c.hits += after.hits - before.hits
	c.misses += after.misses - before.misses
}

// counters reads the server's counters with one scrape.
func (s *server) counters() (counters, error) {
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		return counters{}, err
	}
	defer resp.Body.Close()
	return countersOf(resp.Body)
}

// countersOf reads the counters off a /metrics page; the statement and
// allocation counters must be there.
func countersOf(metrics io.Reader) (counters, error) {
	var c counters
	found := 0
	sc := bufio.NewScanner(metrics)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var into *float64
		switch name {
		case "touchpoint_sql_statements_total":
			into = &c.stmts
			found++
		case "go_memstats_mallocs_total":
			into = &c.mallocs
			found++
		case "touchpoint_response_cache_hits_total":
			into = &c.hits
		case "touchpoint_response_cache_misses_total":
			into = &c.misses
		default:
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return counters{}, err
		}
		*into = v
	}
	if found != 2 {
		return counters{}, errors.New("bench server's /metrics lacks its statement or allocation counters")
	}
	return c, sc.Err()
}

// profile fetches a CPU profile of the next d from the server into path.
func (s *server) profile(d time.Duration, path string) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.debug, int(d.Round(time.Second)/time.Second)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
