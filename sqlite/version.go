package sqlite

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

const dataVersion = `SELECT d.version, o.time_zone, o.mask_otp FROM data_versions d JOIN orgs o ON o.id = d.org_id WHERE d.org_id = ?1`

// DataVersion returns org's data version (migrations/0004), which moves
// in the same transaction as anything that changes one of its answers,
// with the organisation's settings.
//
// It is asked on every request. While nothing is written it is answered
// from memory, under a stamp of the WAL file (credcache.go): any commit,
// by any process, writes the WAL and moves its size or modification time.
// A modification time is only as fine as the file system's clock, though
// (a kernel tick; seconds on some file systems), and a commit within the
// tick of the stamp, into a WAL restarted at the same size, would leave
// the stamp as it was. So versions are kept only under a stamp older than
// stampSettle when it is taken: any later commit is then stamped with a
// later time. While writes go on, every request reads the version, a
// primary-key lookup of a few microseconds.
func (db *DB) DataVersion(ctx context.Context, org interaction.OrgID) (interaction.DataVersion, error) {
	stamp, settled := db.settledStamp(ctx)
	if settled {
		if v, ok := db.versions.get(org, stamp); ok {
			return v, nil
		}
	}
	v, err := db.readDataVersion(ctx, org)
	if err == nil && settled {
		db.versions.put(org, stamp, v) // read after the stamp: never older than it
	}
	return v, err
}

// stampSettle is how old a WAL stamp must be for versions to be kept
// under it: beyond the coarsest modification time of the file systems
// SQLite's WAL runs on (FAT's two seconds).
const stampSettle = 2 * time.Second

// versionCache is the versions read under one WAL stamp.
type versionCache struct {
	mu    sync.Mutex
	stamp fileStamp
	byOrg map[interaction.OrgID]interaction.DataVersion
}

func (c *versionCache) get(org interaction.OrgID, stamp fileStamp) (interaction.DataVersion, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp != c.stamp {
		return interaction.DataVersion{}, false
	}
	v, ok := c.byOrg[org]
	return v, ok
}

func (c *versionCache) put(org interaction.OrgID, stamp fileStamp, v interaction.DataVersion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp != c.stamp || c.byOrg == nil || len(c.byOrg) >= maxCachedVersions {
		c.stamp, c.byOrg = stamp, make(map[interaction.OrgID]interaction.DataVersion)
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
