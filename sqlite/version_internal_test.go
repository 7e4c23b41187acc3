package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDataVersionKeptUnderASettledStamp: with nothing written for a while
// (the WAL's modification time set back an hour, as time would), the
// version is read once and then answered from memory; a commit, by this
// handle or by another process's, moves the stamp and the next answer is
// read again, and is the new version.
func TestDataVersionKeptUnderASettledStamp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db := openAt(t, path)
	o, err := db.EnsureOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	settle := func() {
		t.Helper()
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(db.wal, old, old); err != nil {
			t.Fatal(err)
		}
	}
	read := func() (int64, int64) {
		t.Helper()
		before := db.Statements()
		v, err := db.DataVersion(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		return v.Version, db.Statements() - before
	}
	other := openAt(t, path) // another process's handle on the file
	for _, tt := range []struct {
		name   string
		commit func() error
	}{
		{"a settings change here", func() error { o.TimeZone = "Asia/Kolkata"; return db.UpdateOrg(ctx, o) }},
		{"a settings change by another process", func() error { o.MaskOTP = true; return other.UpdateOrg(ctx, o) }},
	} {
		settle()
		v1, n1 := read()
		v2, n2 := read()
		if n1 != 1 || n2 != 0 || v2 != v1 {
			t.Fatalf("%s: under a settled stamp: %d then %d statements, versions %d %d; want 1 then 0, equal", tt.name, n1, n2, v1, v2)
		}
		if err := tt.commit(); err != nil {
			t.Fatal(err)
		}
		committed := time.Now()
		if v3, n3 := read(); n3 != 1 || v3 <= v1 {
			t.Errorf("%s: after the commit: version %d (%d statements), want above %d, read", tt.name, v3, n3, v1)
		}
		// A stamp younger than stampSettle is not kept under (checked
		// only while it is: a loaded machine may take longer to get here).
		if _, n4 := read(); n4 != 1 && time.Since(committed) < stampSettle {
			t.Errorf("%s: under a fresh stamp the version was not read (%d statements)", tt.name, n4)
		}
	}
}

// TestCredentialsKeptUnderASettledStamp: credentials are cached under the
// same rule as versions: read on every lookup while the WAL's stamp is
// fresh, once and then from memory when it has settled, and read again
// after a commit.
func TestCredentialsKeptUnderASettledStamp(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	lookups := func() int64 {
		t.Helper()
		before := db.Statements()
		for range 2 {
			db.Credential(ctx, "tp_none")
		}
		return db.Statements() - before
	}
	if _, err := db.EnsureOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if n := lookups(); n != 2 && time.Since(walTime(t, db)) < stampSettle {
		t.Errorf("under a fresh stamp: %d statements for 2 lookups, want 2", n)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(db.wal, old, old); err != nil {
		t.Fatal(err)
	}
	if n := lookups(); n != 1 {
		t.Errorf("under a settled stamp: %d statements for 2 lookups, want 1", n)
	}
	if _, err := db.EnsureOrg(ctx, "globex"); err != nil {
		t.Fatal(err)
	}
	if n := lookups(); n == 0 {
		t.Error("after a commit: the lookups were answered from memory")
	}
}

func walTime(t *testing.T, db *DB) time.Time {
	t.Helper()
	fi, err := os.Stat(db.wal)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

// TestScopeTakesOneStamp: within a request's Scope the WAL is stamped
// once, by the first lookup, and the later ones use that stamp (a commit
// in between is seen by the next request, not half-way through this one);
// a new scope, and a context without one, stamp it afresh.
func TestScopeTakesOneStamp(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if _, err := db.EnsureOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(db.wal, old, old); err != nil {
		t.Fatal(err)
	}
	req := db.Scope(ctx)
	first, ok := db.settledStamp(req)
	if !ok {
		t.Fatal("a WAL set back an hour is not settled")
	}
	if _, err := db.EnsureOrg(ctx, "globex"); err != nil { // moves the WAL
		t.Fatal(err)
	}
	if again, _ := db.settledStamp(req); again != first {
		t.Errorf("within one scope: stamp %v, then %v", first, again)
	}
	fresh, _ := db.walStamp()
	if fresh == first {
		t.Fatal("the commit left the WAL's stamp as it was")
	}
	for name, c := range map[string]context.Context{"a new scope": db.Scope(ctx), "no scope": ctx} {
		if s, _ := db.settledStamp(c); s == first {
			t.Errorf("%s: the stamp from before the commit", name)
		}
	}
}
