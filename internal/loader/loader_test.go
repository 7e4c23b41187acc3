package loader

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// recorder is an in-memory interaction.Reader that records every call, so
// the tests can see how keys were batched. The SQL behind the real Reader
// is tested against real SQLite files in package sqlite.
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

func (r *recorder) Messages(_ context.Context, _ interaction.OrgID, ids []int64, groups []interaction.GroupKey, _ interaction.Span, p interaction.Page) ([]interaction.PagedMessage, error) {
	r.record("messages", len(ids))
	var out []interaction.PagedMessage
	for _, id := range ids {
		for _, g := range groups {
			for i := range p.Limit {
				out = append(out, interaction.PagedMessage{Group: g, Message: interaction.Message{ID: id*100 + int64(i), CustomerID: id}})
			}
		}
	}
	return out, r.fail
}

func (r *recorder) MissedCalls(context.Context, interaction.OrgID, []int64, interaction.PageQuery) ([]interaction.MissedCall, error) {
	r.record("missed_calls", 0)
	return nil, r.fail
}

func (r *recorder) Surveys(context.Context, interaction.OrgID, []int64, interaction.PageQuery) ([]interaction.Survey, error) {
	r.record("surveys", 0)
	return nil, r.fail
}

// concurrently runs fn for i in [0,n) at once, as gqlgen's field resolvers do.
func concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

func TestBatchesConcurrentLoads(t *testing.T) {
	rec := &recorder{}
	// A generous wait makes the test independent of scheduling on a busy
	// machine; batching itself does not depend on the value.
	l := New(rec, 1, Options{Wait: 20 * time.Millisecond})
	ctx := context.Background()
	const n = 50
	got := make([]interaction.Customer, n)
	concurrently(n, func(i int) {
		c, err := l.Customer(ctx, interaction.Identifier{Kind: interaction.ByMobile, Value: " " + strconv.Itoa(1000+i)})
		if err != nil {
			t.Errorf("Customer(%d): %v", i, err)
		}
		got[i] = c
	})
	for i, c := range got {
		if c.Mobile != strconv.Itoa(1000+i) {
			t.Errorf("result %d = %+v: results are not in key order", i, c)
		}
	}
	concurrently(n, func(i int) {
		q := interaction.Filter{}.Query(interaction.Capillary, interaction.Email, interaction.Page{Limit: 2})
		ms, err := l.Messages(ctx, int64(i+1), q)
		if err != nil || len(ms) != 2 || ms[0].CustomerID != int64(i+1) {
			t.Errorf("Messages(%d) = %v, %v", i+1, ms, err)
		}
	})
	want := []string{"customers/mobile:50", "messages:50"}
	if len(rec.calls) != len(want) || rec.calls[0] != want[0] || rec.calls[1] != want[1] {
		t.Errorf("store calls = %v, want %v", rec.calls, want)
	}
}

func TestOneQueryPerDistinctFilter(t *testing.T) {
	rec := &recorder{}
	l := New(rec, 1, Options{Wait: 20 * time.Millisecond})
	ctx := context.Background()
	concurrently(10, func(i int) {
		f := interaction.Filter{}
		if i%2 == 0 {
			f.Network = interaction.Twitter
		}
		sums, err := l.Summaries(ctx, int64(i+1), f)
		if err != nil || len(sums) != 1 || sums[0].Count != i+1 {
			t.Errorf("Summaries(%d) = %v, %v", i+1, sums, err)
		}
	})
	if len(rec.calls) != 2 {
		t.Errorf("store calls = %v, want one per filter", rec.calls)
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
	if _, err := l.Messages(ctx, 1, interaction.PageQuery{Network: interaction.Capillary, Type: interaction.SMS, Page: interaction.Page{Limit: 1}}); !errors.Is(err, boom) {
		t.Errorf("store failure not propagated: %v", err)
	}
}

func TestSkipsQueriesThatCannotReturnRows(t *testing.T) {
	rec := &recorder{}
	l := New(rec, 1, Options{})
	ctx := context.Background()
	// limit 0, and a message page for a non-message type.
	l.Messages(ctx, 1, interaction.PageQuery{Type: interaction.Email})
	l.Messages(ctx, 1, interaction.PageQuery{Type: interaction.SurveyType, Page: interaction.Page{Limit: 5}})
	l.Surveys(ctx, 1, interaction.PageQuery{})
	l.MissedCalls(ctx, 1, interaction.PageQuery{})
	if len(rec.calls) != 0 {
		t.Errorf("store calls = %v, want none", rec.calls)
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
