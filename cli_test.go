package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/postgres"
	"github.com/touchpoint/touchpoint/sqlite"
)

// runArgs runs the program with args and environ, returning its output
// (stderr with the error main would print) and exit code.
func runArgs(t *testing.T, environ map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	err := run(context.Background(), args, getenvFrom(environ), strings.NewReader(stdin), &o, &e)
	if err != nil {
		code = exitCode(err)
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(&e, "touchpoint: %v\n", err)
		}
	}
	return o.String(), e.String(), code
}

// TestHelp: the program, every command and every subcommand has help of
// its own on stdout, exit 0, with its own flags only and an example.
func TestHelp(t *testing.T) {
	commands := []string{"serve", "import", "keys", "orgs", "migrate", "demo", "bench", "completion", "help", "environment"}
	for _, tc := range []struct {
		args    []string
		want    []string // in stdout
		notWant []string
	}{
		{[]string{"--help"}, commands, []string{"--addr", "--db"}},
		{[]string{"-h"}, commands, []string{"--addr"}},
		{[]string{"help"}, commands, []string{"--addr"}},
		{[]string{"serve", "-h"}, []string{"touchpoint serve", "--addr", "--demo", "--introspection", "--db", "Examples:"}, []string{"--org", "--scopes"}},
		{[]string{"import", "--help"}, []string{"--org", "--strict", "--batch", "Examples:"}, []string{"--addr", "--scopes"}},
		{[]string{"keys", "-h"}, []string{"create", "list", "revoke"}, []string{"--rate", "--scopes", "--org"}},
		{[]string{"keys", "create", "-h"}, []string{"--org", "--scopes", "--rate", "--expires", "--expires-at", "Examples:"}, []string{"--timezone", "--addr"}},
		{[]string{"keys", "list", "-h"}, []string{"--org", "Examples:"}, []string{"--rate", "--scopes", "--expires"}},
		{[]string{"keys", "revoke", "-h"}, []string{"KEY", "Examples:"}, []string{"--rate", "--scopes", "--org"}},
		{[]string{"help", "keys", "revoke"}, []string{"KEY", "Examples:"}, []string{"--rate", "--scopes"}},
		{[]string{"orgs", "-h"}, []string{"show", "set"}, []string{"--timezone"}},
		{[]string{"orgs", "show", "-h"}, []string{"--org", "Examples:"}, []string{"--timezone", "--mask-otp", "--rate"}},
		{[]string{"orgs", "set", "-h"}, []string{"--timezone", "--mask-otp", "--rate", "Examples:"}, []string{"--scopes"}},
		{[]string{"migrate", "-h"}, []string{"--db", "Examples:"}, []string{"--org", "--addr"}},
		{[]string{"demo", "-h"}, []string{"--customers", "--try", "Examples:"}, []string{"--db", "--addr"}},
		{[]string{"bench", "-h"}, []string{"--customers", "--duration", "Examples:"}, []string{"--db", "--addr"}},
		{[]string{"completion", "bash", "-h"}, []string{"bash"}, nil},
		{[]string{"help", "environment"}, []string{"TOUCHPOINT_DB", "TOUCHPOINT_ADDR", "TOUCHPOINT_DEMO", "OTEL_EXPORTER_OTLP_ENDPOINT"}, nil},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := runArgs(t, nil, "", tc.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("help shows another command's %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestUsageErrors: a wrong flag, a missing or extra argument, an unknown
// command or a bad value prints the error and that command's usage to
// stderr, and exits 2.
func TestUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	for _, tc := range []struct {
		args    []string
		environ map[string]string
		usage   string // the usage line of the command that was wrong
		err     string
	}{
		{[]string{"keys", "list", "--rate", "5"}, nil, "touchpoint keys list --org NAME", "unknown flag: --rate"},
		{[]string{"orgs", "show", "--timezone", "UTC", "--org", "x"}, nil, "touchpoint orgs show --org NAME", "unknown flag: --timezone"},
		{[]string{"serve", "--nope"}, nil, "touchpoint serve [flags]", "unknown flag: --nope"},
		{[]string{"--nope"}, nil, "touchpoint serve [flags]", "unknown flag: --nope"},
		{[]string{"frobnicate"}, nil, "touchpoint [command]", `unknown command "frobnicate"`},
		{[]string{"keys"}, nil, "touchpoint keys [command]", "keys needs a command"},
		{[]string{"keys", "frob"}, nil, "touchpoint keys [command]", `unknown keys command "frob"`},
		{[]string{"keys", "revoke", "--db", db}, nil, "touchpoint keys revoke KEY", "needs KEY"},
		{[]string{"keys", "create", "--db", db}, nil, "touchpoint keys create --org NAME", "needs --org"},
		{[]string{"keys", "create", "--org", "x", "--expires", "0", "--db", db}, nil, "touchpoint keys create --org NAME", "--expires 0: want a positive duration"},
		{[]string{"keys", "create", "--org", "x", "--expires", "-24h", "--db", db}, nil, "touchpoint keys create --org NAME", "--expires -24h: want a positive duration"},
		{[]string{"keys", "create", "--org", "x", "--expires", "-3d", "--db", db}, nil, "touchpoint keys create --org NAME", "--expires -3d: want a positive duration"},
		{[]string{"keys", "create", "--org", "x", "--expires", "soon", "--db", db}, nil, "touchpoint keys create --org NAME", `--expires: "soon": want a duration`},
		{[]string{"keys", "create", "--org", "x", "--expires", "1.5d", "--db", db}, nil, "touchpoint keys create --org NAME", `--expires: "1.5d": want a duration`},
		{[]string{"keys", "create", "--org", "x", "--expires-at", "2020-01-01T00:00:00Z", "--db", db}, nil, "touchpoint keys create --org NAME", "--expires-at 2020-01-01T00:00:00Z is not in the future"},
		{[]string{"keys", "create", "--org", "x", "--expires-at", "2030-01-01", "--db", db}, nil, "touchpoint keys create --org NAME", `--expires-at "2030-01-01": want an RFC 3339 time`},
		{[]string{"keys", "create", "--org", "x", "--expires", "1h", "--expires-at", "2030-01-01T00:00:00Z", "--db", db}, nil, "touchpoint keys create --org NAME", "give one"},
		{[]string{"import", "--org", "x", "a", "b"}, nil, "touchpoint import --org NAME FILE|-", "takes FILE only"},
		{[]string{"migrate", "extra"}, nil, "touchpoint migrate [flags]", "takes no arguments"},
		{[]string{"serve", "--demo=maybe"}, nil, "touchpoint serve [flags]", "want auto, true or false"},
		{[]string{"serve", "--db", db, "--cache-size", "0"}, nil, "touchpoint serve [flags]", "--cache-size: want a positive number of MiB"},
		{[]string{"serve", "--db", db}, map[string]string{"TOUCHPOINT_MAX_IN_FLIGHT": "many"}, "touchpoint serve [flags]", `TOUCHPOINT_MAX_IN_FLIGHT="many"`},
		{[]string{"orgs", "set", "--org", "x", "--timezone", "Mars/Olympus", "--db", db}, nil, "touchpoint orgs set", "unknown time zone"},
		{[]string{"serve", "--db", db, "--cors-origins", "https://dash.example.com/"}, nil, "touchpoint serve [flags]", `--cors-origins: origin "https://dash.example.com/": an origin has no trailing slash`},
		{[]string{"serve", "--db", db}, map[string]string{"TOUCHPOINT_CORS_ORIGINS": "*"}, "touchpoint serve [flags]", "--cors-origins: origin \"*\": only exact origins"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := runArgs(t, tc.environ, "", tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if !strings.Contains(errOut, tc.err) || !strings.Contains(errOut, "Usage:\n  "+tc.usage) {
				t.Errorf("stderr lacks %q or the usage %q:\n%s", tc.err, tc.usage, errOut)
			}
		})
	}
}

// TestKeyExpiry: keys create's two ways of saying when a key expires,
// read against a fixed now.
func TestKeyExpiry(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		expires, expiresAt string
		want               time.Time // zero: never
		err                string
	}{
		{"", "", time.Time{}, ""},
		{"720h", "", now.Add(720 * time.Hour), ""},
		{"90d", "", now.AddDate(0, 0, 90), ""},
		{"1d", "", now.Add(24 * time.Hour), ""},
		{"90m", "", now.Add(90 * time.Minute), ""},
		{"", "2027-01-01T00:00:00Z", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"", "2026-06-01T14:00:01+02:00", now.Add(time.Second), ""}, // kept in UTC
		{"0s", "", time.Time{}, "want a positive duration"},
		{"-1d", "", time.Time{}, "want a positive duration"},
		{"99999999d", "", time.Time{}, "want a duration"}, // more days than a Duration holds
		{"d", "", time.Time{}, "want a duration"},
		{"", "2026-06-01T12:00:00Z", time.Time{}, "not in the future"}, // now itself
		{"", "2026-06-01T14:00:00+02:00", time.Time{}, "not in the future"},
		{"", "1 June 2027", time.Time{}, "RFC 3339"},
		{"1h", "2027-01-01T00:00:00Z", time.Time{}, "give one"},
	} {
		t.Run(tt.expires+"|"+tt.expiresAt, func(t *testing.T) {
			got, err := keyExpiry(tt.expires, tt.expiresAt, now)
			switch {
			case tt.err != "":
				if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("got %v, %v; want a usage error with %q", got, err, tt.err)
				}
			case err != nil:
				t.Errorf("error %v", err)
			case tt.want.IsZero() != (got == nil) || got != nil && (!got.Equal(tt.want) || got.Location() != time.UTC):
				t.Errorf("got %v, want %v in UTC", got, tt.want)
			}
		})
	}
}

// TestKeyStatus: what keys list says of a key, by its revocation and
// expiry and the time it runs.
func TestKeyStatus(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, tt := range []struct {
		revoked, expires *time.Time
		want             string
	}{
		{nil, nil, "active"},
		{nil, at(time.Hour), "active, expires 2026-06-01T13:00:00Z"},
		{nil, at(time.Millisecond), "active, expires 2026-06-01T12:00:00Z"},
		{nil, at(0), "expired 2026-06-01T12:00:00Z"},
		{nil, at(-24 * time.Hour), "expired 2026-05-31T12:00:00Z"},
		{at(-time.Hour), nil, "revoked 2026-06-01T11:00:00Z"},
		{at(-time.Hour), at(time.Hour), "revoked 2026-06-01T11:00:00Z"},
		{at(-time.Hour), at(-time.Minute), "revoked 2026-06-01T11:00:00Z"},
	} {
		if got := keyStatus(interaction.APIKey{RevokedAt: tt.revoked, ExpiresAt: tt.expires}, now); got != tt.want {
			t.Errorf("revoked %v, expires %v: %q, want %q", tt.revoked, tt.expires, got, tt.want)
		}
	}
}

// TestKeysCreateWithExpiry: keys create stores the expiry it is given, and
// keys list shows it, and shows when a key has expired.
func TestKeysCreateWithExpiry(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		before := time.Now().UTC()
		for _, tt := range []struct {
			name  string
			flags []string
			want  func(string) bool // of the STATUS column
		}{
			{"never", nil, func(s string) bool { return s == "active" }},
			{"at a time", []string{"--expires-at", "2100-01-02T03:04:05+01:00"}, func(s string) bool { return s == "active, expires 2100-01-02T02:04:05Z" }},
			{"in days", []string{"--expires", "90d"}, func(s string) bool {
				at, err := time.Parse("2006-01-02T15:04:05Z", strings.TrimPrefix(s, "active, expires "))
				// to the second keys list shows, from a now taken during the command
				return err == nil && !at.Before(before.AddDate(0, 0, 90).Truncate(time.Second)) && !at.After(time.Now().AddDate(0, 0, 90))
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				id, _, _ := strings.Cut(runIn(t, dsn, "", append([]string{"keys", "create", "--org", "acme"}, tt.flags...)...), ":")
				if got := listedStatus(t, dsn, id); !tt.want(got) {
					t.Errorf("keys list says %q", got)
				}
			})
		}
		t.Run("expired", func(t *testing.T) {
			// Only a key made by other means can be listed expired: keys
			// create refuses an expiry that is not in the future.
			ctx := context.Background()
			db := openTestStore(t, dsn)
			org, err := db.EnsureOrg(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			expired := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
			k := auth.KeyWithSecret(org.ID, "tp_expired", "secret", auth.KeySpec{ExpiresAt: &expired}, expired.Add(-time.Hour))
			if err := db.CreateKey(ctx, k); err != nil {
				t.Fatal(err)
			}
			if got := listedStatus(t, dsn, k.ID); got != "expired 2001-02-03T04:05:06Z" {
				t.Errorf("keys list says %q", got)
			}
		})
	})
}

// listedStatus is the STATUS keys list shows for key id of organisation
// acme.
func listedStatus(t *testing.T, dsn, id string) string {
	t.Helper()
	out := runIn(t, dsn, "", "keys", "list", "--org", "acme")
	header, _, _ := strings.Cut(out, "\n")
	col := strings.Index(header, "STATUS")
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, id+" ") && col > 0 && len(line) > col {
			return strings.TrimSpace(line[col:])
		}
	}
	t.Fatalf("keys list does not show %s:\n%s", id, out)
	return ""
}

// TestEnvironment: a variable sets its flag's default, the flag wins over
// it, and README's configuration table lists every variable there is.
func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	fromEnv, fromFlag := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")
	environ := map[string]string{"TOUCHPOINT_DB": fromEnv}
	if _, errOut, code := runArgs(t, environ, "", "orgs", "set", "--org", "acme"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, errOut, code := runArgs(t, environ, "", "orgs", "set", "--org", "other", "--db", fromFlag); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for path, want := range map[string]string{fromEnv: "acme", fromFlag: "other"} {
		if names := fromDB(t, path, (*sqlite.DB).OrgNames); !slices.Equal(names, []string{want}) {
			t.Errorf("%s holds %q, want [%s]", filepath.Base(path), names, want)
		}
	}

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range envTable(newRoot(context.Background(), environment{getenv: getenvFrom(nil)})) {
		if !regexp.MustCompile("(?m)^\\|[^\n]*`" + r.key + "`").Match(readme) {
			t.Errorf("README's configuration table lacks %s", r.key)
		}
	}
}

// TestMigrateSaysWhatItApplied: every migration on a new database, then
// that none were pending.
func TestMigrateSaysWhatItApplied(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		out, errOut, code := runArgs(t, nil, "", "migrate", "--db", dsn)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		all := sqlite.Migrations()
		if postgres.IsDSN(dsn) {
			all = postgres.Migrations()
		}
		for _, v := range all {
			if !strings.Contains(out, "applied migration "+v+"\n") {
				t.Errorf("first migrate does not name %s:\n%s", v, out)
			}
		}
		out, _, _ = runArgs(t, nil, "", "migrate", "--db", dsn)
		if strings.Contains(out, "applied migration") || !strings.Contains(out, "no migrations pending") ||
			!strings.Contains(out, "is at "+all[len(all)-1]) {
			t.Errorf("second migrate:\n%s", out)
		}
	})
}

// TestImportUnknownFields: an unknown field is a warning with its line
// number and the line is imported; with --strict it is a rejection.
func TestImportUnknownFields(t *testing.T) {
	in := `{"record":"customer","id":1,"mobile":"9111"}
{"record":"message","id":10,"customer_id":1,"network":"capillary","type":"sms","sentAt":"2025-01-01T00:00:00Z","sent_at":"2025-01-01T00:00:00Z","colour":"red"}
{"record":"message","id":11,"customer_id":1,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z"}
`
	db := filepath.Join(t.TempDir(), "t.db")
	_, errOut, code := runArgs(t, nil, in, "import", "--org", "acme", "--db", db, "-")
	if code != 0 || !strings.Contains(errOut, `line 2: warning: unknown fields "sentAt", "colour" (ignored)`) ||
		!strings.Contains(errOut, "3 accepted") {
		t.Errorf("lenient import: exit %d, stderr:\n%s", code, errOut)
	}
	_, errOut, code = runArgs(t, nil, in, "import", "--org", "strict", "--db", db, "--strict", "-")
	if code != exitRejected || !strings.Contains(errOut, `line 2: unknown fields "sentAt", "colour"`) ||
		strings.Contains(errOut, "warning") || !strings.Contains(errOut, "2 accepted") {
		t.Errorf("strict import: exit %d, stderr:\n%s", code, errOut)
	}
}

// TestDemoOnlyWhereItCannotSurprise: serve adds the demo organisation and
// its well-known key to a new database, never to one holding another
// organisation unless asked, and never before the address is bound.
func TestDemoOnlyWhereItCannotSurprise(t *testing.T) {
	demoKey := func(t *testing.T, base string) int {
		status, _, _ := client{t: t, base: base, auth: basicAuth(demoKeyID, demoSecret)}.do("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=917385022695", "")
		return status
	}
	orgs := func(t *testing.T, path string) []string {
		return fromDB(t, path, (*sqlite.DB).OrgNames)
	}
	withAcme := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "t.db")
		if _, errOut, code := runArgs(t, nil, "", "orgs", "set", "--org", "acme", "--db", path); code != 0 {
			t.Fatal(errOut)
		}
		return path
	}

	t.Run("another organisation", func(t *testing.T) {
		path := withAcme(t)
		base, logs := startServerLogs(t, path)
		if s := demoKey(t, base); s != 401 {
			t.Errorf("demo key on a database holding acme: %d, want 401", s)
		}
		const why = `level=INFO msg="demo data not loaded: the database holds organisation \"acme\"`
		if !strings.Contains(logs.Await(why), why) {
			t.Errorf("the log does not say why the demo was not loaded:\n%s", logs)
		}
		if got := orgs(t, path); !slices.Equal(got, []string{"acme"}) {
			t.Errorf("organisations = %q", got)
		}
	})
	for _, explicit := range [][2]string{{"--demo", ""}, {"--demo=true", ""}, {"", "true"}} {
		t.Run("explicit "+explicit[0]+explicit[1], func(t *testing.T) {
			path := withAcme(t)
			var extra []string
			if explicit[0] != "" {
				extra = append(extra, explicit[0])
			}
			base, _ := startServerEnv(t, map[string]string{"TOUCHPOINT_DEMO": explicit[1]}, path, extra...)
			if s := demoKey(t, base); s != 200 {
				t.Errorf("demo key with %v: %d, want 200", explicit, s)
			}
		})
	}
	t.Run("demo only, again", func(t *testing.T) {
		// A database that holds only the demo (the second `go run .`)
		// keeps working with the demo key.
		path := filepath.Join(t.TempDir(), "t.db")
		if _, errOut, code := runArgs(t, nil, "", "orgs", "set", "--org", demo.OrgName, "--db", path); code != 0 {
			t.Fatal(errOut)
		}
		if s := demoKey(t, startServer(t, path)); s != 200 {
			t.Errorf("demo key: %d, want 200", s)
		}
	})
	t.Run("busy address", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		path := filepath.Join(t.TempDir(), "t.db")
		_, errOut, code := runArgs(t, nil, "", "serve", "--db", path, "--addr", ln.Addr().String())
		if code != exitFailure || !strings.Contains(errOut, "address already in use") {
			t.Errorf("serve on a busy address: exit %d, stderr:\n%s", code, errOut)
		}
		if got := orgs(t, path); len(got) != 0 {
			t.Errorf("serve wrote organisations %q before it could listen", got)
		}
	})
}

// TestDemoTries: `demo --try` lists customers for every network and type
// of the data set, each with the most of it; the README shows the list.
func TestDemoTries(t *testing.T) {
	out, errOut, code := runArgs(t, nil, "", "demo", "--try")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"capillary   sms", "capillary   viber", "capillary   missed_call", "capillary   survey", "twitter     tweet", "foursquare  checkin"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo --try lacks %q:\n%s", want, out)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte(out)) {
		t.Errorf("README does not show `touchpoint demo --try` as it is now:\n%s", out)
	}
}
