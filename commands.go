package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/bench"
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
	return exitFailure
}

// The command tree, all in one place. Each command owns its flags (there
// are no global ones, so a command's help shows only what it reads) and
// has an example. Commands are built afresh for every run, so tests can run
// them in-process with their own environment.
//
// cobra over kong and ff: it gives every command and subcommand its own
// help and usage, examples, "did you mean" for mistyped commands and shell
// completion (`touchpoint completion bash`) without code of ours, and its
// flags (pflag) keep the GNU forms the README and scripts already use.
func newRoot(ctx context.Context, env environment) *cobra.Command {
	root := &cobra.Command{
		Use:   "touchpoint",
		Short: "Customer interactions over GraphQL and the vendor's REST endpoints",
		Long: `Touchpoint serves a brand's customer-interaction data (messages, missed calls,
surveys) over GraphQL and the vendor-compatible REST shims, from a SQLite file
or PostgreSQL.

With no command it serves: 'touchpoint' is 'touchpoint serve', and flags given
without a command are serve's.`,
		Example: `  touchpoint                                   # serve ./touchpoint.db, with demo data when it is new
  touchpoint import --org acme records.ndjson
  touchpoint keys create --org acme
  touchpoint help environment                  # every environment variable`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Flags were parsed and the arguments checked: what fails from
		// here on is the command's own work, unless it says otherwise.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags(), env.getenv)
		},
	}
	root.SetContext(ctx)
	root.SetIn(env.stdin)
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)

	root.AddCommand(
		serveCommand(env),
		importCommand(env),
		group("keys", "Create, list and revoke API keys",
			keysCreateCommand(env), keysListCommand(env), keysRevokeCommand(env)),
		group("orgs", "Show and change organisation settings",
			orgsShowCommand(env), orgsSetCommand(env)),
		migrateCommand(env),
		demoCommand(env),
		benchCommand(env),
		ceilingCommand(env),
	)
	// A help topic (no Run): `touchpoint help environment`, listed under
	// "Additional help topics". Its text comes from the flag definitions
	// themselves, so it cannot miss one.
	root.AddCommand(&cobra.Command{
		Use:   "environment",
		Short: "The environment variables touchpoint reads",
		Long:  environmentHelp(root),
	})
	return root
}

// execute runs args through root. A mistake in how the command was called
// (an unknown command or flag, a missing argument, a bad value) prints the
// error and that command's usage to stderr and exits 2; -h, --help and
// `help` print help to stdout and exit 0.
func execute(root *cobra.Command, args []string, env environment) error {
	ran := false // set once the command's own code runs
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := pre(cmd, args); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		ran = true
		return nil
	}
	root.SetArgs(defaultToServe(args))
	cmd, err := root.ExecuteC()
	if err == nil {
		return nil
	}
	if !ran || exitCode(err) == exitUsage {
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(env.stderr, "Error: %v\n", err)
		}
		fmt.Fprint(env.stderr, cmd.UsageString())
		return &exitError{code: exitUsage, err: errSilent}
	}
	return err
}

// defaultToServe makes `touchpoint` and `touchpoint --addr :9090` mean
// `touchpoint serve ...`, as they did before there were other commands
// (and as `go run .` in the README relies on). Help flags stay the root's.
func defaultToServe(args []string) []string {
	if len(args) == 0 {
		return []string{"serve"}
	}
	switch a := args[0]; {
	case a == "-h" || a == "--help":
		return args
	case strings.HasPrefix(a, "-"):
		return append([]string{"serve"}, args...)
	}
	return args
}

// group is a command that only holds subcommands. Called alone or with an
// unknown subcommand it is a usage error, not a silent help page.
func group(name, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown %s command %q", name, args[0])
			}
			return usageErrorf("%s needs a command", name)
		},
	}
	c.AddCommand(subs...)
	// Runnable only to report the mistake: its usage shows the
	// subcommands alone.
	c.SetUsageTemplate(strings.Replace(c.UsageTemplate(), "{{if .Runnable}}", "{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	return c
}

// args checks the positional arguments: exactly the names given (none when
// there are none), reported by name when missing.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		switch {
		case len(got) == len(names):
			return nil
		case len(names) == 0:
			return fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), got)
		case len(got) < len(names):
			return fmt.Errorf("%s needs %s", cmd.CommandPath(), strings.Join(names[len(got):], " and "))
		}
		return fmt.Errorf("%s takes %s only, got %q", cmd.CommandPath(), strings.Join(names, " "), got)
	}
}

// envAnnotation marks a flag whose default an environment variable
// overrides; applyEnv reads it and the environment help topic lists it.
const envAnnotation = "touchpoint_env"

// flagVar defines a flag on fs, bound to the environment variable key
// unless key is "": a definition is one line, wherever it is, with its
// name, variable, default and meaning. A value on the command line wins
// over the variable, which wins over the default.
func flagVar[T string | int | bool | time.Duration](fs *pflag.FlagSet, p *T, name, key string, def T, usage string) {
	switch p := any(p).(type) {
	case *string:
		fs.StringVar(p, name, any(def).(string), usage)
	case *int:
		fs.IntVar(p, name, any(def).(int), usage)
	case *bool:
		fs.BoolVar(p, name, any(def).(bool), usage)
	case *time.Duration:
		fs.DurationVar(p, name, any(def).(time.Duration), usage)
	}
	bindEnv(fs, name, key)
}

// bindEnv binds the flag name of fs to the environment variable key; a
// flag with a pflag.Value of its own calls it after fs.Var.
func bindEnv(fs *pflag.FlagSet, name, key string) {
	if key == "" {
		return
	}
	f := fs.Lookup(name)
	f.Usage += " (env " + key + ")"
	fs.SetAnnotation(name, envAnnotation, []string{key})
}

// dbFlag is the --db flag of every command that opens the database.
func dbFlag(fs *pflag.FlagSet, p *string) {
	flagVar(fs, p, "db", "TOUCHPOINT_DB", "touchpoint.db", "SQLite database file, or a postgres:// URL")
}

// applyEnv sets every flag of fs that the command line left alone from its
// environment variable, if set. A bad value is a usage error naming the
// variable.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		keys := f.Annotations[envAnnotation]
		if len(keys) == 0 || f.Changed {
			return
		}
		if v := getenv(keys[0]); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", keys[0], v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// otherEnv are the environment variables that are not a flag's.
var otherEnv = [][2]string{
	{"GOGC, GOMEMLIMIT", "serve sets GOGC=400 with a 64 MiB least heap goal, and a 1 GiB soft memory limit, unless these are set"},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "turns tracing on: spans over OTLP/HTTP (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)"},
	{"OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER", "as the OpenTelemetry SDK reads them"},
	{"OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER", "true, and none, turn tracing off"},
	{"TOUCHPOINT_TEST_POSTGRES, TOUCHPOINT_TEST_REDIS", "tests only: the servers the PostgreSQL and Redis tests use (scripts/test starts both)"},
}

// envTable lists the flag-bound variables of every command under root:
// variable, the flags it sets and their usage.
func envTable(root *cobra.Command) []envRow {
	var rows []envRow
	index := map[string]int{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			keys := f.Annotations[envAnnotation]
			if len(keys) == 0 {
				return
			}
			where := strings.TrimPrefix(c.CommandPath(), root.Name()+" ") + " --" + f.Name
			if i, ok := index[keys[0]]; ok {
				rows[i].flags = append(rows[i].flags, where)
				return
			}
			index[keys[0]] = len(rows)
			usage := strings.TrimSuffix(f.Usage, " (env "+keys[0]+")")
			rows = append(rows, envRow{key: keys[0], flags: []string{where}, def: f.DefValue, usage: usage})
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	return rows
}

type envRow struct {
	key   string
	flags []string
	def   string
	usage string
}

func environmentHelp(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString("Every flag bound to a variable takes its value from it unless the flag is given.\n\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tFLAG\tDEFAULT\tMEANING")
	for _, r := range envTable(root) {
		flags := r.flags[0]
		if len(r.flags) > 2 {
			flags = "--" + strings.SplitN(r.flags[0], "--", 2)[1] + " (every command with it)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.key, flags, r.def, r.usage)
	}
	tw.Flush()
	b.WriteString("\nAlso read:\n")
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, o := range otherEnv {
		fmt.Fprintf(tw, "  %s\t%s\n", o[0], o[1])
	}
	tw.Flush()
	return b.String()
}

// store is everything the commands need from a database.
type store interface {
	interaction.Reader
	interaction.Admin
	importer.Sink
	interaction.Versioner
	metrics.Store
	Ready(ctx context.Context) error
	OrgNames(ctx context.Context) ([]string, error)
	AppliedMigrations() []string
	Close() error
}

func openStore(ctx context.Context, dsn string) (store, error) {
	return openStoreWith(ctx, dsn, postgres.Options{})
}

// openStoreWith opens PostgreSQL for a postgres:// URL (with o) and a
// SQLite file otherwise, applying pending migrations either way.
func openStoreWith(ctx context.Context, dsn string, o postgres.Options) (store, error) {
	if postgres.IsDSN(dsn) {
		db, err := postgres.Open(ctx, dsn, o)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", redact(dsn), err)
		}
		return db, nil
	}
	if o.ReadDSN != "" {
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

func importCommand(env environment) *cobra.Command {
	var o struct {
		db, org string
		batch   int
		strict  bool
	}
	c := &cobra.Command{
		Use:   "import --org NAME FILE|-",
		Short: "Import newline-delimited JSON records into an organisation",
		Long: `Import reads one JSON record a line (customer, message, missed_call, survey;
the format is in the README) into the organisation, creating it if missing.
Bad lines are reported with their number and skipped; the good ones are
committed, and the exit code is 3 when any line was rejected. A field the
format does not know is a warning (a typo such as sentAt for sent_at would
lose the time), and a rejection with --strict.`,
		Example: `  touchpoint import --org acme records.ndjson
  touchpoint demo | touchpoint import --org trial --strict -`,
		Args: args("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.org == "" {
				return usageErrorf("import needs --org")
			}
			return runImport(cmd.Context(), env, o.db, o.org, args[0], importer.Options{BatchSize: o.batch, Strict: o.strict})
		},
	}
	fs := c.Flags()
	dbFlag(fs, &o.db)
	flagVar(fs, &o.org, "org", "", "", "organisation to import into (created if missing)")
	flagVar(fs, &o.batch, "batch", "", 0, "records per transaction (0: the importer's default)")
	flagVar(fs, &o.strict, "strict", "", false, "reject lines with fields the format does not know, instead of warning")
	return c
}

func runImport(ctx context.Context, env environment, dsn, org, name string, opts importer.Options) error {
	in := env.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	db, err := openStore(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.EnsureOrg(ctx, org)
	if err != nil {
		return err
	}
	opts.Progress = env.stderr
	rep, err := importer.Import(ctx, in, db, o.ID, opts)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(env.stderr, "line %d: warning: %s\n", w.Line, w.Reason)
	}
	for _, r := range rep.Rejections {
		fmt.Fprintf(env.stderr, "line %d: %s\n", r.Line, r.Reason)
	}
	if rep.Rejected > 0 {
		return &exitError{code: exitRejected, err: fmt.Errorf("%d line(s) rejected, %d committed", rep.Rejected, rep.Accepted)}
	}
	return nil
}

func keysCreateCommand(env environment) *cobra.Command {
	var db, org, scopes, expires, expiresAt string
	var rate int
	c := &cobra.Command{
		Use:   "create --org NAME",
		Short: "Create an API key and print KEY:SECRET (the secret is shown only once)",
		Example: `  touchpoint keys create --org acme
  touchpoint keys create --org acme --scopes read,otp:read --rate 600
  touchpoint keys create --org acme --expires 90d
  touchpoint keys create --org acme --expires-at 2027-01-01T00:00:00Z`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if org == "" {
				return usageErrorf("keys create needs --org")
			}
			sc, err := auth.ParseScopes(scopes)
			if err != nil {
				return usageErrorf("--scopes: %v", err)
			}
			if rate < 0 {
				return usageErrorf("--rate must not be negative")
			}
			now := nowUTC()
			expiry, err := keyExpiry(expires, expiresAt, now)
			if err != nil {
				return err
			}
			s, err := openStore(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer s.Close()
			id, secret, err := auth.CreateKey(cmd.Context(), s, org, auth.KeySpec{Scopes: sc, RateLimit: rate, ExpiresAt: expiry}, now)
			if err != nil {
				return err
			}
			// Exactly one line on stdout, so scripts can capture it.
			fmt.Fprintf(env.stdout, "%s:%s\n", id, secret)
			fmt.Fprintf(env.stderr, "created key %s for organisation %q; the secret is shown only once\n", id, org)
			if expiry != nil {
				fmt.Fprintf(env.stderr, "key %s expires at %s\n", id, listTime(*expiry))
			}
			return nil
		},
	}
	fs := c.Flags()
	dbFlag(fs, &db)
	flagVar(fs, &org, "org", "", "", "organisation the key belongs to (created if missing)")
	flagVar(fs, &scopes, "scopes", "", string(interaction.ScopeRead), "comma-separated scopes: read, otp:read")
	flagVar(fs, &rate, "rate", "", 0, "requests a minute for this key (0: the organisation's limit)")
	flagVar(fs, &expires, "expires", "", "", "the key stops working this long from now: 720h, 90d (default never)")
	flagVar(fs, &expiresAt, "expires-at", "", "", "the key stops working at this RFC 3339 time, e.g. 2027-01-01T00:00:00Z (default never)")
	return c
}

// keyExpiry reads keys create's --expires (a Go duration, or whole days
// like 90d, from now) or --expires-at (an RFC 3339 time) into when the key
// stops working, nil for never. One that could never work, or both flags
// at once, is a usage error, found before the database is opened.
func keyExpiry(expires, expiresAt string, now time.Time) (*time.Time, error) {
	var at time.Time
	switch {
	case expires != "" && expiresAt != "":
		return nil, usageErrorf("--expires and --expires-at both say when the key expires: give one")
	case expires != "":
		d, err := parseLifetime(expires)
		if err != nil {
			return nil, usageErrorf("--expires: %v", err)
		}
		if d <= 0 {
			return nil, usageErrorf("--expires %s: want a positive duration", expires)
		}
		at = now.Add(d)
	case expiresAt != "":
		t, err := time.Parse(time.RFC3339, expiresAt)
		if err != nil {
			return nil, usageErrorf("--expires-at %q: want an RFC 3339 time such as 2027-01-01T00:00:00Z", expiresAt)
		}
		if !t.After(now) {
			return nil, usageErrorf("--expires-at %s is not in the future (now %s)", expiresAt, listTime(now))
		}
		at = t.UTC()
	default:
		return nil, nil
	}
	return &at, nil
}

// maxDays is the most whole days a time.Duration holds.
const maxDays = math.MaxInt64 / int64(24*time.Hour)

// parseLifetime is time.ParseDuration, which has no unit longer than an
// hour, with whole days besides: a key's life is counted in them.
func parseLifetime(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days > maxDays || days < -maxDays {
			return 0, fmt.Errorf("%q: want a duration such as 720h, or whole days such as 90d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 720h, or whole days such as 90d", s)
	}
	return d, nil
}

// listTime is how keys list and keys create show a time: UTC, to the
// second.
func listTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// keyStatus is a key's STATUS in keys list at now: revoked, expired (by
// now, the clock the list runs on; a server decides by its own), or
// active, with when it expires if it does.
func keyStatus(k interaction.APIKey, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked " + listTime(*k.RevokedAt)
	case k.Expired(now):
		return "expired " + listTime(*k.ExpiresAt)
	case k.ExpiresAt != nil:
		return "active, expires " + listTime(*k.ExpiresAt)
	}
	return "active"
}

func keysListCommand(env environment) *cobra.Command {
	var db, org string
	c := &cobra.Command{
		Use:     "list --org NAME",
		Short:   "List an organisation's keys (never their secrets)",
		Example: `  touchpoint keys list --org acme`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if org == "" {
				return usageErrorf("keys list needs --org")
			}
			ctx := cmd.Context()
			s, err := openStore(ctx, db)
			if err != nil {
				return err
			}
			defer s.Close()
			o, err := s.OrgByName(ctx, org)
			if err != nil {
				return err
			}
			keys, err := s.Keys(ctx, o.ID)
			if err != nil {
				return err
			}
			now := nowUTC()
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tSCOPES\tRATE\tCREATED\tSTATUS")
			for _, k := range keys {
				rate := "org"
				if k.RateLimit > 0 {
					rate = strconv.Itoa(k.RateLimit)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, strings.ReplaceAll(k.Scopes, " ", ","), rate,
					listTime(k.CreatedAt), keyStatus(k, now))
			}
			return tw.Flush()
		},
	}
	fs := c.Flags()
	dbFlag(fs, &db)
	flagVar(fs, &org, "org", "", "", "organisation whose keys to list")
	return c
}

func keysRevokeCommand(env environment) *cobra.Command {
	var db string
	c := &cobra.Command{
		Use:     "revoke KEY",
		Short:   "Revoke a key: its next request fails",
		Example: `  touchpoint keys revoke tp_3f9a6c2e`,
		Args:    args("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.RevokeKey(cmd.Context(), args[0], nowUTC()); err != nil {
				return err
			}
			fmt.Fprintf(env.stderr, "revoked key %s\n", args[0])
			return nil
		},
	}
	dbFlag(c.Flags(), &db)
	return c
}

func orgsShowCommand(env environment) *cobra.Command {
	var db, org string
	c := &cobra.Command{
		Use:     "show --org NAME",
		Short:   "Show an organisation's settings",
		Example: `  touchpoint orgs show --org acme`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if org == "" {
				return usageErrorf("orgs show needs --org")
			}
			return runOrgs(cmd.Context(), env, db, org, nil)
		},
	}
	fs := c.Flags()
	dbFlag(fs, &db)
	flagVar(fs, &org, "org", "", "", "organisation to show")
	return c
}

func orgsSetCommand(env environment) *cobra.Command {
	var db, org, tz, mask string
	var rate int
	c := &cobra.Command{
		Use:   "set --org NAME [--timezone ZONE] [--mask-otp true|false] [--rate N]",
		Short: "Change an organisation's settings (creating it if missing); they apply on the next request",
		Example: `  touchpoint orgs set --org acme --timezone Asia/Kolkata
  touchpoint orgs set --org acme --mask-otp true --rate 2000`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if org == "" {
				return usageErrorf("orgs set needs --org")
			}
			change := []func(*interaction.Org){} // not nil: set creates a missing organisation
			if tz != "" {
				if _, err := loadLocation(tz); err != nil {
					return usageErrorf("--timezone: unknown time zone %q", tz)
				}
				change = append(change, func(o *interaction.Org) { o.TimeZone = tz })
			}
			if mask != "" {
				b, err := strconv.ParseBool(mask)
				if err != nil {
					return usageErrorf("--mask-otp wants true or false")
				}
				change = append(change, func(o *interaction.Org) { o.MaskOTP = b })
			}
			if rate >= 0 {
				change = append(change, func(o *interaction.Org) { o.RateLimit = rate })
			}
			return runOrgs(cmd.Context(), env, db, org, change)
		},
	}
	fs := c.Flags()
	dbFlag(fs, &db)
	flagVar(fs, &org, "org", "", "", "organisation to change")
	flagVar(fs, &tz, "timezone", "", "", "IANA time zone REST payloads are rendered in, e.g. Asia/Kolkata")
	flagVar(fs, &mask, "mask-otp", "", "", "mask one-time passwords in message text: true or false")
	flagVar(fs, &rate, "rate", "", -1, "default requests a minute for the organisation's keys (0: the service default; -1: unchanged)")
	return c
}

// runOrgs shows org after applying change; for set (change not nil, if
// empty), a missing organisation is created.
func runOrgs(ctx context.Context, env environment, dsn, name string, change []func(*interaction.Org)) error {
	db, err := openStore(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgByName(ctx, name)
	if change != nil && interaction.KindOf(err) == interaction.KindNotFound {
		o, err = db.EnsureOrg(ctx, name)
	}
	if err != nil {
		return err
	}
	if change != nil {
		for _, f := range change {
			f(&o)
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

func migrateCommand(env environment) *cobra.Command {
	var db string
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations, print each, and exit",
		Long: `Migrate applies the migrations the database has not had yet, in order, and
prints each one it applied (or that none were pending). Run it as its own
step before rolling out replicas over PostgreSQL.`,
		Example: `  touchpoint migrate
  touchpoint migrate --db postgres://touchpoint@db.internal:5432/touchpoint`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openStore(cmd.Context(), db) // Open applies pending migrations.
			if err != nil {
				return err
			}
			defer s.Close()
			applied := s.AppliedMigrations()
			for _, v := range applied {
				fmt.Fprintf(env.stdout, "applied migration %s\n", v)
			}
			all := sqlite.Migrations()
			if postgres.IsDSN(db) {
				all = postgres.Migrations()
			}
			if len(applied) == 0 {
				fmt.Fprintf(env.stdout, "no migrations pending: %s is at %s\n", redact(db), all[len(all)-1])
			} else {
				fmt.Fprintf(env.stdout, "%s is at %s (%d applied)\n", redact(db), all[len(all)-1], len(applied))
			}
			return nil
		},
	}
	dbFlag(c.Flags(), &db)
	return c
}

func demoCommand(env environment) *cobra.Command {
	var customers int
	var try bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Write the demo data set as NDJSON to stdout, or list customers to try",
		Long: `Demo writes the deterministic demo data set that serve loads into a new
database: the vendor-sample customers, and generated ones across every network,
type and delivery status. With --try it lists, instead, a few customers of each
network and type with how many of those interactions they have: identifiers to
paste into the playground or the REST endpoints.`,
		Example: `  touchpoint demo > demo.ndjson
  touchpoint demo --try
  touchpoint demo --customers 10000 | touchpoint import --org load-test -`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := demo.Options{Customers: customers}
			if try {
				return demo.WriteTries(env.stdout, o, 3)
			}
			return demo.Write(env.stdout, o)
		},
	}
	fs := c.Flags()
	flagVar(fs, &customers, "customers", "", 1000, "number of generated customers (the vendor-sample customers are always included)")
	flagVar(fs, &try, "try", "", false, "list a few customers of each network and type instead of writing the data")
	return c
}

func benchCommand(env environment) *cobra.Command {
	var o bench.Options
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency against the machine's own ceilings",
		Long: `Bench generates a deterministic data set through the real importer, starts
the real server in a process of its own and drives each scenario with a
closed-loop load, against two ceilings measured in the same run (B0: the HTTP
stack writing precomputed bytes; B1: the same data with no GraphQL or REST
shaping). It prints the table and writes report.md with charts to --out.`,
		Example: `  touchpoint bench
  touchpoint bench --customers 1000 --duration 2s --out /tmp/bench`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd.Context(), o, env) },
	}
	defineBenchFlags(c.Flags(), &o)
	return c
}
