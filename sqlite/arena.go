package sqlite

import (
	"time"
	"unsafe"
)

// arena hands out the texts and times of one statement's rows from a few
// shared blocks rather than one allocation each: a page of messages
// allocated every subject and every delivery time on its own, a tenth of
// a REST v1.1 request's allocations. Bytes and times in a block are never
// written again once handed out (a full block is replaced, not reused),
// so whatever was handed out stays valid while anything holds it, and the
// garbage collector keeps its block for it.
type arena struct {
	text  []byte
	times []time.Time
}

const (
	// arenaText is the size of a text block. A text longer than a
	// quarter of it (a message body) gets an allocation of its own, so
	// that a block is not mostly waste.
	arenaText  = 4096
	arenaTimes = 32
)

// string returns b as a string that lives in the arena.
func (a *arena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaText/4 {
		return string(b)
	}
	if cap(a.text)-len(a.text) < len(b) {
		a.text = make([]byte, 0, arenaText)
	}
	n := len(a.text)
	a.text = append(a.text, b...) // within capacity: the block stays where it is
	return unsafe.String(&a.text[n], len(b))
}

// time returns a pointer to a copy of t that lives in the arena.
func (a *arena) time(t time.Time) *time.Time {
	if len(a.times) == cap(a.times) {
		a.times = make([]time.Time, 0, arenaTimes)
	}
	a.times = append(a.times, t)
	return &a.times[len(a.times)-1]
}
