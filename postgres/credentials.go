package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Every request reads its key and the key's organisation, so that a
// revoked key fails on its next request and a settings change applies to
// the next answer. On PostgreSQL that read is a round trip of its own, a
// quarter of the one-customer question's statements. The store keeps the
// answers in memory instead, and stays exact by listening: a trigger on
// api_keys and orgs (migration 0003) notifies every server at commit, and
// each forgets all it holds. While its listening connection is down (at
// start, after an error, or when a ping goes unanswered) a server keeps
// nothing and reads every time: never stale, only slower.
//
// With a read replica (Options.ReadDSN) the cache is off: notifications
// come from the primary, and the replica may answer the read that follows
// one with the row as it was before.

const (
	credentialsChannel = "touchpoint_credentials"
	listenerName       = "touchpoint credential listener"
)

// listenPing is how long the listener waits for a notification before it
// checks that its connection still answers: the longest a server can trust
// its cache across a connection that died without a word.
const listenPing = time.Second

// maxCredentials bounds the cache; when full it starts over.
const maxCredentials = 10000

type credential struct {
	key   interaction.APIKey
	org   interaction.Org
	found bool // unknown ids are kept too, so both take the same time
}

// credentialCache is the keys a server has read since its last
// notification. gen changes with every notification and every change of
// live, so a read that raced one is not kept.
type credentialCache struct {
	mu      sync.RWMutex
	live    bool
	gen     uint64
	entries map[string]credential
}

func (c *credentialCache) get(id string) (credential, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[id]
	return e, c.gen, ok && c.live
}

func (c *credentialCache) put(id string, e credential, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCredentials {
		c.entries = make(map[string]credential)
	}
	c.entries[id] = e
}

// reset forgets everything and says whether the listener is up.
func (c *credentialCache) reset(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	c.gen++
	clear(c.entries)
}

// Listening reports whether the store is listening for credential changes
// (and so keeps credentials between requests).
func (db *DB) Listening() bool {
	db.creds.mu.RLock()
	defer db.creds.mu.RUnlock()
	return db.creds.live
}

// OnListenError sets what hears why the listener lost its connection (it
// reconnects by itself; meanwhile every request reads its credential).
// Call it before the first request.
func (db *DB) OnListenError(f func(error)) { db.listenErr = f }

// Credential reads a key and its organisation: from memory while the
// listener is up, else with one statement on the read path's pool. The
// first call starts the listener, so commands that never authenticate
// never listen.
func (db *DB) Credential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error) {
	db.listenOnce.Do(db.startListening)
	e, gen, ok := db.creds.get(id)
	if !ok {
		var err error
		if e, err = db.readCredential(ctx, id); err != nil {
			return interaction.APIKey{}, interaction.Org{}, err
		}
		db.creds.put(id, e, gen)
	}
	if !e.found {
		return interaction.APIKey{}, interaction.Org{}, interaction.Errorf(interaction.KindNotFound, "no key %q", id)
	}
	return e.key, e.org, nil
}

func (db *DB) startListening() {
	if db.listenDSN == "" {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	db.stop, db.listening = stop, make(chan struct{})
	go db.listen(ctx, db.listenDSN)
}

// listen keeps a connection listening on the credentials channel until ctx
// ends, reconnecting with backoff.
func (db *DB) listen(ctx context.Context, dsn string) {
	defer close(db.listening)
	wait := 50 * time.Millisecond
	for {
		err := db.listenConn(ctx, dsn)
		db.creds.reset(false)
		if ctx.Err() != nil {
			return
		}
		if db.listenErr != nil {
			db.listenErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// listenConn listens on one connection until it fails or ctx ends.
func (db *DB) listenConn(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	cfg.RuntimeParams["application_name"] = listenerName // for pg_stat_activity
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+credentialsChannel); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	db.creds.reset(true)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			db.creds.reset(true)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			pctx, cancel := context.WithTimeout(ctx, listenPing)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("postgres: listen: ping: %w", err)
			}
		default:
			return fmt.Errorf("postgres: listen: %w", err)
		}
	}
}
