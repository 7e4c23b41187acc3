package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/metrics"
	"github.com/touchpoint/touchpoint/postgres"
	"github.com/touchpoint/touchpoint/sqlite"
)

// environment is the process's outside world as run sees it.
type environment struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// Exit codes: 1 for failures, 2 for usage errors, 3 when an import
// committed its good lines but rejected others.
const (
	exitFailure  = 1
	exitUsage    = 2
	exitRejected = 3
)

type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errSilent marks an error that has already been reported to the user.
var errSilent = errors.New("already reported")

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return exitFailure
}

// flags returns a flag set for a command with --db bound to TOUCHPOINT_DB.
func (env environment) flags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("touchpoint "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	db := fs.String("db", envOr(env.getenv, "TOUCHPOINT_DB", "touchpoint.db"), "SQLite database file, or a postgres:// URL (env TOUCHPOINT_DB)")
	return fs, db
}

// parse parses args, turning flag errors into usage errors (exit 2) and
// -h into a clean exit.
// parse parses flags anywhere among the arguments (`keys revoke KEY --db
// x` as well as `keys revoke --db x KEY`), leaving the positional ones in
// fs.Args(). "--" ends the flags.
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return &exitError{code: 0, err: errSilent}
			}
			return &exitError{code: exitUsage, err: errSilent}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(getenv func(string) string, key string, def int) int {
	if n, err := strconv.Atoi(getenv(key)); err == nil {
		return n
	}
	return def
}

func envBool(getenv func(string) string, key string, def bool) bool {
	if b, err := strconv.ParseBool(getenv(key)); err == nil {
		return b
	}
	return def
}

// store is everything the commands need from a database.
type store interface {
	interaction.Reader
	interaction.Admin
	importer.Sink
	metrics.Store
	Ready(ctx context.Context) error
	Close() error
}

func openStore(ctx context.Context, dsn string) (store, error) {
	return openStoreRead(ctx, dsn, "")
}

// openStoreRead opens PostgreSQL for a postgres:// URL (with queries on
// readDSN when set) and a SQLite file otherwise, applying pending
// migrations either way.
func openStoreRead(ctx context.Context, dsn, readDSN string) (store, error) {
	if postgres.IsDSN(dsn) {
		db, err := postgres.Open(ctx, dsn, postgres.Options{ReadDSN: readDSN})
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", redact(dsn), err)
		}
		return db, nil
	}
	if readDSN != "" {
		return nil, usageErrorf("--read-db needs a PostgreSQL --db")
	}
	db, err := sqlite.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	return db, nil
}

// redact hides a URL's password, for logs and errors.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}

func runImport(ctx context.Context, args []string, env environment) error {
	fs, dsn := env.flags("import")
	org := fs.String("org", "", "organisation to import into (created if missing)")
	batch := fs.Int("batch", 0, "records per transaction (0: the importer's default)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: touchpoint import --org NAME [--db FILE] FILE|-")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *org == "" || fs.NArg() != 1 {
		fs.Usage()
		return usageErrorf("import needs --org and exactly one FILE (or - for stdin)")
	}
	in := env.stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	db, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.EnsureOrg(ctx, *org)
	if err != nil {
		return err
	}
	rep, err := importer.Import(ctx, in, db, o.ID, importer.Options{Progress: env.stderr, BatchSize: *batch})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	for _, r := range rep.Rejections {
		fmt.Fprintf(env.stderr, "line %d: %s\n", r.Line, r.Reason)
	}
	if rep.Rejected > 0 {
		return &exitError{code: exitRejected, err: fmt.Errorf("%d line(s) rejected, %d committed", rep.Rejected, rep.Accepted)}
	}
	return nil
}

func runKeys(ctx context.Context, args []string, env environment) error {
	if len(args) == 0 {
		return usageErrorf("usage: touchpoint keys create|list|revoke ...")
	}
	sub, args := args[0], args[1:]
	fs, dsn := env.flags("keys " + sub)
	org := fs.String("org", "", "organisation name")
	scopes := fs.String("scopes", string(interaction.ScopeRead), "comma-separated scopes: read, otp:read")
	rate := fs.Int("rate", 0, "requests a minute for this key (0: the organisation's limit)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch sub {
	case "create":
		if *org == "" || fs.NArg() != 0 {
			return usageErrorf("usage: touchpoint keys create --org NAME [--scopes read,otp:read] [--rate N]")
		}
		sc, err := auth.ParseScopes(*scopes)
		if err != nil {
			return usageErrorf("%v", err)
		}
		if *rate < 0 {
			return usageErrorf("--rate must not be negative")
		}
		db, err := openStore(ctx, *dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		id, secret, err := auth.CreateKey(ctx, db, *org, sc, *rate)
		if err != nil {
			return err
		}
		// Exactly one line on stdout, so scripts can capture it.
		fmt.Fprintf(env.stdout, "%s:%s\n", id, secret)
		fmt.Fprintf(env.stderr, "created key %s for organisation %q; the secret is shown only once\n", id, *org)
		return nil
	case "list":
		if *org == "" {
			return usageErrorf("usage: touchpoint keys list --org NAME")
		}
		db, err := openStore(ctx, *dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		o, err := db.OrgByName(ctx, *org)
		if err != nil {
			return err
		}
		keys, err := db.Keys(ctx, o.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tSCOPES\tRATE\tCREATED\tSTATUS")
		for _, k := range keys {
			status := "active"
			if k.RevokedAt != nil {
				status = "revoked " + k.RevokedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			rate := "org"
			if k.RateLimit > 0 {
				rate = strconv.Itoa(k.RateLimit)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, strings.ReplaceAll(k.Scopes, " ", ","), rate,
				k.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), status)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return usageErrorf("usage: touchpoint keys revoke KEY")
		}
		db, err := openStore(ctx, *dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.RevokeKey(ctx, fs.Arg(0), nowUTC()); err != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "revoked key %s\n", fs.Arg(0))
		return nil
	}
	return usageErrorf("unknown keys command %q (want create, list or revoke)", sub)
}

func runOrgs(ctx context.Context, args []string, env environment) error {
	if len(args) == 0 {
		return usageErrorf("usage: touchpoint orgs show|set --org NAME ...")
	}
	sub, args := args[0], args[1:]
	fs, dsn := env.flags("orgs " + sub)
	org := fs.String("org", "", "organisation name")
	tz := fs.String("timezone", "", "IANA time zone REST payloads are rendered in, e.g. Asia/Kolkata")
	mask := fs.String("mask-otp", "", "mask one-time passwords in message text: true or false")
	rate := fs.Int("rate", -1, "default requests a minute for the organisation's keys (0: the service default)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *org == "" || (sub != "show" && sub != "set") {
		return usageErrorf("usage: touchpoint orgs show|set --org NAME [--timezone ZONE] [--mask-otp true|false] [--rate N]")
	}
	db, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgByName(ctx, *org)
	if sub == "set" && interaction.KindOf(err) == interaction.KindNotFound {
		o, err = db.EnsureOrg(ctx, *org)
	}
	if err != nil {
		return err
	}
	if sub == "set" {
		if *tz != "" {
			if _, err := loadLocation(*tz); err != nil {
				return usageErrorf("unknown time zone %q", *tz)
			}
			o.TimeZone = *tz
		}
		if *mask != "" {
			b, err := strconv.ParseBool(*mask)
			if err != nil {
				return usageErrorf("--mask-otp wants true or false")
			}
			o.MaskOTP = b
		}
		if *rate >= 0 {
			o.RateLimit = *rate
		}
		if err := db.UpdateOrg(ctx, o); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.stdout, "org=%s timezone=%s mask_otp=%t rate_limit=%d\n", o.Name, orDefault(o.TimeZone, "UTC"), o.MaskOTP, o.RateLimit)
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func runMigrate(ctx context.Context, args []string, env environment) error {
	fs, dsn := env.flags("migrate")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := openStore(ctx, *dsn) // Open applies pending migrations.
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(env.stderr, "database %s is up to date\n", redact(*dsn))
	return nil
}

func runDemo(_ context.Context, args []string, env environment) error {
	fs, _ := env.flags("demo")
	customers := fs.Int("customers", 1000, "number of generated customers (the vendor-sample customers are always included)")
	if err := parse(fs, args); err != nil {
		return err
	}
	return demo.Write(env.stdout, demo.Options{Customers: *customers})
}
