package sqlstore

import (
	"sync"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Every request reads its key and the key's organisation, and a revoked
// key must fail as soon as the store knows of the revocation. Both stores
// keep the lookups in a CredentialCache under a version that moves with
// every change that may touch them (SQLite: its WAL-index header, which
// any commit by any process rewrites; PostgreSQL: a count of the
// notifications its listener has heard). An entry is returned only while
// the version it was read under is the current one.
//
// Keys that do not exist are kept as well, with the not-found error they
// were answered with: were only existing keys cached, an unknown key would
// cost a query on every try while a known key with a wrong secret cost a
// map lookup, and the response time would tell which key ids exist.

// Credential is one cached lookup.
type Credential struct {
	Key interaction.APIKey
	Org interaction.Org
	Err error // the not-found error of a key that does not exist
}

// maxCredentials bounds a cache; it is emptied when full (keys are few,
// but tries of unknown ones are not: a flood of them empties the cache of
// known and unknown keys alike, so the two still cost the same).
const maxCredentials = 10_000

// CredentialCache is the lookups read under one version of the store. The
// zero value is ready.
type CredentialCache[V comparable] struct {
	mu      sync.Mutex
	version V
	byID    map[string]Credential
}

// Get returns id's entry if it was kept under v, the current version; a
// new version first empties the cache.
func (c *CredentialCache[V]) Get(id string, v V) (Credential, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v != c.version {
		clear(c.byID)
		c.version = v
		return Credential{}, false
	}
	e, ok := c.byID[id]
	return e, ok
}

// Put keeps e, read under version v, unless the version has moved since.
func (c *CredentialCache[V]) Put(id string, v V, e Credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v != c.version {
		return
	}
	if c.byID == nil || len(c.byID) >= maxCredentials {
		c.byID = make(map[string]Credential)
	}
	c.byID[id] = e
}

// Lookup is the read path's use of a cache: id's entry under v if kept,
// else read's answer, kept when it is a key or a not-found.
func (c *CredentialCache[V]) Lookup(id string, v V, read func() (interaction.APIKey, interaction.Org, error)) (interaction.APIKey, interaction.Org, error) {
	if e, ok := c.Get(id, v); ok {
		return e.Key, e.Org, e.Err
	}
	k, o, err := read()
	if err == nil || interaction.KindOf(err) == interaction.KindNotFound {
		c.Put(id, v, Credential{Key: k, Org: o, Err: err})
	}
	return k, o, err
}
