package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/pgtest"
)

func TestWithStatementTimeout(t *testing.T) {
	for _, tt := range []struct {
		dsn  string
		d    time.Duration
		want string
	}{
		{"postgres://h/db?sslmode=disable", 5 * time.Second, "postgres://h/db?sslmode=disable&statement_timeout=5000"},
		{"postgres://h/db?statement_timeout=100", 5 * time.Second, "postgres://h/db?statement_timeout=100"},
		{"postgres://h/db", 0, "postgres://h/db"},
		{"touchpoint.db", time.Second, "touchpoint.db"},
	} {
		if got := WithStatementTimeout(tt.dsn, tt.d); got != tt.want {
			t.Errorf("WithStatementTimeout(%q, %v) = %q, want %q", tt.dsn, tt.d, got, tt.want)
		}
	}
}

// TestStatementTimeout: a statement that outlives the statement timeout
// (a slow one, or one waiting for a lock) is cancelled by the server, and
// its error is of kind unavailable, which the API answers with 503.
func TestStatementTimeout(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, WithStatementTimeout(pgtest.DSN(t), 100*time.Millisecond), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	_, err = db.r.ExecContext(ctx, `SELECT pg_sleep(5)`)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the statement ran %v", took)
	}
	if interaction.KindOf(err) != interaction.KindUnavailable {
		t.Errorf("error %v is of kind %v, want unavailable", err, interaction.KindOf(err))
	}
}

// TestHungServer: with the server (or the network to it) silent, the
// store's reads and credential lookups return within the caller's
// deadline, as kind unavailable, and work again once it answers.
func TestHungServer(t *testing.T) {
	dsn := pgtest.DSN(t)
	proxy := pgtest.NewProxy(t, pgtest.Host(t, dsn))
	ctx := context.Background()
	db, err := Open(ctx, pgtest.Via(t, dsn, proxy.Addr()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, err := db.EnsureOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	lookups := map[string]func(context.Context) error{
		"customers": func(ctx context.Context) error {
			_, err := db.CustomersByIdentifier(ctx, org.ID, interaction.ByMobile, []string{"9100"})
			return err
		},
		"credential": func(ctx context.Context) error {
			_, _, err := db.Credential(ctx, "tp_nobody")
			return err
		},
	}
	for name, lookup := range lookups {
		if err := lookup(ctx); err != nil && interaction.KindOf(err) != interaction.KindNotFound {
			t.Fatalf("%s before the stall: %v", name, err)
		}
	}
	proxy.Pause()
	for name, lookup := range lookups {
		c, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		start := time.Now()
		err := lookup(c)
		cancel()
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: returned after %v with the server silent", name, took)
		}
		if interaction.KindOf(err) != interaction.KindUnavailable {
			t.Errorf("%s: %v is of kind %v, want unavailable", name, err, interaction.KindOf(err))
		}
	}
	proxy.Resume()
	for name, lookup := range lookups {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := lookup(c)
		cancel()
		if err != nil && interaction.KindOf(err) != interaction.KindNotFound {
			t.Errorf("%s after the stall: %v", name, err)
		}
	}
}
