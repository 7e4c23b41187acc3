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
const upsertCustomer = `INSERT INTO customers (org_id, id, mobile, email, external_id) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (org_id, id) DO UPDATE SET mobile = excluded.mobile, email = excluded.email, external_id = excluded.external_id`

// bulk describes one kind of record imported through COPY.
type bulk struct {
	table   string
	cols    []string // after org_id; the first is id, the second customer_id
	types   []string // the staging table's column types, parallel to cols
	row     func(interaction.Record) []any
	matches func(interaction.Record) bool
}

var bulks = []bulk{
	{
		table: "messages",
		cols:  []string{"id", "customer_id", "network", "type", "sender", "receiver", "subject", "body", "status", "campaign_id", "user_id", "sent_at", "delivered_at"},
		types: []string{"bigint", "bigint", "text", "text", "text", "text", "text", "text", "text", "bigint", "bigint", "bigint", "bigint"},
		row: func(r interaction.Record) []any {
			m := r.Message
			var delivered any
			if m.DeliveredAt != nil {
				delivered = m.DeliveredAt.UnixMilli()
			}
			return []any{m.ID, m.CustomerID, string(m.Network), string(m.Type), m.Sender, m.Receiver, m.Subject, m.Body,
				m.Status, m.CampaignID, m.UserID, m.SentAt.UnixMilli(), delivered}
		},
		matches: func(r interaction.Record) bool { return r.Message != nil },
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
	}
	for _, b := range bulks {
		rej, err := db.copyIn(ctx, conn, tx, org, b, recs)
		if err != nil {
			return nil, fmt.Errorf("postgres: import %s: %w", b.table, err)
		}
		rejected = append(rejected, rej...)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("postgres: commit import: %w", err)
	}
	return rejected, nil
}

func (db *DB) copyIn(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, org interaction.OrgID, b bulk, recs []interaction.Record) ([]interaction.Rejection, error) {
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
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE `+stage+` (`+cols+`) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	err := conn.Raw(func(dc any) error {
		pc, err := pgxConn(dc)
		if err != nil {
			return err
		}
		_, err = pc.CopyFrom(ctx, pgx.Identifier{stage}, append([]string{"line"}, b.cols...), pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	const known = `EXISTS (SELECT 1 FROM customers c WHERE c.org_id = $1 AND c.id = s.customer_id)`
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
	if _, err := tx.ExecContext(ctx, upsert, org); err != nil {
		return nil, err
	}
	rej := make([]interaction.Rejection, len(unknown))
	for i, u := range unknown {
		rej[i] = interaction.Rejection{Line: u.Line, Reason: fmt.Sprintf("unknown customer %d", u.CustomerID)}
	}
	return rej, nil
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
