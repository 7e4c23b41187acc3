package postgres

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/pgtest"
)

// openPair opens a store that serves (and caches credentials) and a
// second one on the same database, as `touchpoint keys` or another
// replica would be, with an organisation and a key.
func openPair(t *testing.T) (serving, other *DB, org interaction.Org, key interaction.APIKey) {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	var err error
	if serving, err = Open(ctx, dsn, Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serving.Close() })
	if other, err = Open(ctx, dsn, Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	if org, err = other.EnsureOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	key = interaction.APIKey{ID: "tp_k", OrgID: org.ID, SecretHash: []byte{1}, MD5Hash: []byte{2}, Scopes: "read", CreatedAt: time.UnixMilli(1)}
	if err := other.CreateKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	return serving, other, org, key
}

// eventually polls cond for up to five seconds: notifications arrive
// within milliseconds, but the machine may be busy.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestCredentialsFollowChanges: a listening store answers repeated
// credentials from memory, and every change made elsewhere (revocation,
// settings, a new key for an id that was unknown) reaches it.
func TestCredentialsFollowChanges(t *testing.T) {
	ctx := context.Background()
	db, other, org, key := openPair(t)
	if _, _, err := db.Credential(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the listener", db.Listening)
	db.Credential(ctx, key.ID)
	db.Credential(ctx, "tp_unknown")
	before := db.Statements()
	for range 3 {
		if _, _, err := db.Credential(ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Credential(ctx, "tp_unknown"); interaction.KindOf(err) != interaction.KindNotFound {
			t.Fatalf("unknown key: %v", err)
		}
	}
	if n := db.Statements() - before; n != 0 {
		t.Errorf("%d statements for credentials read before, want 0", n)
	}

	if err := other.RevokeKey(ctx, key.ID, time.UnixMilli(2)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the revocation", func() bool {
		k, _, err := db.Credential(ctx, key.ID)
		return err == nil && k.RevokedAt != nil
	})
	org.MaskOTP = true
	if err := other.UpdateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the settings change", func() bool {
		_, o, err := db.Credential(ctx, key.ID)
		return err == nil && o.MaskOTP
	})
	if err := other.CreateKey(ctx, interaction.APIKey{ID: "tp_unknown", OrgID: org.ID, SecretHash: []byte{1}, MD5Hash: []byte{2}, Scopes: "read"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new key", func() bool {
		_, _, err := db.Credential(ctx, "tp_unknown")
		return err == nil
	})
}

// TestCredentialsReadWhileDeaf: a store that cannot listen keeps nothing
// and reads every credential, so a change shows on the very next request;
// a listener whose connection is killed reconnects and is trusted again.
func TestCredentialsReadWhileDeaf(t *testing.T) {
	ctx := context.Background()
	db, other, _, key := openPair(t)
	db.listenDSN = "postgres://nobody@127.0.0.1:1/none?connect_timeout=1" // nothing listens there
	var heard atomic.Int32
	db.OnListenError(func(error) { heard.Add(1) })
	before := db.Statements()
	for range 3 {
		db.Credential(ctx, key.ID)
	}
	if n := db.Statements() - before; n != 3 || db.Listening() {
		t.Errorf("%d statements for 3 credentials without a listener (listening %v), want 3", n, db.Listening())
	}
	eventually(t, "the listener's error to be heard", func() bool { return heard.Load() > 0 })
	other.RevokeKey(ctx, key.ID, time.UnixMilli(2))
	if k, _, err := db.Credential(ctx, key.ID); err != nil || k.RevokedAt == nil {
		t.Errorf("without a listener, the next read after revocation: %+v %v", k, err)
	}

	// A listener that loses its connection forgets and reconnects.
	live, liveOther, _, key := openPair(t)
	live.Credential(ctx, key.ID)
	eventually(t, "the listener", live.Listening)
	gen := func() uint64 { g, _ := live.heard.current(); return g }
	g := gen()
	if _, err := liveOther.w.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, listenerName); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the listener to notice and reconnect", func() bool { return gen() >= g+2 && live.Listening() })
}
