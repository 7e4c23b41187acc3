package rest

import (
	"testing"
	"time"
)

// TestAppendTime: the vendor's layouts written by hand match time.Format,
// in zones east and west of UTC, across day, month and year ends, and
// years Format writes otherwise fall back to it.
func TestAppendTime(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	zones := []*time.Location{time.UTC, kolkata, time.FixedZone("west", -9*3600-30*60)}
	times := []time.Time{
		time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2024, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 18, 30, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 20, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC),
		time.UnixMilli(1733456789123),
	}
	for _, layout := range []string{layoutV11Sent, layoutDMY, layoutV2Deliv, time.RFC3339} {
		for _, loc := range zones {
			for _, tm := range times {
				if got, want := string(appendTime([]byte("x"), tm.In(loc), layout)), "x"+tm.In(loc).Format(layout); got != want {
					t.Errorf("%v in %v with %q: %q, want %q", tm, loc, layout, got, want)
				}
			}
		}
	}
}

// BenchmarkAppendTime against time.AppendFormat, for the v1.1 sent date in an
// organisation's zone.
func BenchmarkAppendTime(b *testing.B) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		b.Fatal(err)
	}
	tm := time.UnixMilli(1733456789123)
	buf := make([]byte, 0, 32)
	b.Run("appendTime", func(b *testing.B) {
		for b.Loop() {
			buf = appendTime(buf[:0], tm.In(kolkata), layoutV11Sent)
		}
	})
	b.Run("time.AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = tm.In(kolkata).AppendFormat(buf[:0], layoutV11Sent)
		}
	})
}
