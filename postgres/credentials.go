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
// answers in memory instead (sqlstore.CredentialCache, versioned by what
// the listener has heard), and stays exact by listening: a trigger on
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

// listenState is what the listener knows: whether it is up, and a count
// of what it has heard (every notification and every change of up), which
// versions the credential cache.
type listenState struct {
	mu   sync.RWMutex
	live bool
	gen  uint64
}

func (s *listenState) current() (gen uint64, live bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen, s.live
}

// reset moves the version on, forgetting every cached credential, and says
// whether the listener is up.
func (s *listenState) reset(live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live = live
	s.gen++
}

// moved moves the version on without a notification: for a change this
// server committed itself.
func (s *listenState) moved() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
}

// A change this server commits is known to it at once: it forgets what it
// holds when the commit returns, rather than when its own notification
// comes back through the listener (milliseconds later, longer on a loaded
// machine), so its next request sees the change. Other servers learn of it
// from the notification.

// UpdateOrg changes an organisation's settings (see sqlstore.Store).
func (db *DB) UpdateOrg(ctx context.Context, o interaction.Org) error {
	defer db.heard.moved()
	return db.Store.UpdateOrg(ctx, o)
}

// CreateKey stores a new key (see sqlstore.Store).
func (db *DB) CreateKey(ctx context.Context, k interaction.APIKey) error {
	defer db.heard.moved()
	return db.Store.CreateKey(ctx, k)
}

// RevokeKey revokes a key (see sqlstore.Store).
func (db *DB) RevokeKey(ctx context.Context, id string, at time.Time) error {
	defer db.heard.moved()
	return db.Store.RevokeKey(ctx, id, at)
}

// Listening reports whether the store is listening for credential changes
// (and so keeps credentials between requests).
func (db *DB) Listening() bool {
	_, live := db.heard.current()
	return live
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
	read := func() (interaction.APIKey, interaction.Org, error) { return db.readCredential(ctx, id) }
	gen, live := db.heard.current()
	if !live {
		return read()
	}
	return db.creds.Lookup(id, gen, read)
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
		db.heard.reset(false)
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
	db.heard.reset(true)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			db.heard.reset(true)
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
