package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// where builds the WHERE clause shared by the interaction queries: always the
// organisation and the customers, then whichever filters are set. Every
// condition is on a leading column of the table's customer index.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

func scope(org interaction.OrgID, ids []int64) *where {
	w := &where{}
	w.add("org_id = ?", org)
	w.add("customer_id IN (?)", ids)
	return w
}

func (w *where) times(col string, f interaction.Filter) *where {
	if !f.Since.IsZero() {
		w.add(col+" >= ?", millis(f.Since))
	}
	if !f.Until.IsZero() {
		w.add(col+" <= ?", millis(f.Until))
	}
	return w
}

// in expands the IN (?) lists and rebinds for the driver.
func (db *Store) in(query string, args []any) (string, []any, error) {
	q, a, err := sqlx.In(query, args...)
	if err != nil {
		return "", nil, fmt.Errorf("sqlstore: expand query: %w", err)
	}
	return db.r.Rebind(q), a, nil
}

// customersByIdentifier looks customers up by one identifier column. For
// mobile, email and external_id the "<> ”" is what lets SQLite use the
// partial unique index (WHERE col <> ”): the planner does not infer it
// from the IN list, and without it every lookup scanned the organisation.
const (
	customersByIdentifier = `SELECT id, org_id, mobile, email, external_id FROM customers WHERE org_id = ? AND %[1]s IN (?) AND %[1]s <> ''`
	customersByID         = `SELECT id, org_id, mobile, email, external_id FROM customers WHERE org_id = ? AND id IN (?)`
)

// CustomersByIdentifier returns the organisation's customers whose kind
// identifier is one of values, in no particular order.
func (db *Store) CustomersByIdentifier(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string) ([]interaction.Customer, error) {
	if len(values) == 0 {
		return nil, nil
	}
	var col string
	var args []any
	switch kind {
	case interaction.ByID:
		col = "id"
		ids := make([]any, 0, len(values))
		for _, v := range values {
			var n int64
			if _, err := fmt.Sscan(v, &n); err != nil {
				continue // not an id: it cannot match
			}
			ids = append(ids, n)
		}
		if len(ids) == 0 {
			return nil, nil
		}
		args = []any{org, ids}
	case interaction.ByMobile, interaction.ByEmail, interaction.ByExternalID:
		col = string(kind)
		args = []any{org, values}
	default:
		return nil, interaction.Errorf(interaction.KindInvalid, "invalid identifier name %q", kind)
	}
	query := fmt.Sprintf(customersByIdentifier, col)
	if kind == interaction.ByID {
		query = customersByID
	}
	q, a, err := db.in(query, args)
	if err != nil {
		return nil, err
	}
	var out []interaction.Customer
	if err := db.selectRead(ctx, &out, q, a...); err != nil {
		return nil, fmt.Errorf("sqlstore: customers by %s: %w", kind, err)
	}
	return out, nil
}

type summaryRow struct {
	CustomerID int64         `db:"customer_id"`
	Network    string        `db:"network"`
	Type       string        `db:"type"`
	Count      int           `db:"n"`
	Last       sql.NullInt64 `db:"last"`
	Used       bool          `db:"used"`
}

// Summaries answers counts, last times and used flags for many customers in
// one statement. Only indexes are read: message bodies are never touched.
func (db *Store) Summaries(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter) ([]interaction.Summary, error) {
	if len(customerIDs) == 0 {
		return nil, nil
	}
	var parts []string
	var args []any
	capillary := f.Network == "" || f.Network == interaction.Capillary
	if f.Type == "" || f.Type.IsMessage() {
		w := scope(org, customerIDs).times("sent_at", f)
		if f.Network != "" {
			w.add("network = ?", f.Network)
		}
		if f.Type != "" {
			w.add("type IN (?)", f.Type.StoredTypes())
		}
		parts = append(parts, `SELECT customer_id, network, type, COUNT(*) AS n, MAX(sent_at) AS last, FALSE AS used
			FROM messages WHERE `+w.String()+` GROUP BY customer_id, network, type`)
		args = append(args, w.args...)
	}
	if capillary && (f.Type == "" || f.Type == interaction.MissedCallType) {
		w := scope(org, customerIDs).times("called_at", f)
		// The used flag is the newest call's: a correlated lookup on the
		// same index, one row per customer.
		inner := &where{}
		inner.add("x.org_id = mc.org_id AND x.customer_id = mc.customer_id")
		inner.times("x.called_at", f)
		parts = append(parts, `SELECT customer_id, 'capillary' AS network, 'missed_call' AS type, COUNT(*) AS n, MAX(called_at) AS last,
			(SELECT x.used FROM missed_calls x WHERE `+inner.String()+` ORDER BY x.called_at DESC, x.id DESC LIMIT 1) AS used
			FROM missed_calls mc WHERE `+w.String()+` GROUP BY org_id, customer_id`)
		// Placeholders bind by position: the subquery's come first in the text.
		args = append(args, inner.args...)
		args = append(args, w.args...)
	}
	if capillary && (f.Type == "" || f.Type == interaction.SurveyType) {
		w := scope(org, customerIDs).times("submitted_at", f)
		parts = append(parts, `SELECT customer_id, 'capillary' AS network, 'survey' AS type, COUNT(*) AS n, MAX(submitted_at) AS last, FALSE AS used
			FROM surveys WHERE `+w.String()+` GROUP BY customer_id`)
		args = append(args, w.args...)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	q, a, err := db.in(strings.Join(parts, "\nUNION ALL\n"), args)
	if err != nil {
		return nil, err
	}
	var rows []summaryRow
	if err := db.selectRead(ctx, &rows, q, a...); err != nil {
		return nil, fmt.Errorf("sqlstore: summaries: %w", err)
	}
	out := make([]interaction.Summary, len(rows))
	for i, r := range rows {
		out[i] = interaction.Summary{
			CustomerID: r.CustomerID, Network: interaction.Network(r.Network), Type: interaction.Type(r.Type),
			Count: r.Count, Last: fromNullMillis(r.Last), Used: r.Used,
		}
	}
	return out, nil
}

// pageOf wraps a filtered, ordered selection of ids in the window that cuts
// each customer's page: ranks are computed over the index alone, and only
// the rows on the page are fetched from the table.
//
// On SQLite the join is a CROSS JOIN, which fixes the join order (SQLite
// never reorders a CROSS JOIN; PostgreSQL's planner needs no such help):
// left to itself, the planner sometimes drove the join from the table side,
// scanning every row of the organisation and probing the ranked rows, which
// made a one-customer page 25 times slower at 200,000 messages.
func (db *Store) pageOf(table, orderCol, cols string, w *where, p interaction.Page) (string, []any) {
	q := `WITH ranked AS (
		SELECT id, customer_id, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY ` + orderCol + ` DESC, id DESC) AS rn
		FROM ` + table + ` WHERE ` + w.String() + `)
	SELECT ` + cols + ` FROM ranked ` + db.join + ` ` + table + ` t ON t.org_id = ? AND t.id = ranked.id
	WHERE ranked.rn > ? AND ranked.rn <= ?
	ORDER BY ranked.customer_id, ranked.rn`
	args := append(w.args, w.args[0], p.Offset, p.Offset+p.Limit)
	return q, args
}

type messageRow struct {
	ID          int64         `db:"id"`
	CustomerID  int64         `db:"customer_id"`
	Network     string        `db:"network"`
	Type        string        `db:"type"`
	Sender      string        `db:"sender"`
	Receiver    string        `db:"receiver"`
	Subject     string        `db:"subject"`
	Body        string        `db:"body"`
	Status      string        `db:"status"`
	CampaignID  int64         `db:"campaign_id"`
	UserID      int64         `db:"user_id"`
	SentAt      int64         `db:"sent_at"`
	DeliveredAt sql.NullInt64 `db:"delivered_at"`
}

const messageCols = `t.id, t.customer_id, t.network, t.type, t.sender, t.receiver, t.subject, t.body, t.status,
	t.campaign_id, t.user_id, t.sent_at, t.delivered_at`

// Messages pages many customers' messages in many groups with one
// statement: rows are ranked per (customer, network, stored type) over the
// customer index alone, which already holds them in page order, and only
// the rows a page needs are fetched from the table. A phone group is the
// sms and phone messages together, so for it the first offset+limit of
// each of the two partitions are fetched and merged here. (Joining a
// VALUES table of groups to the index instead made SQLite sort every row
// again: four times slower for a 50-customer dashboard.)
func (db *Store) Messages(ctx context.Context, org interaction.OrgID, customerIDs []int64, groups []interaction.GroupKey, span interaction.Span, p interaction.Page) ([]interaction.PagedMessage, error) {
	if len(customerIDs) == 0 || len(groups) == 0 || p.Limit <= 0 {
		return nil, nil
	}
	wanted := make(map[interaction.GroupKey]bool, len(groups))
	phoneNets := map[interaction.Network]bool{}
	var nets []string
	var types []string
	for _, g := range groups {
		wanted[g] = true
		if g.Type == interaction.Phone {
			phoneNets[g.Network] = true
		}
		if !slices.Contains(nets, string(g.Network)) {
			nets = append(nets, string(g.Network))
		}
		for _, st := range g.Type.StoredTypes() {
			if !slices.Contains(types, string(st)) {
				types = append(types, string(st))
			}
		}
	}
	w := scope(org, customerIDs).times("sent_at", interaction.Filter{Since: span.Since, Until: span.Until})
	w.add("network IN (?)", nets)
	w.add("type IN (?)", types)
	// Rows of a plain group's page, or the head of an sms/phone partition
	// that a phone group merges.
	lower := "ranked.rn > ?"
	args := append([]any{}, w.args...)
	args = append(args, org)
	if len(phoneNets) > 0 {
		var pn []string
		for n := range phoneNets {
			pn = append(pn, string(n))
		}
		lower = "(ranked.rn > ? OR (t.network IN (?) AND t.type IN ('sms', 'phone')))"
		args = append(args, p.Offset, pn, p.Offset+p.Limit)
	} else {
		args = append(args, p.Offset, p.Offset+p.Limit)
	}
	query := `WITH ranked AS (
		SELECT id, customer_id, ROW_NUMBER() OVER (
			PARTITION BY customer_id, network, type ORDER BY sent_at DESC, id DESC) AS rn
		FROM messages WHERE ` + w.String() + `)
	SELECT ` + messageCols + `, ranked.rn FROM ranked ` + db.join + ` messages t ON t.org_id = ? AND t.id = ranked.id
	WHERE ` + lower + ` AND ranked.rn <= ?` // ordered below, in Go
	query, args, err := db.in(query, args)
	if err != nil {
		return nil, err
	}
	var rows []rankedRow
	if err := db.selectRead(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("sqlstore: messages: %w", err)
	}
	type phoneKey struct {
		customer int64
		network  interaction.Network
	}
	var out []interaction.PagedMessage
	phones := map[phoneKey][]interaction.Message{}
	var phoneOrder []phoneKey
	for _, r := range rows {
		m := r.message()
		g := interaction.GroupKey{Network: m.Network, Type: m.Type}
		if wanted[g] && r.Rank > p.Offset && g.Type != interaction.Phone { // phone pages are merged below
			out = append(out, interaction.PagedMessage{Group: g, Message: m})
		}
		if phoneNets[m.Network] && (m.Type == interaction.SMS || m.Type == interaction.Phone) {
			k := phoneKey{m.CustomerID, m.Network}
			if _, ok := phones[k]; !ok {
				phoneOrder = append(phoneOrder, k)
			}
			phones[k] = append(phones[k], m)
		}
	}
	for _, k := range phoneOrder {
		ms := phones[k]
		slices.SortStableFunc(ms, newestFirst)
		for _, m := range ms[min(p.Offset, len(ms)):min(p.Offset+p.Limit, len(ms))] {
			out = append(out, interaction.PagedMessage{Group: interaction.GroupKey{Network: k.network, Type: interaction.Phone}, Message: m})
		}
	}
	// The contract's order: customer, then group, then newest first.
	slices.SortStableFunc(out, func(a, b interaction.PagedMessage) int {
		return cmp.Or(cmp.Compare(a.CustomerID, b.CustomerID), cmp.Compare(a.Group.Network, b.Group.Network),
			cmp.Compare(a.Group.Type, b.Group.Type), newestFirst(a.Message, b.Message))
	})
	return out, nil
}

func newestFirst(a, b interaction.Message) int {
	return cmp.Or(b.SentAt.Compare(a.SentAt), cmp.Compare(b.ID, a.ID))
}

type rankedRow struct {
	messageRow
	Rank int `db:"rn"`
}

func (r messageRow) message() interaction.Message {
	return interaction.Message{
		ID: r.ID, CustomerID: r.CustomerID, Network: interaction.Network(r.Network), Type: interaction.Type(r.Type),
		Sender: r.Sender, Receiver: r.Receiver, Subject: r.Subject, Body: r.Body, Status: r.Status,
		CampaignID: r.CampaignID, UserID: r.UserID, SentAt: fromMillis(r.SentAt), DeliveredAt: fromNullMillis(r.DeliveredAt),
	}
}

type missedCallRow struct {
	ID         int64 `db:"id"`
	CustomerID int64 `db:"customer_id"`
	CalledAt   int64 `db:"called_at"`
	Used       bool  `db:"used"`
}

// MissedCalls returns each customer's page of missed calls, newest first.
func (db *Store) MissedCalls(ctx context.Context, org interaction.OrgID, customerIDs []int64, q interaction.PageQuery) ([]interaction.MissedCall, error) {
	if len(customerIDs) == 0 || q.Limit <= 0 || (q.Network != "" && q.Network != interaction.Capillary) {
		return nil, nil
	}
	w := scope(org, customerIDs).times("called_at", interaction.Filter{Since: q.Since, Until: q.Until})
	query, args := db.pageOf("missed_calls", "called_at", "t.id, t.customer_id, t.called_at, t.used", w, q.Page)
	query, args, err := db.in(query, args)
	if err != nil {
		return nil, err
	}
	var rows []missedCallRow
	if err := db.selectRead(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("sqlstore: missed calls: %w", err)
	}
	out := make([]interaction.MissedCall, len(rows))
	for i, r := range rows {
		out[i] = interaction.MissedCall{ID: r.ID, CustomerID: r.CustomerID, CalledAt: fromMillis(r.CalledAt), Used: r.Used}
	}
	return out, nil
}

type surveyRow struct {
	ID          int64  `db:"id"`
	CustomerID  int64  `db:"customer_id"`
	Name        string `db:"name"`
	SubmittedAt int64  `db:"submitted_at"`
	Responses   string `db:"responses"`
}

// Surveys returns each customer's page of submitted surveys, newest first.
func (db *Store) Surveys(ctx context.Context, org interaction.OrgID, customerIDs []int64, q interaction.PageQuery) ([]interaction.Survey, error) {
	if len(customerIDs) == 0 || q.Limit <= 0 || (q.Network != "" && q.Network != interaction.Capillary) {
		return nil, nil
	}
	w := scope(org, customerIDs).times("submitted_at", interaction.Filter{Since: q.Since, Until: q.Until})
	query, args := db.pageOf("surveys", "submitted_at", "t.id, t.customer_id, t.name, t.submitted_at, t.responses", w, q.Page)
	query, args, err := db.in(query, args)
	if err != nil {
		return nil, err
	}
	var rows []surveyRow
	if err := db.selectRead(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("sqlstore: surveys: %w", err)
	}
	out := make([]interaction.Survey, len(rows))
	for i, r := range rows {
		out[i] = interaction.Survey{ID: r.ID, CustomerID: r.CustomerID, Name: r.Name,
			SubmittedAt: fromMillis(r.SubmittedAt), Responses: json.RawMessage(r.Responses)}
	}
	return out, nil
}
