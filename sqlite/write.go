package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Upserts keyed by (org_id, id): importing the same record again rewrites
// the same values, so re-importing a file changes nothing.
const (
	upsertCustomer = `INSERT INTO customers (org_id, id, mobile, email, external_id) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id, id) DO UPDATE SET mobile = excluded.mobile, email = excluded.email, external_id = excluded.external_id`
	upsertMessage = `INSERT INTO messages (org_id, id, customer_id, network, type, sender, receiver, subject, body, status,
			campaign_id, user_id, sent_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, id) DO UPDATE SET customer_id = excluded.customer_id, network = excluded.network,
			type = excluded.type, sender = excluded.sender, receiver = excluded.receiver, subject = excluded.subject,
			body = excluded.body, status = excluded.status, campaign_id = excluded.campaign_id, user_id = excluded.user_id,
			sent_at = excluded.sent_at, delivered_at = excluded.delivered_at`
	upsertMissedCall = `INSERT INTO missed_calls (org_id, id, customer_id, called_at, used) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id, id) DO UPDATE SET customer_id = excluded.customer_id, called_at = excluded.called_at, used = excluded.used`
	upsertSurvey = `INSERT INTO surveys (org_id, id, customer_id, name, submitted_at, responses) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, id) DO UPDATE SET customer_id = excluded.customer_id, name = excluded.name,
			submitted_at = excluded.submitted_at, responses = excluded.responses`
)

// Write stores recs for org in one transaction. A record that breaks a
// constraint (an unknown customer, an identifier another customer already
// has) is rejected on its own and the others are still committed; any other
// failure rolls the whole batch back and is returned.
func (db *DB) Write(ctx context.Context, org interaction.OrgID, recs []interaction.Record) ([]interaction.Rejection, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin import: %w", err)
	}
	defer tx.Rollback()
	stmts := make(map[string]*sqlx.Stmt, 4)
	prep := func(q string) (*sqlx.Stmt, error) {
		if s, ok := stmts[q]; ok {
			return s, nil
		}
		s, err := tx.PreparexContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		stmts[q] = s
		return s, nil
	}
	var rejected []interaction.Rejection
	for _, r := range recs {
		var q string
		var args []any
		switch {
		case r.Customer != nil:
			c := r.Customer
			q, args = upsertCustomer, []any{org, c.ID, c.Mobile, c.Email, c.ExternalID}
		case r.Message != nil:
			m := r.Message
			var delivered any
			if m.DeliveredAt != nil {
				delivered = millis(*m.DeliveredAt)
			}
			q, args = upsertMessage, []any{org, m.ID, m.CustomerID, string(m.Network), string(m.Type), m.Sender, m.Receiver,
				m.Subject, m.Body, m.Status, m.CampaignID, m.UserID, millis(m.SentAt), delivered}
		case r.MissedCall != nil:
			c := r.MissedCall
			q, args = upsertMissedCall, []any{org, c.ID, c.CustomerID, millis(c.CalledAt), c.Used}
		case r.Survey != nil:
			s := r.Survey
			resp := string(s.Responses)
			if resp == "" {
				resp = "{}"
			}
			q, args = upsertSurvey, []any{org, s.ID, s.CustomerID, s.Name, millis(s.SubmittedAt), resp}
		default:
			continue
		}
		st, err := prep(q)
		if err != nil {
			return nil, err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			reason, ok := constraintReason(err, r)
			if !ok {
				return nil, fmt.Errorf("sqlite: import line %d: %w", r.Line, err)
			}
			rejected = append(rejected, interaction.Rejection{Line: r.Line, Reason: reason})
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: commit import: %w", err)
	}
	return rejected, nil
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
