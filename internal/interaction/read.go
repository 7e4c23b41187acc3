package interaction

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Lists names the lists of interactions a request renders: a request for
// counts alone reads no message, missed call or survey.
type Lists uint8

// The lists an interaction group can carry.
const (
	ListMessages Lists = 1 << iota
	ListMissedCalls
	ListSurveys
	AllLists = ListMessages | ListMissedCalls | ListSurveys
)

// MessageFields names the columns of a message a request renders beyond
// those every page reads (id, customer, network, type and sent time), so a
// store reads only what is shown.
type MessageFields uint16

// The optional message columns.
const (
	FieldSender MessageFields = 1 << iota
	FieldReceiver
	FieldSubject
	FieldBody
	FieldStatus
	FieldCampaign
	FieldUser
	FieldDelivered
	AllMessageFields = FieldSender | FieldReceiver | FieldSubject | FieldBody | FieldStatus | FieldCampaign | FieldUser | FieldDelivered
)

// Request is what a transport asks of customers' interactions: which ones
// (Filter), which page of each group, in which layout, and which lists and
// message columns it will render.
type Request struct {
	Filter Filter
	Page   Page
	Layout Layout
	Lists  Lists
	Fields MessageFields
	// StatusCounts says the response renders each group's counts by
	// delivery status.
	StatusCounts bool
}

// Item is one interaction group of a customer: its totals and the requested
// page of whichever list its type holds.
type Item struct {
	Summary
	Messages    []Message
	MissedCalls []MissedCall
	Surveys     []Survey
	// StatusCounts are the group's messages by delivery status, most
	// first (then by status), when the request asked for them.
	StatusCounts []StatusCount
}

// Read is the read path every transport shares: for each of customerIDs, in
// order (repeats allowed), the customer's interaction groups under req,
// assembled as Assemble lays them out, each with its page. Whatever the
// number of customers it runs one statement for the summaries and at most
// one for each kind of list the request renders, and none for a list that
// no group has rows for.
func Read(ctx context.Context, r Reader, org OrgID, customerIDs []int64, req Request) ([][]Group, error) {
	ids, index := distinct(customerIDs)
	var (
		sums  []Summary
		heads *[]Message // the pages of messages, when read with the summaries
		err   error
	)
	if hr, ok := headsFor(r, req); ok {
		var ms []Message
		sums, ms, err = hr.SummariesWithHeads(ctx, org, ids, req.Filter, req.Page.Offset+req.Page.Limit, req.Page.Order, req.Fields)
		heads = &ms
	} else {
		sums, err = r.Summaries(ctx, org, ids, req.Filter)
	}
	if err != nil {
		return nil, fmt.Errorf("read summaries: %w", err)
	}
	groups, err := build(ctx, r, org, ids, index, sums, heads, req)
	if err != nil {
		return nil, err
	}
	out := make([][]Group, len(customerIDs))
	for i, id := range customerIDs {
		out[i] = groups[index[id]]
	}
	return out, nil
}

// ReadByIdentifier is a lookup and Read together, for stores that can do
// the lookup with the summaries, and perhaps the heads, in one statement:
// the customers whose identifier of kind is one of values (normalised), in
// any order, each with its groups under req. It does nothing and answers
// !ok when r is neither a HeadReader for req (see headsFor) nor a
// SummaryFinder for it (an open span, not narrowed); the caller then
// looks the customers up and calls Read.
func ReadByIdentifier(ctx context.Context, r Reader, org OrgID, kind IdentifierKind, values []string, req Request) (cs []Customer, groups [][]Group, ok bool, err error) {
	var (
		sums  []Summary
		heads *[]Message
	)
	if hr, ok := headsFor(r, req); ok {
		var ms []Message
		cs, sums, ms, err = hr.CustomersWithHeads(ctx, org, kind, values, req.Filter, req.Page.Offset+req.Page.Limit, req.Page.Order, req.Fields)
		heads = &ms
	} else if sf, ok := r.(SummaryFinder); ok && req.Filter.Span() == (Span{}) && !req.Filter.Narrowed() {
		cs, sums, err = sf.CustomersWithSummaries(ctx, org, kind, values, req.Filter)
	} else {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, true, fmt.Errorf("read customers with summaries: %w", err)
	}
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	ids, index := distinct(ids)
	if len(ids) != len(cs) {
		return nil, nil, true, fmt.Errorf("read customers with summaries: a customer came twice")
	}
	groups, err = build(ctx, r, org, ids, index, sums, heads, req)
	if err != nil {
		return nil, nil, true, err
	}
	return cs, groups, true, nil
}

// headsFor returns r as a HeadReader when it is one and req reads heads:
// a page of messages, over an open span and every status and campaign
// (the kept counts the heads are joined to know neither).
func headsFor(r Reader, req Request) (HeadReader, bool) {
	hr, ok := r.(HeadReader)
	return hr, ok && wantsMessages(req) && req.Filter.Span() == (Span{}) && !req.Filter.Narrowed()
}

// build assembles the groups of the distinct customers ids (index their
// positions) from their summaries, and fills their pages: from heads when
// the messages came with the summaries.
func build(ctx context.Context, r Reader, org OrgID, ids []int64, index map[int64]int, sums []Summary, heads *[]Message, req Request) ([][]Group, error) {
	raw := make([][]Summary, len(ids))
	for _, s := range sums {
		if i, ok := index[s.CustomerID]; ok {
			raw[i] = append(raw[i], s)
		}
	}
	groups := make([][]Group, len(ids))
	for i, id := range ids {
		groups[i] = Assemble(id, raw[i], req.Filter, req.Layout)
	}
	if req.Page.Limit > 0 && req.Lists != 0 {
		if err := readPages(ctx, r, org, ids, raw, groups, req, heads); err != nil {
			return nil, err
		}
	}
	if req.StatusCounts && len(sums) > 0 {
		if err := readStatusCounts(ctx, r, org, ids, groups, req.Filter); err != nil {
			return nil, err
		}
	}
	return groups, nil
}

// wantsMessages reports whether req renders a page of messages.
func wantsMessages(req Request) bool {
	return req.Page.Limit > 0 && req.Lists&ListMessages != 0
}

// distinct returns ids without repeats, in first-seen order, and each
// one's position among them.
func distinct(ids []int64) ([]int64, map[int64]int) {
	out := make([]int64, 0, len(ids))
	index := make(map[int64]int, len(ids))
	for _, id := range ids {
		if _, ok := index[id]; !ok {
			index[id] = len(out)
			out = append(out, id)
		}
	}
	return out, index
}

// partKey names one partition of one customer.
type partKey struct {
	customer int64
	network  Network
	typ      Type
}

func (a partKey) compare(b partKey) int {
	return cmp.Or(cmp.Compare(a.customer, b.customer), cmp.Compare(a.network, b.network), cmp.Compare(a.typ, b.typ))
}

// run is one partition's page as a store returned it.
type run struct {
	key  partKey
	msgs []Message
}

// runsOf splits pages into their partitions' runs, sorted by partition.
func runsOf(ms []Message) []run {
	var out []run
	for i := 0; i < len(ms); {
		k := partKey{ms[i].CustomerID, ms[i].Network, ms[i].Type}
		j := i + 1
		for j < len(ms) && ms[j].CustomerID == k.customer && ms[j].Network == k.network && ms[j].Type == k.typ {
			j++
		}
		out = append(out, run{k, ms[i:j:j]})
		i = j
	}
	slices.SortFunc(out, func(a, b run) int { return a.key.compare(b.key) })
	return out
}

func pageOf(runs []run, k partKey) []Message {
	if i, ok := slices.BinarySearchFunc(runs, k, func(r run, k partKey) int { return r.key.compare(k) }); ok {
		return runs[i].msgs
	}
	return nil
}

// countOf is a stored partition's count among a customer's summaries.
func countOf(raw []Summary, n Network, t Type) int {
	for _, s := range raw {
		if s.Network == n && s.Type == t {
			return s.Count
		}
	}
	return 0
}

// readPages fills the pages of every group that has interactions and whose
// list the request renders: one store call per kind of list, none for
// messages when heads holds them already.
func readPages(ctx context.Context, r Reader, org OrgID, ids []int64, raw [][]Summary, groups [][]Group, req Request, heads *[]Message) error {
	var msgs, calls, surveys []Partition
	for i, id := range ids {
		for _, g := range groups[i] {
			for _, it := range g.Items {
				if it.Count == 0 {
					continue
				}
				switch {
				case it.Type == MissedCallType && req.Lists&ListMissedCalls != 0:
					calls = append(calls, Partition{CustomerID: id, Network: Capillary, Type: MissedCallType, Count: it.Count})
				case it.Type == SurveyType && req.Lists&ListSurveys != 0:
					surveys = append(surveys, Partition{CustomerID: id, Network: Capillary, Type: SurveyType, Count: it.Count})
				case it.Type.IsMessage() && req.Lists&ListMessages != 0 && heads == nil:
					for _, st := range it.Type.StoredTypes() {
						if n := countOf(raw[i], it.Network, st); n > 0 {
							msgs = append(msgs, Partition{CustomerID: id, Network: it.Network, Type: st, Count: n})
						}
					}
				}
			}
		}
	}
	// A phone group pages sms too, so one partition can be asked for twice.
	msgs = slices.CompactFunc(sortParts(msgs), func(a, b Partition) bool { return a == b })
	rows := req.Page.Offset + req.Page.Limit
	span := req.Filter.Span()

	var pages []run
	switch {
	case heads != nil:
		pages = runsOf(*heads)
	case len(msgs) == 0:
	default:
		// Without a type filter the summaries named every partition of the
		// customers (within the network filter), so a store may read a
		// customer whole.
		ms, err := r.MessagePages(ctx, org, PageQuery{Partitions: msgs, Span: span, Rows: rows, Order: req.Page.Order,
			Fields: req.Fields, Complete: req.Filter.Type == "", Network: req.Filter.Network,
			Statuses: req.Filter.Statuses, Campaigns: req.Filter.Campaigns})
		if err != nil {
			return fmt.Errorf("read message pages: %w", err)
		}
		pages = runsOf(ms)
	}
	pq := PageQuery{Span: span, Rows: rows, Order: req.Page.Order}
	callPages, err := pagesOf(ctx, org, calls, pq, r.MissedCallPages, func(c MissedCall) int64 { return c.CustomerID })
	if err != nil {
		return fmt.Errorf("read missed call pages: %w", err)
	}
	surveyPages, err := pagesOf(ctx, org, surveys, pq, r.SurveyPages, func(s Survey) int64 { return s.CustomerID })
	if err != nil {
		return fmt.Errorf("read survey pages: %w", err)
	}

	for i, id := range ids {
		for _, g := range groups[i] {
			for k := range g.Items {
				it := &g.Items[k]
				if it.Count == 0 {
					continue
				}
				switch {
				case it.Type == MissedCallType:
					it.MissedCalls = window(callPages[id], req.Page)
				case it.Type == SurveyType:
					it.Surveys = window(surveyPages[id], req.Page)
				case it.Type == Phone && pages != nil:
					it.Messages = window(mergePages(pageOf(pages, partKey{id, g.Network, SMS}), pageOf(pages, partKey{id, g.Network, Phone}), req.Page.Order), req.Page)
				case pages != nil:
					it.Messages = window(pageOf(pages, partKey{id, g.Network, it.Type}), req.Page)
				}
			}
		}
	}
	return nil
}

func sortParts(ps []Partition) []Partition {
	slices.SortFunc(ps, func(a, b Partition) int {
		return partKey{a.CustomerID, a.Network, a.Type}.compare(partKey{b.CustomerID, b.Network, b.Type})
	})
	return ps
}

// pagesOf reads the pages of parts under q with read and files them by
// customer; with no parts it reads nothing.
func pagesOf[V any](ctx context.Context, org OrgID, parts []Partition, q PageQuery,
	read func(context.Context, OrgID, PageQuery) ([]V, error), customer func(V) int64) (map[int64][]V, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	q.Partitions = parts
	vs, err := read(ctx, org, q)
	if err != nil {
		return nil, err
	}
	return byCustomer(vs, customer), nil
}

func byCustomer[V any](vs []V, customer func(V) int64) map[int64][]V {
	out := make(map[int64][]V)
	for i := 0; i < len(vs); {
		c := customer(vs[i])
		j := i + 1
		for j < len(vs) && customer(vs[j]) == c {
			j++
		}
		out[c] = vs[i:j:j]
		i = j
	}
	return out
}

// window cuts page p out of the head of a list in p.Order.
func window[V any](vs []V, p Page) []V {
	if p.Offset >= len(vs) {
		return nil
	}
	return vs[p.Offset:min(len(vs), p.Offset+p.Limit)]
}

// mergePages merges two lists in order o into one.
func mergePages(a, b []Message, o Order) []Message {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]Message, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if o.Compare(a[0], b[0]) <= 0 {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// NewerFirst orders messages newest first: by sent time, then by id, both
// descending. It is the one order every page of messages is in.
func NewerFirst(a, b Message) int {
	return cmp.Or(b.SentAt.Compare(a.SentAt), cmp.Compare(b.ID, a.ID))
}

// Compare orders messages as o lists them: NewerFirst, or its reverse
// (sent time, then id, both ascending).
func (o Order) Compare(a, b Message) int {
	if o == OldestFirst {
		return NewerFirst(b, a)
	}
	return NewerFirst(a, b)
}

// readStatusCounts gives every message group its counts by status, with
// one statement for all the customers. A phone group counts its sms and
// phone messages together, as its count does.
func readStatusCounts(ctx context.Context, r Reader, org OrgID, ids []int64, groups [][]Group, f Filter) error {
	scs, err := r.StatusCounts(ctx, org, ids, f)
	if err != nil {
		return fmt.Errorf("read status counts: %w", err)
	}
	type key struct {
		customer int64
		network  Network
		typ      Type
	}
	by := make(map[key][]StatusCount)
	for _, sc := range scs {
		k := key{sc.CustomerID, sc.Network, sc.Type}
		by[k] = append(by[k], sc)
	}
	for i, id := range ids {
		for _, g := range groups[i] {
			for k := range g.Items {
				it := &g.Items[k]
				if it.Count == 0 || !it.Type.IsMessage() {
					continue
				}
				var list []StatusCount
				for _, st := range it.Type.StoredTypes() {
					list = addStatusCounts(list, by[key{id, g.Network, st}], it.Type)
				}
				slices.SortFunc(list, func(a, b StatusCount) int {
					return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Status, b.Status))
				})
				it.StatusCounts = list
			}
		}
	}
	return nil
}

// addStatusCounts adds counts of one stored type to list, summing by
// status, under the group's type.
func addStatusCounts(list, more []StatusCount, t Type) []StatusCount {
	for _, sc := range more {
		sc.Type = t
		if j := slices.IndexFunc(list, func(x StatusCount) bool { return x.Status == sc.Status }); j >= 0 {
			list[j].Count += sc.Count
		} else {
			list = append(list, sc)
		}
	}
	return list
}
