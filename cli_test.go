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

	"github.com/touchpoint/touchpoint/internal/demo"
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
		{[]string{"keys", "create", "-h"}, []string{"--org", "--scopes", "--rate", "Examples:"}, []string{"--timezone", "--addr"}},
		{[]string{"keys", "list", "-h"}, []string{"--org", "Examples:"}, []string{"--rate", "--scopes"}},
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
