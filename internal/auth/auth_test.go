package auth_test

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/sqlite"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// openSQLite opens a fresh SQLite store in tb's temporary directory,
// closed when tb ends, and returns it with its file's path.
func openSQLite(tb testing.TB) (*sqlite.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "t.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	db, _ := openSQLite(t)
	id, secret, err := auth.CreateKey(ctx, db, "acme", auth.KeySpec{Scopes: []interaction.Scope{interaction.ScopeOTPRead}, RateLimit: 50}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "tp_") || len(secret) < 40 {
		t.Fatalf("key %q secret %q", id, secret)
	}
	revoked, rsecret, _ := auth.CreateKey(ctx, db, "acme", auth.KeySpec{}, time.Now())
	if err := db.RevokeKey(ctx, revoked, time.Now()); err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Admin: db}
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"key and secret", basic(id, secret), true},
		{"vendor md5 form", basic(id, md5hex(secret)), true},
		{"vendor md5 form upper-case hex", basic(id, strings.ToUpper(md5hex(secret))), true},
		{"lower-case scheme", "basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret)), true},
		{"wrong secret", basic(id, secret+"x"), false},
		{"md5 of wrong secret", basic(id, md5hex("nope")), false},
		{"md5 of the md5", basic(id, md5hex(md5hex(secret))), false},
		{"unknown key", basic("tp_nobody", secret), false},
		{"revoked key", basic(revoked, rsecret), false},
		{"empty", "", false},
		{"bearer", "Bearer " + secret, false},
		{"bad base64", "Basic !!!", false},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(id+secret)), false},
		{"empty password", basic(id, ""), false},
		{"empty user", basic("", secret), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			p, err := a.Authenticate(ctx, r)
			if tt.ok {
				if err != nil || p.KeyID != id || p.Org.Name != "acme" || p.Org.RateLimit != 50 || !p.Has(interaction.ScopeOTPRead) || !p.Has(interaction.ScopeRead) {
					t.Errorf("principal %+v, err %v", p, err)
				}
				return
			}
			if interaction.KindOf(err) != interaction.KindUnauthorized {
				t.Errorf("err = %v, want unauthorized", err)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Error("error mentions the secret")
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "read", true},
		{"read", "read", true},
		{"otp:read", "read otp:read", true},
		{"read,otp:read read", "read otp:read", true},
		{"admin", "", false},
	}
	for _, tt := range tests {
		got, err := auth.ParseScopes(tt.in)
		var names []string
		for _, s := range got {
			names = append(names, string(s))
		}
		if (err == nil) != tt.ok || strings.Join(names, " ") != tt.want {
			t.Errorf("ParseScopes(%q) = %v, %v", tt.in, names, err)
		}
	}
}

func FuzzParseBasic(f *testing.F) {
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")))
	f.Add("Basic")
	f.Add("basic   Og==")
	f.Fuzz(func(t *testing.T, h string) {
		u, p, ok := auth.ParseBasic(h)
		if !ok {
			return
		}
		if u == "" || p == "" || strings.Contains(u, ":") {
			t.Fatalf("ParseBasic(%q) = %q, %q, ok", h, u, p)
		}
		// What was accepted reads back the same from the canonical form.
		if u2, p2, ok := auth.ParseBasic(basic(u, p)); !ok || u2 != u || p2 != p {
			t.Fatalf("round trip of %q, %q = %q, %q, %t", u, p, u2, p2, ok)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	k, secret, _ := auth.NewKey(1, auth.KeySpec{}, time.Now())
	for b.Loop() {
		if !auth.Verify(k, secret) {
			b.Fatal("verify failed")
		}
	}
}

// TestUnknownKeyCostsAsMuch: on SQLite, repeated tries of a key id that
// does not exist cost what repeated tries of a real key with a wrong
// secret cost, no statement each, so response time does not tell which
// key ids exist. (BenchmarkAuthenticateSQLite measures the time.)
func TestUnknownKeyCostsAsMuch(t *testing.T) {
	ctx := context.Background()
	db, path := openSQLite(t)
	id, secret, err := auth.CreateKey(ctx, db, "acme", auth.KeySpec{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The store keeps credentials only under a WAL stamp old enough to
	// trust (sqlite/credcache.go): age it rather than wait.
	past := time.Now().Add(-time.Minute)
	if err := os.Chtimes(path+"-wal", past, past); err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Admin: db}
	for _, c := range []struct{ name, header string }{
		{"wrong secret", basic(id, secret+"x")},
		{"unknown key", basic("tp_aaaaaaaaaaaaaaaa", secret)},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", c.header)
		if _, err := a.Authenticate(ctx, r); interaction.KindOf(err) != interaction.KindUnauthorized {
			t.Fatalf("%s: %v", c.name, err)
		}
		before := db.Statements()
		for range 10 {
			a.Authenticate(ctx, r)
		}
		if n := db.Statements() - before; n != 0 {
			t.Errorf("%s: %d statements for 10 repeated tries, want 0 (answered from the cache)", c.name, n)
		}
	}
}

// TestExpiryOverCachedCredential: on SQLite, whose credential cache holds
// the key's record (not a verdict), a key is refused once the clock
// reaches its expiry although its record still comes from the cache, with
// no statement and no change to the database.
func TestExpiryOverCachedCredential(t *testing.T) {
	ctx := context.Background()
	db, path := openSQLite(t)
	made := time.Now()
	expiry := made.Add(time.Hour)
	id, secret, err := auth.CreateKey(ctx, db, "acme", auth.KeySpec{ExpiresAt: &expiry}, made)
	if err != nil {
		t.Fatal(err)
	}
	past := made.Add(-time.Minute) // a WAL stamp old enough to trust, as above
	if err := os.Chtimes(path+"-wal", past, past); err != nil {
		t.Fatal(err)
	}
	now := made
	a := &auth.Authenticator{Admin: db, Now: func() time.Time { return now }}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", basic(id, secret))
	if _, err := a.Authenticate(ctx, r); err != nil { // the record is cached
		t.Fatal(err)
	}
	before := db.Statements()
	for _, tt := range []struct {
		now time.Time
		ok  bool
	}{{made, true}, {expiry.Add(-time.Millisecond), true}, {expiry, false}, {expiry.Add(time.Hour), false}} {
		now = tt.now
		if _, err := a.Authenticate(ctx, r); (err == nil) != tt.ok {
			t.Errorf("%v from expiry: %v, want ok %t", tt.now.Sub(expiry), err, tt.ok)
		}
	}
	if n := db.Statements() - before; n != 0 {
		t.Errorf("%d statements, want 0 (the record answered from the cache)", n)
	}
}

// BenchmarkAuthenticateSQLite compares, over the real SQLite store, a known
// key with a wrong secret and an unknown key: their ns/op should agree
// within noise.
func BenchmarkAuthenticateSQLite(b *testing.B) {
	ctx := context.Background()
	db, _ := openSQLite(b)
	id, secret, _ := auth.CreateKey(ctx, db, "acme", auth.KeySpec{}, time.Now())
	a := &auth.Authenticator{Admin: db}
	for _, c := range []struct{ name, header string }{
		{"wrong-secret", basic(id, secret+"x")},
		{"unknown-key", basic("tp_aaaaaaaaaaaaaaaa", secret+"x")},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", c.header)
			for b.Loop() {
				a.Authenticate(ctx, r)
			}
		})
	}
}
