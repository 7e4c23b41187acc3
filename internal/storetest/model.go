package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// model is what a store should hold after a sequence of imports: every
// record by id, the last import of an id winning.
type model struct {
	msgs  map[int64]interaction.Message
	calls map[int64]interaction.MissedCall
}

// history builds random imports over a few customers: partitions short and
// long, times that tie, and a second round that moves messages and calls to
// other customers, types and times. It returns the NDJSON of each round
// and the model after both.
func history(seed uint64) ([]string, model) {
	rnd := rand.New(rand.NewPCG(seed, 7))
	m := model{msgs: map[int64]interaction.Message{}, calls: map[int64]interaction.MissedCall{}}
	nets := []interaction.Network{interaction.Capillary, interaction.Capillary, interaction.Facebook, interaction.Twitter}
	types := []interaction.Type{interaction.SMS, interaction.SMS, interaction.Phone, interaction.Email, interaction.WhatsApp, interaction.Tweet}
	statuses := []string{"DELIVERED", "FAILED", "OPENED", ""}
	const customers = 12
	var rounds []string
	for round := range 2 {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		if round == 0 {
			for c := 1; c <= customers; c++ {
				enc.Encode(map[string]any{"record": "customer", "id": c, "mobile": fmt.Sprint(9100 + c)})
			}
		}
		n := 400
		for i := range n {
			id := int64(i + 1)
			if round == 1 {
				id = int64(rnd.IntN(2*n) + 1) // half rewrite old ids, half are new
			}
			c := int64(rnd.IntN(customers) + 1)
			t := types[rnd.IntN(len(types))]
			if c <= 2 { // two customers with long partitions
				t = interaction.SMS
			}
			msg := interaction.Message{ID: id, CustomerID: c, Network: nets[rnd.IntN(len(nets))], Type: t,
				Sender: fmt.Sprint("s", rnd.IntN(3)), Receiver: fmt.Sprint("r", id), Subject: fmt.Sprint("subject ", id),
				Body: fmt.Sprint("body ", id, " round ", round), Status: statuses[rnd.IntN(len(statuses))],
				CampaignID: int64(rnd.IntN(3)) - 1, UserID: int64(rnd.IntN(3)) - 1,
				SentAt: time.Date(2025, 1, 1+rnd.IntN(10), rnd.IntN(3), 0, 0, 0, time.UTC)}
			rec := map[string]any{"record": "message", "id": msg.ID, "customer_id": msg.CustomerID, "network": msg.Network,
				"type": msg.Type, "sender": msg.Sender, "receiver": msg.Receiver, "subject": msg.Subject, "body": msg.Body,
				"status": msg.Status, "campaign_id": msg.CampaignID, "user_id": msg.UserID, "sent_at": msg.SentAt.Format(time.RFC3339)}
			if rnd.IntN(2) == 0 {
				d := msg.SentAt.Add(time.Minute)
				msg.DeliveredAt = &d
				rec["delivered_at"] = d.Format(time.RFC3339)
			}
			enc.Encode(rec)
			m.msgs[id] = msg
		}
		for i := range 30 {
			id := int64(i + 1 + round*15)
			call := interaction.MissedCall{ID: id, CustomerID: int64(rnd.IntN(customers) + 1), Used: rnd.IntN(2) == 0,
				CalledAt: time.Date(2025, 1, 1+rnd.IntN(10), 0, 0, 0, 0, time.UTC)}
			enc.Encode(map[string]any{"record": "missed_call", "id": call.ID, "customer_id": call.CustomerID,
				"called_at": call.CalledAt.Format(time.RFC3339), "used": call.Used})
			m.calls[id] = call
		}
		rounds = append(rounds, b.String())
	}
	return rounds, m
}

func (m model) inSpan(t time.Time, s interaction.Span) bool {
	return (s.Since.IsZero() || !t.Before(s.Since)) && (s.Until.IsZero() || !t.After(s.Until))
}

// partition returns the model's messages of one partition in the span,
// in order o.
func (m model) partition(p interaction.Partition, s interaction.Span, o interaction.Order) []interaction.Message {
	var out []interaction.Message
	for _, msg := range m.msgs {
		if msg.CustomerID == p.CustomerID && msg.Network == p.Network && msg.Type == p.Type && m.inSpan(msg.SentAt, s) {
			out = append(out, msg)
		}
	}
	slices.SortFunc(out, o.Compare)
	return out
}

// partitions lists the partitions with messages of a customer, within a
// network ("" for all) and span, with their counts.
func (m model) partitions(c int64, n interaction.Network, s interaction.Span) []interaction.Partition {
	count := map[interaction.Partition]int{}
	for _, msg := range m.msgs {
		if msg.CustomerID == c && (n == "" || msg.Network == n) && m.inSpan(msg.SentAt, s) {
			count[interaction.Partition{CustomerID: c, Network: msg.Network, Type: msg.Type}]++
		}
	}
	var out []interaction.Partition
	for p, k := range count {
		p.Count = k
		out = append(out, p)
	}
	return out
}

// summaries renders what Summaries should answer for customers in a span.
func (m model) summaries(customers []int64, s interaction.Span) []string {
	type key struct {
		c    int64
		n    interaction.Network
		t    interaction.Type
		last time.Time
		used bool
		k    int
	}
	agg := map[string]*key{}
	// count counts one interaction of customer c at time at.
	count := func(c int64, n interaction.Network, t interaction.Type, at time.Time) {
		id := fmt.Sprintf("%d/%s/%s", c, n, t)
		a := agg[id]
		if a == nil {
			a = &key{c: c, n: n, t: t}
			agg[id] = a
		}
		a.k++
		if at.After(a.last) {
			a.last = at
		}
	}
	var newestCall = map[int64]interaction.MissedCall{}
	for _, c := range customers {
		for _, msg := range m.msgs {
			if msg.CustomerID != c || !m.inSpan(msg.SentAt, s) {
				continue
			}
			count(c, msg.Network, msg.Type, msg.SentAt)
		}
		for _, call := range m.calls {
			if call.CustomerID != c || !m.inSpan(call.CalledAt, s) {
				continue
			}
			count(c, interaction.Capillary, interaction.MissedCallType, call.CalledAt)
			if nc, ok := newestCall[c]; !ok || call.CalledAt.After(nc.CalledAt) || (call.CalledAt.Equal(nc.CalledAt) && call.ID > nc.ID) {
				newestCall[c] = call
			}
		}
		if a := agg[fmt.Sprintf("%d/capillary/missed_call", c)]; a != nil {
			a.used = newestCall[c].Used
		}
	}
	var out []string
	for id, a := range agg {
		out = append(out, fmt.Sprintf("%s=%d@%s used=%v", id, a.k, a.last.Format(time.RFC3339), a.used))
	}
	slices.Sort(out)
	return out
}

func renderSummaries(sums []interaction.Summary) []string {
	var out []string
	for _, s := range sums {
		last := "none"
		if s.Last != nil {
			last = s.Last.UTC().Format(time.RFC3339)
		}
		out = append(out, fmt.Sprintf("%d/%s/%s=%d@%s used=%v", s.CustomerID, s.Network, s.Type, s.Count, last, s.Used))
	}
	slices.Sort(out)
	return out
}

// masked is msg as a page reading only fields shows it.
func masked(msg interaction.Message, f interaction.MessageFields) interaction.Message {
	out := interaction.Message{ID: msg.ID, CustomerID: msg.CustomerID, Network: msg.Network, Type: msg.Type, SentAt: msg.SentAt,
		CampaignID: -1, UserID: -1}
	keep(f, interaction.FieldSender, &out.Sender, msg.Sender)
	keep(f, interaction.FieldReceiver, &out.Receiver, msg.Receiver)
	keep(f, interaction.FieldSubject, &out.Subject, msg.Subject)
	keep(f, interaction.FieldBody, &out.Body, msg.Body)
	keep(f, interaction.FieldStatus, &out.Status, msg.Status)
	keep(f, interaction.FieldCampaign, &out.CampaignID, msg.CampaignID)
	keep(f, interaction.FieldUser, &out.UserID, msg.UserID)
	keep(f, interaction.FieldDelivered, &out.DeliveredAt, msg.DeliveredAt)
	return out
}

// keep sets *dst to v when the fields f include field.
func keep[T any](f, field interaction.MessageFields, dst *T, v T) {
	if f&field != 0 {
		*dst = v
	}
}

func renderMessages(ms []interaction.Message) string {
	var b strings.Builder
	for _, m := range ms {
		d := "-"
		if m.DeliveredAt != nil {
			d = m.DeliveredAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "%d/%s/%s #%d %s [%s|%s|%s|%s|%s|%d|%d|%s]\n", m.CustomerID, m.Network, m.Type, m.ID,
			m.SentAt.UTC().Format(time.RFC3339), m.Sender, m.Receiver, m.Subject, m.Body, m.Status, m.CampaignID, m.UserID, d)
	}
	return b.String()
}

// testAgreesWithAModel imports random histories in small batches and
// checks summaries and pages, over many random queries (every way a store
// may plan them), against the model. Counts handed to MessagePages are
// sometimes wrong on purpose: they may change how a store reads, never
// what it answers.
func testAgreesWithAModel(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	rounds, m := history(1)
	org := ensureOrg(t, db, "model")
	for _, r := range rounds {
		rep, err := importer.Import(ctx, strings.NewReader(r), db, org.ID, importer.Options{BatchSize: 37})
		if err != nil || rep.Rejected > 0 {
			t.Fatalf("import: %v %+v", err, rep.Rejections)
		}
	}
	rnd := rand.New(rand.NewPCG(2, 9))
	spans := []interaction.Span{{}, {}, {Since: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC)},
		{Since: time.Date(2025, 1, 2, 1, 0, 0, 0, time.UTC), Until: time.Date(2025, 1, 7, 1, 0, 0, 0, time.UTC)},
		{Until: time.Date(2025, 1, 5, 0, 0, 0, 0, time.UTC)}}
	nets := []interaction.Network{"", "", interaction.Capillary, interaction.Twitter}
	for i := range 300 {
		var customers []int64
		for c := int64(1); c <= 13; c++ { // 13 has no rows at all
			if rnd.IntN(3) == 0 {
				customers = append(customers, c)
			}
		}
		span := spans[rnd.IntN(len(spans))]
		if got, want := renderSummaries(must(db.Summaries(ctx, org.ID, customers, interaction.Filter{Since: span.Since, Until: span.Until}))), m.summaries(customers, span); !slices.Equal(got, want) {
			t.Fatalf("query %d: summaries of %v in %+v:\n got %v\nwant %v", i, customers, span, got, want)
		}
		q := interaction.PageQuery{Span: span, Rows: 1 + rnd.IntN(12), Fields: interaction.MessageFields(rnd.Uint32()) & interaction.AllMessageFields,
			Order: interaction.Order(rnd.IntN(2))}
		if rnd.IntN(2) == 0 {
			q.Complete, q.Network = true, nets[rnd.IntN(len(nets))]
		}
		for _, c := range customers {
			ps := m.partitions(c, q.Network, span)
			if !q.Complete {
				ps = slices.DeleteFunc(ps, func(interaction.Partition) bool { return rnd.IntN(3) == 0 })
				extra := interaction.Partition{CustomerID: c, Network: interaction.Facebook, Type: interaction.Viber, Count: 3}
				ps = append(ps, extra) // no such partition: nothing comes back for it
			}
			for j := range ps {
				if rnd.IntN(4) == 0 {
					ps[j].Count = rnd.IntN(100) // a stale count
				}
			}
			q.Partitions = append(q.Partitions, ps...)
		}
		slices.SortFunc(q.Partitions, func(a, b interaction.Partition) int {
			return strings.Compare(fmt.Sprintf("%09d/%s/%s", a.CustomerID, a.Network, a.Type), fmt.Sprintf("%09d/%s/%s", b.CustomerID, b.Network, b.Type))
		})
		var want []interaction.Message
		for _, p := range q.Partitions {
			page := m.partition(p, span, q.Order)
			for _, msg := range page[:min(len(page), q.Rows)] {
				want = append(want, masked(msg, q.Fields))
			}
		}
		got := byPartition(must(db.MessagePages(ctx, org.ID, q)))
		if g, w := renderMessages(got), renderMessages(want); g != w {
			t.Fatalf("query %d: pages of %+v:\n%s", i, q, lineDiff(g, w))
		}

		if hr, ok := db.(interaction.HeadReader); ok && span == (interaction.Span{}) {
			checkHeads(t, i, hr, org.ID, m, customers, q.Rows, q.Order, q.Fields, nets[rnd.IntN(len(nets))], []interaction.Type{"", interaction.Email, interaction.Phone, interaction.MissedCallType}[rnd.IntN(4)])
		}
		if sf, ok := db.(interaction.SummaryFinder); ok && span == (interaction.Span{}) {
			f := interaction.Filter{Network: nets[i%len(nets)], Type: []interaction.Type{"", interaction.Email, interaction.Phone, interaction.MissedCallType}[i/len(nets)%4]}
			checkLookupSummaries(t, i, sf, org.ID, customers, f)
		}

		var callParts []interaction.Partition
		for _, c := range customers {
			callParts = append(callParts, interaction.Partition{CustomerID: c, Network: interaction.Capillary, Type: interaction.MissedCallType})
		}
		calls := must(db.MissedCallPages(ctx, org.ID, interaction.PageQuery{Partitions: callParts, Span: span, Rows: q.Rows, Order: q.Order}))
		var wantCalls []string
		for _, c := range customers {
			var cs []interaction.MissedCall
			for _, call := range m.calls {
				if call.CustomerID == c && m.inSpan(call.CalledAt, span) {
					cs = append(cs, call)
				}
			}
			slices.SortFunc(cs, func(a, b interaction.MissedCall) int {
				if q.Order == interaction.OldestFirst {
					a, b = b, a
				}
				return cmp.Or(b.CalledAt.Compare(a.CalledAt), cmp.Compare(b.ID, a.ID))
			})
			for _, call := range cs[:min(len(cs), q.Rows)] {
				wantCalls = append(wantCalls, fmt.Sprintf("%d#%d@%s:%v", call.CustomerID, call.ID, call.CalledAt.Format(time.RFC3339), call.Used))
			}
		}
		var gotCalls []string
		for _, call := range calls {
			gotCalls = append(gotCalls, fmt.Sprintf("%d#%d@%s:%v", call.CustomerID, call.ID, call.CalledAt.UTC().Format(time.RFC3339), call.Used))
		}
		if !slices.Equal(gotCalls, wantCalls) {
			t.Fatalf("query %d: missed calls of %v:\n got %v\nwant %v", i, customers, gotCalls, wantCalls)
		}
	}
}

// checkHeads compares a HeadReader's summaries and heads with the model's
// for one filter.
func checkHeads(t *testing.T, i int, hr interaction.HeadReader, org interaction.OrgID, m model, customers []int64, rows int, order interaction.Order, fields interaction.MessageFields, n interaction.Network, typ interaction.Type) {
	t.Helper()
	f := interaction.Filter{Network: n, Type: typ}
	stored := typ.StoredTypes()
	keep := func(sn interaction.Network, st interaction.Type) bool {
		return (n == "" || sn == n) && (typ == "" || slices.Contains(stored, st))
	}
	sums, heads, err := hr.SummariesWithHeads(context.Background(), org, customers, f, rows, order, fields)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range m.summaries(customers, interaction.Span{}) {
		key := strings.Split(strings.SplitN(s, "=", 2)[0], "/") // customer/network/type
		if keep(interaction.Network(key[1]), interaction.Type(key[2])) {
			want = append(want, s)
		}
	}
	if got := renderSummaries(sums); !slices.Equal(got, want) {
		t.Fatalf("query %d: summaries with heads of %v under %+v:\n got %v\nwant %v", i, customers, f, got, want)
	}
	var wantHeads []interaction.Message
	for _, c := range customers {
		ps := m.partitions(c, n, interaction.Span{})
		slices.SortFunc(ps, func(a, b interaction.Partition) int {
			return strings.Compare(string(a.Network)+"/"+string(a.Type), string(b.Network)+"/"+string(b.Type))
		})
		for _, p := range ps {
			if !keep(p.Network, p.Type) {
				continue
			}
			page := m.partition(p, interaction.Span{}, order)
			for _, msg := range page[:min(len(page), rows)] {
				wantHeads = append(wantHeads, masked(msg, fields))
			}
		}
	}
	if g, w := renderMessages(byPartition(heads)), renderMessages(byPartition(wantHeads)); g != w {
		t.Fatalf("query %d: heads of %v under %+v, %d rows %v:\n%s", i, customers, f, rows, order, lineDiff(g, w))
	}
	checkLookupHeads(t, i, hr, org, customers, f, rows, order, fields, sums, heads)
}

// checkLookupHeads: CustomersWithHeads finds what CustomersByIdentifier
// finds (by id, an unknown id and a repeat among them, and by mobile) and
// reads for them what SummariesWithHeads reads.
func checkLookupHeads(t *testing.T, i int, hr interaction.HeadReader, org interaction.OrgID, customers []int64, f interaction.Filter, rows int, order interaction.Order, fields interaction.MessageFields, sums []interaction.Summary, heads []interaction.Message) {
	t.Helper()
	ctx := context.Background()
	ids := lookupIDs(customers)
	found := must(hr.CustomersByIdentifier(ctx, org, interaction.ByID, ids))
	var mobiles []string
	for _, c := range found {
		if c.Mobile != "" {
			mobiles = append(mobiles, c.Mobile)
		}
	}
	byID := func(a, b interaction.Customer) int { return cmp.Compare(a.ID, b.ID) }
	for _, q := range []struct {
		kind   interaction.IdentifierKind
		values []string
	}{{interaction.ByID, ids}, {interaction.ByMobile, mobiles}} {
		want := must(hr.CustomersByIdentifier(ctx, org, q.kind, q.values))
		var wantIDs []int64
		for _, c := range want {
			wantIDs = append(wantIDs, c.ID)
		}
		cs, gotSums, gotHeads, err := hr.CustomersWithHeads(ctx, org, q.kind, q.values, f, rows, order, fields)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := slices.SortedFunc(slices.Values(cs), byID), slices.SortedFunc(slices.Values(want), byID); !slices.Equal(g, w) {
			t.Fatalf("query %d: customers by %s %v with heads:\n got %v\nwant %v", i, q.kind, q.values, g, w)
		}
		var wantSums []interaction.Summary
		for _, s := range sums {
			if slices.Contains(wantIDs, s.CustomerID) {
				wantSums = append(wantSums, s)
			}
		}
		if g, w := renderSummaries(gotSums), renderSummaries(wantSums); !slices.Equal(g, w) {
			t.Fatalf("query %d: summaries of customers by %s %v under %+v:\n got %v\nwant %v", i, q.kind, q.values, f, g, w)
		}
		var wantHeads []interaction.Message
		for _, m := range heads {
			if slices.Contains(wantIDs, m.CustomerID) {
				wantHeads = append(wantHeads, m)
			}
		}
		if g, w := renderMessages(byPartition(gotHeads)), renderMessages(byPartition(wantHeads)); g != w {
			t.Fatalf("query %d: heads of customers by %s %v under %+v:\n%s", i, q.kind, q.values, f, lineDiff(g, w))
		}
	}
}

// testCountsFollowImports: the kept counts change with every import that
// moves a record, in the same transaction, including for the customer it
// moved away from.
func testCountsFollowImports(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	org := load(t, db, "a", fixture)
	counts := func() []string {
		return renderSummaries(must(db.Summaries(ctx, org.ID, []int64{1, 2}, interaction.Filter{})))
	}
	before := counts()
	// Message 13 (customer 1's only email) moves to customer 2 as an sms;
	// missed call 2 (customer 1's newest, used) moves to customer 2.
	const moves = `{"record":"message","id":13,"customer_id":2,"network":"capillary","type":"sms","sent_at":"2025-02-03T10:00:00Z"}
{"record":"missed_call","id":2,"customer_id":2,"called_at":"2025-01-09T00:00:00Z","used":true}
`
	load(t, db, "a", moves)
	want := []string{
		"1/capillary/missed_call=1@2025-01-01T00:00:00Z used=false",
		"1/capillary/phone=1@2025-01-03T10:00:00Z used=false",
		"1/capillary/sms=2@2025-01-02T10:00:00Z used=false",
		"1/twitter/tweet=1@2025-01-05T10:00:00Z used=false",
		"2/capillary/missed_call=1@2025-01-09T00:00:00Z used=true",
		"2/capillary/sms=2@2025-02-03T10:00:00Z used=false",
		"2/capillary/survey=1@2025-03-01T00:00:00Z used=false",
	}
	if got := counts(); !slices.Equal(got, want) {
		t.Errorf("after moving records:\n got %v\nwant %v\n(before %v)", got, want, before)
	}
	// Importing the same records again changes nothing.
	load(t, db, "a", moves)
	if got := counts(); !slices.Equal(got, want) {
		t.Errorf("after re-import:\n got %v\nwant %v", got, want)
	}
}

// byPartition orders pages by partition, keeping each partition's own
// order: a store may return the partitions in any order.
func byPartition(ms []interaction.Message) []interaction.Message {
	slices.SortStableFunc(ms, func(a, b interaction.Message) int {
		return cmp.Or(cmp.Compare(a.CustomerID, b.CustomerID), cmp.Compare(a.Network, b.Network), cmp.Compare(a.Type, b.Type))
	})
	return ms
}

// lineDiff shows the lines of got and want that differ, the first few.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "got %d lines, want %d\n", len(g), len(w))
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 8; i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n got %s\nwant %s\n", i, gl, wl)
			shown++
		}
	}
	return b.String()
}

func must[V any](v V, err error) V {
	if err != nil {
		panic(err)
	}
	return v
}
