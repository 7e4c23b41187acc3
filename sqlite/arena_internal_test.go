package sqlite

import (
	"strings"
	"testing"
	"time"
)

// TestArena hands out more texts and times than a block holds, with the
// source bytes overwritten after each (as SQLite's are by the next row),
// and checks that everything handed out still reads as it was.
func TestArena(t *testing.T) {
	var a arena
	src := make([]byte, 0, arenaText)
	var (
		texts []string
		want  []string
		times []*time.Time
	)
	for i := range 3 * arenaTimes {
		for _, n := range []int{0, 1, 37, arenaText / 4, arenaText/4 + 1, arenaText} {
			w := strings.Repeat(string(rune('a'+i%26)), n)
			src = append(src[:0], w...)
			texts = append(texts, a.string(src))
			want = append(want, w)
			for j := range src {
				src[j] = '#'
			}
		}
		times = append(times, a.time(time.UnixMilli(int64(i))))
	}
	for i := range texts {
		if texts[i] != want[i] {
			t.Fatalf("text %d = %.20q (len %d), want %.20q (len %d)", i, texts[i], len(texts[i]), want[i], len(want[i]))
		}
	}
	for i, p := range times {
		if !p.Equal(time.UnixMilli(int64(i))) {
			t.Fatalf("time %d = %v", i, *p)
		}
	}
}
