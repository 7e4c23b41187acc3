package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/sqlcount"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

// The read path runs on pgx's own pool and interface rather than
// database/sql's: pgx scans binary values straight into typed variables,
// where database/sql boxes every column of every row into an interface
// first, and its pool hands out a connection without database/sql's
// session checks. Lists of keys are bound as arrays, so each query has one
// text (and one prepared statement per connection) whatever the number of
// customers.

// query runs one read statement on a connection of the read pool.
func (db *DB) query(ctx context.Context, sql string, args []any, row func(pgx.Rows) error) (err error) {
	db.stmts.Add(1)
	ctx, span := sqlcount.StartSpan(ctx, "postgresql", "query", sql)
	defer func() { sqlcount.End(span, err) }()
	rows, err := db.read.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

const credentialByID = `SELECT k.id, k.org_id, k.secret_hash, k.md5_hash, k.scopes, k.rate_limit, k.created_at, k.revoked_at, k.expires_at,
	o.name, o.time_zone, o.mask_otp, o.rate_limit
	FROM api_keys k JOIN orgs o ON o.id = k.org_id WHERE k.id = $1`

// readCredential reads a key and its organisation in one statement.
func (db *DB) readCredential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error) {
	var k interaction.APIKey
	var o interaction.Org
	notFound := interaction.Errorf(interaction.KindNotFound, "no key %q", id)
	if !validText(id) {
		return k, o, notFound
	}
	var created int64
	var revoked, expires *int64
	found := false
	err := db.query(ctx, credentialByID, []any{id}, func(r pgx.Rows) error {
		found = true
		return r.Scan(&k.ID, &k.OrgID, &k.SecretHash, &k.MD5Hash, &k.Scopes, &k.RateLimit, &created, &revoked, &expires,
			&o.Name, &o.TimeZone, &o.MaskOTP, &o.RateLimit)
	})
	switch {
	case err != nil:
		return interaction.APIKey{}, interaction.Org{}, fmt.Errorf("postgres: credential: %w", err)
	case !found:
		return interaction.APIKey{}, interaction.Org{}, notFound
	}
	k.CreatedAt, k.RevokedAt, k.ExpiresAt = fromMillis(created), fromNullMillis(revoked), fromNullMillis(expires)
	o.ID = k.OrgID
	return k, o, nil
}

// customersBy finds customers by each kind of identifier: $1 the
// organisation, $2 the values (see identifierArg).
var customersBy = map[interaction.IdentifierKind]string{
	interaction.ByID:         `SELECT id, mobile, email, external_id FROM customers WHERE org_id = $1 AND id = ANY($2::bigint[])`,
	interaction.ByMobile:     `SELECT id, mobile, email, external_id FROM customers WHERE org_id = $1 AND mobile = ANY($2::text[]) AND mobile <> ''`,
	interaction.ByEmail:      `SELECT id, mobile, email, external_id FROM customers WHERE org_id = $1 AND email = ANY($2::text[]) AND email <> ''`,
	interaction.ByExternalID: `SELECT id, mobile, email, external_id FROM customers WHERE org_id = $1 AND external_id = ANY($2::text[]) AND external_id <> ''`,
}

// identifierArg is the array of values a customersBy statement takes for
// kind: ids parsed as numbers, text checked for what PostgreSQL refuses;
// values no customer can have are dropped, and !ok when none is left.
func identifierArg(kind interaction.IdentifierKind, values []string) (arg any, ok bool) {
	if kind == interaction.ByID {
		ids := make([]int64, 0, len(values))
		for _, v := range values {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				ids = append(ids, n)
			}
		}
		return ids, len(ids) > 0
	}
	vs := make([]string, 0, len(values))
	for _, v := range values {
		if validText(v) {
			vs = append(vs, v)
		}
	}
	return vs, len(vs) > 0
}

// CustomersByIdentifier returns the organisation's customers whose kind
// identifier is one of values, in no particular order.
func (db *DB) CustomersByIdentifier(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string) ([]interaction.Customer, error) {
	query, ok := customersBy[kind]
	if !ok {
		return nil, interaction.Errorf(interaction.KindInvalid, "invalid identifier name %q", kind)
	}
	arg, ok := identifierArg(kind, values)
	if !ok {
		return nil, nil
	}
	out := make([]interaction.Customer, 0, len(values))
	err := db.query(ctx, query, []any{int64(org), arg}, func(r pgx.Rows) error {
		c := interaction.Customer{OrgID: org}
		if err := r.Scan(&c.ID, &c.Mobile, &c.Email, &c.ExternalID); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: customers by %s: %w", kind, err)
	}
	return out, nil
}

const (
	countsOf = `SELECT customer_id, network, type, n, last_at, used FROM interaction_counts
	WHERE org_id = $1 AND customer_id = ANY($2::bigint[])`
	countsOfTypes = `SELECT customer_id, network, type, n, last_at, used FROM interaction_counts
	WHERE org_id = $1 AND customer_id = ANY($2::bigint[]) AND type = ANY($3::text[])`
	summariesIn = `SELECT customer_id, network, type, COUNT(*)::int, MAX(sent_at), FALSE FROM messages
	WHERE org_id = $1 AND customer_id = ANY($2::bigint[]) AND sent_at BETWEEN $3 AND $4
	GROUP BY customer_id, network, type
UNION ALL
SELECT customer_id, 'capillary', 'missed_call', COUNT(*)::int, MAX(called_at),
	(SELECT x.used FROM missed_calls x WHERE x.org_id = mc.org_id AND x.customer_id = mc.customer_id
		AND x.called_at BETWEEN $3 AND $4 ORDER BY x.called_at DESC, x.id DESC LIMIT 1)
	FROM missed_calls mc WHERE org_id = $1 AND customer_id = ANY($2::bigint[]) AND called_at BETWEEN $3 AND $4
	GROUP BY org_id, customer_id
UNION ALL
SELECT customer_id, 'capillary', 'survey', COUNT(*)::int, MAX(submitted_at), FALSE FROM surveys
	WHERE org_id = $1 AND customer_id = ANY($2::bigint[]) AND submitted_at BETWEEN $3 AND $4
	GROUP BY customer_id`
)

// Summaries answers counts, last times and used flags for many customers in
// one statement: from the maintained counts, or aggregated within a span.
func (db *DB) Summaries(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter) ([]interaction.Summary, error) {
	if len(customerIDs) == 0 {
		return nil, nil
	}
	var query string
	var args []any
	switch sqlstore.SummariesFrom(f) {
	case sqlstore.SummariesNarrowed:
		return db.narrowedSummaries(ctx, org, customerIDs, f)
	case sqlstore.SummariesInSpan:
		lo, hi := f.Span().Millis()
		query, args = summariesIn, []any{int64(org), customerIDs, lo, hi}
	case sqlstore.SummariesKeptOfTypes:
		query, args = countsOfTypes, []any{int64(org), customerIDs, storedTypes(f.Type)}
	default: // sqlstore.SummariesKept
		query, args = countsOf, []any{int64(org), customerIDs}
	}
	out := make([]interaction.Summary, 0, len(customerIDs)*4)
	if err := db.query(ctx, query, args, summaryRows(f, &out)); err != nil {
		return nil, fmt.Errorf("postgres: summaries: %w", err)
	}
	return out, nil
}

// summaryRows scans rows of (customer, network, type, count, newest time,
// used) into out, keeping those of f's network and stored types (the
// statements filter by customer and, at most, type).
func summaryRows(f interaction.Filter, out *[]interaction.Summary) func(pgx.Rows) error {
	return func(r pgx.Rows) error {
		var s interaction.Summary
		var n, t string
		var last int64
		if err := r.Scan(&s.CustomerID, &n, &t, &s.Count, &last, &s.Used); err != nil {
			return err
		}
		s.Network, s.Type = interaction.Network(n), interaction.Type(t)
		if !sqlstore.WantsStored(f, s.Network, s.Type) {
			return nil
		}
		at := fromMillis(last)
		s.Last = &at
		*out = append(*out, s)
		return nil
	}
}

var headQueries sqlstore.Texts[headShape, string]

type headShape struct {
	fields interaction.MessageFields
	order  interaction.Order
	typed  bool
	// lookup, when set, finds the customers by this kind of identifier in
	// the same statement instead of taking their ids.
	lookup interaction.IdentifierKind
}

// lookupColumns are the customers' column and array type of each kind of
// identifier, as customersBy matches them.
var lookupColumns = map[interaction.IdentifierKind][2]string{
	interaction.ByID:         {"id", "bigint"},
	interaction.ByMobile:     {"mobile", "text"},
	interaction.ByEmail:      {"email", "text"},
	interaction.ByExternalID: {"external_id", "text"},
}

// headsQuery reads the kept counts of customers ($2) within a network
// range ($3, $4) and, when typed, of stored types $6 and, joined
// to each counted partition of messages, its newest $5 messages: the
// summaries and the first page of every partition in one round trip.
// LATERAL runs once per counts row, so a partition's messages follow its
// summary; a summary without messages comes once, with h's columns NULL.
// A statement of its own for typed requests keeps the type in the index
// condition (the key is org, customer, type, network): a test on an empty
// array beside it would turn it into a filter over every counts row.
//
// With a lookup kind, $2 holds identifiers of that kind, and the statement
// starts from the customers they name, their columns first: a customer
// without counts comes once, with c's columns NULL. One round trip then
// answers a one-customer question whole.
func headsQuery(shape headShape) string { return headQueries.Of(shape, buildHeadsQuery) }

func buildHeadsQuery(shape headShape) string {
	dir := "DESC"
	if shape.order == interaction.OldestFirst {
		dir = "ASC" // a backward scan of the same index
	}
	inner, outer := "m.sent_at, m.id", "h.id IS NOT NULL, COALESCE(h.sent_at, 0), COALESCE(h.id, 0)"
	for _, c := range sqlstore.MessageColumns {
		if shape.fields&c.Field == 0 {
			continue
		}
		inner += ", " + c.Expr + " AS " + c.Name
		if c.Zero == "" {
			outer += ", h." + c.Name
		} else {
			outer += ", COALESCE(h." + c.Name + ", " + c.Zero + ")"
		}
	}
	heads := ` LEFT JOIN LATERAL (
	SELECT ` + inner + ` FROM messages AS m
	WHERE c.type NOT IN ('missed_call', 'survey') AND m.org_id = c.org_id AND m.customer_id = c.customer_id
		AND m.network = c.network AND m.type = c.type
	ORDER BY m.sent_at ` + dir + `, m.id ` + dir + ` LIMIT $5) AS h ON TRUE`
	typed := ""
	if shape.typed {
		typed = ` AND c.type = ANY($6::text[])`
	}
	if shape.lookup == "" {
		return `SELECT c.customer_id, c.network, c.type, c.n, c.last_at, c.used, ` + outer + `
FROM interaction_counts AS c` + heads + `
WHERE c.org_id = $1 AND c.customer_id = ANY($2::bigint[]) AND c.network BETWEEN $3 AND $4` + typed
	}
	return lookupCounts(shape.lookup, ", "+outer, typed, heads)
}

// lookupCounts is the customers that $2 names (identifiers of kind)
// joined to their kept counts within a network range ($3, $4) and the
// typed condition: a customer without counts comes once, with the counts'
// columns NULL. cols are selected after the counts' and join is joined
// after them (headsQuery's heads; none for lookupCountQuery).
func lookupCounts(kind interaction.IdentifierKind, cols, typed, join string) string {
	col := lookupColumns[kind]
	q := `SELECT u.id, u.mobile, u.email, u.external_id, c.customer_id IS NOT NULL,
	COALESCE(c.network, ''), COALESCE(c.type, ''), COALESCE(c.n, 0), COALESCE(c.last_at, 0), COALESCE(c.used, FALSE)` + cols + `
FROM customers AS u LEFT JOIN interaction_counts AS c
	ON c.org_id = u.org_id AND c.customer_id = u.id AND c.network BETWEEN $3 AND $4` + typed + join + `
WHERE u.org_id = $1 AND u.` + col[0] + ` = ANY($2::` + col[1] + `[])`
	if col[1] == "text" {
		q += ` AND u.` + col[0] + ` <> ''`
	}
	return q
}

// headArgs are a heads statement's arguments after the customers ($2).
func headArgs(org interaction.OrgID, customers any, f interaction.Filter, rows int) []any {
	netLo, netHi := sqlstore.NetworkRange(f.Network)
	args := []any{int64(org), customers, netLo, netHi, rows}
	if f.Type != "" {
		args = append(args, storedTypes(f.Type))
	}
	return args
}

// storedTypes is the array of t's stored types (see Type.StoredTypes).
func storedTypes(t interaction.Type) []string {
	stored := t.StoredTypes()
	out := make([]string, len(stored))
	for i, st := range stored {
		out[i] = string(st)
	}
	return out
}

// headsContract checks a heads read's arguments against
// interaction.HeadReader's contract: the kept counts know no span, and
// without rows no heads would be read.
func headsContract(f interaction.Filter, rows int) error {
	if f.Span() != (interaction.Span{}) || rows <= 0 {
		return fmt.Errorf("postgres: summaries with heads need an open span and rows, got %+v and %d", f.Span(), rows)
	}
	return nil
}

// headRows collects the rows of a heads statement: the summaries, each
// once, and the messages. The caller's lead destinations come first.
type headRows struct {
	mr    messageRow
	s     interaction.Summary
	last  int64
	found bool
	sums  []interaction.Summary
	heads []interaction.Message
}

func newHeadRows(customers, rows int) *headRows {
	return &headRows{
		sums:  make([]interaction.Summary, 0, customers*4),
		heads: make([]interaction.Message, 0, customers*rows),
	}
}

// dests are the destinations of a heads row's summary and message
// columns, after lead.
func (h *headRows) dests(lead []any, fields interaction.MessageFields) []any {
	lead = append(lead, &h.mr.network, &h.mr.typ, &h.s.Count, &h.last, &h.s.Used, &h.found, &h.mr.sent, &h.mr.m.ID)
	return h.mr.dests(lead, fields)
}

// add takes the row just scanned for customer.
func (h *headRows) add(customer int64, fields interaction.MessageFields) {
	h.s.CustomerID = customer
	h.s.Network, h.s.Type = sqlstore.NetworkOf(h.mr.network), sqlstore.TypeOf(h.mr.typ)
	if k := len(h.sums) - 1; k < 0 || h.sums[k].CustomerID != h.s.CustomerID || h.sums[k].Network != h.s.Network || h.sums[k].Type != h.s.Type {
		at := fromMillis(h.last)
		h.s.Last = &at
		h.sums = append(h.sums, h.s)
	}
	if h.found {
		h.mr.m.CustomerID = customer
		h.heads = append(h.heads, h.mr.message(fields))
	}
}

// SummariesWithHeads answers Summaries and the first rows messages of
// every counted partition with one statement (see interaction.HeadReader):
// across the network a statement costs more than its rows, and the page
// statement needs nothing from the summaries that a join cannot give it.
func (db *DB) SummariesWithHeads(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter, rows int, order interaction.Order, fields interaction.MessageFields) ([]interaction.Summary, []interaction.Message, error) {
	if len(customerIDs) == 0 {
		return nil, nil, nil
	}
	if err := headsContract(f, rows); err != nil {
		return nil, nil, err
	}
	h := newHeadRows(len(customerIDs), rows)
	var customer int64
	dests := h.dests([]any{&customer}, fields)
	err := db.query(ctx, headsQuery(headShape{fields: fields, order: order, typed: f.Type != ""}), headArgs(org, customerIDs, f, rows), func(r pgx.Rows) error {
		if err := r.Scan(dests...); err != nil {
			return err
		}
		h.add(customer, fields)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: summaries with heads: %w", err)
	}
	sqlstore.SortPages(h.heads, order)
	return h.sums, h.heads, nil
}

// CustomersWithHeads is CustomersByIdentifier and SummariesWithHeads for
// the customers found, in one statement (see interaction.HeadReader),
// shared with the calls of the same shape that wait beside it (see
// coalesce.go).
func (db *DB) CustomersWithHeads(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string, f interaction.Filter, rows int, order interaction.Order, fields interaction.MessageFields) ([]interaction.Customer, []interaction.Summary, []interaction.Message, error) {
	if f.Span() != (interaction.Span{}) || f.Narrowed() {
		return db.customersWithHeads(ctx, org, kind, values, f, rows, order, fields)
	}
	k := headsKey{org: org, kind: kind, network: f.Network, typ: f.Type, rows: rows, order: order, fields: fields}
	a, err := db.heads.Do(ctx, k, values)
	return a.customers, a.summaries, a.heads, err
}

func (db *DB) customersWithHeads(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string, f interaction.Filter, rows int, order interaction.Order, fields interaction.MessageFields) ([]interaction.Customer, []interaction.Summary, []interaction.Message, error) {
	if _, ok := lookupColumns[kind]; !ok {
		return nil, nil, nil, interaction.Errorf(interaction.KindInvalid, "invalid identifier name %q", kind)
	}
	if err := headsContract(f, rows); err != nil {
		return nil, nil, nil, err
	}
	arg, ok := identifierArg(kind, values)
	if !ok {
		return nil, nil, nil, nil
	}
	var (
		cs      []interaction.Customer
		c       = interaction.Customer{OrgID: org}
		counted bool
		h       = newHeadRows(len(values), rows)
		seen    = make(map[int64]bool, len(values))
	)
	dests := h.dests([]any{&c.ID, &c.Mobile, &c.Email, &c.ExternalID, &counted}, fields)
	err := db.query(ctx, headsQuery(headShape{fields: fields, order: order, typed: f.Type != "", lookup: kind}), headArgs(org, arg, f, rows), func(r pgx.Rows) error {
		if err := r.Scan(dests...); err != nil {
			return err
		}
		// A customer's rows need not be together (the plan may join the
		// counts by hash), so customers are told apart by id.
		if k := len(cs) - 1; (k < 0 || cs[k].ID != c.ID) && !seen[c.ID] {
			seen[c.ID] = true
			cs = append(cs, c)
		}
		if counted {
			h.add(c.ID, fields)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("postgres: customers by %s with heads: %w", kind, err)
	}
	sqlstore.SortPages(h.heads, order)
	return cs, h.sums, h.heads, nil
}

var lookupCountQueries sqlstore.Texts[lookupCountShape, string]

type lookupCountShape struct {
	kind  interaction.IdentifierKind
	typed bool
}

// lookupCountQuery is headsQuery's lookup without the heads, typed by
// stored types $5.
func lookupCountQuery(sh lookupCountShape) string {
	return lookupCountQueries.Of(sh, func(sh lookupCountShape) string {
		typed := ""
		if sh.typed {
			typed = ` AND c.type = ANY($5::text[])`
		}
		return lookupCounts(sh.kind, "", typed, "")
	})
}

// CustomersWithSummaries is CustomersByIdentifier and Summaries for the
// customers found, in one statement (see interaction.SummaryFinder): a
// question that renders counts but no messages (a dashboard's badges)
// then costs one round trip instead of two.
func (db *DB) CustomersWithSummaries(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string, f interaction.Filter) ([]interaction.Customer, []interaction.Summary, error) {
	if f.Span() != (interaction.Span{}) || f.Narrowed() {
		return nil, nil, fmt.Errorf("postgres: customers with summaries need the kept counts, got %+v", f)
	}
	if _, ok := lookupColumns[kind]; !ok {
		return nil, nil, interaction.Errorf(interaction.KindInvalid, "invalid identifier name %q", kind)
	}
	arg, ok := identifierArg(kind, values)
	if !ok {
		return nil, nil, nil
	}
	netLo, netHi := sqlstore.NetworkRange(f.Network)
	args := []any{int64(org), arg, netLo, netHi}
	if f.Type != "" {
		args = append(args, storedTypes(f.Type))
	}
	var (
		cs      = make([]interaction.Customer, 0, len(values))
		sums    = make([]interaction.Summary, 0, len(values)*8)
		seen    = make(map[int64]bool, len(values))
		c       = interaction.Customer{OrgID: org}
		s       interaction.Summary
		n, t    []byte
		last    int64
		counted bool
	)
	dests := []any{&c.ID, &c.Mobile, &c.Email, &c.ExternalID, &counted, &n, &t, &s.Count, &last, &s.Used}
	err := db.query(ctx, lookupCountQuery(lookupCountShape{kind: kind, typed: f.Type != ""}), args, func(r pgx.Rows) error {
		if err := r.Scan(dests...); err != nil {
			return err
		}
		// A customer's rows need not be together (the plan may join the
		// counts by hash), so customers are told apart by id.
		if !seen[c.ID] {
			seen[c.ID] = true
			cs = append(cs, c)
		}
		if !counted {
			return nil
		}
		s.CustomerID = c.ID
		s.Network, s.Type = sqlstore.NetworkOf(n), sqlstore.TypeOf(t)
		at := fromMillis(last)
		s.Last = &at
		sums = append(sums, s)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: customers by %s with summaries: %w", kind, err)
	}
	return cs, sums, nil
}

var pageQueries sqlstore.Texts[pageShape, string]

type pageShape struct {
	fields interaction.MessageFields
	order  interaction.Order
	// statuses and campaigns add their filters, as $14 and the next.
	statuses, campaigns bool
}

// pageQuery is sqlite's page statement in PostgreSQL's words (see
// sqlstore.PlanPages): whole customers ($2) within a network range ($10,
// $11), partitions of one network and type ($3 the customers, $4 and $5),
// and any partitions ($6, $12, $13 in parallel arrays) each cut to $9 rows
// by a LATERAL subquery. $7 and $8 bound the sent time. PostgreSQL does not
// promise the order of the first two parts, so the rows are ordered in Go.
// An oldest-first page's LATERAL subquery orders ascending: a backward scan
// of the same index.
func pageQuery(sh pageShape) string { return pageQueries.Of(sh, buildPageQuery) }

func buildPageQuery(sh pageShape) string {
	cols := sqlstore.PageColumns(sh.fields)
	order := "DESC"
	if sh.order == interaction.OldestFirst {
		order = "ASC"
	}
	narrow, next := "", 14
	if sh.statuses {
		narrow += fmt.Sprintf(" AND m.status = ANY($%d::text[])", next)
		next++
	}
	if sh.campaigns {
		narrow += fmt.Sprintf(" AND m.campaign_id = ANY($%d::bigint[])", next)
	}
	return `SELECT ` + cols + ` FROM messages AS m
	WHERE m.org_id = $1 AND m.customer_id = ANY($2::bigint[]) AND m.network BETWEEN $10 AND $11 AND m.sent_at BETWEEN $7 AND $8` + narrow + `
UNION ALL
SELECT ` + cols + ` FROM messages AS m
	WHERE m.org_id = $1 AND m.customer_id = ANY($3::bigint[]) AND m.network = $4 AND m.type = $5 AND m.sent_at BETWEEN $7 AND $8` + narrow + `
UNION ALL
SELECT x.* FROM unnest($6::bigint[], $12::text[], $13::text[]) AS p(c, n, t) CROSS JOIN LATERAL (
	SELECT ` + cols + ` FROM messages AS m
	WHERE m.org_id = $1 AND m.customer_id = p.c AND m.network = p.n AND m.type = p.t AND m.sent_at BETWEEN $7 AND $8` + narrow + `
	ORDER BY m.sent_at ` + order + `, m.id ` + order + ` LIMIT $9) AS x`
}

// MessagePages reads the head of every partition in q with one statement.
func (db *DB) MessagePages(ctx context.Context, org interaction.OrgID, q interaction.PageQuery) ([]interaction.Message, error) {
	if q.Empty() {
		return nil, nil
	}
	plan := sqlstore.PlanPages(q)
	lo, hi := q.Span.Millis()
	netLo, netHi := sqlstore.NetworkRange(q.Network)
	cutC := make([]int64, len(plan.Cut))
	cutN := make([]string, len(plan.Cut))
	cutT := make([]string, len(plan.Cut))
	for i, p := range plan.Cut {
		cutC[i], cutN[i], cutT[i] = p.CustomerID, string(p.Network), string(p.Type)
	}
	args := []any{int64(org), plan.Whole, plan.Uniform.Customers, string(plan.Uniform.Network), string(plan.Uniform.Type),
		cutC, lo, hi, q.Rows, netLo, netHi, cutN, cutT}
	if q.Statuses != "" {
		args = append(args, q.Statuses.Strings())
	}
	if q.Campaigns != "" {
		args = append(args, q.Campaigns.Ints())
	}
	fields := q.Fields
	rows := make([]interaction.Message, 0, sqlstore.ExpectedRows(q))
	var mr messageRow
	dests := mr.dests([]any{&mr.m.CustomerID, &mr.network, &mr.typ, &mr.sent, &mr.m.ID}, fields)
	err := db.query(ctx, pageQuery(pageShape{fields, q.Order, q.Statuses != "", q.Campaigns != ""}), args, func(r pgx.Rows) error {
		if err := r.Scan(dests...); err != nil {
			return err
		}
		rows = append(rows, mr.message(fields))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: message pages: %w", err)
	}
	sqlstore.SortPages(rows, q.Order)
	return sqlstore.CutPages(q, rows, func(m *interaction.Message) sqlstore.PartKey {
		return sqlstore.PartKey{CustomerID: m.CustomerID, Network: m.Network, Type: m.Type}
	}), nil
}

// messageRow is where a page's rows are scanned, one after another: the
// same destinations for every row (no []any built per row), and the text
// that repeats from row to row (network, type, sender, status) read as the
// driver's bytes and turned into shared strings.
type messageRow struct {
	m                 interaction.Message
	network, typ      pgtype.DriverBytes
	sender, status    pgtype.DriverBytes
	sent              int64
	delivered         pgtype.Int8
	senders, statuses sqlstore.Interner
}

// dests appends the destinations of fields' columns, in
// sqlstore.MessageColumns' order, to lead.
func (r *messageRow) dests(lead []any, fields interaction.MessageFields) []any {
	r.m = interaction.Message{CampaignID: -1, UserID: -1} // columns not read keep these
	for _, c := range sqlstore.MessageColumns {
		if fields&c.Field == 0 {
			continue
		}
		switch c.Field {
		case interaction.FieldSender:
			lead = append(lead, &r.sender)
		case interaction.FieldReceiver:
			lead = append(lead, &r.m.Receiver)
		case interaction.FieldSubject:
			lead = append(lead, &r.m.Subject)
		case interaction.FieldStatus:
			lead = append(lead, &r.status)
		case interaction.FieldCampaign:
			lead = append(lead, &r.m.CampaignID)
		case interaction.FieldUser:
			lead = append(lead, &r.m.UserID)
		case interaction.FieldDelivered:
			lead = append(lead, &r.delivered)
		case interaction.FieldBody:
			lead = append(lead, &r.m.Body)
		}
	}
	return lead
}

// message is the row just scanned.
func (r *messageRow) message(fields interaction.MessageFields) interaction.Message {
	m := r.m
	m.Network, m.Type, m.SentAt = sqlstore.NetworkOf(r.network), sqlstore.TypeOf(r.typ), fromMillis(r.sent)
	if fields&interaction.FieldSender != 0 {
		m.Sender = r.senders.Of(r.sender)
	}
	if fields&interaction.FieldStatus != 0 {
		m.Status = r.statuses.Of(r.status)
	}
	if r.delivered.Valid {
		at := fromMillis(r.delivered.Int64)
		m.DeliveredAt = &at
	}
	return m
}

const (
	missedCallPages = `SELECT customer_id, id, called_at, used FROM missed_calls
	WHERE org_id = $1 AND customer_id = ANY($2::bigint[]) AND called_at BETWEEN $3 AND $4
	ORDER BY customer_id, called_at DESC, id DESC`
	surveyPages = `SELECT customer_id, id, name, submitted_at, responses FROM surveys
	WHERE org_id = $1 AND customer_id = ANY($2::bigint[]) AND submitted_at BETWEEN $3 AND $4
	ORDER BY customer_id, submitted_at DESC, id DESC`
)

// MissedCallPages returns each customer's first missed calls in q.Order.
func (db *DB) MissedCallPages(ctx context.Context, org interaction.OrgID, q interaction.PageQuery) ([]interaction.MissedCall, error) {
	var out []interaction.MissedCall
	err := db.listPages(ctx, org, q, missedCallPages, func(r pgx.Rows) error {
		var c interaction.MissedCall
		var at int64
		if err := r.Scan(&c.CustomerID, &c.ID, &at, &c.Used); err != nil {
			return err
		}
		c.CalledAt = fromMillis(at)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: missed call pages: %w", err)
	}
	return sqlstore.HeadOf(out, q, func(c interaction.MissedCall) int64 { return c.CustomerID }), nil
}

// SurveyPages returns each customer's first surveys in q.Order.
func (db *DB) SurveyPages(ctx context.Context, org interaction.OrgID, q interaction.PageQuery) ([]interaction.Survey, error) {
	var out []interaction.Survey
	err := db.listPages(ctx, org, q, surveyPages, func(r pgx.Rows) error {
		var s interaction.Survey
		var at int64
		var resp string
		if err := r.Scan(&s.CustomerID, &s.ID, &s.Name, &at, &resp); err != nil {
			return err
		}
		s.SubmittedAt, s.Responses = fromMillis(at), json.RawMessage(resp)
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: survey pages: %w", err)
	}
	return sqlstore.HeadOf(out, q, func(s interaction.Survey) int64 { return s.CustomerID }), nil
}

func (db *DB) listPages(ctx context.Context, org interaction.OrgID, q interaction.PageQuery, query string, row func(pgx.Rows) error) error {
	if q.Empty() {
		return nil
	}
	ids := sqlstore.PartitionCustomers(q)
	lo, hi := q.Span.Millis()
	return db.query(ctx, query, []any{int64(org), ids, lo, hi}, row)
}

// validText reports whether PostgreSQL's text can hold s: neither NUL nor
// invalid UTF-8, which would fail the whole statement. Such a value names
// nothing.
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// fromNullMillis is fromMillis of a nullable column, nil for NULL.
func fromNullMillis(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := fromMillis(*ms)
	return &t
}
