package main

import (
	"context"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/touchpoint/touchpoint/internal/bench"
)

// defineBenchFlags defines bench's flags, one a line.
func defineBenchFlags(fs *pflag.FlagSet, o *bench.Options) {
	flagVar(fs, &o.Customers, "customers", "", 10_000, "generated customers in the data set")
	flagVar(fs, &o.MessagesPerCustomer, "messages-per-customer", "", 20, "mean messages per customer (skewed)")
	flagVar(fs, &o.Concurrency, "concurrency", "", 32, "concurrent connections of the closed-loop load")
	flagVar(fs, &o.Warmup, "warmup", "", 2*time.Second, "warm-up before each measurement")
	flagVar(fs, &o.Duration, "duration", "", 5*time.Second, "measured time of each scenario")
	flagVar(fs, &o.Out, "out", "", "bench-report", "directory for report.md and the charts")
	flagVar(fs, &o.Only, "only", "", "", "run only the scenarios whose name contains this text, e.g. \"(cache)\"")
	flagVar(fs, &o.CPUProfile, "cpuprofile", "", "", "write a CPU profile of the server during each scenario to FILE-N.pprof (for go tool pprof)")
}

// benchServerCommand makes the command that runs `touchpoint args...`, the
// server bench measures; tests replace it (a test binary is not the
// touchpoint binary).
var benchServerCommand = func(args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, args...), nil
}

// ceilingCommand is B0's server for bench, in a process of its own as the
// server under test is: hidden, since it is the harness's and nobody
// else's.
func ceilingCommand(env environment) *cobra.Command {
	var o bench.CeilingOptions
	c := &cobra.Command{
		Use:    bench.CeilingCommand,
		Short:  "Serve fixed bytes (bench's B0 ceiling)",
		Hidden: true,
		Args:   args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC(env.getenv) // as serve does
			return bench.ServeCeiling(cmd.Context(), o)
		},
	}
	fs := c.Flags()
	flagVar(fs, &o.Addr, "addr", "", "127.0.0.1:0", "address to listen on")
	flagVar(fs, &o.Size, "size", "", 0, "bytes of every answer")
	flagVar(fs, &o.Status, "status", "", 200, "status of every answer")
	return c
}

// runBench runs the harness over a store this binary opens, against a
// server this binary runs.
func runBench(ctx context.Context, o bench.Options, env environment) error {
	tuneGC(env.getenv) // as serve does: the harness's B0 and B1 servers share this process
	return bench.Run(ctx, o, bench.Env{
		Open:   func(ctx context.Context, path string) (bench.Store, error) { return openStore(ctx, path) },
		Server: benchServerCommand,
		Stdout: env.stdout,
		Stderr: env.stderr,
	})
}
