package sqlite

import (
	"context"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

const dataVersion = `SELECT version FROM data_versions WHERE org_id = ?1`

// DataVersion returns org's data version (migrations/0003), which moves
// in the same transaction as anything that changes one of its answers.
// It is read on every request, on the read path's pool: a primary-key
// lookup costs a few microseconds here, and reading it, rather than
// trusting a stamp of the WAL file, is exact whatever the file system's
// clock resolution.
func (db *DB) DataVersion(ctx context.Context, org interaction.OrgID) (int64, error) {
	var v int64
	found := false
	err := db.reads.query(ctx, dataVersion, func(st *sqlite3.Stmt) error {
		return bindKey(st, 1, int64(org))
	}, func(_ *readConn, st *sqlite3.Stmt) error {
		v, found = st.ColumnInt64(0), true
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: data version: %w", err)
	}
	if !found {
		return 0, interaction.Errorf(interaction.KindNotFound, "no organisation %d", org)
	}
	return v, nil
}
