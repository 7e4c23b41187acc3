// Package deptest holds a test that keeps the dependency graph pointing one
// way (transports -> loader -> store -> domain): it fails when a package
// picks up an import it must not have, for instance the domain importing
// sqlx or a REST shim reaching around the loaders into the SQL store.
package deptest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/touchpoint/touchpoint"

// rules maps a package to what it must not depend on, directly or
// transitively: an entry ending in "/" is a prefix, any other names one
// package exactly (so "database/sql" bans the SQL package but not the
// database/sql/driver interfaces gqlgen's marshalers mention).
var rules = map[string][]string{
	"internal/interaction": {"net/http", "database/sql", "github.com/jmoiron/sqlx", "github.com/ncruces/go-sqlite3/", "github.com/jackc/pgx/v5/",
		"github.com/99designs/gqlgen/", "github.com/vektah/gqlparser/v2/", mod + "/"},
	"internal/loader":   {"database/sql", "github.com/jmoiron/sqlx", "github.com/99designs/gqlgen/", mod + "/sqlite", mod + "/graph"},
	"internal/importer": {"net/http", "database/sql", "github.com/jmoiron/sqlx", mod + "/sqlite"},
	"internal/otp":      {"net/http", "database/sql", mod + "/"},
	// The shims own their envelopes and statuses; the edge asks them.
	"internal/rest": {"database/sql", "github.com/jmoiron/sqlx", "github.com/99designs/gqlgen/", mod + "/sqlite", mod + "/postgres", mod + "/graph", mod + "/internal/httpapi"},
	"graph":         {"database/sql", "github.com/jmoiron/sqlx", "github.com/ncruces/go-sqlite3/", "github.com/jackc/pgx/v5/", mod + "/sqlite", mod + "/postgres", mod + "/internal/rest"},
	// (not net/http: OpenTelemetry's propagation package brings it in)
	"sqlite":            storeRules,
	"postgres":          storeRules,
	"internal/sqlstore": {"net/http", "github.com/ncruces/go-sqlite3/", "github.com/jackc/pgx/v5/", "github.com/99designs/gqlgen/", mod + "/sqlite", mod + "/postgres", mod + "/graph", mod + "/internal/loader"},
	// The harness measures the server from outside, over HTTP, and fills
	// the store through the importer: it links none of the service.
	"internal/bench":   {mod + "/graph", mod + "/internal/rest", mod + "/internal/httpapi", mod + "/internal/loader", mod + "/sqlite", mod + "/postgres"},
	"internal/httpapi": {"database/sql", "github.com/jmoiron/sqlx", mod + "/sqlite", mod + "/graph", mod + "/internal/rest"},
	// The response cache keeps bytes under keys; what they mean is the
	// edge's business.
	"internal/respcache": {"database/sql", mod + "/"},
}

// storeRules hold both stores alike: a store is below the loaders and the
// transports, and knows nothing of GraphQL.
var storeRules = []string{"github.com/99designs/gqlgen/", mod + "/graph", mod + "/internal/rest", mod + "/internal/loader"}

type pkg struct {
	ImportPath string
	Deps       []string
	Error      *struct{ Err string }
}

func TestDependencyDirection(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	args := []string{"list", "-e", "-json=ImportPath,Deps,Error"}
	for p := range rules {
		args = append(args, mod+"/"+p)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Error != nil {
			t.Errorf("%s: %s", p.ImportPath, p.Error.Err)
			continue
		}
		checked++
		for _, dep := range p.Deps {
			for _, bad := range rules[strings.TrimPrefix(p.ImportPath, mod+"/")] {
				// The domain may of course import itself.
				banned := dep == bad || strings.HasSuffix(bad, "/") && strings.HasPrefix(dep, bad)
				if banned && !(bad == mod+"/" && dep == p.ImportPath) {
					t.Errorf("%s must not depend on %s (imports %s)", p.ImportPath, bad, dep)
				}
			}
		}
	}
	if checked != len(rules) {
		t.Errorf("checked %d packages, want %d", checked, len(rules))
	}
}
