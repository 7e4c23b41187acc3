package sqlstore

import "sync"

// Texts keeps statement texts (or what a store keeps with one) built from
// a shape K: the flags and columns a text depends on. Both stores build
// a text the first time its shape is asked for and keep it for the
// process's life; there are only so many shapes.
type Texts[K comparable, V any] struct{ m sync.Map }

// Of returns the text of shape k, built by build the first time.
func (t *Texts[K, V]) Of(k K, build func(K) V) V {
	if v, ok := t.m.Load(k); ok {
		return v.(V)
	}
	v := build(k)
	t.m.Store(k, v)
	return v
}
