package sqlite

import (
	"context"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

const dataVersion = `SELECT d.version, o.time_zone, o.mask_otp FROM data_versions d JOIN orgs o ON o.id = d.org_id WHERE d.org_id = ?1`

// DataVersion returns org's data version (migrations/0003), which moves
// in the same transaction as anything that changes one of its answers,
// with the organisation's settings.
// It is read on every request, on the read path's pool: a primary-key
// lookup costs a few microseconds here, and reading it, rather than
// trusting a stamp of the WAL file, is exact whatever the file system's
// clock resolution.
func (db *DB) DataVersion(ctx context.Context, org interaction.OrgID) (interaction.DataVersion, error) {
	var v interaction.DataVersion
	found := false
	err := db.reads.query(ctx, dataVersion, func(st *sqlite3.Stmt) error {
		return bindKey(st, 1, int64(org))
	}, func(_ *readConn, st *sqlite3.Stmt) error {
		v = interaction.DataVersion{Version: st.ColumnInt64(0), TimeZone: st.ColumnText(1), MaskOTP: st.ColumnBool(2)}
		found = true
		return nil
	})
	if err != nil {
		return v, fmt.Errorf("sqlite: data version: %w", err)
	}
	if !found {
		return v, interaction.Errorf(interaction.KindNotFound, "no organisation %d", org)
	}
	return v, nil
}
