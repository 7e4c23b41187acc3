package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// SQLOpener returns a fresh store and a plain database/sql handle on the
// same database: the timeline suite checks the store's answers against
// plain SQL over the tables.
type SQLOpener func(t *testing.T) (Store, *sqlx.DB)

// RunTimeline runs the timeline and delivery-count cases.
func RunTimeline(t *testing.T, open SQLOpener) {
	runEach(t, open, map[string]func(*testing.T, SQLOpener){
		"TimelineWalks":        testTimelineWalks,
		"TimelineFilters":      testTimelineFilters,
		"StatusCountsAgree":    testStatusCountsAgree,
		"TimelineOneStatement": testTimelineOneStatement,
	})
}

// timelineRecords writes n interactions of customer c (and a few of the
// customer after it, which no timeline of c may show): messages of several
// networks, types, statuses and campaigns, missed calls and surveys, with
// times that tie within and across kinds. Ids start at first.
func timelineRecords(rnd *rand.Rand, c int64, first int64, n int, minutes int) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	nts := []string{"capillary/sms", "capillary/phone", "capillary/email", "capillary/whatsapp", "twitter/tweet", "facebook/like"}
	statuses := []string{"DELIVERED", "FAILED", "OPENED", "SOFT_BOUNCED", ""}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := first + int64(i)
		at := base.Add(time.Duration(rnd.IntN(minutes)) * time.Minute).Format(time.RFC3339)
		owner := c
		if i%10 == 9 {
			owner = c + 1
		}
		switch k := rnd.IntN(20); {
		case k < 2:
			enc.Encode(map[string]any{"record": "missed_call", "id": id, "customer_id": owner, "called_at": at, "used": k == 0})
		case k < 3:
			enc.Encode(map[string]any{"record": "survey", "id": id, "customer_id": owner, "name": "NPS", "submitted_at": at,
				"responses": map[string]any{"score": rnd.IntN(11)}})
		default:
			net, typ, _ := strings.Cut(nts[rnd.IntN(len(nts))], "/")
			enc.Encode(map[string]any{"record": "message", "id": id, "customer_id": owner, "network": net, "type": typ,
				"subject": fmt.Sprint("s", id), "status": statuses[rnd.IntN(len(statuses))],
				"campaign_id": rnd.IntN(3) + 6, "sent_at": at})
		}
	}
	return b.String()
}

// plainTimeline is the customer's timeline as plain SQL orders it, under
// the conditions where (on messages m; missed calls and surveys take part
// only when includeOthers).
func plainTimeline(t *testing.T, x *sqlx.DB, org interaction.OrgID, customer int64, where string, includeOthers bool, args ...any) []interaction.Position {
	t.Helper()
	q := `SELECT kind, id, at FROM (
		SELECT 0 AS kind, m.id AS id, m.sent_at AS at FROM messages m WHERE m.org_id = ? AND m.customer_id = ?` + where
	all := append([]any{int64(org), customer}, args...)
	if includeOthers {
		q += ` UNION ALL SELECT 1, id, called_at FROM missed_calls WHERE org_id = ? AND customer_id = ?
		UNION ALL SELECT 2, id, submitted_at FROM surveys WHERE org_id = ? AND customer_id = ?`
		all = append(all, int64(org), customer, int64(org), customer)
	}
	q += `) AS t ORDER BY at DESC, kind DESC, id DESC`
	rows, err := x.Query(x.Rebind(q), all...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []interaction.Position
	for rows.Next() {
		var p interaction.Position
		var at int64
		if err := rows.Scan(&p.Kind, &p.ID, &at); err != nil {
			t.Fatal(err)
		}
		p.At = time.UnixMilli(at).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// walk reads a whole timeline page by page, forwards (first/after) or
// backwards (last/before), between pages calling between(i) after page i.
func walk(t *testing.T, db Store, org interaction.OrgID, customer int64, f interaction.TimelineFilter, size int, backward bool, between func(int)) []interaction.Position {
	t.Helper()
	var out []interaction.Position
	var from *interaction.Position
	for i := 0; ; i++ {
		pages, err := interaction.ReadTimeline(context.Background(), db, org, []int64{customer},
			interaction.TimelineRequest{Filter: f, Size: size, Backward: backward, From: from, Fields: interaction.FieldStatus})
		if err != nil {
			t.Fatal(err)
		}
		p := pages[0]
		var got []interaction.Position
		for _, e := range p.Entries {
			got = append(got, e.Position)
			if e.CustomerID != customer {
				t.Fatalf("entry of customer %d in %d's timeline", e.CustomerID, customer)
			}
		}
		more := p.HasNext
		if backward {
			slices.Reverse(got)
			more = p.HasPrevious
		}
		out = append(out, got...)
		if len(got) > size || (more && len(got) != size) {
			t.Fatalf("page %d: %d entries of %d, more=%v", i, len(got), size, more)
		}
		if !more {
			return out
		}
		from = &got[len(got)-1]
		if between != nil {
			between(i)
		}
	}
}

func samePositions(t *testing.T, what string, got, want []interaction.Position) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i].Kind != want[i].Kind || got[i].ID != want[i].ID || !got[i].At.Equal(want[i].At) {
			t.Errorf("%s: entry %d = %+v, want %+v", what, i, got[i], want[i])
			return
		}
	}
}

func loadTimeline(t *testing.T, db Store) interaction.Org {
	t.Helper()
	var b strings.Builder
	for c := 1; c <= 3; c++ {
		fmt.Fprintf(&b, `{"record":"customer","id":%d,"mobile":"9%d"}`+"\n", c, c)
	}
	// 1,000 of customer 1's (about 900 of them its own), on 300 minutes:
	// three interactions a minute, so times tie within and across kinds.
	b.WriteString(timelineRecords(rand.New(rand.NewPCG(1, 2)), 1, 1, 1111, 300))
	return load(t, db, "tl", b.String())
}

// testTimelineWalks: pages walked forwards and backwards match plain SQL
// exactly, and an import between pages leaves the pages already read
// where they were: the walk goes on past its cursor in the new order.
func testTimelineWalks(t *testing.T, open SQLOpener) {
	db, x := open(t)
	org := loadTimeline(t, db)
	all := plainTimeline(t, x, org.ID, 1, "", true)
	if len(all) < 900 {
		t.Fatalf("fixture has %d entries for customer 1", len(all))
	}
	for _, size := range []int{1, 37, 500} {
		samePositions(t, fmt.Sprintf("forwards by %d", size), walk(t, db, org.ID, 1, interaction.TimelineFilter{}, size, false, nil), all)
		back := walk(t, db, org.ID, 1, interaction.TimelineFilter{}, size, true, nil)
		slices.Reverse(back)
		samePositions(t, fmt.Sprintf("backwards by %d", size), back, all)
	}

	// An import after the second page: rows newer than the cursor, older,
	// and at its very time.
	var cursor interaction.Position
	got := walk(t, db, org.ID, 1, interaction.TimelineFilter{}, 50, false, func(i int) {
		if i != 1 {
			return
		}
		load(t, db, "tl", timelineRecords(rand.New(rand.NewPCG(3, 4)), 1, 5000, 300, 300))
	})
	before := all[:100]
	samePositions(t, "two pages before the import", got[:100], before)
	cursor = before[99]
	var rest []interaction.Position
	for _, p := range plainTimeline(t, x, org.ID, 1, "", true) {
		if p.Compare(cursor) > 0 {
			rest = append(rest, p)
		}
	}
	if len(got) < 100 {
		t.Fatalf("walk across the import read %d entries", len(got))
	}
	samePositions(t, "pages after the import", got[100:], rest)
	if len(rest) <= len(all)-100 {
		t.Errorf("the import added nothing past the cursor (%d then %d)", len(all)-100, len(rest))
	}
}

// testTimelineFilters: filtered walks and totals agree with plain SQL.
func testTimelineFilters(t *testing.T, open SQLOpener) {
	db, x := open(t)
	org := loadTimeline(t, db)
	since, until := time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		filter interaction.TimelineFilter
		where  string
		others bool
		args   []any
	}{
		{"none", interaction.TimelineFilter{}, "", true, nil},
		{"twitter", interaction.TimelineFilter{Networks: []interaction.Network{interaction.Twitter}}, " AND m.network = 'twitter'", false, nil},
		{"phone and email", interaction.TimelineFilter{Types: []interaction.Type{interaction.Phone, interaction.Email}},
			" AND m.type IN ('sms', 'phone', 'email')", false, nil},
		{"statuses", interaction.TimelineFilter{Statuses: []string{"FAILED", ""}}, " AND m.status IN ('FAILED', '')", false, nil},
		{"campaign", interaction.TimelineFilter{Campaigns: []int64{7}}, " AND m.campaign_id = 7", false, nil},
		{"span", interaction.TimelineFilter{Since: since, Until: until}, " AND m.sent_at BETWEEN ? AND ?", false,
			[]any{since.UnixMilli(), until.UnixMilli()}},
		{"everything", interaction.TimelineFilter{Networks: []interaction.Network{interaction.Capillary}, Types: []interaction.Type{interaction.SMS},
			Statuses: []string{"DELIVERED"}, Campaigns: []int64{6, 8}},
			" AND m.network = 'capillary' AND m.type = 'sms' AND m.status = 'DELIVERED' AND m.campaign_id IN (6, 8)", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := plainTimeline(t, x, org.ID, 1, tt.where, tt.others, tt.args...)
			if tt.name == "span" {
				// missed calls and surveys in the span too
				want = nil
				for _, p := range plainTimeline(t, x, org.ID, 1, "", true) {
					if !p.At.Before(since) && !p.At.After(until) {
						want = append(want, p)
					}
				}
			}
			samePositions(t, "forwards", walk(t, db, org.ID, 1, tt.filter, 64, false, nil), want)
			pages, err := interaction.ReadTimeline(context.Background(), db, org.ID, []int64{1, 2, 3},
				interaction.TimelineRequest{Filter: tt.filter, Size: 1, Total: true})
			if err != nil {
				t.Fatal(err)
			}
			if pages[0].Total != len(want) || pages[2].Total != 0 {
				t.Errorf("totals = %d, %d, %d; want %d for customer 1, 0 for 3", pages[0].Total, pages[1].Total, pages[2].Total, len(want))
			}
		})
	}
}

// testStatusCountsAgree: counts by status, and summaries filtered by
// status or campaign, agree with plain SQL, with and without a span.
func testStatusCountsAgree(t *testing.T, open SQLOpener) {
	db, x := open(t)
	org := loadTimeline(t, db)
	ctx := context.Background()
	since := time.Date(2025, 1, 1, 2, 0, 0, 0, time.UTC)
	for _, f := range []interaction.Filter{
		{},
		{Type: interaction.Phone},
		{Network: interaction.Twitter},
		{Since: since},
		interaction.Filter{}.WithMessages([]string{"FAILED", "OPENED"}, nil),
		interaction.Filter{}.WithMessages(nil, []int64{7}),
		interaction.Filter{Since: since}.WithMessages([]string{"DELIVERED"}, []int64{6, 7}),
	} {
		where, args := " WHERE org_id = ? AND customer_id IN (1, 2)", []any{int64(org.ID)}
		if !f.Since.IsZero() {
			where += " AND sent_at >= ?"
			args = append(args, f.Since.UnixMilli())
		}
		if f.Network != "" {
			where += " AND network = '" + string(f.Network) + "'"
		}
		if f.Type == interaction.Phone {
			where += " AND type IN ('sms', 'phone')"
		}
		if vs := f.Statuses.Strings(); vs != nil {
			where += " AND status IN ('" + strings.Join(vs, "', '") + "')"
		}
		if f.Campaigns != "" {
			where += " AND campaign_id IN (" + strings.Trim(string(f.Campaigns), "[]") + ")"
		}
		scs, err := db.StatusCounts(ctx, org.ID, []int64{1, 2}, f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sc := range scs {
			got = append(got, fmt.Sprintf("%d/%s/%s/%s=%d", sc.CustomerID, sc.Network, sc.Type, sc.Status, sc.Count))
		}
		agreesWithSQL(t, x, fmt.Sprintf("status counts for %+v", f), got,
			`SELECT customer_id || '/' || network || '/' || type || '/' || status || '=' || COUNT(*) FROM messages`+where+
				` GROUP BY customer_id, network, type, status ORDER BY 1`, args...)
		if !f.Narrowed() {
			continue
		}
		sums, err := db.Summaries(ctx, org.ID, []int64{1, 2}, f)
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, s := range sums {
			got = append(got, fmt.Sprintf("%d/%s/%s=%d@%d", s.CustomerID, s.Network, s.Type, s.Count, s.Last.UnixMilli()))
		}
		agreesWithSQL(t, x, fmt.Sprintf("summaries for %+v", f), got,
			`SELECT customer_id || '/' || network || '/' || type || '=' || COUNT(*) || '@' || MAX(sent_at) FROM messages`+where+
				` GROUP BY customer_id, network, type ORDER BY 1`, args...)
	}
}

// agreesWithSQL fails t when got, sorted, is not what query selects.
func agreesWithSQL(t *testing.T, x *sqlx.DB, what string, got []string, query string, args ...any) {
	t.Helper()
	var want []string
	if err := x.Select(&want, x.Rebind(query), args...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// testTimelineOneStatement: the timeline of many customers is one
// statement, and its total one more (none when the kept counts answer).
func testTimelineOneStatement(t *testing.T, open SQLOpener) {
	db, _ := open(t)
	org := loadTimeline(t, db)
	ctx := context.Background()
	for _, tt := range []struct {
		f     interaction.TimelineFilter
		total bool
		want  int64
	}{
		{interaction.TimelineFilter{}, false, 1},
		{interaction.TimelineFilter{}, true, 2},
		{interaction.TimelineFilter{Statuses: []string{"FAILED"}}, true, 2},
		{interaction.TimelineFilter{Types: []interaction.Type{interaction.SurveyType}}, false, 1},
	} {
		for _, ids := range [][]int64{{1}, {1, 2, 3}} {
			before := db.Statements()
			if _, err := interaction.ReadTimeline(ctx, db, org.ID, ids, interaction.TimelineRequest{Filter: tt.f, Size: 20, Total: tt.total}); err != nil {
				t.Fatal(err)
			}
			if d := db.Statements() - before; d != tt.want {
				t.Errorf("%+v total=%v for %d customers: %d statements, want %d", tt.f, tt.total, len(ids), d, tt.want)
			}
		}
	}
}
