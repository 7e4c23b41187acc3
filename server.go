// Command touchpoint serves customer interactions over GraphQL and the
// vendor-compatible REST shims.
//
//	touchpoint [serve] [--addr 127.0.0.1:8080] [--db touchpoint.db] [--demo]
//	touchpoint import --org NAME [--strict] FILE|-
//	touchpoint keys create --org NAME [--scopes read,otp:read] [--rate N]
//	touchpoint keys list --org NAME
//	touchpoint keys revoke KEY
//	touchpoint orgs show --org NAME
//	touchpoint orgs set --org NAME [--timezone Asia/Kolkata] [--mask-otp true] [--rate N]
//	touchpoint migrate
//	touchpoint demo [--try] > demo.ndjson
//	touchpoint bench
//	touchpoint help [COMMAND | environment]
//
// The commands are defined in commands.go (serve's flags in serve.go,
// bench's in bench.go); `touchpoint help environment` lists the variables.
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
	env := environment{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	return execute(newRoot(ctx, env), args, env)
}
