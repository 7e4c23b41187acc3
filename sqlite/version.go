package sqlite

import (
	"context"
	"fmt"
	"sync"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

const dataVersion = `SELECT d.version, o.time_zone, o.mask_otp FROM data_versions d JOIN orgs o ON o.id = d.org_id WHERE d.org_id = ?1`

// DataVersion returns org's data version (migrations/0004), which moves
// in the same transaction as anything that changes one of its answers,
// with the organisation's settings.
//
// It is asked on every request. While nothing is committed it is
// answered from memory, under the database's stamp (credcache.go): any
// commit, by any process, moves the stamp, and the next request reads the
// version again, a primary-key lookup of a few microseconds.
func (db *DB) DataVersion(ctx context.Context, org interaction.OrgID) (interaction.DataVersion, error) {
	s, stamped := db.scopedStamp(ctx)
	if stamped {
		if v, ok := db.versions.get(org, s); ok {
			return v, nil
		}
	}
	v, err := db.readDataVersion(ctx, org)
	if err == nil && stamped {
		db.versions.put(org, s, v) // read after the stamp: never older than it
	}
	return v, err
}

// versionCache is the versions read under one stamp.
type versionCache struct {
	mu    sync.Mutex
	stamp stamp
	byOrg map[interaction.OrgID]interaction.DataVersion
}

func (c *versionCache) get(org interaction.OrgID, s stamp) (interaction.DataVersion, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s != c.stamp {
		return interaction.DataVersion{}, false
	}
	v, ok := c.byOrg[org]
	return v, ok
}

func (c *versionCache) put(org interaction.OrgID, s stamp, v interaction.DataVersion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s != c.stamp || c.byOrg == nil || len(c.byOrg) >= maxCachedVersions {
		c.stamp, c.byOrg = s, make(map[interaction.OrgID]interaction.DataVersion)
	}
	c.byOrg[org] = v
}

// maxCachedVersions bounds the organisations a versionCache holds.
const maxCachedVersions = 100_000

func (db *DB) readDataVersion(ctx context.Context, org interaction.OrgID) (interaction.DataVersion, error) {
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
