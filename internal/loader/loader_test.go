package loader

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// recorder is an in-memory interaction.Reader that records every call, so
// the tests can see how keys were batched. The SQL behind the real Reader
// is tested against real databases in internal/storetest.
type recorder struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (r *recorder) record(name string, ids int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name+":"+strconv.Itoa(ids))
}

func (r *recorder) CustomersByIdentifier(_ context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string) ([]interaction.Customer, error) {
	r.record("customers/"+string(kind), len(values))
	var out []interaction.Customer
	for _, v := range values {
		if kind == interaction.ByMobile && v != "missing" {
			out = append(out, interaction.Customer{ID: int64(len(v)), OrgID: org, Mobile: v})
		}
	}
	return out, r.fail
}

func (r *recorder) Summaries(_ context.Context, _ interaction.OrgID, ids []int64, f interaction.Filter) ([]interaction.Summary, error) {
	r.record("summaries", len(ids))
	var out []interaction.Summary
	for _, id := range ids {
		out = append(out, interaction.Summary{CustomerID: id, Network: interaction.Capillary, Type: interaction.Email, Count: int(id)})
	}
	return out, r.fail
}

func (r *recorder) MessagePages(_ context.Context, _ interaction.OrgID, q interaction.PageQuery) ([]interaction.Message, error) {
	r.record("messages", len(q.Partitions))
	var out []interaction.Message
	for _, p := range q.Partitions {
		for i := range min(p.Count, q.Rows) {
			out = append(out, interaction.Message{ID: p.CustomerID*100 + int64(i), CustomerID: p.CustomerID, Network: p.Network, Type: p.Type})
		}
	}
	return out, r.fail
}

func (r *recorder) MissedCallPages(context.Context, interaction.OrgID, interaction.PageQuery) ([]interaction.MissedCall, error) {
	r.record("missed_calls", 0)
	return nil, r.fail
}

func (r *recorder) SurveyPages(context.Context, interaction.OrgID, interaction.PageQuery) ([]interaction.Survey, error) {
	r.record("surveys", 0)
	return nil, r.fail
}

func (r *recorder) StatusCounts(_ context.Context, _ interaction.OrgID, ids []int64, _ interaction.Filter) ([]interaction.StatusCount, error) {
	r.record("status_counts", len(ids))
	return nil, r.fail
}

func (r *recorder) Timeline(_ context.Context, _ interaction.OrgID, q interaction.TimelineQuery) ([]interaction.TimelineEntry, error) {
	r.record("timeline", len(q.Customers))
	return nil, r.fail
}

func (r *recorder) TimelineCounts(_ context.Context, _ interaction.OrgID, q interaction.TimelineQuery) (map[int64]int, error) {
	r.record("timeline_counts", len(q.Customers))
	return nil, r.fail
}

func mobiles(n int) []string {
	vs := make([]string, n)
	for i := range vs {
		vs[i] = " " + strconv.Itoa(1000+i) // normalised on the way in
	}
	return vs
}

func TestCustomersAreQueuedTogether(t *testing.T) {
	rec := &recorder{}
	l := New(rec, 1, DefaultOptions)
	ctx := context.Background()
	values := append(mobiles(50), "missing", "1000", "")
	cs, errs := l.Customers(ctx, interaction.ByMobile, values)
	for i := range 50 {
		if errs[i] != nil || cs[i].Mobile != strconv.Itoa(1000+i) {
			t.Errorf("result %d = %+v, %v: results are not in key order", i, cs[i], errs[i])
		}
	}
	if interaction.KindOf(errs[50]) != interaction.KindNotFound || errs[51] != nil || interaction.KindOf(errs[52]) != interaction.KindInvalid {
		t.Errorf("missing, repeated, empty: %v", errs[50:])
	}
	// Already loaded: neither a single lookup nor the list asks again.
	if c, err := l.Customer(ctx, interaction.Identifier{Kind: interaction.ByMobile, Value: "1007"}); err != nil || c.Mobile != "1007" {
		t.Errorf("Customer after Customers = %+v, %v", c, err)
	}
	l.Customers(ctx, interaction.ByMobile, mobiles(10))
	if want := []string{"customers/mobile:51"}; len(rec.calls) != 1 || rec.calls[0] != want[0] {
		t.Errorf("store calls = %v, want %v", rec.calls, want)
	}
}

func TestInteractionsOfManyCustomersInOneCall(t *testing.T) {
	rec := &recorder{}
	l := New(rec, 1, DefaultOptions)
	ids := make([]int64, 100)
	for i := range ids {
		ids[i] = int64(i%50 + 1) // each customer twice
	}
	groups, err := l.Interactions(context.Background(), ids, interaction.Request{
		Page: interaction.Page{Limit: 2}, Layout: interaction.LayoutV2, Lists: interaction.AllLists})
	if err != nil {
		t.Fatal(err)
	}
	for i, gs := range groups {
		var emails []interaction.Message
		for _, it := range gs[0].Items {
			if it.Type == interaction.Email {
				emails = it.Messages
			}
		}
		if len(emails) != min(2, int(ids[i])) || emails[0].CustomerID != ids[i] {
			t.Errorf("customer %d: emails %+v", ids[i], emails)
		}
	}
	want := []string{"summaries:50", "messages:50"}
	if len(rec.calls) != 2 || rec.calls[0] != want[0] || rec.calls[1] != want[1] {
		t.Errorf("store calls = %v, want %v", rec.calls, want)
	}
}

func TestNotFoundAndErrors(t *testing.T) {
	ctx := context.Background()
	l := New(&recorder{}, 1, Options{})
	_, err := l.Customer(ctx, interaction.Identifier{Kind: interaction.ByMobile, Value: "missing"})
	if interaction.KindOf(err) != interaction.KindNotFound {
		t.Errorf("missing customer: error %v, want not found", err)
	}
	_, err = l.Customer(ctx, interaction.Identifier{Kind: interaction.ByID, Value: "x"})
	if interaction.KindOf(err) != interaction.KindInvalid {
		t.Errorf("bad id: error %v, want invalid", err)
	}

	boom := errors.New("disk on fire")
	l = New(&recorder{fail: boom}, 1, Options{})
	if _, err := l.Customer(ctx, interaction.Identifier{Kind: interaction.ByMobile, Value: "1"}); !errors.Is(err, boom) {
		t.Errorf("store failure not propagated: %v", err)
	}
	if _, errs := l.Customers(ctx, interaction.ByMobile, []string{"2"}); !errors.Is(errs[0], boom) {
		t.Errorf("store failure not propagated: %v", errs)
	}
	if _, err := l.Interactions(ctx, []int64{1}, interaction.Request{Page: interaction.Page{Limit: 1}, Lists: interaction.AllLists}); !errors.Is(err, boom) {
		t.Errorf("store failure not propagated: %v", err)
	}
}

func TestCountsAloneReadNoPages(t *testing.T) {
	rec := &recorder{}
	l := New(rec, 1, Options{})
	ctx := context.Background()
	l.Interactions(ctx, []int64{1, 2}, interaction.Request{Page: interaction.Page{Limit: 5}})                              // no list selected
	l.Interactions(ctx, []int64{1, 2}, interaction.Request{Page: interaction.Page{Limit: 0}, Lists: interaction.AllLists}) // limit 0
	if want := []string{"summaries:2", "summaries:2"}; len(rec.calls) != 2 || rec.calls[0] != want[0] || rec.calls[1] != want[1] {
		t.Errorf("store calls = %v, want %v", rec.calls, want)
	}
}

func TestMiddlewareBindsLoadersToTheCallersOrg(t *testing.T) {
	rec := &recorder{}
	var seen interaction.OrgID
	h := Middleware(rec, Options{})(httpHandlerFunc(func(ctx context.Context) {
		seen = For(ctx).org
	}))
	serve(h, interaction.NewContext(context.Background(), interaction.Principal{Org: interaction.Org{ID: 42}}))
	if seen != 42 {
		t.Errorf("loaders bound to org %d, want 42", seen)
	}
}

// headRecorder is a recorder that is also an interaction.HeadReader, built
// from the recorder's own answers, as a store across a network is.
type headRecorder struct{ *recorder }

func (h headRecorder) SummariesWithHeads(ctx context.Context, org interaction.OrgID, ids []int64, f interaction.Filter, rows int, order interaction.Order, fields interaction.MessageFields) ([]interaction.Summary, []interaction.Message, error) {
	h.record("summaries+heads", len(ids))
	return h.heads(org, ids, rows)
}

func (h headRecorder) CustomersWithHeads(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string, f interaction.Filter, rows int, order interaction.Order, fields interaction.MessageFields) ([]interaction.Customer, []interaction.Summary, []interaction.Message, error) {
	h.record("customers+summaries+heads/"+string(kind), len(values))
	var cs []interaction.Customer
	var ids []int64
	for _, v := range values {
		if n, err := strconv.ParseInt(v, 10, 64); kind == interaction.ByMobile && err == nil {
			cs = append(cs, interaction.Customer{ID: n, OrgID: org, Mobile: v})
			ids = append(ids, n)
		}
	}
	sums, heads, err := h.heads(org, ids, rows)
	return cs, sums, heads, err
}

func (h headRecorder) heads(org interaction.OrgID, ids []int64, rows int) ([]interaction.Summary, []interaction.Message, error) {
	var sums []interaction.Summary
	var heads []interaction.Message
	for _, id := range ids {
		sums = append(sums, interaction.Summary{CustomerID: id, Network: interaction.Capillary, Type: interaction.Email, Count: 3})
		for i := range min(3, rows) {
			heads = append(heads, interaction.Message{ID: id + int64(i), CustomerID: id, Network: interaction.Capillary, Type: interaction.Email})
		}
	}
	return sums, heads, h.fail
}

// TestCustomersWithInteractions: one store call finds the customers and
// reads their interactions where the store can, and the answers are laid
// out by value as Customers and Interactions lay them out; otherwise it is
// those two calls.
func TestCustomersWithInteractions(t *testing.T) {
	messages := interaction.Request{Page: interaction.Page{Limit: 2}, Layout: interaction.LayoutV2, Lists: interaction.ListMessages}
	for _, tc := range []struct {
		name   string
		heads  bool
		values []string
		req    interaction.Request
		calls  []string
	}{
		{"heads", true, []string{"12", " 34", "missing", "12"}, messages,
			[]string{"customers+summaries+heads/mobile:3"}},
		{"counts only", true, []string{"12", "missing"}, interaction.Request{Layout: interaction.LayoutV2},
			[]string{"customers/mobile:2", "summaries:1"}},
		{"malformed", true, []string{"12", ""}, messages,
			[]string{"customers/mobile:1", "summaries+heads:1"}},
		{"no heads", false, []string{"12", "missing", "345"}, messages,
			[]string{"customers/mobile:3", "summaries:2", "messages:2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			var store interaction.Reader = rec
			if tc.heads {
				store = headRecorder{rec}
			}
			l := New(store, 1, Options{})
			if l.ReadsByIdentifier() != tc.heads {
				t.Errorf("ReadsByIdentifier() = %v over a store that is a HeadReader: %v", !tc.heads, tc.heads)
			}
			ctx := context.Background()
			cs, errs, groups, err := l.CustomersWithInteractions(ctx, interaction.ByMobile, tc.values, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rec.calls, tc.calls) {
				t.Errorf("store calls = %v, want %v", rec.calls, tc.calls)
			}
			for i, v := range tc.values {
				id, nerr := interaction.Identifier{Kind: interaction.ByMobile, Value: v}.Normalize()
				switch {
				case nerr != nil:
					if interaction.KindOf(errs[i]) != interaction.KindInvalid {
						t.Errorf("%q: error %v, want invalid", v, errs[i])
					}
				case id.Value == "missing":
					if interaction.KindOf(errs[i]) != interaction.KindNotFound || groups != nil && groups[i] != nil {
						t.Errorf("%q: error %v, groups %v; want not found and none", v, errs[i], groups[i])
					}
				default:
					if errs[i] != nil || cs[i].Mobile != id.Value {
						t.Fatalf("%q: customer %+v, error %v", v, cs[i], errs[i])
					}
					if len(groups[i]) != 1 {
						t.Fatalf("%q: groups %+v", v, groups[i])
					}
					var email interaction.Item
					for _, it := range groups[i][0].Items {
						if it.Type == interaction.Email {
							email = it
						}
					}
					if email.Count == 0 || email.CustomerID != cs[i].ID {
						t.Errorf("%q: email group %+v of customer %d", v, email, cs[i].ID)
					}
					if ms := email.Messages; tc.req.Lists != 0 && (len(ms) != 2 || ms[0].CustomerID != cs[i].ID) {
						t.Errorf("%q: messages %+v of customer %d", v, ms, cs[i].ID)
					}
				}
			}
			// What was found (or not) is cached for the rest of the request.
			before := len(rec.calls)
			for _, v := range tc.values {
				l.Customer(ctx, interaction.Identifier{Kind: interaction.ByMobile, Value: v})
			}
			if len(rec.calls) != before {
				t.Errorf("lookups after CustomersWithInteractions called the store: %v", rec.calls[before:])
			}
		})
	}
}

// summaryRecorder is a recorder that is also an interaction.SummaryFinder,
// as the embedded store is.
type summaryRecorder struct{ *recorder }

func (s summaryRecorder) CustomersWithSummaries(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string, f interaction.Filter) ([]interaction.Customer, []interaction.Summary, error) {
	s.record("customers+summaries/"+string(kind), len(values))
	var cs []interaction.Customer
	var sums []interaction.Summary
	for _, v := range values {
		if kind == interaction.ByMobile && v != "missing" {
			c := interaction.Customer{ID: int64(len(v)), OrgID: org, Mobile: v}
			cs = append(cs, c)
			sums = append(sums, interaction.Summary{CustomerID: c.ID, Network: interaction.Capillary, Type: interaction.Email, Count: int(c.ID)})
		}
	}
	return cs, sums, s.fail
}

// TestCustomersWithSummaries: over a SummaryFinder the lookup and the
// kept summaries are one call, the pages another; a span (which the kept
// counts do not know) takes the two calls it always took.
func TestCustomersWithSummaries(t *testing.T) {
	messages := interaction.Request{Page: interaction.Page{Limit: 2}, Layout: interaction.LayoutV2, Lists: interaction.ListMessages}
	spanned := messages
	spanned.Filter.Since = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		req   interaction.Request
		calls []string
	}{
		{"kept counts", messages, []string{"customers+summaries/mobile:3", "messages:2"}},
		{"a span", spanned, []string{"customers/mobile:3", "summaries:2", "messages:2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			l := New(summaryRecorder{rec}, 1, Options{})
			if !l.ReadsByIdentifier() {
				t.Error("!ReadsByIdentifier() over a store that finds customers with their summaries")
			}
			cs, errs, groups, err := l.CustomersWithInteractions(context.Background(), interaction.ByMobile, []string{"1", "123", "missing"}, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rec.calls, tc.calls) {
				t.Errorf("store calls = %v, want %v", rec.calls, tc.calls)
			}
			for i, want := range []int64{1, 3} {
				if errs[i] != nil || cs[i].ID != want || len(groups[i]) != 1 {
					t.Errorf("value %d: customer %+v, error %v, groups %+v", i, cs[i], errs[i], groups[i])
				}
			}
			if interaction.KindOf(errs[2]) != interaction.KindNotFound {
				t.Errorf("missing: error %v, want not found", errs[2])
			}
		})
	}
}
