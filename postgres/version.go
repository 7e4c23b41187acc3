package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

const dataVersion = `SELECT d.version, o.time_zone, o.mask_otp FROM data_versions d JOIN orgs o ON o.id = d.org_id WHERE d.org_id = $1`

// DataVersion returns org's data version (migrations/0005), which moves in
// the same transaction as anything that changes one of its answers, with
// the organisation's settings.
//
// It is read for every request, on the read path's pool, rather than kept
// in memory and moved on by notification as credentials are
// (credentials.go): a notification reaches the other servers some time
// after the commit has returned to the importer, and a request in between
// would be answered from the cache with the old data. Read here, the
// version is never older than the last commit, and on a read replica
// (Options.ReadDSN) it is read from the replica that also serves the data,
// so a cached answer is never newer data under an older version, nor
// older data under a newer one.
//
// Requests share the reads (versionReads): a request waits for a read of
// its organisation's version that starts after it arrived, one at a time
// per organisation, so under load one statement answers every request
// that came in while the previous one ran: exact, and about one statement
// per round trip rather than one per request.
func (db *DB) DataVersion(ctx context.Context, org interaction.OrgID) (interaction.DataVersion, error) {
	r := db.versions.join(org, db.readDataVersion)
	select {
	case <-r.done:
		return r.v, r.err
	case <-ctx.Done():
		return interaction.DataVersion{}, fmt.Errorf("postgres: data version: %w", ctx.Err())
	}
}

// versionReadTimeout bounds one shared read: it runs for every request
// waiting on it, under none of their contexts.
const versionReadTimeout = 5 * time.Second

func (db *DB) readDataVersion(org interaction.OrgID) (interaction.DataVersion, error) {
	ctx, cancel := context.WithTimeout(context.Background(), versionReadTimeout)
	defer cancel()
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

// versionReads are the shared reads of data versions, per organisation:
// at most one running, and the next, which the requests arriving meanwhile
// join, started when it ends. A read a request joins has not started, so
// it sees every commit that returned before the request came.
type versionReads struct {
	mu    sync.Mutex
	byOrg map[interaction.OrgID]*orgReads
}

type orgReads struct {
	running bool
	next    *versionRead // not started yet; nil when nobody waits
}

type versionRead struct {
	done chan struct{} // closed when v and err are set
	v    interaction.DataVersion
	err  error
}

// join returns the read that r's caller is to wait for, starting it when
// none of org's is running.
func (vr *versionReads) join(org interaction.OrgID, read func(interaction.OrgID) (interaction.DataVersion, error)) *versionRead {
	vr.mu.Lock()
	defer vr.mu.Unlock()
	if vr.byOrg == nil {
		vr.byOrg = make(map[interaction.OrgID]*orgReads)
	}
	o := vr.byOrg[org]
	if o == nil {
		o = &orgReads{}
		vr.byOrg[org] = o
	}
	if o.next == nil {
		o.next = &versionRead{done: make(chan struct{})}
	}
	r := o.next
	if !o.running {
		o.running, o.next = true, nil
		go vr.run(org, o, r, read)
	}
	return r
}

// run runs r and then each next read that was joined meanwhile, until
// none is.
func (vr *versionReads) run(org interaction.OrgID, o *orgReads, r *versionRead, read func(interaction.OrgID) (interaction.DataVersion, error)) {
	for r != nil {
		r.v, r.err = read(org)
		close(r.done)
		vr.mu.Lock()
		r, o.next = o.next, nil
		if r == nil {
			o.running = false
			delete(vr.byOrg, org) // nothing waits: no state kept for it
		}
		vr.mu.Unlock()
	}
}
