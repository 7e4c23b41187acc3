package sqlite

import (
	"context"
	"strings"
	"sync"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// SQLite's credential cache (see sqlstore.CredentialCache) and its data
// versions (version.go) are kept under a stamp of the database's committed
// state: the header of its WAL-index (walindex.go), which every commit, by
// any process (`touchpoint keys revoke` runs in another one), rewrites
// before any reader can see the commit. Where there is no stamp, every
// lookup reads.

// shmPath is the WAL-index file of the database at path (a file name or
// URI).
func shmPath(path string) string {
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path + "-shm"
}

// Credential returns a key and its organisation, or that there is no such
// key: from the cache when nothing has been committed since it was read,
// else with one statement.
func (db *DB) Credential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error) {
	read := func() (interaction.APIKey, interaction.Org, error) { return db.Store.Credential(ctx, id) }
	s, ok := db.scopedStamp(ctx)
	if !ok {
		return read()
	}
	return db.creds.Lookup(id, s, read)
}

// scopedStamp is the database's stamp: within a request's Scope taken
// once, by the first lookup that needs it.
func (db *DB) scopedStamp(ctx context.Context) (stamp, bool) {
	if sc := scopeOf(ctx); sc != nil {
		m := &sc.stamp
		m.once.Do(func() { m.stamp, m.ok = db.takeStamp() })
		return m.stamp, m.ok
	}
	return db.takeStamp()
}

func (db *DB) takeStamp() (stamp, bool) {
	if db.index == nil {
		return stamp{}, false
	}
	return db.index.stamp()
}

// stampMemo is a request's one stamp.
type stampMemo struct {
	once  sync.Once
	stamp stamp
	ok    bool
}

// Scope returns ctx, an API request's, with room for one stamp, taken by
// the first of its lookups that needs one (authentication's credential)
// and used by the rest (the response cache's data version): the request
// sees one state of the database throughout, not a commit half-way. The
// stamp is taken after the request arrived, so what it vouches for is
// never older than the last commit before then, which is all a request
// can ask. The request's reads share one read transaction too (see
// snapshot), which release ends; the caller calls release once its reads
// are done, and may call it again.
func (db *DB) Scope(ctx context.Context) (_ context.Context, release func()) {
	sc := &requestScope{}
	return context.WithValue(ctx, scopeKey{}, sc), func() { db.reads.release(&sc.snap) }
}

// requestScope is what a Scope keeps for its request, under one context
// value: the stamp and the read transaction.
type requestScope struct {
	stamp stampMemo
	snap  snapshot
}

type scopeKey struct{}

// scopeOf returns ctx's request scope, or nil outside one.
func scopeOf(ctx context.Context) *requestScope {
	sc, _ := ctx.Value(scopeKey{}).(*requestScope)
	return sc
}
