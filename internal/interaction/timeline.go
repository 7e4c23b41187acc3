package interaction

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The timeline: a customer's messages, missed calls and surveys in one
// list, newest first, paged by keyset cursors.

// MaxTimelinePage caps first and last.
const MaxTimelinePage = 500

// EntryKind says which list a timeline entry comes from. It is the
// second key of the timeline's order, so two interactions at the same
// millisecond still have one order.
type EntryKind uint8

// The kinds, in the order of their values; newest first lists the larger
// kind first among entries of the same time.
const (
	EntryMessage EntryKind = iota
	EntryMissedCall
	EntrySurvey
	entryKinds
)

// Position is an entry's place in a timeline: its time, kind and id.
type Position struct {
	At   time.Time
	Kind EntryKind
	ID   int64
}

// Compare orders positions newest first: time, kind and id, each
// descending.
func (p Position) Compare(q Position) int {
	return cmp.Or(q.At.Compare(p.At), cmp.Compare(q.Kind, p.Kind), cmp.Compare(q.ID, p.ID))
}

// TimelineEntry is one interaction of a timeline: the field its Kind
// names is set.
type TimelineEntry struct {
	Position
	CustomerID int64
	Message    Message
	MissedCall MissedCall
	Survey     Survey
}

// TimelineFilter narrows a timeline. Empty lists and zero times are no
// constraint; NewTimelineFilter sorts the lists and drops repeats, so a
// filter's Hash does not depend on how the caller ordered them.
type TimelineFilter struct {
	Networks  []Network
	Types     []Type // API types: PHONE is sms and phone messages
	Statuses  []string
	Campaigns []int64
	Since     time.Time
	Until     time.Time
}

// NewTimelineFilter validates and normalises timeline filter arguments.
func NewTimelineFilter(networks []Network, types []Type, statuses []string, campaigns []int64, since, until *time.Time) (TimelineFilter, error) {
	for _, n := range networks {
		if !n.Valid() {
			return TimelineFilter{}, Errorf(KindInvalid, "invalid network %q", string(n))
		}
	}
	for _, t := range types {
		if !t.Valid() {
			return TimelineFilter{}, Errorf(KindInvalid, "invalid type %q", string(t))
		}
	}
	f := TimelineFilter{Networks: sortedSet(networks), Types: sortedSet(types), Statuses: sortedSet(statuses), Campaigns: sortedSet(campaigns)}
	span, ok := spanOf(since, until)
	if !ok {
		return TimelineFilter{}, Errorf(KindInvalid, "until is before since")
	}
	f.Since, f.Until = span.Since, span.Until
	return f, nil
}

func sortedSet[T cmp.Ordered](vs []T) []T {
	if len(vs) == 0 {
		return nil
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return slices.Compact(s)
}

// Hash identifies the filter in a cursor, so that a cursor is refused
// under other filters (its position would mean another place).
func (f TimelineFilter) Hash() uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%q|%q|%q|%v|%d|%d", f.Networks, f.Types, f.Statuses, f.Campaigns, f.Since.UnixMilli(), f.Until.UnixMilli())
	return h.Sum64()
}

// TimelineQuery is what a store reads for many customers' timelines in
// one statement.
type TimelineQuery struct {
	Customers []int64
	// Which lists: Messages, MissedCalls and Surveys; the messages'
	// Networks and Types (stored types) when set, Statuses and Campaigns
	// (canonical Lists) when set.
	Messages, MissedCalls, Surveys bool
	Networks                       []Network
	Types                          []Type
	Statuses, Campaigns            List
	Span                           Span
	// Order is the order the rows are read in from From: newest first
	// reads entries older than From, oldest first entries newer. A nil
	// From starts at the newest (oldest) end.
	Order Order
	From  *Position
	// Rows is how many entries of each customer to return at most (the
	// store may return more of a customer; Read cuts them).
	Rows   int
	Fields MessageFields
}

// Empty reports whether q can match no entry: it names no customer or
// asks for none of the lists. A store answers it without a statement.
func (q TimelineQuery) Empty() bool {
	return len(q.Customers) == 0 || !(q.Messages || q.MissedCalls || q.Surveys)
}

// KeyBound returns the bound a list of entries of kind k is read from
// (in q.Order, exclusive): its time and id. Newest first, an entry of
// kind k lies past From when (time, id) < (at, id); oldest first when
// (time, id) > (at, id). Entries of another kind at From's time are on
// one side of it as a whole (the kind is the order's second key), which
// an extreme id says.
func (q TimelineQuery) KeyBound(k EntryKind) (at, id int64) {
	if q.From == nil {
		if q.Order == OldestFirst {
			return math.MinInt64, math.MinInt64
		}
		return math.MaxInt64, math.MaxInt64
	}
	at, id = q.From.At.UnixMilli(), q.From.ID
	// Newest first, a smaller kind at the same time comes after From
	// (all its ids pass), a larger one before it (none pass).
	switch past := k < q.From.Kind; {
	case k == q.From.Kind:
	case past == (q.Order == NewestFirst):
		id = math.MaxInt64
		if q.Order == OldestFirst {
			id = math.MinInt64
		}
	default:
		id = math.MinInt64
		if q.Order == OldestFirst {
			id = math.MaxInt64
		}
	}
	return at, id
}

// TimeRange returns the inclusive millisecond bounds of the times
// past q.From within q.Span: the span narrowed to From's time on the side
// the rows are read towards, so that a store's index range starts at the
// bound (the exact keyset condition then only sorts out that one time).
func (q TimelineQuery) TimeRange() (lo, hi int64) {
	lo, hi = q.Span.Millis()
	if q.From != nil {
		at := q.From.At.UnixMilli()
		if q.Order == OldestFirst {
			lo = max(lo, at)
		} else {
			hi = min(hi, at)
		}
	}
	return lo, hi
}

// TimelineReader is what the timeline needs of a store, each call one
// statement for many customers.
type TimelineReader interface {
	// Timeline returns, for each of q.Customers, at least its first
	// q.Rows entries past q.From in q.Order, or all it has, in any
	// order. Only q.Fields of the optional message columns are read.
	Timeline(ctx context.Context, org OrgID, q TimelineQuery) ([]TimelineEntry, error)
	// TimelineCounts returns how many entries each customer's timeline
	// holds under q's filters (From and Rows play no part); customers
	// without any are absent.
	TimelineCounts(ctx context.Context, org OrgID, q TimelineQuery) (map[int64]int, error)
}

// TimelineRequest is one page of many customers' timelines.
type TimelineRequest struct {
	Filter TimelineFilter
	// Size is the page size; Backward pages with last and before
	// instead of first and after.
	Size     int
	Backward bool
	// From is the cursor's position (after, or before when Backward).
	From   *Position
	Total  bool // totalCount is rendered
	Fields MessageFields
}

// TimelinePage is one customer's page, newest first.
type TimelinePage struct {
	Entries              []TimelineEntry
	HasNext, HasPrevious bool
	Total                int
}

// NewTimelineRequest validates the paging arguments: first (its default
// ignored when last is given and first was not: explicitFirst), after,
// last and before. Only first with after, or last with before, go
// together.
func NewTimelineRequest(first *int, explicitFirst bool, after *string, last *int, before *string) (size int, backward bool, cursor *string, err error) {
	if last != nil && first != nil && explicitFirst {
		return 0, false, nil, Errorf(KindInvalid, "give first or last, not both")
	}
	if after != nil && before != nil {
		return 0, false, nil, Errorf(KindInvalid, "give after or before, not both")
	}
	if last != nil {
		if after != nil {
			return 0, false, nil, Errorf(KindInvalid, "last pages backwards: give before, not after")
		}
		if *last < 0 || *last > MaxTimelinePage {
			return 0, false, nil, Errorf(KindInvalid, "last must be between 0 and %d", MaxTimelinePage)
		}
		return *last, true, before, nil
	}
	if before != nil {
		return 0, false, nil, Errorf(KindInvalid, "before pages backwards: give last with it")
	}
	size = 20
	if first != nil {
		if *first < 0 || *first > MaxTimelinePage {
			return 0, false, nil, Errorf(KindInvalid, "first must be between 0 and %d", MaxTimelinePage)
		}
		size = *first
	}
	return size, false, after, nil
}

// Cursor is what a cursor says: whose timeline, under which filters, and
// where.
type Cursor struct {
	Org      OrgID
	Customer int64
	Filter   uint64 // TimelineFilter.Hash
	Position
}

const cursorPrefix = "tl1"

// Encode renders c opaque (base64url of a versioned text).
func (c Cursor) Encode() string { return string(c.AppendEncoded(nil)) }

// AppendEncoded appends Encode's text to b, without allocating for it
// when b has room (a page writes one per edge).
func (c Cursor) AppendEncoded(b []byte) []byte {
	var raw [128]byte
	r := append(raw[:0], cursorPrefix...)
	for _, n := range [...]int64{int64(c.Org), c.Customer, int64(c.Filter), c.At.UnixMilli(), int64(c.Kind), c.ID} {
		r = append(r, ':')
		r = strconv.AppendInt(r, n, 10)
	}
	return base64.RawURLEncoding.AppendEncode(b, r)
}

// DecodeCursor reads a cursor; anything Encode did not write is
// KindInvalid.
func DecodeCursor(s string) (Cursor, error) {
	bad := Errorf(KindInvalid, "malformed cursor")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 7 || parts[0] != cursorPrefix {
		return Cursor{}, bad
	}
	var n [6]int64
	for i, p := range parts[1:] {
		if n[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return Cursor{}, bad
		}
	}
	if n[4] < 0 || n[4] >= int64(entryKinds) {
		return Cursor{}, bad
	}
	return Cursor{Org: OrgID(n[0]), Customer: n[1], Filter: uint64(n[2]),
		Position: Position{At: time.UnixMilli(n[3]).UTC(), Kind: EntryKind(n[4]), ID: n[5]}}, nil
}

// Check refuses a cursor issued for another organisation, customer or
// filter (the TimelineFilter.Hash of the request's filter).
func (c Cursor) Check(org OrgID, customer int64, filter uint64) error {
	if c.Org != org || c.Customer != customer || c.Filter != filter {
		return Errorf(KindInvalid, "the cursor belongs to another customer's timeline or to other filters")
	}
	return nil
}

// query is the store query f asks for.
func (f TimelineFilter) query() TimelineQuery {
	q := TimelineQuery{Span: Span{Since: f.Since, Until: f.Until}, Networks: f.Networks,
		Statuses: StringList(f.Statuses), Campaigns: IntList(f.Campaigns)}
	onCapillary := len(f.Networks) == 0 || slices.Contains(f.Networks, Capillary)
	noMessageFilter := q.Statuses == "" && q.Campaigns == ""
	if len(f.Types) == 0 {
		q.Messages, q.MissedCalls, q.Surveys = true, onCapillary && noMessageFilter, onCapillary && noMessageFilter
		return q
	}
	for _, t := range f.Types {
		switch {
		case t == MissedCallType:
			q.MissedCalls = onCapillary && noMessageFilter
		case t == SurveyType:
			q.Surveys = onCapillary && noMessageFilter
		default:
			q.Messages = true
			q.Types = append(q.Types, t.StoredTypes()...)
		}
	}
	q.Types = sortedSet(q.Types)
	return q
}

// ReadTimeline reads one page of the timeline of each of customerIDs
// (repeats allowed), in order: one statement for the entries of every
// customer, and one for the totals when they are rendered and the kept
// counts cannot answer them.
func ReadTimeline(ctx context.Context, r Reader, org OrgID, customerIDs []int64, req TimelineRequest) ([]TimelinePage, error) {
	ids, index := distinct(customerIDs)
	pages := make([]TimelinePage, len(ids))
	q := req.Filter.query()
	q.Customers, q.From, q.Rows, q.Fields = ids, req.From, req.Size+1, req.Fields
	if req.Backward {
		q.Order = OldestFirst
	}
	if req.Size > 0 && (q.Messages || q.MissedCalls || q.Surveys) {
		es, err := r.Timeline(ctx, org, q)
		if err != nil {
			return nil, fmt.Errorf("read timeline: %w", err)
		}
		// Sorted by customer and then in the page's order, each customer's
		// page is a run of es: no entry is copied again.
		es = sortEntries(es, index)
		for i, j := 0, 0; i < len(es); i = j {
			for j = i + 1; j < len(es) && es[j].CustomerID == es[i].CustomerID; j++ {
			}
			if k, ok := index[es[i].CustomerID]; ok {
				pages[k].Entries = es[i:j:j]
			}
		}
		for i := range pages {
			pages[i].cut(req)
		}
	} else {
		for i := range pages {
			pages[i].HasPrevious, pages[i].HasNext = req.From != nil && !req.Backward, req.From != nil && req.Backward
		}
	}
	if req.Total {
		all := q
		all.From = nil // a total is of the whole timeline
		totals, err := timelineTotals(ctx, r, org, all)
		if err != nil {
			return nil, err
		}
		for i, id := range ids {
			pages[i].Total = totals[id]
		}
	}
	out := make([]TimelinePage, len(customerIDs))
	for i, id := range customerIDs {
		out[i] = pages[index[id]]
	}
	return out, nil
}

// cut keeps the page of a customer's entries (newest first, read from
// the cursor in the request's direction) and says what lies beyond it.
func (p *TimelinePage) cut(req TimelineRequest) {
	es := p.Entries
	more := len(es) > req.Size
	if req.Backward {
		// Read oldest first from the cursor: the page is the oldest Size
		// of them, the newest end of es.
		es = es[max(0, len(es)-req.Size):]
		p.HasPrevious, p.HasNext = more, req.From != nil
	} else {
		es = es[:min(len(es), req.Size)]
		p.HasNext, p.HasPrevious = more, req.From != nil
	}
	p.Entries = es
}

// timelineTotals counts each customer's timeline: from the kept counts
// when the filter is by network and type alone, else with a COUNT.
func timelineTotals(ctx context.Context, r Reader, org OrgID, q TimelineQuery) (map[int64]int, error) {
	if q.Span != (Span{}) || q.Statuses != "" || q.Campaigns != "" {
		n, err := r.TimelineCounts(ctx, org, q)
		if err != nil {
			return nil, fmt.Errorf("count timeline: %w", err)
		}
		return n, nil
	}
	sums, err := r.Summaries(ctx, org, q.Customers, Filter{})
	if err != nil {
		return nil, fmt.Errorf("count timeline: %w", err)
	}
	out := make(map[int64]int, len(q.Customers))
	for _, s := range sums {
		if q.counts(s.Network, s.Type) {
			out[s.CustomerID] += s.Count
		}
	}
	return out, nil
}

// counts reports whether q's timeline holds the stored partition of n and t.
func (q TimelineQuery) counts(n Network, t Type) bool {
	switch t {
	case MissedCallType:
		return q.MissedCalls
	case SurveyType:
		return q.Surveys
	}
	return q.Messages && (len(q.Networks) == 0 || slices.Contains(q.Networks, n)) && (len(q.Types) == 0 || slices.Contains(q.Types, t))
}

// entryKey is what sortEntries orders an entry by: an entry is several
// hundred bytes, and sorting them in place moved each one a dozen times
// (a quarter of a 50-customer timeline's CPU), so small keys are sorted
// and each entry moved once, in place.
type entryKey struct {
	at   int64 // Position.At in Unix nanoseconds
	kind EntryKind
	id   int64
	i    int
}

// sortEntries orders es by the customers' positions in index,
// then by Position.Compare (newest first). The customers are bucketed
// rather than compared: a sort then orders each customer's few dozen
// entries, which come from the store in a few sorted runs.
func sortEntries(es []TimelineEntry, index map[int64]int) []TimelineEntry {
	start := make([]int, len(index)+1) // bucket k is keys[start[k]:start[k+1]]
	at := make([]int, len(es))
	for i := range es {
		k := index[es[i].CustomerID]
		at[i] = k
		start[k+1]++
	}
	for k := 1; k < len(start); k++ {
		start[k] += start[k-1]
	}
	keys := make([]entryKey, len(es))
	next := slices.Clone(start[:len(index)])
	for i := range es {
		e := &es[i]
		keys[next[at[i]]] = entryKey{e.At.UnixNano(), e.Kind, e.ID, i}
		next[at[i]]++
	}
	newest := func(a, b entryKey) int {
		return cmp.Or(cmp.Compare(b.at, a.at), cmp.Compare(b.kind, a.kind), cmp.Compare(b.id, a.id))
	}
	for k := range len(index) {
		slices.SortFunc(keys[start[k]:start[k+1]], newest)
	}
	// es[i] becomes es[keys[i].i], in place, one cycle of the
	// permutation at a time (a done position has keys[j].i == j).
	for i := range keys {
		if keys[i].i == i {
			continue
		}
		held := es[i]
		for j := i; ; {
			src := keys[j].i
			keys[j].i = j
			if src == i {
				es[j] = held
				break
			}
			es[j] = es[src]
			j = src
		}
	}
	return es
}
