package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

const dataVersion = `SELECT d.version, o.time_zone, o.mask_otp FROM data_versions d JOIN orgs o ON o.id = d.org_id WHERE d.org_id = $1`

// DataVersion returns org's data version (migrations/0005), which moves in
// the same transaction as anything that changes one of its answers, with
// the organisation's settings.
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
func (db *DB) DataVersion(ctx context.Context, org interaction.OrgID) (interaction.DataVersion, error) {
	var v interaction.DataVersion
	found := false
	err := db.query(ctx, dataVersion, []any{int64(org)}, func(r pgx.Rows) error {
		found = true
		return r.Scan(&v.Version, &v.TimeZone, &v.MaskOTP)
	})
	if err != nil {
		return v, fmt.Errorf("postgres: data version: %w", err)
	}
	if !found {
		return v, interaction.Errorf(interaction.KindNotFound, "no organisation %d", org)
	}
	return v, nil
}
