package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

// Customers are upserted one by one under a savepoint, so a customer whose
// mobile, email or external id another customer already has is rejected
// alone; they are a small share of an import. Messages, missed calls and
// surveys are COPYed into a temporary table and upserted from it in one
// statement each, skipping (and reporting) rows whose customer is unknown.
// Within a batch the last record for an id wins, as if applied in order.
// As on SQLite, which writes in file order, a record must come after its
// customer: one whose customer exists only through a later line of the
// batch (or not at all) is rejected, whatever the batch boundaries.
const upsertCustomer = `INSERT INTO customers (org_id, id, mobile, email, external_id) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (org_id, id) DO UPDATE SET mobile = excluded.mobile, email = excluded.email, external_id = excluded.external_id`

// bumpVersion moves an organisation's data version on (migrations/0005).
const bumpVersion = `INSERT INTO data_versions (org_id, version) VALUES ($1, touchpoint_version_now())
	ON CONFLICT (org_id) DO UPDATE SET version = greatest(data_versions.version + 1, excluded.version)`

// bulk describes one kind of record imported through COPY.
type bulk struct {
	table   string
	cols    []string // after org_id; the first is id, the second customer_id
	types   []string // the staging table's column types, parallel to cols
	row     func(interaction.Record) []any
	matches func(interaction.Record) bool
	// staged, when set, are the staging table's columns that go elsewhere
	// (a message's body), and then the statement ($1 the organisation)
	// that stores them from the staging table s, for rows whose customer
	// is known.
	staged     []string
	stagedType []string
	then       string
}

var bulks = []bulk{
	{
		table: "messages",
		cols:  []string{"id", "customer_id", "network", "type", "sender", "receiver", "subject", "status", "campaign_id", "user_id", "sent_at", "delivered_at"},
		types: []string{"bigint", "bigint", "text", "text", "text", "text", "text", "text", "bigint", "bigint", "bigint", "bigint"},
		row: func(r interaction.Record) []any {
			m := r.Message
			var delivered any
			if m.DeliveredAt != nil {
				delivered = m.DeliveredAt.UnixMilli()
			}
			return []any{m.ID, m.CustomerID, string(m.Network), string(m.Type), m.Sender, m.Receiver, m.Subject,
				m.Status, m.CampaignID, m.UserID, m.SentAt.UnixMilli(), delivered, m.Body}
		},
		matches:    func(r interaction.Record) bool { return r.Message != nil },
		staged:     []string{"body"},
		stagedType: []string{"text"},
		then: `INSERT INTO message_bodies (org_id, id, body)
			SELECT DISTINCT ON (id) $1, id, body FROM stage_messages s WHERE ` + known + ` ORDER BY id, line DESC
			ON CONFLICT (org_id, id) DO UPDATE SET body = excluded.body`,
	},
	{
		table: "missed_calls",
		cols:  []string{"id", "customer_id", "called_at", "used"},
		types: []string{"bigint", "bigint", "bigint", "boolean"},
		row: func(r interaction.Record) []any {
			c := r.MissedCall
			return []any{c.ID, c.CustomerID, c.CalledAt.UnixMilli(), c.Used}
		},
		matches: func(r interaction.Record) bool { return r.MissedCall != nil },
	},
	{
		table: "surveys",
		cols:  []string{"id", "customer_id", "name", "submitted_at", "responses"},
		types: []string{"bigint", "bigint", "text", "bigint", "text"},
		row: func(r interaction.Record) []any {
			s := r.Survey
			resp := string(s.Responses)
			if resp == "" {
				resp = "{}"
			}
			return []any{s.ID, s.CustomerID, s.Name, s.SubmittedAt.UnixMilli(), resp}
		},
		matches: func(r interaction.Record) bool { return r.Survey != nil },
	},
}

// Write stores recs for org in one transaction (the importer's sink).
func (db *DB) Write(ctx context.Context, org interaction.OrgID, recs []interaction.Record) ([]interaction.Rejection, error) {
	conn, err := db.w.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: import: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("postgres: import: %w", err)
	}
	defer tx.Rollback()

	existed, err := existingCustomers(ctx, tx, org, recs)
	if err != nil {
		return nil, err
	}
	created := make(map[int64]int) // a customer this batch created: its line
	var rejected []interaction.Rejection
	for _, r := range recs {
		c := r.Customer
		if c == nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT customer`); err != nil {
			return nil, err
		}
		_, err := tx.ExecContext(ctx, upsertCustomer, org, c.ID, c.Mobile, c.Email, c.ExternalID)
		if err != nil {
			if violation(err) != sqlstore.Unique {
				return nil, fmt.Errorf("postgres: import line %d: %w", r.Line, err)
			}
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT customer`); err != nil {
				return nil, err
			}
			rejected = append(rejected, interaction.Rejection{Line: r.Line,
				Reason: "an identifier (mobile, email or external_id) already belongs to another customer"})
			continue
		}
		if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT customer`); err != nil {
			return nil, err
		}
		if _, ok := created[c.ID]; !ok {
			created[c.ID] = r.Line
		}
	}
	recs, early := inOrder(recs, existed, created)
	rejected = append(rejected, early...)
	touched := make(map[int64]bool)
	for _, b := range bulks {
		rej, err := db.copyIn(ctx, conn, tx, org, b, recs, touched)
		if err != nil {
			return nil, fmt.Errorf("postgres: import %s: %w", b.table, err)
		}
		rejected = append(rejected, rej...)
	}
	if err := refreshCounts(ctx, tx, org, touched); err != nil {
		return nil, err
	}
	// Last before the commit: the row lock it takes serialises imports of
	// one organisation only for the commit itself (migrations/0005).
	if _, err := tx.ExecContext(ctx, bumpVersion, org); err != nil {
		return nil, fmt.Errorf("postgres: import: data version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("postgres: commit import: %w", err)
	}
	return rejected, nil
}

// customerOf is the customer a record other than a customer belongs to.
func customerOf(r interaction.Record) (int64, bool) {
	switch {
	case r.Message != nil:
		return r.Message.CustomerID, true
	case r.MissedCall != nil:
		return r.MissedCall.CustomerID, true
	case r.Survey != nil:
		return r.Survey.CustomerID, true
	}
	return 0, false
}

// existingCustomers says which of the customers that recs both define and
// refer to exist before the batch: only for those can a record come
// before its customer's line and still be stored.
func existingCustomers(ctx context.Context, tx *sqlx.Tx, org interaction.OrgID, recs []interaction.Record) (map[int64]bool, error) {
	defined := make(map[int64]bool)
	for _, r := range recs {
		if r.Customer != nil {
			defined[r.Customer.ID] = true
		}
	}
	var ids []int64
	seen := make(map[int64]bool)
	for _, r := range recs {
		if id, ok := customerOf(r); ok && defined[id] && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	existed := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return existed, nil
	}
	var found []int64
	if err := tx.SelectContext(ctx, &found, `SELECT id FROM customers WHERE org_id = $1 AND id = ANY($2)`, org, ids); err != nil {
		return nil, fmt.Errorf("postgres: import: %w", err)
	}
	for _, id := range found {
		existed[id] = true
	}
	return existed, nil
}

// inOrder drops, and rejects, the records whose customer is new in this
// batch and comes on a later line; the others are left to the known check
// (which rejects those whose customer does not exist at all).
func inOrder(recs []interaction.Record, existed map[int64]bool, created map[int64]int) (kept []interaction.Record, early []interaction.Rejection) {
	kept = make([]interaction.Record, 0, len(recs))
	for _, r := range recs {
		if id, ok := customerOf(r); ok && !existed[id] {
			if line, made := created[id]; made && line > r.Line {
				early = append(early, interaction.Rejection{Line: r.Line, Reason: fmt.Sprintf("unknown customer %d", id)})
				continue
			}
		}
		kept = append(kept, r)
	}
	return kept, early
}

// known says a staged row's customer exists.
const known = `EXISTS (SELECT 1 FROM customers c WHERE c.org_id = $1 AND c.id = s.customer_id)`

// copyIn stages recs of kind b through COPY and upserts them, adding to
// touched the customers whose counts change: those the rows now belong to
// and those they moved away from.
func (db *DB) copyIn(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, org interaction.OrgID, b bulk, recs []interaction.Record, touched map[int64]bool) ([]interaction.Rejection, error) {
	var rows [][]any
	for _, r := range recs {
		if b.matches(r) {
			rows = append(rows, append([]any{r.Line}, b.row(r)...))
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	stage := "stage_" + b.table
	cols := "line integer"
	for i, c := range b.cols {
		cols += ", " + c + " " + b.types[i]
	}
	for i, c := range b.staged {
		cols += ", " + c + " " + b.stagedType[i]
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE `+stage+` (`+cols+`) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	err := conn.Raw(func(dc any) error {
		pc, err := pgxConn(dc)
		if err != nil {
			return err
		}
		_, err = pc.CopyFrom(ctx, pgx.Identifier{stage}, append(append([]string{"line"}, b.cols...), b.staged...), pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	var unknown []struct {
		Line       int   `db:"line"`
		CustomerID int64 `db:"customer_id"`
	}
	if err := tx.SelectContext(ctx, &unknown, `SELECT line, customer_id FROM `+stage+` s WHERE NOT `+known+` ORDER BY line`, org); err != nil {
		return nil, err
	}
	var list, sets string
	for i, c := range b.cols {
		if i > 0 {
			list += ", "
			if i > 1 {
				sets += ", "
			}
		}
		list += c
		if i > 0 {
			sets += c + " = excluded." + c
		}
	}
	upsert := `INSERT INTO ` + b.table + ` (org_id, ` + list + `)
		SELECT DISTINCT ON (id) $1, ` + list + ` FROM ` + stage + ` s WHERE ` + known + ` ORDER BY id, line DESC
		ON CONFLICT (org_id, id) DO UPDATE SET ` + sets
	var moved []int64
	if err := tx.SelectContext(ctx, &moved, `SELECT DISTINCT t.customer_id FROM `+b.table+` t JOIN `+stage+` s
		ON t.org_id = $1 AND t.id = s.id WHERE t.customer_id <> s.customer_id`, org); err != nil {
		return nil, err
	}
	var owners []int64
	if err := tx.SelectContext(ctx, &owners, `SELECT DISTINCT customer_id FROM `+stage+` s WHERE `+known, org); err != nil {
		return nil, err
	}
	for _, id := range append(moved, owners...) {
		touched[id] = true
	}
	if _, err := tx.ExecContext(ctx, upsert, org); err != nil {
		return nil, err
	}
	if b.then != "" {
		if _, err := tx.ExecContext(ctx, b.then, org); err != nil {
			return nil, err
		}
	}
	rej := make([]interaction.Rejection, len(unknown))
	for i, u := range unknown {
		rej[i] = interaction.Rejection{Line: u.Line, Reason: fmt.Sprintf("unknown customer %d", u.CustomerID)}
	}
	return rej, nil
}

// The counts of a set of customers ($2) are recomputed from their rows.
const (
	countsForget   = `DELETE FROM interaction_counts WHERE org_id = $1 AND customer_id = ANY($2)`
	countsMessages = `INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
		SELECT $1, customer_id, network, type, COUNT(*), MAX(sent_at), FALSE FROM messages
		WHERE org_id = $1 AND customer_id = ANY($2) GROUP BY customer_id, network, type`
	countsMissedCalls = `INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
		SELECT $1, customer_id, 'capillary', 'missed_call', COUNT(*), MAX(called_at),
			(SELECT x.used FROM missed_calls x WHERE x.org_id = $1 AND x.customer_id = mc.customer_id ORDER BY x.called_at DESC, x.id DESC LIMIT 1)
		FROM missed_calls mc WHERE org_id = $1 AND customer_id = ANY($2) GROUP BY customer_id`
	countsSurveys = `INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
		SELECT $1, customer_id, 'capillary', 'survey', COUNT(*), MAX(submitted_at), FALSE FROM surveys
		WHERE org_id = $1 AND customer_id = ANY($2) GROUP BY customer_id`
	countsStatusForget = `DELETE FROM interaction_status_counts WHERE org_id = $1 AND customer_id = ANY($2)`
	countsStatus       = `INSERT INTO interaction_status_counts (org_id, customer_id, network, type, status, n, last_at)
		SELECT $1, customer_id, network, type, status, COUNT(*), MAX(sent_at) FROM messages
		WHERE org_id = $1 AND customer_id = ANY($2) GROUP BY customer_id, network, type, status`
)

func refreshCounts(ctx context.Context, tx *sqlx.Tx, org interaction.OrgID, touched map[int64]bool) error {
	if len(touched) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	for _, q := range []string{countsForget, countsMessages, countsMissedCalls, countsSurveys, countsStatusForget, countsStatus} {
		if _, err := tx.ExecContext(ctx, q, org, ids); err != nil {
			return fmt.Errorf("postgres: recount: %w", err)
		}
	}
	return nil
}

// pgxConn digs pgx's connection out of database/sql's driver connection
// (through the counting wrapper) for COPY.
func pgxConn(dc any) (*pgx.Conn, error) {
	for {
		switch c := dc.(type) {
		case *stdlib.Conn:
			return c.Conn(), nil
		case interface{ Unwrap() driver.Conn }:
			dc = c.Unwrap()
		default:
			return nil, errors.New("not a pgx connection")
		}
	}
}
