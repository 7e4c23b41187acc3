package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

// The timeline, the counts by status and the summaries of a status or
// campaign filter, in PostgreSQL's words (see sqlite/timeline.go). Their
// texts vary with the filters given and are cached by shape.

var timelineQueries sqlstore.Texts[sqlstore.TimelineShape, prepared]

// params numbers a statement's parameters as its text first uses them,
// so a text built for a shape takes exactly the arguments it uses
// (PostgreSQL cannot type a parameter the text does not use).
type params struct{ names []string }

func (p *params) ref(name string) string {
	for i, n := range p.names {
		if n == name {
			return fmt.Sprintf("$%d", i+1)
		}
	}
	p.names = append(p.names, name)
	return fmt.Sprintf("$%d", len(p.names))
}

// args picks the arguments of the names, in order.
func (p *params) args(values map[string]any) []any {
	out := make([]any, len(p.names))
	for i, n := range p.names {
		out[i] = values[n]
	}
	return out
}

// prepared is a statement text and its parameters' names.
type prepared struct {
	text string
	p    *params
}

// timelineQuery reads, for each of the customers, each list's entries
// past the keyset bound (its time, and an id per list: see
// interaction.TimelineQuery.KeyBound) within the span and filters. Each
// list of each customer is a LATERAL subquery, one range of its index
// from the bound (backwards for oldest first) of at most rows rows, so a
// page costs the same at any depth. Every list yields the same columns;
// those it has not are constants.
func timelineQuery(sh sqlstore.TimelineShape) prepared {
	return timelineQueries.Of(sh, buildTimelineQuery)
}

func buildTimelineQuery(sh sqlstore.TimelineShape) prepared {
	p := &params{}
	var msgCols, zeros []string
	for _, c := range sqlstore.MessageColumns {
		if sh.Fields&c.Field == 0 {
			continue
		}
		msgCols = append(msgCols, c.Expr)
		z := c.Zero
		if z == "" {
			z = "NULL::bigint"
		}
		zeros = append(zeros, z)
	}
	join := func(cols []string) string { return strings.Join(append(cols, ""), ", ") }
	cmp, dir := "<", "DESC"
	if sh.Order == interaction.OldestFirst {
		cmp, dir = ">", "ASC"
	}
	conds := func(at, bound string, message bool) string {
		s := `m.org_id = ` + p.ref("org") + ` AND m.customer_id = c.id AND m.` + at + ` BETWEEN ` + p.ref("lo") + ` AND ` + p.ref("hi")
		if !sh.Count {
			s += ` AND (m.` + at + `, m.id) ` + cmp + ` (` + p.ref("at") + `, ` + p.ref(bound) + `)`
		}
		if message {
			if sh.Networks {
				s += ` AND m.network = ANY(` + p.ref("networks") + `::text[])`
			}
			if sh.Types {
				s += ` AND m.type = ANY(` + p.ref("types") + `::text[])`
			}
			if sh.Statuses {
				s += ` AND m.status = ANY(` + p.ref("statuses") + `::text[])`
			}
			if sh.Campaigns {
				s += ` AND m.campaign_id = ANY(` + p.ref("campaigns") + `::bigint[])`
			}
		}
		return s
	}
	var parts []string
	add := func(kind interaction.EntryKind, table, at, bound string, message bool, cols string) {
		customers := `unnest(` + p.ref("customers") + `::bigint[]) AS c(id)`
		if sh.Count {
			parts = append(parts, `SELECT c.id FROM `+customers+` JOIN `+table+` AS m ON `+conds(at, bound, message))
			return
		}
		where := conds(at, bound, message)
		parts = append(parts, fmt.Sprintf(`SELECT x.* FROM %s CROSS JOIN LATERAL (
	SELECT %d, m.customer_id, m.%s, m.id, %s FROM %s AS m WHERE %s
	ORDER BY m.%s %s, m.id %s LIMIT %s) AS x`, customers, kind, at, cols, table, where, at, dir, dir, p.ref("rows")))
	}
	if sh.Messages {
		add(interaction.EntryMessage, "messages", "sent_at", "msgID", true, "m.network, m.type, "+join(msgCols)+"FALSE, '', ''")
	}
	if sh.Calls {
		add(interaction.EntryMissedCall, "missed_calls", "called_at", "callID", false, "'capillary', 'missed_call', "+join(zeros)+"m.used, '', ''")
	}
	if sh.Surveys {
		add(interaction.EntrySurvey, "surveys", "submitted_at", "surveyID", false, "'capillary', 'survey', "+join(zeros)+"FALSE, m.name, m.responses")
	}
	q := strings.Join(parts, "\nUNION ALL\n")
	if sh.Count {
		q = "SELECT id, COUNT(*)::int FROM (" + q + ") AS t GROUP BY id"
	}
	pq := prepared{text: q, p: p}
	return pq
}

// timelineArgs are q's arguments for the statement of its shape.
func timelineArgs(org interaction.OrgID, q interaction.TimelineQuery, pq prepared) []any {
	lo, hi := q.TimeRange()
	at, msgID := q.KeyBound(interaction.EntryMessage)
	_, callID := q.KeyBound(interaction.EntryMissedCall)
	_, surveyID := q.KeyBound(interaction.EntrySurvey)
	var networks, types []string
	for _, n := range q.Networks {
		networks = append(networks, string(n))
	}
	for _, t := range q.Types {
		types = append(types, string(t))
	}
	return pq.p.args(map[string]any{"org": int64(org), "customers": q.Customers, "lo": lo, "hi": hi, "rows": q.Rows,
		"at": at, "msgID": msgID, "callID": callID, "surveyID": surveyID, "networks": networks, "types": types,
		"statuses": q.Statuses.Strings(), "campaigns": q.Campaigns.Ints()})
}

// Timeline reads the head of every customer's timeline past q.From with
// one statement.
func (db *DB) Timeline(ctx context.Context, org interaction.OrgID, q interaction.TimelineQuery) ([]interaction.TimelineEntry, error) {
	if q.Empty() || q.Rows <= 0 {
		return nil, nil
	}
	pq := timelineQuery(sqlstore.ShapeOf(q, false))
	fields := q.Fields
	out := make([]interaction.TimelineEntry, 0, len(q.Customers)*q.Rows)
	var (
		mr              messageRow
		kind            int
		used            bool
		name, responses string
	)
	dests := append(mr.dests([]any{&kind, &mr.m.CustomerID, &mr.sent, &mr.m.ID, &mr.network, &mr.typ}, fields), &used, &name, &responses)
	err := db.query(ctx, pq.text, timelineArgs(org, q, pq), func(r pgx.Rows) error {
		if err := r.Scan(dests...); err != nil {
			return err
		}
		m := mr.message(fields)
		e := interaction.TimelineEntry{CustomerID: m.CustomerID}
		e.Kind, e.At, e.ID = interaction.EntryKind(kind), m.SentAt, m.ID
		switch e.Kind {
		case interaction.EntryMessage:
			e.Message = m
		case interaction.EntryMissedCall:
			e.MissedCall = interaction.MissedCall{ID: e.ID, CustomerID: e.CustomerID, CalledAt: e.At, Used: used}
		case interaction.EntrySurvey:
			e.Survey = interaction.Survey{ID: e.ID, CustomerID: e.CustomerID, SubmittedAt: e.At, Name: name, Responses: json.RawMessage(responses)}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: timeline: %w", err)
	}
	return out, nil
}

// TimelineCounts counts every customer's timeline under q's filters with
// one statement.
func (db *DB) TimelineCounts(ctx context.Context, org interaction.OrgID, q interaction.TimelineQuery) (map[int64]int, error) {
	out := make(map[int64]int, len(q.Customers))
	if q.Empty() {
		return out, nil
	}
	pq := timelineQuery(sqlstore.ShapeOf(q, true))
	err := db.query(ctx, pq.text, timelineArgs(org, q, pq), func(r pgx.Rows) error {
		var id int64
		var n int
		if err := r.Scan(&id, &n); err != nil {
			return err
		}
		out[id] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: timeline counts: %w", err)
	}
	return out, nil
}

// statusQuery reads counts by status (or, for summaries, counts and
// newest times per group) from the kept counts, or from the messages when
// a span or a campaign narrows them.
func statusQuery(sh statusShape) prepared { return statusQueries.Of(sh, buildStatusQuery) }

// statusShape is what statusQuery's text depends on; its texts are cached
// by it, as the timeline's are.
type statusShape struct{ summaries, kept, statuses, campaigns bool }

var statusQueries sqlstore.Texts[statusShape, prepared]

func buildStatusQuery(sh statusShape) prepared {
	summaries, kept, statuses, campaigns := sh.summaries, sh.kept, sh.statuses, sh.campaigns
	p := &params{}
	var q string
	if kept {
		cols, group := "customer_id, network, type, status, n", ""
		if summaries {
			cols, group = "customer_id, network, type, SUM(n)::int, MAX(last_at), FALSE", " GROUP BY customer_id, network, type"
		}
		q = `SELECT ` + cols + ` FROM interaction_status_counts WHERE org_id = ` + p.ref("org") + ` AND customer_id = ANY(` + p.ref("customers") + `::bigint[])`
		if statuses {
			q += ` AND status = ANY(` + p.ref("statuses") + `::text[])`
		}
		return prepared{q + group, p}
	}
	cols, group := "customer_id, network, type, status, COUNT(*)::int", " GROUP BY customer_id, network, type, status"
	if summaries {
		cols, group = "customer_id, network, type, COUNT(*)::int, MAX(sent_at), FALSE", " GROUP BY customer_id, network, type"
	}
	q = `SELECT ` + cols + ` FROM messages WHERE org_id = ` + p.ref("org") + ` AND customer_id = ANY(` + p.ref("customers") + `::bigint[])
	AND sent_at BETWEEN ` + p.ref("lo") + ` AND ` + p.ref("hi")
	if statuses {
		q += ` AND status = ANY(` + p.ref("statuses") + `::text[])`
	}
	if campaigns {
		q += ` AND campaign_id = ANY(` + p.ref("campaigns") + `::bigint[])`
	}
	return prepared{q + group, p}
}

// statusRows runs statusQuery for f.
func (db *DB) statusRows(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter, summaries bool, row func(pgx.Rows) error) error {
	lo, hi := f.Span().Millis()
	pq := statusQuery(statusShape{summaries, f.Span() == (interaction.Span{}) && f.Campaigns == "", f.Statuses != "", f.Campaigns != ""})
	return db.query(ctx, pq.text, pq.p.args(map[string]any{"org": int64(org), "customers": customerIDs, "lo": lo, "hi": hi,
		"statuses": f.Statuses.Strings(), "campaigns": f.Campaigns.Ints()}), row)
}

// StatusCounts answers the counts by status of many customers in one
// statement; the network and type filters are applied in Go.
func (db *DB) StatusCounts(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter) ([]interaction.StatusCount, error) {
	if len(customerIDs) == 0 {
		return nil, nil
	}
	var out []interaction.StatusCount
	var in sqlstore.Interner
	err := db.statusRows(ctx, org, customerIDs, f, false, func(r pgx.Rows) error {
		var sc interaction.StatusCount
		var n, t, status string
		if err := r.Scan(&sc.CustomerID, &n, &t, &status, &sc.Count); err != nil {
			return err
		}
		sc.Network, sc.Type, sc.Status = interaction.Network(n), interaction.Type(t), in.Of([]byte(status))
		if sqlstore.WantsStored(f, sc.Network, sc.Type) {
			out = append(out, sc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: status counts: %w", err)
	}
	return out, nil
}

// narrowedSummaries answers Summaries for a filter by status or campaign:
// messages only.
func (db *DB) narrowedSummaries(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter) ([]interaction.Summary, error) {
	var out []interaction.Summary
	if err := db.statusRows(ctx, org, customerIDs, f, true, summaryRows(f, &out)); err != nil {
		return nil, fmt.Errorf("postgres: summaries: %w", err)
	}
	return out, nil
}
