//go:build linux || darwin

package sqlite

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// walIndex is the header of the database's WAL-index (the -shm file),
// mapped read-only. SQLite publishes every commit, by any process, by
// rewriting this header (the last frame, its checksum, the WAL's salts):
// reading it is how SQLite's own connections learn that the database
// changed, and here it costs two cache lines and no system call.
//
// The mapping stays valid only while the file does: SQLite truncates or
// deletes the -shm file only when no connection has it open, so Open keeps
// one connection (the anchor) open for as long as the mapping lives. If the
// file shrank all the same, the read faults; stamp recovers and reports no
// stamp, and every lookup goes to the store.
type walIndex struct {
	mem []byte
}

// walHeaderSize is the size of one copy of the header (WalIndexHdr in
// SQLite's wal.c). Writers write the second copy, then the first; readers
// read the first, then the second, and trust them only when they agree.
const walHeaderSize = 48

// stamp is one copy of the WAL-index header: equal stamps, the same
// committed state of the database.
type stamp [walHeaderSize]byte

// openWALIndex maps the header of the WAL-index at path.
func openWALIndex(path string) (*walIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping holds the file, not the descriptor
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < 2*walHeaderSize {
		return nil, fmt.Errorf("sqlite: %s: %d bytes, too short for a WAL-index", path, fi.Size())
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 2*walHeaderSize, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("sqlite: map %s: %w", path, err)
	}
	return &walIndex{mem: mem}, nil
}

// stamp reads the header. It is not ok while a writer is between the two
// copies, before the index is initialised, or if the mapping faults.
func (x *walIndex) stamp() (s stamp, ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			s, ok = stamp{}, false
		}
	}()
	var second stamp
	x.load(&s, 0)
	x.load(&second, walHeaderSize)
	const isInit = 12 // the byte after iVersion, unused and iChange
	return s, s == second && s[isInit] != 0
}

// load copies the header at off word by word with atomic loads, so the
// first copy is read before the second as SQLite's readers do (the writer
// in another process orders its stores with a memory barrier).
func (x *walIndex) load(dst *stamp, off int) {
	for i := 0; i < walHeaderSize; i += 4 {
		w := atomic.LoadUint32((*uint32)(unsafe.Pointer(&x.mem[off+i])))
		binary.NativeEndian.PutUint32(dst[i:], w)
	}
}

func (x *walIndex) close() error { return syscall.Munmap(x.mem) }
