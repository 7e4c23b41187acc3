package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

// Upserts keyed by (org_id, id): importing the same record again rewrites
// the same values, so re-importing a file changes nothing. Each is split in
// three so that one statement can carry many rows: insert, one row's
// placeholders (repeated), and the conflict clause.
var (
	upsertCustomer = upsert{
		insert:   `INSERT INTO customers (org_id, id, mobile, email, external_id) VALUES `,
		row:      `(?, ?, ?, ?, ?)`,
		conflict: ` ON CONFLICT (org_id, id) DO UPDATE SET mobile = excluded.mobile, email = excluded.email, external_id = excluded.external_id`,
	}
	upsertMessage = upsert{
		insert: `INSERT INTO messages (org_id, customer_id, network, type, sent_at, id, sender, receiver, subject, status,
			campaign_id, user_id, delivered_at) VALUES `,
		row: `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		conflict: ` ON CONFLICT (org_id, id) DO UPDATE SET customer_id = excluded.customer_id, network = excluded.network,
			type = excluded.type, sent_at = excluded.sent_at, sender = excluded.sender, receiver = excluded.receiver,
			subject = excluded.subject, status = excluded.status, campaign_id = excluded.campaign_id,
			user_id = excluded.user_id, delivered_at = excluded.delivered_at`,
	}
	// upsertBody follows each run of messages, for those the run stored.
	upsertBody = upsert{
		insert:   `INSERT INTO message_bodies (org_id, id, body) VALUES `,
		row:      `(?, ?, ?)`,
		conflict: ` ON CONFLICT (org_id, id) DO UPDATE SET body = excluded.body`,
	}
	upsertMissedCall = upsert{
		insert:   `INSERT INTO missed_calls (org_id, customer_id, called_at, id, used) VALUES `,
		row:      `(?, ?, ?, ?, ?)`,
		conflict: ` ON CONFLICT (org_id, id) DO UPDATE SET customer_id = excluded.customer_id, called_at = excluded.called_at, used = excluded.used`,
	}
	upsertSurvey = upsert{
		insert: `INSERT INTO surveys (org_id, id, customer_id, name, submitted_at, responses) VALUES `,
		row:    `(?, ?, ?, ?, ?, ?)`,
		conflict: ` ON CONFLICT (org_id, id) DO UPDATE SET customer_id = excluded.customer_id, name = excluded.name,
			submitted_at = excluded.submitted_at, responses = excluded.responses`,
	}
)

type upsert struct{ insert, row, conflict string }

// bumpVersion moves an organisation's data version on (migrations/0004).
const bumpVersion = `INSERT INTO data_versions (org_id, version) VALUES (?1, CAST(unixepoch('subsec') * 1000000 AS INTEGER))
	ON CONFLICT (org_id) DO UPDATE SET version = MAX(version + 1, excluded.version)`

// sql returns the statement that upserts n rows.
func (u *upsert) sql(n int) string {
	var b strings.Builder
	b.WriteString(u.insert)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(u.row)
	}
	b.WriteString(u.conflict)
	return b.String()
}

// rowsPerStatement is the most records that share one INSERT. Per-statement
// overhead (bind, step, reset, the driver round trip) dominates a small
// row's cost, so grouping rows roughly doubles import speed; 32 messages
// are 448 parameters, far below SQLite's limit. Runs are cut into powers of
// two (a run of 20 is 16 + 4), so each kind needs only six statements.
const rowsPerStatement = 32

var upserts = []*upsert{&upsertCustomer, &upsertMessage, &upsertBody, &upsertMissedCall, &upsertSurvey}

// prepareUpserts prepares every kind's statements for every run size.
func (db *DB) prepareUpserts(ctx context.Context) error {
	db.upserts = make(map[stmtKey]*sqlx.Stmt)
	for _, u := range upserts {
		for n := 1; n <= rowsPerStatement; n *= 2 {
			st, err := db.w.PreparexContext(ctx, u.sql(n))
			if err != nil {
				return fmt.Errorf("prepare upsert: %w", err)
			}
			db.upserts[stmtKey{u, n}] = st
		}
	}
	return nil
}

// Write stores recs for org in one transaction. A record that breaks a
// constraint (an unknown customer, an identifier another customer already
// has) is rejected on its own and the others are still committed; any other
// failure rolls the whole batch back and is returned.
//
// Records are written in file order, so a message must follow its customer.
// Consecutive records of one kind go in multi-row statements; when such a
// statement breaks a constraint SQLite undoes the whole statement, and its
// rows are written again one by one to find the culprit. Before the commit
// the counts of every customer the batch touched are recomputed
// (refreshCounts), so readers never see rows and counts that disagree.
func (db *DB) Write(ctx context.Context, org interaction.OrgID, recs []interaction.Record) ([]interaction.Rejection, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin import: %w", err)
	}
	defer tx.Rollback()
	w := batchWriter{ctx: ctx, tx: tx, org: org, prepared: db.upserts, stmts: make(map[stmtKey]*sqlx.Stmt), touched: make(map[int64]bool)}
	defer w.close()
	for i := 0; i < len(recs); {
		u := upsertFor(recs[i])
		if u == nil {
			i++
			continue
		}
		j := i + 1
		for j < len(recs) && j-i < rowsPerStatement && upsertFor(recs[j]) == u {
			j++
		}
		for n := j - i; n > 0; {
			size := 1 << (bits.Len(uint(n)) - 1) // largest power of two <= n
			if err := w.write(u, recs[i:i+size]); err != nil {
				return nil, err
			}
			i += size
			n -= size
		}
	}
	if err := refreshCounts(ctx, tx, org, w.touched); err != nil {
		return nil, err
	}
	// Last before the commit, so the version and the rows it versions
	// become visible together (see migrations/0004).
	if _, err := tx.ExecContext(ctx, bumpVersion, int64(org)); err != nil {
		return nil, fmt.Errorf("sqlite: import: data version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: commit import: %w", err)
	}
	return w.rejected, nil
}

// The counts of a set of customers (?2, a JSON array of ids, plus those the
// triggers marked stale) are recomputed from their rows: a customer's rows
// are one range of each table, so this reads only what the batch touched.
const (
	countsForget   = `DELETE FROM interaction_counts WHERE org_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2) UNION SELECT customer_id FROM counts_stale WHERE org_id = ?1)`
	countsMessages = `INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
		SELECT ?1, customer_id, network, type, COUNT(*), MAX(sent_at), 0 FROM messages
		WHERE org_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2) UNION SELECT customer_id FROM counts_stale WHERE org_id = ?1)
		GROUP BY customer_id, network, type`
	countsMissedCalls = `INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
		SELECT ?1, customer_id, 'capillary', 'missed_call', COUNT(*), MAX(called_at),
			(SELECT x.used FROM missed_calls x WHERE x.org_id = ?1 AND x.customer_id = mc.customer_id ORDER BY x.called_at DESC, x.id DESC LIMIT 1)
		FROM missed_calls mc
		WHERE org_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2) UNION SELECT customer_id FROM counts_stale WHERE org_id = ?1)
		GROUP BY customer_id`
	countsSurveys = `INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
		SELECT ?1, customer_id, 'capillary', 'survey', COUNT(*), MAX(submitted_at), 0 FROM surveys
		WHERE org_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2) UNION SELECT customer_id FROM counts_stale WHERE org_id = ?1)
		GROUP BY customer_id`
	countsStatusForget = `DELETE FROM interaction_status_counts WHERE org_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2) UNION SELECT customer_id FROM counts_stale WHERE org_id = ?1)`
	countsStatus       = `INSERT INTO interaction_status_counts (org_id, customer_id, network, type, status, n, last_at)
		SELECT ?1, customer_id, network, type, status, COUNT(*), MAX(sent_at) FROM messages
		WHERE org_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2) UNION SELECT customer_id FROM counts_stale WHERE org_id = ?1)
		GROUP BY customer_id, network, type, status`
	countsFresh = `DELETE FROM counts_stale WHERE org_id = ?1`
)

func refreshCounts(ctx context.Context, tx *sqlx.Tx, org interaction.OrgID, touched map[int64]bool) error {
	ids := make([]int64, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	list := jsonInts(ids)
	for _, q := range []string{countsForget, countsMessages, countsMissedCalls, countsSurveys, countsStatusForget, countsStatus} {
		if _, err := tx.ExecContext(ctx, q, int64(org), list); err != nil {
			return fmt.Errorf("sqlite: recount: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, countsFresh, int64(org)); err != nil {
		return fmt.Errorf("sqlite: recount: %w", err)
	}
	return nil
}

type stmtKey struct {
	u *upsert
	n int
}

// batchWriter is one import transaction: the DB's prepared upserts, bound
// to the transaction as they are first needed.
type batchWriter struct {
	ctx      context.Context
	tx       *sqlx.Tx
	org      interaction.OrgID
	prepared map[stmtKey]*sqlx.Stmt
	stmts    map[stmtKey]*sqlx.Stmt
	args     []any
	rejected []interaction.Rejection
	// touched are the customers whose messages, missed calls or surveys
	// the batch stored: their counts are recomputed before the commit.
	touched map[int64]bool
}

func (w *batchWriter) close() {
	for _, s := range w.stmts {
		s.Close()
	}
}

// stmt returns the upsert of n rows of kind u in the transaction. The
// statement was prepared on the same (only) writer connection, so binding
// it to the transaction reuses it rather than preparing it again.
func (w *batchWriter) stmt(u *upsert, n int) (*sqlx.Stmt, error) {
	k := stmtKey{u, n}
	if s, ok := w.stmts[k]; ok {
		return s, nil
	}
	p, ok := w.prepared[k]
	if !ok {
		return nil, fmt.Errorf("sqlite: no upsert prepared for %d rows", n)
	}
	s := w.tx.StmtxContext(w.ctx, p)
	w.stmts[k] = s
	return s, nil
}

// write upserts recs, all of kind u, in one statement, falling back to one
// statement per record when a constraint fails.
func (w *batchWriter) write(u *upsert, recs []interaction.Record) error {
	st, err := w.stmt(u, len(recs))
	if err != nil {
		return err
	}
	w.args = w.args[:0]
	for _, r := range recs {
		w.args = appendArgs(w.args, w.org, r)
	}
	_, err = st.ExecContext(w.ctx, w.args...)
	if err == nil {
		return w.stored(u, recs)
	}
	if _, ok := constraintReason(err, recs[0]); !ok {
		return fmt.Errorf("sqlite: import lines %d-%d: %w", recs[0].Line, recs[len(recs)-1].Line, err)
	}
	if len(recs) > 1 {
		for i := range recs {
			if err := w.write(u, recs[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	}
	reason, _ := constraintReason(err, recs[0])
	w.rejected = append(w.rejected, interaction.Rejection{Line: recs[0].Line, Reason: reason})
	return nil
}

// stored follows a successful upsert of recs: their customers' counts will
// be recomputed, and a run of messages is followed by its bodies.
func (w *batchWriter) stored(u *upsert, recs []interaction.Record) error {
	for _, r := range recs {
		switch {
		case r.Message != nil:
			w.touched[r.Message.CustomerID] = true
		case r.MissedCall != nil:
			w.touched[r.MissedCall.CustomerID] = true
		case r.Survey != nil:
			w.touched[r.Survey.CustomerID] = true
		}
	}
	if u != &upsertMessage {
		return nil
	}
	st, err := w.stmt(&upsertBody, len(recs))
	if err != nil {
		return err
	}
	w.args = w.args[:0]
	for _, r := range recs {
		w.args = append(w.args, int64(w.org), r.Message.ID, r.Message.Body)
	}
	if _, err := st.ExecContext(w.ctx, w.args...); err != nil {
		return fmt.Errorf("sqlite: import lines %d-%d: bodies: %w", recs[0].Line, recs[len(recs)-1].Line, err)
	}
	return nil
}

func upsertFor(r interaction.Record) *upsert {
	switch {
	case r.Customer != nil:
		return &upsertCustomer
	case r.Message != nil:
		return &upsertMessage
	case r.MissedCall != nil:
		return &upsertMissedCall
	case r.Survey != nil:
		return &upsertSurvey
	}
	return nil
}

// appendArgs appends r's row, in its upsert's column order.
func appendArgs(args []any, org interaction.OrgID, r interaction.Record) []any {
	switch {
	case r.Customer != nil:
		c := r.Customer
		return append(args, int64(org), c.ID, c.Mobile, c.Email, c.ExternalID)
	case r.Message != nil:
		m := r.Message
		var delivered any
		if m.DeliveredAt != nil {
			delivered = millis(*m.DeliveredAt)
		}
		return append(args, int64(org), m.CustomerID, string(m.Network), string(m.Type), millis(m.SentAt), m.ID,
			m.Sender, m.Receiver, m.Subject, m.Status, m.CampaignID, m.UserID, delivered)
	case r.MissedCall != nil:
		c := r.MissedCall
		return append(args, int64(org), c.CustomerID, millis(c.CalledAt), c.ID, c.Used)
	case r.Survey != nil:
		s := r.Survey
		resp := string(s.Responses)
		if resp == "" {
			resp = "{}"
		}
		return append(args, int64(org), s.ID, s.CustomerID, s.Name, millis(s.SubmittedAt), resp)
	}
	return args
}

// violation classifies SQLite's constraint errors for the shared queries.
func violation(err error) sqlstore.Violation {
	switch {
	case errors.Is(err, sqlite3.CONSTRAINT_PRIMARYKEY), errors.Is(err, sqlite3.CONSTRAINT_UNIQUE):
		return sqlstore.Unique
	case errors.Is(err, sqlite3.CONSTRAINT_FOREIGNKEY):
		return sqlstore.ForeignKey
	}
	return sqlstore.None
}

// constraintReason turns a constraint violation into a reason for the
// importer's report; ok is false for any other error.
func constraintReason(err error, r interaction.Record) (reason string, ok bool) {
	var se *sqlite3.Error
	if !errors.As(err, &se) || se.Code() != sqlite3.CONSTRAINT {
		return "", false
	}
	switch se.ExtendedCode() {
	case sqlite3.CONSTRAINT_FOREIGNKEY:
		var id int64
		switch {
		case r.Message != nil:
			id = r.Message.CustomerID
		case r.MissedCall != nil:
			id = r.MissedCall.CustomerID
		case r.Survey != nil:
			id = r.Survey.CustomerID
		}
		return fmt.Sprintf("unknown customer %d", id), true
	case sqlite3.CONSTRAINT_UNIQUE:
		return "an identifier (mobile, email or external_id) already belongs to another customer", true
	}
	return "constraint violated: " + se.Error(), true
}
