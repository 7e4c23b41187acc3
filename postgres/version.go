package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

const dataVersion = `SELECT version FROM data_versions WHERE org_id = $1`

// DataVersion returns org's data version (migrations/0004), which moves in
// the same transaction as anything that changes one of its answers.
//
// It is read on every request, one round trip on the read path's pool,
// rather than kept in memory and moved on by notification as credentials
// are (credentials.go): a notification reaches the other servers some time
// after the commit has returned to the importer, and a read in between
// would be answered from the cache with the old data. Read here, the
// version is never older than the last commit, and on a read replica
// (Options.ReadDSN) it is read from the replica that also serves the data,
// so a cached answer is never newer data under an older version, nor
// older data under a newer one.
func (db *DB) DataVersion(ctx context.Context, org interaction.OrgID) (int64, error) {
	var v int64
	found := false
	err := db.query(ctx, dataVersion, []any{int64(org)}, func(r pgx.Rows) error {
		found = true
		return r.Scan(&v)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: data version: %w", err)
	}
	if !found {
		return 0, interaction.Errorf(interaction.KindNotFound, "no organisation %d", org)
	}
	return v, nil
}
