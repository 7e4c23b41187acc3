// Command touchpoint serves customer interactions over GraphQL and the
// vendor-compatible REST shims.
//
//	touchpoint [serve] [--addr 127.0.0.1:8080] [--db touchpoint.db] [--demo=true]
//	touchpoint import --org NAME FILE|-
//	touchpoint keys create --org NAME [--scopes read,otp:read] [--rate N]
//	touchpoint keys list --org NAME
//	touchpoint keys revoke KEY
//	touchpoint orgs show --org NAME
//	touchpoint orgs set --org NAME [--timezone Asia/Kolkata] [--mask-otp] [--rate N]
//	touchpoint migrate
//	touchpoint demo > demo.ndjson
//
// Every subcommand accepts --db (TOUCHPOINT_DB).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(os.Stderr, "touchpoint: %v\n", err)
		}
		os.Exit(exitCode(err))
	}
}

// run is the whole program. main only adapts it to the process, so tests
// can run any command in-process with their own arguments, environment and
// output streams, and stop a server by cancelling ctx.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, rest = args[0], args[1:]
	}
	env := environment{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		return serve(ctx, rest, env)
	case "import":
		return runImport(ctx, rest, env)
	case "keys":
		return runKeys(ctx, rest, env)
	case "orgs":
		return runOrgs(ctx, rest, env)
	case "migrate":
		return runMigrate(ctx, rest, env)
	case "demo":
		return runDemo(ctx, rest, env)
	case "bench":
		return runBench(ctx, rest, env)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageErrorf("unknown command %q", cmd)
}

const usage = `Usage: touchpoint [command] [flags]

Commands:
  serve     serve GraphQL, the REST shims and the playground (the default)
  import    import newline-delimited JSON records into an organisation
  keys      create, list and revoke API keys
  orgs      show and change organisation settings
  migrate   apply pending database migrations and exit
  demo      write the demo data set as NDJSON to stdout
  bench     measure throughput and latency against the machine's own ceilings
  help      show this text

Run 'touchpoint COMMAND -h' for a command's flags. Every command accepts
--db (env TOUCHPOINT_DB, default touchpoint.db).
`
