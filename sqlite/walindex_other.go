//go:build !(linux || darwin)

package sqlite

import "errors"

// walIndex is unavailable where the WAL-index is not mapped here: without
// a stamp, every credential and data version is read from the store.
type walIndex struct{}

const walHeaderSize = 48

type stamp [walHeaderSize]byte

func openWALIndex(string) (*walIndex, error) {
	return nil, errors.New("sqlite: the WAL-index is not mapped on this platform")
}

func (*walIndex) stamp() (stamp, bool) { return stamp{}, false }

func (*walIndex) close() error { return nil }
