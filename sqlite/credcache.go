package sqlite

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// credCache keeps the authenticator's key-and-organisation lookups between
// commits. Every request authenticates, and the lookup was most of the
// HTTP edge's cost; but a revoked key must fail on its very next request,
// even when `touchpoint keys revoke` ran in another process. So an entry is
// valid only while the database files are unchanged since it was read: any
// commit, by any process, appends to the WAL and moves its size or
// modification time, and a stat costs far less than a query. (In WAL mode
// every commit goes to the WAL; a checkpoint copies pages already
// committed there, so the main file need not be watched.)
//
// Keys that do not exist are remembered as well, with the not-found error
// they were answered with: were only existing keys cached, an unknown key
// would cost a query on every try while a known key with a wrong secret
// cost a map lookup, and the response time (about 30 us apart) would tell
// which key ids exist.
type credCache struct {
	wal   string
	mu    sync.Mutex
	stamp fileStamp
	byID  map[string]credEntry
}

type credEntry struct {
	key interaction.APIKey
	org interaction.Org
	err error // the not-found error of a key that does not exist
}

type fileStamp struct {
	size  int64
	mtime time.Time
}

// maxCredEntries bounds the cache; it is emptied when full (keys are few,
// but tries of unknown ones are not: a flood of them empties the cache of
// known and unknown keys alike, so the two still cost the same).
const maxCredEntries = 10_000

func newCredCache(path string) *credCache {
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return &credCache{wal: path + "-wal", byID: map[string]credEntry{}}
}

// current stamps the WAL; without one (not yet created, or removed when the
// last connection closed) nothing is cached.
func (c *credCache) current() (fileStamp, bool) {
	fi, err := os.Stat(c.wal)
	if err != nil {
		return fileStamp{}, false
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime()}, true
}

// get returns a cached entry if the files are unchanged since it was put,
// and the stamp to put a fresh lookup under otherwise.
func (c *credCache) get(id string) (credEntry, fileStamp, bool) {
	s, ok := c.current()
	if !ok {
		return credEntry{}, s, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s != c.stamp {
		clear(c.byID) // something committed: every entry may be stale
		c.stamp = s
		return credEntry{}, s, false
	}
	e, hit := c.byID[id]
	return e, s, hit
}

// put stores a lookup read after stamp s was taken; if anything committed
// since, the entry is dropped rather than trusted.
func (c *credCache) put(id string, s fileStamp, e credEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s != c.stamp {
		return
	}
	if len(c.byID) >= maxCredEntries {
		clear(c.byID)
	}
	c.byID[id] = e
}

// Credential returns a key and its organisation, or that there is no such
// key: from the cache when nothing has been committed since it was read,
// else with one statement.
func (db *DB) Credential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error) {
	e, stamp, hit := db.creds.get(id)
	if hit {
		return e.key, e.org, e.err
	}
	k, o, err := db.Store.Credential(ctx, id)
	switch {
	case err == nil:
		db.creds.put(id, stamp, credEntry{key: k, org: o})
	case interaction.KindOf(err) == interaction.KindNotFound:
		db.creds.put(id, stamp, credEntry{err: err})
	}
	return k, o, err
}
