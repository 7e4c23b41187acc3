package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestDataVersionKeptUnderAStamp: with nothing committed, the version is
// read once and then answered from memory; a commit, by this handle or by
// another process's, moves the stamp, and the next answer is read again,
// and is the new version.
func TestDataVersionKeptUnderAStamp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db := openAt(t, path)
	o, err := db.EnsureOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
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
		v1, _ := read()
		v2, n2 := read()
		if n2 != 0 || v2 != v1 {
			t.Fatalf("%s: with nothing committed: %d statements, versions %d %d; want 0, equal", tt.name, n2, v1, v2)
		}
		if err := tt.commit(); err != nil {
			t.Fatal(err)
		}
		if v3, n3 := read(); n3 != 1 || v3 <= v1 {
			t.Errorf("%s: after the commit: version %d (%d statements), want above %d, read", tt.name, v3, n3, v1)
		}
	}
}

// TestCredentialsKeptUnderAStamp: credentials are cached under the same
// rule as versions: read once and then from memory while nothing is
// committed, and read again after a commit, here or by another process.
func TestCredentialsKeptUnderAStamp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db := openAt(t, path)
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
	if n := lookups(); n != 1 {
		t.Errorf("with nothing committed: %d statements for 2 lookups, want 1", n)
	}
	if _, err := db.EnsureOrg(ctx, "globex"); err != nil {
		t.Fatal(err)
	}
	if n := lookups(); n != 1 {
		t.Errorf("after a commit here: %d statements for 2 lookups, want 1", n)
	}
	if _, err := openAt(t, path).EnsureOrg(ctx, "initech"); err != nil {
		t.Fatal(err)
	}
	if n := lookups(); n != 1 {
		t.Errorf("after a commit by another process: %d statements for 2 lookups, want 1", n)
	}
}

// TestScopeTakesOneStamp: within a request's Scope the database is
// stamped once, by the first lookup, and the later ones use that stamp (a
// commit in between is seen by the next request, not half-way through
// this one); a new scope, and a context without one, stamp it afresh.
func TestScopeTakesOneStamp(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if _, err := db.EnsureOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	req, release := db.Scope(ctx)
	defer release()
	first, ok := db.scopedStamp(req)
	if !ok {
		t.Fatal("no stamp of a database on disk")
	}
	if _, err := db.EnsureOrg(ctx, "globex"); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.scopedStamp(req); again != first {
		t.Errorf("within one scope: stamp %v, then %v", first, again)
	}
	if fresh, _ := db.takeStamp(); fresh == first {
		t.Fatal("the commit left the stamp as it was")
	}
	fresh, done := db.Scope(ctx)
	defer done()
	for name, c := range map[string]context.Context{"a new scope": fresh, "no scope": ctx} {
		if s, _ := db.scopedStamp(c); s == first {
			t.Errorf("%s: the stamp from before the commit", name)
		}
	}
}
