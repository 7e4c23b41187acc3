package sqlstore

import (
	"context"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jmoiron/sqlx"
)

// readStmtCacheSize bounds the prepared read statements kept. The queries
// are a few fixed texts, times the IN-list lengths seen, so a few hundred
// cover a busy server; an evicted statement is closed.
const readStmtCacheSize = 512

// stmtCache keeps prepared read statements by query text. SQLite spends a
// third of a one-customer request parsing and planning its three queries
// when each is prepared afresh; database/sql re-prepares a cached statement
// on each pool connection once, then reuses it.
type stmtCache struct {
	mu    sync.Mutex // serialises preparation of a missing statement
	cache *lru.Cache[string, *sqlx.Stmt]
}

func newStmtCache() *stmtCache {
	c, _ := lru.NewWithEvict[string, *sqlx.Stmt](readStmtCacheSize, func(_ string, s *sqlx.Stmt) { s.Close() })
	return &stmtCache{cache: c}
}

func (c *stmtCache) stmt(ctx context.Context, db *sqlx.DB, query string) (*sqlx.Stmt, error) {
	if s, ok := c.cache.Get(query); ok {
		return s, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.cache.Get(query); ok {
		return s, nil
	}
	s, err := db.PreparexContext(ctx, db.Rebind(query))
	if err != nil {
		return nil, err
	}
	c.cache.Add(query, s)
	return s, nil
}

func (c *stmtCache) close() { c.cache.Purge() }

// selectRead runs a cached read statement into dest (a slice).
func (db *Store) selectRead(ctx context.Context, dest any, query string, args ...any) error {
	s, err := db.reads.stmt(ctx, db.r, query)
	if err != nil {
		return err
	}
	return s.SelectContext(ctx, dest, args...)
}

// getRead runs a cached read statement into dest (one row).
func (db *Store) getRead(ctx context.Context, dest any, query string, args ...any) error {
	s, err := db.reads.stmt(ctx, db.r, query)
	if err != nil {
		return err
	}
	return s.GetContext(ctx, dest, args...)
}
