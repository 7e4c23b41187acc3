// Package respcache is the server's exact response cache: whole answers
// kept under the organisation's data version (interaction.Versioner), so
// an answer is served again only while nothing that could change it has
// committed. Nothing expires by time; an entry of an older version is
// dead the moment the version moves, and is dropped when the organisation
// is next seen.
//
// The cache is bounded in bytes. When it is full, room is made in the
// organisation that holds the most (its least recently used answers go
// first): a tenant that asks many different questions evicts its own
// answers, and the others keep theirs as long as they hold less than it.
package respcache

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// Key names one answer: an organisation, the data version it was computed
// under, and everything else the answer depends on (the normalised request
// and the caller's view: scopes, time zone), whole. The cache compares it
// byte for byte (no digest stands in for it, so no two questions can share
// an answer), and a lookup costs a map hash, not a cryptographic one.
type Key struct {
	Org     int64
	Version int64
	Request string
}

// NewKey joins parts (each length-prefixed, so no two lists of parts join
// alike) into the key of org's answer under version.
func NewKey(org, version int64, parts ...[]byte) Key {
	var b KeyBuilder
	for _, p := range parts {
		b.Add(p)
	}
	return b.Key(org, version)
}

// KeyBuilder joins a key's parts as they are found, into one buffer: the
// way NewKey does, without a slice of them.
type KeyBuilder struct{ b []byte }

// Add appends one part.
func (kb *KeyBuilder) Add(p []byte) { kb.b = appendPart(kb.b, p) }

// AddString appends one part.
func (kb *KeyBuilder) AddString(p string) { kb.b = appendPart(kb.b, p) }

func appendPart[T string | []byte](b []byte, p T) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// Key is the key of org's answer under version to the parts added.
func (kb *KeyBuilder) Key(org, version int64) Key {
	return Key{Org: org, Version: version, Request: string(kb.b)}
}

// ETag is the answer's entity tag: its version and a digest of its
// organisation and request, not of the body. The same question under the
// same version is answered with the same bytes by every server, so the
// tag is strong, and every replica gives it alike. It is computed when an
// answer is made and kept with it (Entry.ETag).
func (k Key) ETag() string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutVarint(n[:], k.Org)])
	io.WriteString(h, k.Request)
	var sum [sha256.Size]byte
	b := make([]byte, 0, 48)
	b = append(b, '"')
	b = strconv.AppendInt(b, k.Version, 36)
	b = append(b, '-')
	b = hex.AppendEncode(b, h.Sum(sum[:0])[:12])
	return string(append(b, '"'))
}

// Entry is a cached answer: its status, the headers its handler set and
// its body. An Entry is never modified once stored.
type Entry struct {
	Status int
	Header http.Header
	Body   []byte
	ETag   string // its key's ETag, served with it
}

// entryOverhead is what an entry costs beyond its body and headers: the
// key, the list element and the map slot, roughly.
const entryOverhead = 256

func (e *Entry) cost() int64 {
	n := int64(len(e.Body)+len(e.ETag)) + entryOverhead
	for k, vs := range e.Header {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n
}

// Stats are the cache's counters since it was made, and what it holds now.
type Stats struct {
	Hits, Misses, Evictions uint64
	Bytes                   int64
	Entries                 int
}

// Cache is safe for concurrent use.
type Cache struct {
	max int64

	mu      sync.Mutex
	size    int64
	entries int
	orgs    map[int64]*tenant

	hits, misses, evictions atomic.Uint64
}

// tenant is one organisation's answers, all of one version.
type tenant struct {
	version int64
	size    int64
	byKey   map[string]*list.Element
	lru     list.List // of *item, most recently used first
}

type item struct {
	key   string
	entry *Entry
	cost  int64
}

// New returns a cache holding at most maxBytes of answers.
func New(maxBytes int64) *Cache {
	return &Cache{max: maxBytes, orgs: make(map[int64]*tenant)}
}

// MaxBytes is the bound the cache was made with.
func (c *Cache) MaxBytes() int64 { return c.max }

// tenantFor returns org's answers as of version, forgetting those of an
// older version; nil when version is older than what it holds (an answer
// computed before a change that has since been seen: it is not kept).
func (c *Cache) tenantFor(org, version int64, create bool) *tenant {
	t := c.orgs[org]
	switch {
	case t == nil:
		if !create {
			return nil
		}
		t = &tenant{version: version, byKey: make(map[string]*list.Element)}
		c.orgs[org] = t
	case version > t.version:
		c.size -= t.size
		c.entries -= len(t.byKey)
		t.version, t.size = version, 0
		clear(t.byKey)
		t.lru.Init()
	case version < t.version:
		return nil
	}
	return t
}

// Get returns the answer kept under k.
func (c *Cache) Get(k Key) (*Entry, bool) {
	c.mu.Lock()
	var e *Entry
	if t := c.tenantFor(k.Org, k.Version, false); t != nil {
		if el, ok := t.byKey[k.Request]; ok {
			t.lru.MoveToFront(el)
			e = el.Value.(*item).entry
		}
	}
	c.mu.Unlock()
	if e == nil {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return e, true
}

// Put keeps e under k (the key's bytes count toward its size), unless it is larger than an eighth of the cache
// (one answer must not empty it) or k's version is older than one already
// seen for its organisation.
func (c *Cache) Put(k Key, e *Entry) {
	cost := e.cost() + int64(len(k.Request))
	if cost > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tenantFor(k.Org, k.Version, true)
	if t == nil {
		return
	}
	if el, ok := t.byKey[k.Request]; ok {
		c.remove(t, el)
	}
	t.byKey[k.Request] = t.lru.PushFront(&item{key: k.Request, entry: e, cost: cost})
	t.size += cost
	c.size += cost
	c.entries++
	for c.size > c.max && c.evictFromLargest() {
	}
}

func (c *Cache) remove(t *tenant, el *list.Element) {
	it := t.lru.Remove(el).(*item)
	delete(t.byKey, it.key)
	t.size -= it.cost
	c.size -= it.cost
	c.entries--
}

// evictFromLargest drops the least recently used answer of the
// organisation that holds the most bytes, and says whether there was one.
func (c *Cache) evictFromLargest() bool {
	var org int64
	var largest *tenant
	for id, t := range c.orgs {
		if largest == nil || t.size > largest.size {
			org, largest = id, t
		}
	}
	if largest == nil || largest.lru.Len() == 0 {
		return false
	}
	c.remove(largest, largest.lru.Back())
	c.evictions.Add(1)
	if largest.lru.Len() == 0 {
		delete(c.orgs, org)
	}
	return true
}

// Stats returns the counters and what the cache holds.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	size, n := c.size, c.entries
	c.mu.Unlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(), Bytes: size, Entries: n}
}
