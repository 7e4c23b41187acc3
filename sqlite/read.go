package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

// The read path. Lists of keys are bound as one JSON array and expanded by
// json_each, so each query has one text (and one prepared statement per
// connection) whatever the number of customers.

// customersBy looks customers up by one identifier column, one index seek
// per value. The values drive the join (CROSS JOIN fixes the order): with
// "col IN (SELECT value FROM json_each(?))" SQLite preferred to scan the
// organisation. For mobile, email and external_id the "<> ”" is what lets
// it use the partial unique index (WHERE col <> ”).
var customersBy = map[interaction.IdentifierKind]string{
	interaction.ByID: `SELECT c.id, c.mobile, c.email, c.external_id FROM json_each(?2) AS v CROSS JOIN customers AS c
		ON c.org_id = ?1 AND c.id = v.value`,
	interaction.ByMobile: `SELECT c.id, c.mobile, c.email, c.external_id FROM json_each(?2) AS v CROSS JOIN customers AS c
		ON c.org_id = ?1 AND c.mobile = v.value AND c.mobile <> ''`,
	interaction.ByEmail: `SELECT c.id, c.mobile, c.email, c.external_id FROM json_each(?2) AS v CROSS JOIN customers AS c
		ON c.org_id = ?1 AND c.email = v.value AND c.email <> ''`,
	interaction.ByExternalID: `SELECT c.id, c.mobile, c.email, c.external_id FROM json_each(?2) AS v CROSS JOIN customers AS c
		ON c.org_id = ?1 AND c.external_id = v.value AND c.external_id <> ''`,
}

// CustomersByIdentifier returns the organisation's customers whose kind
// identifier is one of values, in no particular order.
func (db *DB) CustomersByIdentifier(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string) ([]interaction.Customer, error) {
	query, ok := customersBy[kind]
	if !ok {
		return nil, interaction.Errorf(interaction.KindInvalid, "invalid identifier name %q", kind)
	}
	if len(values) == 0 {
		return nil, nil
	}
	var list string
	if kind == interaction.ByID {
		ids := make([]int64, 0, len(values))
		for _, v := range values {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				ids = append(ids, n)
			} // not an id: it cannot match
		}
		if len(ids) == 0 {
			return nil, nil
		}
		list = jsonInts(ids)
	} else {
		b, err := json.Marshal(values)
		if err != nil {
			return nil, fmt.Errorf("sqlite: customers by %s: %w", kind, err)
		}
		list = string(b)
	}
	out := make([]interaction.Customer, 0, len(values))
	err := db.reads.query(ctx, query, func(st *sqlite3.Stmt) error {
		return bindAll(bindKey(st, 1, int64(org)), st.BindText(2, list))
	}, func(_ *readConn, st *sqlite3.Stmt) error {
		out = append(out, interaction.Customer{ID: st.ColumnInt64(0), OrgID: org,
			Mobile: st.ColumnText(1), Email: st.ColumnText(2), ExternalID: st.ColumnText(3)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: customers by %s: %w", kind, err)
	}
	return out, nil
}

// bindKey binds an organisation id or a row offset as text, which SQLite
// turns back into the integer the column or OFFSET wants. Bound as
// integers, a value of 0 or 1 after any other (or the other way round)
// made SQLite compile the statement again: it plans a parameter that is 0
// or 1 apart from other values. Organisation 1 is the first one created,
// and an OFFSET of 0 is a page of one row.
func bindKey(st *sqlite3.Stmt, i int, v int64) error {
	return st.BindText(i, strconv.FormatInt(v, 10))
}

func bindAll(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// jsonInts renders ids as a JSON array.
func jsonInts(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*10)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// countsOf reads the maintained counts, a customer's rows whole or, with a
// type filter, those of the stored types sought (see typedCounts). The
// network filter is applied in Go (a customer has a few dozen rows at
// most).
const countsOf = `SELECT s.customer_id, s.network, s.type, s.n, s.last_at, s.used
	FROM json_each(?2) AS c CROSS JOIN interaction_counts AS s ON s.org_id = ?1 AND s.customer_id = c.value`

// countsOfTypes are countsOf with typedCounts: countsOfTypes[n-1] for n
// stored types.
var countsOfTypes = [2]string{countsOf + typedCounts[0], countsOf + typedCounts[1]}

// typedCounts is the condition on the counts' type for a filter of one
// stored type (?3) or two (?3, ?4; see Type.StoredTypes). One type is
// compared with "=": SQLite runs "IN (?3, ?4)" as a loop over a set of the
// values for every customer, even when both are the same, and for 50
// customers' email counts that loop was a fifth of the statement (96 µs
// against 78).
var typedCounts = [2]string{" AND s.type = ?3", " AND s.type IN (?3, ?4)"}

// bindTypes binds the stored types of a typedCounts condition from ?3 on.
func bindTypes(st *sqlite3.Stmt, stored []interaction.Type) error {
	err := st.BindText(3, string(stored[0]))
	if len(stored) > 1 {
		err = bindAll(err, st.BindText(4, string(stored[1])))
	}
	return err
}

// summariesIn aggregates the rows inside a time span: counts of a span
// cannot be kept ahead of time. The used flag is the newest call's in the
// span, a correlated lookup on the same index.
const summariesIn = `SELECT customer_id, network, type, COUNT(*), MAX(sent_at), 0 FROM messages
	WHERE org_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2)) AND sent_at BETWEEN ?3 AND ?4
	GROUP BY customer_id, network, type
UNION ALL
SELECT customer_id, 'capillary', 'missed_call', COUNT(*), MAX(called_at),
	(SELECT x.used FROM missed_calls x WHERE x.org_id = mc.org_id AND x.customer_id = mc.customer_id
		AND x.called_at BETWEEN ?3 AND ?4 ORDER BY x.called_at DESC, x.id DESC LIMIT 1)
	FROM missed_calls mc WHERE org_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2)) AND called_at BETWEEN ?3 AND ?4
	GROUP BY org_id, customer_id
UNION ALL
SELECT customer_id, 'capillary', 'survey', COUNT(*), MAX(submitted_at), 0 FROM surveys
	WHERE org_id = ?1 AND customer_id IN (SELECT value FROM json_each(?2)) AND submitted_at BETWEEN ?3 AND ?4
	GROUP BY customer_id`

// Summaries answers counts, last times and used flags for many customers in
// one statement: from the maintained counts, or aggregated within a span.
func (db *DB) Summaries(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter) ([]interaction.Summary, error) {
	if len(customerIDs) == 0 {
		return nil, nil
	}
	from := sqlstore.SummariesFrom(f)
	var stored []interaction.Type
	query := countsOf
	switch from {
	case sqlstore.SummariesNarrowed:
		return db.narrowedSummaries(ctx, org, customerIDs, f)
	case sqlstore.SummariesInSpan:
		query = summariesIn
	case sqlstore.SummariesKeptOfTypes:
		stored = f.Type.StoredTypes()
		query = countsOfTypes[len(stored)-1]
	}
	lo, hi := f.Span().Millis()
	out := make([]interaction.Summary, 0, len(customerIDs)*4)
	err := db.reads.query(ctx, query, func(st *sqlite3.Stmt) error {
		err := bindAll(bindKey(st, 1, int64(org)), st.BindText(2, jsonInts(customerIDs)))
		switch from {
		case sqlstore.SummariesInSpan:
			err = bindAll(err, st.BindInt64(3, lo), st.BindInt64(4, hi))
		case sqlstore.SummariesKeptOfTypes:
			err = bindAll(err, bindTypes(st, stored))
		}
		return err
	}, summaryRows(f, &out))
	if err != nil {
		return nil, fmt.Errorf("sqlite: summaries: %w", err)
	}
	return out, nil
}

// narrowedSummaries answers Summaries for a filter by status or
// campaign: messages only (missed calls and surveys have neither).
func (db *DB) narrowedSummaries(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter) ([]interaction.Summary, error) {
	var out []interaction.Summary
	if err := db.statusRows(ctx, org, customerIDs, f, true, summaryRows(f, &out)); err != nil {
		return nil, fmt.Errorf("sqlite: summaries: %w", err)
	}
	return out, nil
}

// summaryRows reads rows of (customer, network, type, count, newest time,
// used) into out, keeping those of f's network and stored types (the
// statements filter by customer and, at most, type).
func summaryRows(f interaction.Filter, out *[]interaction.Summary) func(*readConn, *sqlite3.Stmt) error {
	return func(_ *readConn, st *sqlite3.Stmt) error {
		n, t := sqlstore.NetworkOf(st.ColumnRawText(1)), sqlstore.TypeOf(st.ColumnRawText(2))
		if !sqlstore.WantsStored(f, n, t) {
			return nil
		}
		last := fromMillis(st.ColumnInt64(4))
		*out = append(*out, interaction.Summary{CustomerID: st.ColumnInt64(0), Network: n, Type: t,
			Count: st.ColumnInt(3), Last: &last, Used: st.ColumnBool(5)})
		return nil
	}
}

// pageQueries caches the page statement's text by the columns it reads and
// the parts it has.
var pageQueries sqlstore.Texts[pageShape, string]

type pageShape struct {
	fields interaction.MessageFields
	parts  uint8 // partWhole | partUniform | partCut
	order  interaction.Order
	// statuses and campaigns add their filters (?12, ?13) to every part.
	statuses, campaigns bool
}

const (
	partWhole = 1 << iota
	partUniform
	partCut
)

// pageQuery is one statement in up to three parts, one per way of reading
// a partition (see sqlstore.PlanPages), only those the plan uses: whole
// customers (?2, a JSON array of ids) within a network range (?10, ?11),
// partitions of one network and type for many customers (?3 the
// customers, ?4 and ?5 the network and type), and any partitions (?6, a
// JSON array of [customer, network, type] arrays) cut at the page's last
// row by a correlated lookup of its sent time (?9 is the number of rows
// before it). ?7 and ?8 bound the sent time. Each part follows the primary
// key, so every partition's rows come out together, newest first (the
// unary + in the whole part keeps SQLite from reading a customer through
// messages_timeline instead, in time order across partitions).
//
// An oldest-first page is cut at its last row from the partition's other
// end: the lookup walks the same index backwards (ORDER BY ascending on a
// descending key), and the rows at or before its time are the tail of the
// partition's range, still read in index order. MessagePages reverses
// each partition's rows in Go; no other index is needed.
func pageQuery(sh pageShape) string { return pageQueries.Of(sh, buildPageQuery) }

func buildPageQuery(sh pageShape) string {
	cols := sqlstore.PageColumns(sh.fields)
	narrow := func(alias string) string {
		var s string
		if sh.statuses {
			s += ` AND ` + alias + `.status IN (SELECT value FROM json_each(?12))`
		}
		if sh.campaigns {
			s += ` AND ` + alias + `.campaign_id IN (SELECT value FROM json_each(?13))`
		}
		return s
	}
	var parts []string
	if sh.parts&partWhole != 0 {
		parts = append(parts, `SELECT `+cols+` FROM json_each(?2) AS c CROSS JOIN messages AS m
	ON m.org_id = ?1 AND m.customer_id = c.value AND m.network BETWEEN ?10 AND ?11
	WHERE +m.sent_at BETWEEN ?7 AND ?8`+narrow("m"))
	}
	if sh.parts&partUniform != 0 {
		parts = append(parts, `SELECT `+cols+` FROM json_each(?3) AS c CROSS JOIN messages AS m
	ON m.org_id = ?1 AND m.customer_id = c.value AND m.network = ?4 AND m.type = ?5 AND m.sent_at BETWEEN ?7 AND ?8`+narrow("m"))
	}
	if sh.parts&partCut != 0 {
		// Newest first the page ends at its last row's time or later, oldest
		// first at it or earlier; without that row the page is the whole
		// partition, down to (or up to) the span's bound.
		//
		// The span's bound on the cut's side is the cut's to apply, and is
		// hidden from the planner (unary +): seen beside the cut, it made
		// SQLite, replanning with the bound values, read the partition
		// through messages_timeline, every network and type of the customer
		// between the bounds, 27 times the time on a partition of 106 rows.
		cut, order, open, span := ">=", "DESC", "?7", "m.sent_at <= ?8 AND +m.sent_at >= ?7"
		if sh.order == interaction.OldestFirst {
			cut, order, open, span = "<=", "ASC", "?8", "m.sent_at >= ?7 AND +m.sent_at <= ?8"
		}
		parts = append(parts, `SELECT `+cols+` FROM json_each(?6) AS p CROSS JOIN messages AS m
	ON m.org_id = ?1 AND m.customer_id = p.value ->> 0 AND m.network = p.value ->> 1 AND m.type = p.value ->> 2
	AND `+span+narrow("m")+`
	AND m.sent_at `+cut+` coalesce((SELECT x.sent_at FROM messages AS x
		WHERE x.org_id = ?1 AND x.customer_id = p.value ->> 0 AND x.network = p.value ->> 1 AND x.type = p.value ->> 2
			AND x.sent_at BETWEEN ?7 AND ?8`+narrow("x")+`
		ORDER BY x.sent_at `+order+`, x.id `+order+` LIMIT 1 OFFSET ?9), `+open+`)`)
	}
	return strings.Join(parts, "\nUNION ALL\n")
}

// MessagePages reads the head of every partition in q with one statement,
// planned by sqlstore.PlanPages.
func (db *DB) MessagePages(ctx context.Context, org interaction.OrgID, q interaction.PageQuery) ([]interaction.Message, error) {
	if q.Empty() {
		return nil, nil
	}
	plan := sqlstore.PlanPages(q)
	lo, hi := q.Span.Millis()
	wholeArg, uniformArg, cutArg := jsonInts(plan.Whole), jsonInts(plan.Uniform.Customers), jsonParts(plan.Cut)
	netLo, netHi := sqlstore.NetworkRange(q.Network)
	fields := q.Fields
	rows := make([]interaction.Message, 0, sqlstore.ExpectedRows(q))
	sh := pageShape{fields: fields, order: q.Order, statuses: q.Statuses != "", campaigns: q.Campaigns != ""}
	var a arena
	if len(plan.Whole) > 0 {
		sh.parts |= partWhole
	}
	if len(plan.Uniform.Customers) > 0 {
		sh.parts |= partUniform
	}
	if len(plan.Cut) > 0 {
		sh.parts |= partCut
	}
	err := db.reads.query(ctx, pageQuery(sh), func(st *sqlite3.Stmt) error {
		// A statement without some parts has fewer parameters: those past
		// its last are not bound.
		n := st.BindCount()
		text := func(i int, v string) error {
			if i > n {
				return nil
			}
			return st.BindText(i, v)
		}
		num := func(i int, v int64) error {
			if i > n {
				return nil
			}
			return st.BindInt64(i, v)
		}
		keyAt := func(i int, v int64) error {
			if i > n {
				return nil
			}
			return bindKey(st, i, v)
		}
		return bindAll(bindKey(st, 1, int64(org)), text(2, wholeArg), text(3, uniformArg),
			text(4, string(plan.Uniform.Network)), text(5, string(plan.Uniform.Type)),
			text(6, cutArg), num(7, lo), num(8, hi), keyAt(9, int64(q.Rows-1)),
			text(10, netLo), text(11, netHi), text(12, string(q.Statuses)), text(13, string(q.Campaigns)))
	}, func(rc *readConn, st *sqlite3.Stmt) error {
		m := interaction.Message{CustomerID: st.ColumnInt64(0), Network: sqlstore.NetworkOf(st.ColumnRawText(1)),
			Type: sqlstore.TypeOf(st.ColumnRawText(2)), SentAt: fromMillis(st.ColumnInt64(3)), ID: st.ColumnInt64(4),
			CampaignID: -1, UserID: -1}
		rc.scanFields(st, &a, &m, fields, 5)
		rows = append(rows, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: message pages: %w", err)
	}
	key := func(m *interaction.Message) sqlstore.PartKey {
		return sqlstore.PartKey{CustomerID: m.CustomerID, Network: m.Network, Type: m.Type}
	}
	if q.Order == interaction.OldestFirst {
		sqlstore.ReverseRuns(rows, key)
	}
	return sqlstore.CutPages(q, rows, key), nil
}

// scanFields reads the optional columns of fields, from column col on, in
// sqlstore.MessageColumns' order. Texts that repeat across rows (senders,
// statuses, a customer's receiver) are not allocated again.
func (rc *readConn) scanFields(st *sqlite3.Stmt, a *arena, m *interaction.Message, fields interaction.MessageFields, col int) {
	for _, c := range sqlstore.MessageColumns {
		if fields&c.Field == 0 {
			continue
		}
		switch c.Field {
		case interaction.FieldSender:
			m.Sender = rc.intern(st.ColumnRawText(col))
		case interaction.FieldReceiver:
			m.Receiver = rc.same(st.ColumnRawText(col))
		case interaction.FieldSubject:
			m.Subject = a.string(st.ColumnRawText(col))
		case interaction.FieldStatus:
			m.Status = rc.intern(st.ColumnRawText(col))
		case interaction.FieldCampaign:
			m.CampaignID = st.ColumnInt64(col)
		case interaction.FieldUser:
			m.UserID = st.ColumnInt64(col)
		case interaction.FieldDelivered:
			if st.ColumnType(col) != sqlite3.NULL {
				m.DeliveredAt = a.time(fromMillis(st.ColumnInt64(col)))
			}
		case interaction.FieldBody:
			m.Body = a.string(st.ColumnRawText(col))
		}
		col++
	}
}

// jsonParts renders partitions as a JSON array of [customer, network,
// type] arrays. Networks and types are the domain's own lower-case words,
// which need no escaping.
func jsonParts(ps []interaction.Partition) string {
	if len(ps) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		b.WriteString(strconv.FormatInt(p.CustomerID, 10))
		b.WriteString(`,"`)
		b.WriteString(string(p.Network))
		b.WriteString(`","`)
		b.WriteString(string(p.Type))
		b.WriteString(`"]`)
	}
	b.WriteByte(']')
	return b.String()
}

// Missed calls and surveys are few per customer: each customer's are read
// whole within the span, in index order (newest first), and cut in Go.
const (
	missedCallPages = `SELECT m.customer_id, m.id, m.called_at, m.used FROM json_each(?2) AS c CROSS JOIN missed_calls AS m
	ON m.org_id = ?1 AND m.customer_id = c.value AND m.called_at BETWEEN ?3 AND ?4`
	surveyPages = `SELECT m.customer_id, m.id, m.name, m.submitted_at, m.responses FROM json_each(?2) AS c CROSS JOIN surveys AS m
	ON m.org_id = ?1 AND m.customer_id = c.value AND m.submitted_at BETWEEN ?3 AND ?4`
)

// MissedCallPages returns each customer's first missed calls in q.Order.
func (db *DB) MissedCallPages(ctx context.Context, org interaction.OrgID, q interaction.PageQuery) ([]interaction.MissedCall, error) {
	var out []interaction.MissedCall
	err := db.listPages(ctx, org, q, missedCallPages, func(_ *readConn, st *sqlite3.Stmt) {
		out = append(out, interaction.MissedCall{CustomerID: st.ColumnInt64(0), ID: st.ColumnInt64(1),
			CalledAt: fromMillis(st.ColumnInt64(2)), Used: st.ColumnBool(3)})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: missed call pages: %w", err)
	}
	return sqlstore.HeadOf(out, q, func(c interaction.MissedCall) int64 { return c.CustomerID }), nil
}

// SurveyPages returns each customer's first surveys in q.Order.
func (db *DB) SurveyPages(ctx context.Context, org interaction.OrgID, q interaction.PageQuery) ([]interaction.Survey, error) {
	var out []interaction.Survey
	err := db.listPages(ctx, org, q, surveyPages, func(_ *readConn, st *sqlite3.Stmt) {
		out = append(out, interaction.Survey{CustomerID: st.ColumnInt64(0), ID: st.ColumnInt64(1), Name: st.ColumnText(2),
			SubmittedAt: fromMillis(st.ColumnInt64(3)), Responses: json.RawMessage(st.ColumnText(4))})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: survey pages: %w", err)
	}
	return sqlstore.HeadOf(out, q, func(s interaction.Survey) int64 { return s.CustomerID }), nil
}

func (db *DB) listPages(ctx context.Context, org interaction.OrgID, q interaction.PageQuery, query string, row func(*readConn, *sqlite3.Stmt)) error {
	if q.Empty() {
		return nil
	}
	ids := sqlstore.PartitionCustomers(q)
	lo, hi := q.Span.Millis()
	return db.reads.query(ctx, query, func(st *sqlite3.Stmt) error {
		return bindAll(bindKey(st, 1, int64(org)), st.BindText(2, jsonInts(ids)), st.BindInt64(3, lo), st.BindInt64(4, hi))
	}, func(rc *readConn, st *sqlite3.Stmt) error {
		row(rc, st)
		return nil
	})
}
