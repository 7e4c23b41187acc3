package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// entry is one interaction of the test's own record of what it imported.
type entry struct {
	kind int // 0 message, 1 missed call, 2 survey (the timeline's order)
	id   int64
	at   string
}

// timelineData writes n interactions of customer 1 from id first on,
// three to a minute (so times tie within and across kinds), and returns
// them with the NDJSON.
func timelineData(first int64, n int, minute func(i int) int) (string, []entry) {
	var b strings.Builder
	var es []entry
	for i := range n {
		id := first + int64(i)
		at := fmt.Sprintf("2025-01-01T%02d:%02d:00Z", minute(i)/60, minute(i)%60)
		switch i % 10 {
		case 3:
			fmt.Fprintf(&b, `{"record":"missed_call","id":%d,"customer_id":1,"called_at":%q}`+"\n", id, at)
			es = append(es, entry{1, id, at})
		case 7:
			fmt.Fprintf(&b, `{"record":"survey","id":%d,"customer_id":1,"name":"NPS","submitted_at":%q}`+"\n", id, at)
			es = append(es, entry{2, id, at})
		default:
			typ := []string{"sms", "email", "whatsapp"}[i%3]
			fmt.Fprintf(&b, `{"record":"message","id":%d,"customer_id":1,"network":"capillary","type":%q,"status":%q,"campaign_id":%d,"sent_at":%q}`+"\n",
				id, typ, []string{"DELIVERED", "FAILED"}[i%2], i%4, at)
			es = append(es, entry{0, id, at})
		}
	}
	return b.String(), es
}

// newest sorts entries as the timeline lists them.
func newest(es []entry) []string {
	s := slices.Clone(es)
	slices.SortFunc(s, func(a, b entry) int {
		if a.at != b.at {
			return strings.Compare(b.at, a.at)
		}
		if a.kind != b.kind {
			return b.kind - a.kind
		}
		return int(b.id - a.id)
	})
	out := make([]string, len(s))
	for i, e := range s {
		out[i] = fmt.Sprintf("%d/%d", e.kind, e.id)
	}
	return out
}

type timelinePage struct {
	Customer *struct {
		Timeline struct {
			TotalCount int `json:"totalCount"`
			PageInfo   struct {
				HasNext, HasPrevious bool
				Start, End           *string
			} `json:"pageInfo"`
			Edges []struct {
				Cursor string `json:"cursor"`
				Node   struct {
					Typename string `json:"__typename"`
					ID       string `json:"id"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"timeline"`
	} `json:"customer"`
}

const timelineQuery = `query($first: Int, $after: String, $last: Int, $before: String) { customer(id: "1") {
	timeline(first: $first, after: $after, last: $last, before: $before) {
		totalCount pageInfo { hasNext: hasNextPage hasPrevious: hasPreviousPage start: startCursor end: endCursor }
		edges { cursor node { __typename ... on Message { id status } ... on MissedCall { id } ... on Survey { id } } } } } }`

func (e *env) timeline(t *testing.T, vars map[string]any) timelinePage {
	t.Helper()
	r := e.query(t, timelineQuery, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%v: %+v", vars, r.Errors)
	}
	var p timelinePage
	if err := json.Unmarshal(r.Data, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

var kindOf = map[string]int{"Message": 0, "MissedCall": 1, "Survey": 2}

// TestTimelinePages walks a customer's 1,000 interactions through the
// handler, forwards and backwards, with an import between two pages, and
// wants exactly the order the test imported in.
func TestTimelinePages(t *testing.T) {
	e := newEnv(t, 1)
	load := func(ndjson string) {
		t.Helper()
		if rep, err := importer.Import(context.Background(), strings.NewReader(ndjson), e.db, e.org.ID, importer.Options{}); err != nil || rep.Rejected > 0 {
			t.Fatal(err, rep.Rejections)
		}
	}
	load(`{"record":"customer","id":1,"mobile":"91000"}` + "\n")
	data, all := timelineData(1, 1000, func(i int) int { return (i * 7) % 333 })
	load(data)
	want := newest(all)

	read := func(vars map[string]any) (ids []string, p timelinePage) {
		p = e.timeline(t, vars)
		for _, ed := range p.Customer.Timeline.Edges {
			ids = append(ids, fmt.Sprintf("%d/%s", kindOf[ed.Node.Typename], ed.Node.ID))
		}
		return ids, p
	}
	// Forwards, 37 at a time; after the third page, an import of rows
	// newer, older and at the cursor's time.
	var got []string
	var cursor any
	var added []entry
	for page := 0; ; page++ {
		ids, p := read(map[string]any{"first": 37, "after": cursor})
		tl := p.Customer.Timeline
		if page == 0 && (tl.TotalCount != 1000 || tl.PageInfo.HasPrevious || !tl.PageInfo.HasNext) {
			t.Fatalf("first page: total %d, pageInfo %+v", tl.TotalCount, tl.PageInfo)
		}
		got = append(got, ids...)
		if !tl.PageInfo.HasNext {
			break
		}
		cursor = *tl.PageInfo.End
		if page == 2 {
			more, es := timelineData(5001, 200, func(i int) int { return (i * 5) % 333 })
			load(more)
			added = es
		}
	}
	after := newest(append(slices.Clone(all), added...))
	cut := slices.Index(after, got[3*37-1])
	if !slices.Equal(got[:3*37], want[:3*37]) || !slices.Equal(got[3*37:], after[cut+1:]) {
		t.Errorf("forward walk across an import differs from the imported order (%d entries, want %d)", len(got), 3*37+len(after)-cut-1)
	}

	// Backwards over everything there is now, 50 at a time.
	got, cursor = nil, nil
	for {
		ids, p := read(map[string]any{"last": 50, "before": cursor})
		got = append(ids, got...)
		if !p.Customer.Timeline.PageInfo.HasPrevious {
			break
		}
		cursor = *p.Customer.Timeline.PageInfo.Start
	}
	if !slices.Equal(got, after) {
		t.Errorf("backward walk: %d entries, want %d in order", len(got), len(after))
	}
}

// TestTimelineRefusals: bad paging arguments and foreign cursors are
// BAD_USER_INPUT.
func TestTimelineRefusals(t *testing.T) {
	e := newEnv(t, 3)
	q := `{ customer(mobile: "919988221100") { timeline(first: 1) { edges { cursor } } } }`
	r := e.query(t, q, nil)
	var d struct {
		Customer struct {
			Timeline struct {
				Edges []struct{ Cursor string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &d); err != nil || len(d.Customer.Timeline.Edges) != 1 {
		t.Fatalf("%s %+v", r.Data, r.Errors)
	}
	cursor := d.Customer.Timeline.Edges[0].Cursor
	other := interaction.Cursor{Org: e.org.ID + 1, Customer: 565039505, Filter: interaction.TimelineFilter{}.Hash()}.Encode()
	for _, tt := range []struct{ name, args, mobile string }{
		{"first and last", `first: 2, last: 2`, "919988221100"},
		{"first too large", `first: 501`, "919988221100"},
		{"last negative", `last: -1`, "919988221100"},
		{"after and before", `after: "` + cursor + `", before: "` + cursor + `"`, "919988221100"},
		{"last with after", `last: 1, after: "` + cursor + `"`, "919988221100"},
		{"before without last", `before: "` + cursor + `"`, "919988221100"},
		{"malformed", `after: "bm9wZQ"`, "919988221100"},
		{"not base64", `after: "!!"`, "919988221100"},
		{"another customer's", `after: "` + cursor + `"`, "917385022695"},
		{"other filters", `after: "` + cursor + `", types: [SMS]`, "919988221100"},
		{"another organisation's", `after: "` + other + `"`, "919988221100"},
		{"until before since", `since: "2025-02-01T00:00:00Z", until: "2025-01-01T00:00:00Z"`, "919988221100"},
	} {
		r := e.query(t, `{ customer(mobile: "`+tt.mobile+`") { timeline(`+tt.args+`) { edges { cursor } } } }`, nil)
		if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Errorf("%s: %s %+v, want BAD_USER_INPUT", tt.name, r.Data, r.Errors)
		}
	}
	// The cursor still works where it belongs, and last without first
	// does not trip over first's default.
	for _, args := range []string{`after: "` + cursor + `"`, `last: 3`, `last: 1, before: "` + cursor + `"`, `first: 0`} {
		if r := e.query(t, `{ customer(mobile: "919988221100") { timeline(`+args+`) { edges { cursor } } } }`, nil); len(r.Errors) > 0 {
			t.Errorf("%s: %+v", args, r.Errors)
		}
	}
	// A cursor among many customers fails only the others.
	r = e.query(t, `{ customers(by: MOBILE, values: ["919988221100", "917385022695"]) { id timeline(after: "`+cursor+`") { totalCount } } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(string(r.Data), `"totalCount"`) {
		t.Errorf("cursor of one of two customers: %s %+v", r.Data, r.Errors)
	}
}

// TestTimelineNoNPlusOne: a timeline of 1, 10 or 100 customers costs the
// same statements: the customers, the entries and (from the kept counts)
// the totals; a status filter's totals one COUNT.
func TestTimelineNoNPlusOne(t *testing.T) {
	e := newEnv(t, 1)
	if rep, err := importer.Import(context.Background(), strings.NewReader(uniform(100)), e.db, e.org.ID, importer.Options{}); err != nil || rep.Rejected > 0 {
		t.Fatal(err, rep.Rejections)
	}
	for _, tt := range []struct {
		args string
		want int64
	}{
		{`first: 5`, 3},
		{`first: 5, statuses: ["DELIVERED"]`, 3},
		{`last: 5, types: [PHONE, MISSED_CALL]`, 3},
	} {
		var counts []int64
		for _, n := range []int{1, 10, 100} {
			before := e.db.Statements()
			r := e.query(t, `{ customers(by: ID, values: [`+firstIDs(n)+`]) { id timeline(`+tt.args+`) { totalCount
				edges { cursor node { ... on Message { id subject } ... on MissedCall { id } ... on Survey { id } } } } } }`, nil)
			if len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
			if c := strings.Count(string(r.Data), `"cursor"`); c != 5*n {
				t.Errorf("%s: %d edges for %d customers", tt.args, c, n)
			}
			counts = append(counts, e.db.Statements()-before)
		}
		if counts[0] != tt.want || counts[1] != tt.want || counts[2] != tt.want {
			t.Errorf("%s: statements for 1, 10, 100 customers = %v, want %d each", tt.args, counts, tt.want)
		}
	}
}

// TestStatusCountsAndFilters: statusCounts add up to count, and filtering
// by status or campaign gives each group the count its statusCounts (or
// a second filter) say, on counts and pages alike.
func TestStatusCountsAndFilters(t *testing.T) {
	e := newEnv(t, 200)
	type group struct {
		Type   string `json:"type"`
		Count  int    `json:"count"`
		Counts []struct {
			Status string `json:"status"`
			Count  int    `json:"count"`
		} `json:"statusCounts"`
		Messages []struct {
			Status   string  `json:"status"`
			Campaign *string `json:"campaignId"`
		} `json:"messages"`
	}
	read := func(args string) map[string]group {
		t.Helper()
		r := e.query(t, `{ customers(by: ID, values: [`+ids(20)+`]) { id interactions(limit: 500`+args+`) { network interactions {
			type count statusCounts { status count } messages { status campaignId } } } } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		var d struct {
			Customers []struct {
				ID           string `json:"id"`
				Interactions []struct {
					Network      string  `json:"network"`
					Interactions []group `json:"interactions"`
				} `json:"interactions"`
			} `json:"customers"`
		}
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
		out := map[string]group{}
		for _, c := range d.Customers {
			for _, n := range c.Interactions {
				for _, g := range n.Interactions {
					out[c.ID+"/"+n.Network+"/"+g.Type] = g
				}
			}
		}
		return out
	}
	all := read("")
	statuses := 0
	for key, g := range all {
		sum := 0
		for _, sc := range g.Counts {
			sum += sc.Count
		}
		if g.Count > 0 && !strings.HasSuffix(key, "MISSED_CALL") && !strings.HasSuffix(key, "SURVEY") && sum != g.Count {
			t.Errorf("%s: statusCounts add up to %d, count %d", key, sum, g.Count)
		}
		statuses += len(g.Counts)
	}
	if statuses == 0 {
		t.Fatal("no status counts at all")
	}
	delivered := read(`, statuses: ["DELIVERED"]`)
	for key, g := range all {
		want := 0
		for _, sc := range g.Counts {
			if sc.Status == "DELIVERED" {
				want = sc.Count
			}
		}
		got := delivered[key]
		if got.Count != want || len(got.Messages) != min(want, 500) {
			t.Errorf("%s DELIVERED: count %d, %d messages; want %d", key, got.Count, len(got.Messages), want)
		}
		for _, m := range got.Messages {
			if m.Status != "DELIVERED" {
				t.Errorf("%s: a %s message under a DELIVERED filter", key, m.Status)
			}
		}
	}
	// A campaign filter: the pages hold that campaign only, and counts
	// agree with the unfiltered pages' messages of it.
	campaign := read(`, campaignIds: ["1"]`)
	for key, g := range all {
		want := 0
		for _, m := range g.Messages {
			if m.Campaign != nil && *m.Campaign == "1" {
				want++
			}
		}
		if g.Count > 500 {
			continue // the unfiltered page does not hold them all
		}
		if got := campaign[key]; got.Count != want || len(got.Messages) != want {
			t.Errorf("%s campaign 1: count %d, %d messages; want %d", key, got.Count, len(got.Messages), want)
		}
	}
}

// firstIDs lists the ids 1 to n, as uniform writes them, for a customers
// query.
func firstIDs(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `"%d",`, i)
	}
	return b.String()
}
