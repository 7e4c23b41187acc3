package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

// The timeline, the counts by status and the summaries of a status or
// campaign filter. Their statements vary with the filters given (a
// condition on an absent filter would only cost the planner), so their
// texts are built per shape and cached.

var timelineQueries sqlstore.Texts[sqlstore.TimelineShape, string]

// The parameters: ?1 the organisation, ?2 the customers (a JSON array),
// ?3 and ?4 the span (narrowed to the keyset bound's time), ?5 the rows before each customer's cut, ?6 the
// keyset bound's time and ?7, ?8, ?9 its id for messages, missed calls
// and surveys (see interaction.TimelineQuery.KeyBound), ?10 to ?13 the
// networks, types, statuses and campaigns (JSON arrays).
//
// Each list is read as the existing pages are (pageQuery's cut part): a
// customer's rows past the bound, down to the time of its rows-th such
// row, which a correlated lookup finds on the same index. So a page reads
// about its own rows from every list whatever its depth: page 500 costs
// what page 1 costs. Ties at the cut's time can bring a few more rows;
// interaction.ReadTimeline sorts and cuts.
func timelineQuery(sh sqlstore.TimelineShape) string {
	return timelineQueries.Of(sh, buildTimelineQuery)
}

func buildTimelineQuery(sh sqlstore.TimelineShape) string {
	var msgCols []string
	for _, c := range sqlstore.MessageColumns {
		if sh.Fields&c.Field != 0 {
			msgCols = append(msgCols, c.Expr)
		}
	}
	zeros := func() string {
		var z []string
		for _, c := range sqlstore.MessageColumns {
			if sh.Fields&c.Field != 0 {
				z = append(z, cmpZero(c.Zero))
			}
		}
		return strings.Join(append(z, ""), ", ")
	}
	cmp, dir, open := "<", "DESC", "?3"
	cut := ">="
	if sh.Order == interaction.OldestFirst {
		cmp, dir, open, cut = ">", "ASC", "?4", "<="
	}
	var parts []string
	part := func(alias, at, bound string, message bool) (conds string) {
		conds = alias + `.org_id = ?1 AND ` + alias + `.customer_id = c.value`
		switch {
		case alias == "m" && !sh.Count && sh.Order == interaction.OldestFirst:
			conds += ` AND m.` + at + ` >= ?3` // and the cut, below: the only bounds of the range
		case alias == "m" && !sh.Count:
			conds += ` AND m.` + at + ` <= ?4`
		default:
			conds += ` AND ` + alias + `.` + at + ` BETWEEN ?3 AND ?4`
		}
		if !sh.Count {
			conds += ` AND (` + alias + `.` + at + `, ` + alias + `.id) ` + cmp + ` (?6, ` + bound + `)`
		}
		if message {
			if sh.Networks {
				conds += ` AND ` + alias + `.network IN (SELECT value FROM json_each(?10))`
			}
			if sh.Types {
				conds += ` AND ` + alias + `.type IN (SELECT value FROM json_each(?11))`
			}
			if sh.Statuses {
				conds += ` AND ` + alias + `.status IN (SELECT value FROM json_each(?12))`
			}
			if sh.Campaigns {
				conds += ` AND ` + alias + `.campaign_id IN (SELECT value FROM json_each(?13))`
			}
		}
		return conds
	}
	add := func(kind int, table, at, bound string, message bool, cols string) {
		if sh.Count {
			parts = append(parts, `SELECT m.customer_id FROM json_each(?2) AS c CROSS JOIN `+table+` AS m ON `+part("m", at, bound, message))
			return
		}
		parts = append(parts, fmt.Sprintf(`SELECT %d, m.customer_id, m.%s, m.id, %s FROM json_each(?2) AS c CROSS JOIN %s AS m
	ON %s
	AND m.%s %s coalesce((SELECT x.%s FROM %s AS x WHERE %s
		ORDER BY x.%s %s, x.id %s LIMIT 1 OFFSET ?5), %s)`,
			kind, at, cols, table, part("m", at, bound, message),
			at, cut, at, table, part("x", at, bound, message), at, dir, dir, open))
	}
	if sh.Messages {
		cols := strings.Join(append([]string{"m.network", "m.type"}, msgCols...), ", ")
		add(int(interaction.EntryMessage), "messages", "sent_at", "?7", true, cols+", 0, '', ''")
	}
	if sh.Calls {
		add(int(interaction.EntryMissedCall), "missed_calls", "called_at", "?8", false, "'capillary', 'missed_call', "+zeros()+"m.used, '', ''")
	}
	if sh.Surveys {
		add(int(interaction.EntrySurvey), "surveys", "submitted_at", "?9", false, "'capillary', 'survey', "+zeros()+"0, m.name, m.responses")
	}
	q := strings.Join(parts, "\nUNION ALL\n")
	if sh.Count {
		q = "SELECT customer_id, COUNT(*) FROM (" + q + ") GROUP BY customer_id"
	}
	return q
}

// cmpZero is a column's stand-in in a list that has no such column.
func cmpZero(zero string) string {
	if zero == "" {
		return "NULL"
	}
	return zero
}

// bindTimeline binds q's parameters (those the statement has).
func bindTimeline(st *sqlite3.Stmt, org interaction.OrgID, q interaction.TimelineQuery) error {
	n := st.BindCount()
	lo, hi := q.TimeRange()
	at, msgID := q.KeyBound(interaction.EntryMessage)
	_, callID := q.KeyBound(interaction.EntryMissedCall)
	_, surveyID := q.KeyBound(interaction.EntrySurvey)
	networks, _ := json.Marshal(q.Networks)
	types, _ := json.Marshal(q.Types)
	args := []any{org, jsonInts(q.Customers), lo, hi, key(max(q.Rows, 1) - 1), at, msgID, callID, surveyID,
		string(networks), string(types), string(q.Statuses), string(q.Campaigns)}
	for i, a := range args[:min(n, len(args))] {
		var err error
		switch a := a.(type) {
		case interaction.OrgID:
			err = bindKey(st, i+1, int64(a))
		case key:
			err = bindKey(st, i+1, int64(a))
		case int64:
			err = st.BindInt64(i+1, a)
		case string:
			err = st.BindText(i+1, a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// key is a parameter bound as text (see bindKey).
type key int64

// Timeline reads the head of every customer's timeline past q.From with
// one statement.
func (db *DB) Timeline(ctx context.Context, org interaction.OrgID, q interaction.TimelineQuery) ([]interaction.TimelineEntry, error) {
	if q.Empty() || q.Rows <= 0 {
		return nil, nil
	}
	fields := q.Fields
	nf := 0
	for _, c := range sqlstore.MessageColumns {
		if fields&c.Field != 0 {
			nf++
		}
	}
	out := make([]interaction.TimelineEntry, 0, len(q.Customers)*q.Rows)
	var a arena
	err := db.reads.query(ctx, timelineQuery(sqlstore.ShapeOf(q, false)), func(st *sqlite3.Stmt) error {
		return bindTimeline(st, org, q)
	}, func(rc *readConn, st *sqlite3.Stmt) error {
		e := interaction.TimelineEntry{CustomerID: st.ColumnInt64(1)}
		e.Kind, e.At, e.ID = interaction.EntryKind(st.ColumnInt(0)), fromMillis(st.ColumnInt64(2)), st.ColumnInt64(3)
		switch e.Kind {
		case interaction.EntryMessage:
			e.Message = interaction.Message{ID: e.ID, CustomerID: e.CustomerID, Network: sqlstore.NetworkOf(st.ColumnRawText(4)),
				Type: sqlstore.TypeOf(st.ColumnRawText(5)), SentAt: e.At, CampaignID: -1, UserID: -1}
			rc.scanFields(st, &a, &e.Message, fields, 6)
		case interaction.EntryMissedCall:
			e.MissedCall = interaction.MissedCall{ID: e.ID, CustomerID: e.CustomerID, CalledAt: e.At, Used: st.ColumnBool(6 + nf)}
		case interaction.EntrySurvey:
			e.Survey = interaction.Survey{ID: e.ID, CustomerID: e.CustomerID, SubmittedAt: e.At, Name: st.ColumnText(7 + nf),
				Responses: json.RawMessage(st.ColumnText(8 + nf))}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: timeline: %w", err)
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
	err := db.reads.query(ctx, timelineQuery(sqlstore.ShapeOf(q, true)), func(st *sqlite3.Stmt) error {
		return bindTimeline(st, org, q)
	}, func(_ *readConn, st *sqlite3.Stmt) error {
		out[st.ColumnInt64(0)] = st.ColumnInt(1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: timeline counts: %w", err)
	}
	return out, nil
}

// Counts by status come from the kept counts unless a span or a campaign
// narrows them, which only the messages themselves can answer (a range
// of each customer's messages_timeline, grouped).
var statusQueries sqlstore.Texts[statusShape, string]

type statusShape struct {
	summaries           bool // Summaries' columns (count and newest time per group) instead of per status
	kept                bool
	statuses, campaigns bool
}

func statusQuery(sh statusShape) string { return statusQueries.Of(sh, buildStatusQuery) }

func buildStatusQuery(sh statusShape) string {
	var q string
	if sh.kept {
		cols, group := "s.customer_id, s.network, s.type, s.status, s.n", ""
		if sh.summaries {
			cols, group = "s.customer_id, s.network, s.type, SUM(s.n), MAX(s.last_at), 0", " GROUP BY s.customer_id, s.network, s.type"
		}
		q = `SELECT ` + cols + ` FROM json_each(?2) AS c CROSS JOIN interaction_status_counts AS s ON s.org_id = ?1 AND s.customer_id = c.value`
		if sh.statuses {
			q += ` AND s.status IN (SELECT value FROM json_each(?5))`
		}
		q += group
	} else {
		cols, group := "m.customer_id, m.network, m.type, m.status, COUNT(*)", " GROUP BY m.customer_id, m.network, m.type, m.status"
		if sh.summaries {
			cols, group = "m.customer_id, m.network, m.type, COUNT(*), MAX(m.sent_at), 0", " GROUP BY m.customer_id, m.network, m.type"
		}
		q = `SELECT ` + cols + ` FROM json_each(?2) AS c CROSS JOIN messages AS m ON m.org_id = ?1 AND m.customer_id = c.value AND m.sent_at BETWEEN ?3 AND ?4`
		if sh.statuses {
			q += ` AND m.status IN (SELECT value FROM json_each(?5))`
		}
		if sh.campaigns {
			q += ` AND m.campaign_id IN (SELECT value FROM json_each(?6))`
		}
		q += group
	}
	return q
}

// statusRows runs the status statement for f, shaped for Summaries or
// StatusCounts.
func (db *DB) statusRows(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter, summaries bool, row func(*readConn, *sqlite3.Stmt) error) error {
	sh := statusShape{summaries: summaries, kept: f.Span() == (interaction.Span{}) && f.Campaigns == "",
		statuses: f.Statuses != "", campaigns: f.Campaigns != ""}
	lo, hi := f.Span().Millis()
	return db.reads.query(ctx, statusQuery(sh), func(st *sqlite3.Stmt) error {
		n := st.BindCount()
		err := bindAll(bindKey(st, 1, int64(org)), st.BindText(2, jsonInts(customerIDs)))
		if n >= 4 {
			err = bindAll(err, st.BindInt64(3, lo), st.BindInt64(4, hi))
		}
		if n >= 5 {
			err = bindAll(err, st.BindText(5, string(f.Statuses)))
		}
		if n >= 6 {
			err = bindAll(err, st.BindText(6, string(f.Campaigns)))
		}
		return err
	}, row)
}

// StatusCounts answers the counts by status of many customers in one
// statement. The network and type filters are applied in Go, as
// Summaries does.
func (db *DB) StatusCounts(ctx context.Context, org interaction.OrgID, customerIDs []int64, f interaction.Filter) ([]interaction.StatusCount, error) {
	if len(customerIDs) == 0 {
		return nil, nil
	}
	var out []interaction.StatusCount
	err := db.statusRows(ctx, org, customerIDs, f, false, func(rc *readConn, st *sqlite3.Stmt) error {
		sc := interaction.StatusCount{CustomerID: st.ColumnInt64(0), Network: sqlstore.NetworkOf(st.ColumnRawText(1)),
			Type: sqlstore.TypeOf(st.ColumnRawText(2)), Status: rc.intern(st.ColumnRawText(3)), Count: st.ColumnInt(4)}
		if sqlstore.WantsStored(f, sc.Network, sc.Type) {
			out = append(out, sc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: status counts: %w", err)
	}
	return out, nil
}
