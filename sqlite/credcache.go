package sqlite

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// SQLite's credential cache (see sqlstore.CredentialCache) is versioned by
// a stamp of the WAL file: any commit, by any process (`touchpoint keys
// revoke` runs in another one), appends to the WAL and moves its size or
// modification time, and a stat costs far less than a query. (In WAL mode
// every commit goes to the WAL; a checkpoint copies pages already
// committed there, so the main file need not be watched.)

type fileStamp struct {
	size  int64
	mtime time.Time
}

// walPath is the WAL file of the database at path (a file name or URI).
func walPath(path string) string {
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path + "-wal"
}

// walStamp stamps the WAL; without one (not yet created, or removed when
// the last connection closed) nothing is cached.
func (db *DB) walStamp() (fileStamp, bool) {
	fi, err := os.Stat(db.wal)
	if err != nil {
		return fileStamp{}, false
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime()}, true
}

// Credential returns a key and its organisation, or that there is no such
// key: from the cache when nothing has been committed since it was read,
// else with one statement.
func (db *DB) Credential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error) {
	read := func() (interaction.APIKey, interaction.Org, error) { return db.Store.Credential(ctx, id) }
	stamp, ok := db.settledStamp(ctx)
	if !ok {
		return read()
	}
	return db.creds.Lookup(id, stamp, read)
}

// settledStamp is the WAL's stamp when it is old enough to trust (see
// DataVersion): a commit within the file system's clock tick of the stamp
// could leave it as it was, so a stamp is kept under only once no such
// commit can follow it unseen. Until then every lookup reads. Within a
// request's Scope the stamp is taken once.
func (db *DB) settledStamp(ctx context.Context) (fileStamp, bool) {
	if m, ok := ctx.Value(stampKey{}).(*stampMemo); ok {
		m.once.Do(func() { m.stamp, m.ok = db.takeSettledStamp() })
		return m.stamp, m.ok
	}
	return db.takeSettledStamp()
}

func (db *DB) takeSettledStamp() (fileStamp, bool) {
	stamp, ok := db.walStamp()
	return stamp, ok && time.Since(stamp.mtime) > stampSettle
}

type stampKey struct{}

// stampMemo is a request's one stamp of the WAL.
type stampMemo struct {
	once  sync.Once
	stamp fileStamp
	ok    bool
}

// Scope returns ctx, an API request's, with room for one stamp of the WAL,
// taken by the first of its lookups that needs one (authentication's
// credential) and used by the rest (the response cache's data version):
// one system call a request instead of one a lookup. The stamp is taken
// after the request arrived, so what it vouches for is never older than
// the last commit before then, which is all a request can ask.
func (db *DB) Scope(ctx context.Context) context.Context {
	return context.WithValue(ctx, stampKey{}, &stampMemo{})
}
