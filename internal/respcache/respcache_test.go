package respcache

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

func entry(body string) *Entry {
	return &Entry{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func TestGetPut(t *testing.T) {
	q := []byte("GET /v2?id=7")
	for _, tt := range []struct {
		name string
		put  []Key
		get  Key
		want bool
	}{
		{"the same key", []Key{NewKey(1, 5, q)}, NewKey(1, 5, q), true},
		{"another request", []Key{NewKey(1, 5, q)}, NewKey(1, 5, []byte("GET /v2?id=8")), false},
		{"the same request by another organisation", []Key{NewKey(1, 5, q)}, NewKey(2, 5, q), false},
		{"a newer version", []Key{NewKey(1, 5, q)}, NewKey(1, 6, q), false},
		{"an older version", []Key{NewKey(1, 5, q)}, NewKey(1, 4, q), false},
		{"the same parts cut elsewhere", []Key{NewKey(1, 5, []byte("ab"), []byte("c"))}, NewKey(1, 5, []byte("a"), []byte("bc")), false},
		{"an answer computed under an older version after a newer one was seen",
			[]Key{NewKey(1, 6, []byte("x")), NewKey(1, 5, q)}, NewKey(1, 5, q), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := New(1 << 20)
			for _, k := range tt.put {
				c.Put(k, entry("answer"))
			}
			e, ok := c.Get(tt.get)
			if ok != tt.want {
				t.Fatalf("Get = %v, want %v", ok, tt.want)
			}
			if ok && string(e.Body) != "answer" {
				t.Errorf("body = %q", e.Body)
			}
		})
	}
}

// A newer version forgets the organisation's older answers at once, and
// only its own.
func TestNewVersionForgets(t *testing.T) {
	c := New(1 << 20)
	for i := range 10 {
		c.Put(NewKey(1, 5, []byte(fmt.Sprint(i))), entry("one"))
		c.Put(NewKey(2, 5, []byte(fmt.Sprint(i))), entry("two"))
	}
	before := c.Stats()
	c.Get(NewKey(1, 6, []byte("0")))
	after := c.Stats()
	if before.Entries != 20 || after.Entries != 10 || after.Bytes != before.Bytes/2 {
		t.Errorf("entries %d -> %d, bytes %d -> %d; want 20 -> 10 and half the bytes", before.Entries, after.Entries, before.Bytes, after.Bytes)
	}
	if _, ok := c.Get(NewKey(2, 5, []byte("3"))); !ok {
		t.Error("the other organisation's answer was forgotten")
	}
}

// One organisation asking ever new questions evicts its own answers, not
// those of an organisation that holds less.
func TestEvictionTakesFromTheLargest(t *testing.T) {
	body := string(bytes.Repeat([]byte("x"), 1000))
	cost := entry(body).cost()
	c := New(100 * cost)
	for i := range 20 {
		c.Put(NewKey(2, 1, []byte(fmt.Sprint(i))), entry(body))
	}
	for i := range 1000 {
		c.Put(NewKey(1, 1, []byte(fmt.Sprint(i))), entry(body))
	}
	st := c.Stats()
	if st.Bytes > c.MaxBytes() {
		t.Errorf("holds %d bytes, over its %d", st.Bytes, c.MaxBytes())
	}
	if st.Evictions == 0 {
		t.Error("no evictions counted")
	}
	for i := range 20 {
		if _, ok := c.Get(NewKey(2, 1, []byte(fmt.Sprint(i)))); !ok {
			t.Fatalf("the small tenant's answer %d was evicted", i)
		}
	}
	if _, ok := c.Get(NewKey(1, 1, []byte("999"))); !ok {
		t.Error("the large tenant's newest answer is missing")
	}
	if _, ok := c.Get(NewKey(1, 1, []byte("0"))); ok {
		t.Error("the large tenant's oldest answer is still there")
	}
}

func TestTooLargeIsNotKept(t *testing.T) {
	c := New(8000)
	c.Put(NewKey(1, 1, []byte("q")), entry(string(bytes.Repeat([]byte("x"), 1001))))
	if _, ok := c.Get(NewKey(1, 1, []byte("q"))); ok {
		t.Error("an answer over an eighth of the cache was kept")
	}
}

func TestETag(t *testing.T) {
	q := []byte("q")
	base := NewKey(1, 5, q).ETag()
	if base != NewKey(1, 5, q).ETag() {
		t.Error("the same key gave two tags")
	}
	if base[0] != '"' || base[len(base)-1] != '"' {
		t.Errorf("tag %s is not a quoted strong tag", base)
	}
	for name, k := range map[string]Key{
		"version": NewKey(1, 6, q), "organisation": NewKey(2, 5, q), "request": NewKey(1, 5, []byte("r")),
	} {
		if k.ETag() == base {
			t.Errorf("another %s gave the same tag %s", name, base)
		}
	}
}

func TestStatsCount(t *testing.T) {
	c := New(1 << 20)
	k := NewKey(1, 1, []byte("q"))
	c.Get(k)
	c.Put(k, entry("a"))
	c.Get(k)
	c.Get(k)
	if st := c.Stats(); st.Hits != 2 || st.Misses != 1 || st.Entries != 1 || st.Bytes != entry("a").cost()+int64(len(k.Request)) {
		t.Errorf("stats = %+v", st)
	}
}

// BenchmarkHit is the hit path as the server takes it: the key joined
// from the request's parts, and the lookup (the tag is kept with the
// answer).
func BenchmarkHit(b *testing.B) {
	c := New(64 << 20)
	route, query, view := []byte("v2"), []byte("identifierName=mobile&identifierValue=919800000042&limit=20"), []byte("u|UTC")
	c.Put(NewKey(1, 42, route, query, view), entry(string(bytes.Repeat([]byte("x"), 4000))))
	b.ReportAllocs()
	for b.Loop() {
		k := NewKey(1, 42, route, query, view)
		if _, ok := c.Get(k); !ok {
			b.Fatal("miss")
		}
	}
}

// TestConcurrentUse: goroutines asking, keeping and moving versions at
// once (under -race in CI) leave the cache within its bound, with an
// answer for every key it says it holds.
func TestConcurrentUse(t *testing.T) {
	body := string(bytes.Repeat([]byte("x"), 500))
	cost := entry(body).cost() + int64(len(NewKey(0, 0, []byte("00")).Request)) // keys of two digits
	c := New(50 * cost)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := NewKey(int64(g%3), int64(i/500), fmt.Appendf(nil, "%02d", i%40))
				if e, ok := c.Get(k); ok && string(e.Body) != body {
					t.Errorf("answer %q", e.Body)
					return
				}
				c.Put(k, entry(body))
			}
		})
	}
	wg.Wait()
	if st := c.Stats(); st.Bytes > c.MaxBytes() || st.Bytes != int64(st.Entries)*cost {
		t.Errorf("stats %+v over %d, or bytes not the entries' sum", st, c.MaxBytes())
	}
}
