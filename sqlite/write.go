package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

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
		insert: `INSERT INTO messages (org_id, id, customer_id, network, type, sender, receiver, subject, body, status,
			campaign_id, user_id, sent_at, delivered_at) VALUES `,
		row: `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		conflict: ` ON CONFLICT (org_id, id) DO UPDATE SET customer_id = excluded.customer_id, network = excluded.network,
			type = excluded.type, sender = excluded.sender, receiver = excluded.receiver, subject = excluded.subject,
			body = excluded.body, status = excluded.status, campaign_id = excluded.campaign_id, user_id = excluded.user_id,
			sent_at = excluded.sent_at, delivered_at = excluded.delivered_at`,
	}
	upsertMissedCall = upsert{
		insert:   `INSERT INTO missed_calls (org_id, id, customer_id, called_at, used) VALUES `,
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

var upserts = []*upsert{&upsertCustomer, &upsertMessage, &upsertMissedCall, &upsertSurvey}

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
// rows are written again one by one to find the culprit.
func (db *DB) Write(ctx context.Context, org interaction.OrgID, recs []interaction.Record) ([]interaction.Rejection, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin import: %w", err)
	}
	defer tx.Rollback()
	w := batchWriter{ctx: ctx, tx: tx, org: org, prepared: db.upserts, stmts: make(map[stmtKey]*sqlx.Stmt)}
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
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: commit import: %w", err)
	}
	return w.rejected, nil
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
		return nil
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
		return append(args, int64(org), m.ID, m.CustomerID, string(m.Network), string(m.Type), m.Sender, m.Receiver,
			m.Subject, m.Body, m.Status, m.CampaignID, m.UserID, millis(m.SentAt), delivered)
	case r.MissedCall != nil:
		c := r.MissedCall
		return append(args, int64(org), c.ID, c.CustomerID, millis(c.CalledAt), c.Used)
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

// constraint reports whether err is SQLite's extended result code code.
// Result codes are SQLite's dialect; a PostgreSQL store maps SQLSTATEs.
// violation classifies SQLite's constraint errors for the shared queries.
func violation(err error) sqlstore.Violation {
	switch {
	case constraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY), constraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE):
		return sqlstore.Unique
	case constraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY):
		return sqlstore.ForeignKey
	}
	return sqlstore.None
}

func constraint(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == code
}

// constraintReason turns a constraint violation into a reason for the
// importer's report; ok is false for any other error.
func constraintReason(err error, r interaction.Record) (reason string, ok bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_CONSTRAINT {
		return "", false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
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
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return "an identifier (mobile, email or external_id) already belongs to another customer", true
	}
	return "constraint violated: " + se.Error(), true
}
