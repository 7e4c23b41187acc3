//go:build linux || darwin

package sqlite

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWALIndexStamp: a header is a stamp only when its two copies agree
// and it is initialised; a writer half-way between the copies, or an index
// not yet built, is no stamp.
func TestWALIndexStamp(t *testing.T) {
	header := func(change byte, isInit byte) []byte {
		h := make([]byte, walHeaderSize)
		h[0], h[8], h[12] = 7, change, isInit
		return h
	}
	for _, tt := range []struct {
		name          string
		first, second []byte
		want          bool
	}{
		{"copies agree", header(1, 1), header(1, 1), true},
		{"a writer between the copies", header(1, 1), header(2, 1), false},
		{"not initialised", header(1, 0), header(1, 0), false},
	} {
		x := &walIndex{mem: append(append([]byte{}, tt.first...), tt.second...)}
		s, ok := x.stamp()
		if ok != tt.want {
			t.Errorf("%s: ok %v, want %v", tt.name, ok, tt.want)
		}
		if ok && string(s[:]) != string(tt.first) {
			t.Errorf("%s: stamp %v, want the first copy %v", tt.name, s, tt.first)
		}
	}
}

// TestWALIndexFaultIsNoStamp: if the mapped file shrinks under the mapping
// (which the anchor connection exists to prevent), reading it faults; the
// fault is no stamp, not a crash.
func TestWALIndexFaultIsNoStamp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db-shm")
	index := make([]byte, 32<<10)
	index[12], index[walHeaderSize+12] = 1, 1 // both copies initialised
	if err := os.WriteFile(path, index, 0o600); err != nil {
		t.Fatal(err)
	}
	x, err := openWALIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	if _, ok := x.stamp(); !ok {
		t.Fatal("an initialised index is no stamp")
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := x.stamp(); ok {
		t.Error("a truncated index is a stamp")
	}
}

// TestOpenMapsTheIndex: a database on disk is stamped through its mapped
// WAL-index, held open by the anchor connection.
func TestOpenMapsTheIndex(t *testing.T) {
	db := openTemp(t)
	if db.index == nil || db.anchor == nil {
		t.Fatal("Open did not map the WAL-index")
	}
	if _, ok := db.takeStamp(); !ok {
		t.Error("no stamp right after Open")
	}
}
