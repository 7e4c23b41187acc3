package graph

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/touchpoint/touchpoint/graph/model"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
	"github.com/touchpoint/touchpoint/internal/otp"
)

// The interactions subtree is marshalled here, in one pass, instead of by
// the generated executor.
//
// Everything below Customer.interactions is plain data that the batch
// resolver already holds in full: no field of NetworkInteractions,
// Interaction, Message, MissedCall or Survey resolves anything or can fail.
// gqlgen would still marshal every element of every list in its own
// goroutine, collect the element's fields again, and give each field its
// own context and closures; on a dashboard that was most of the request's
// CPU. So a field middleware lets the batch resolver run as usual and then
// hands gqlgen a Marshaler for the result, which gqlgen writes in place of
// the field's value (resolveField accepts a Marshaler from the middleware
// chain). The selection sets are collected by gqlgen's own CollectFields,
// once per level rather than once per element, so fragments, aliases,
// __typename and @skip/@include mean what they mean to gqlgen; values are
// written byte for byte as the generated marshallers write them, which
// TestFastMarshallingMatchesGqlgen checks against the generated path.

// fastInteractions switches the one-pass marshalling on (tests turn it off
// to compare with the generated executor).
var fastInteractions = true

// onePass is the field middleware. It takes over two fields:
//
//   - Query.customers and Query.customer: when every field selected on
//     Customer is one it knows (the identifiers, __typename and
//     interactions), it calls the batch resolver of each interactions field
//     itself, for all the customers at once, and writes the customers and
//     their interactions in one pass; gqlgen then marshals no Customer at
//     all, so it starts no goroutine per customer. Anything else (another
//     field, an argument gqlgen rejects, an error from the resolver) leaves
//     the field to the generated executor, which answers it, errors and
//     all, as if this middleware were not there.
//   - Customer.interactions, when gqlgen marshals a customer after all:
//     the batch resolver runs as usual and its result is written in one
//     pass.
func (r *Resolver) onePass(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return next(ctx)
	}
	switch {
	case fc.Object == "Query" && (fc.Field.Name == "customers" || fc.Field.Name == "customer"):
		if m := r.identifiedJSON(ctx, fc); m != nil {
			return m, nil
		}
		res, err := next(ctx)
		if err != nil {
			return res, err
		}
		if m := r.customersJSON(ctx, fc, res, nil); m != nil {
			return m, nil
		}
		return res, nil
	case fc.Object == "Customer" && fc.Field.Name == "interactions":
		return marshalInteractions(ctx, next)
	case fc.Object == "Customer" && fc.Field.Name == "timeline":
		return marshalTimeline(ctx, next)
	}
	return next(ctx)
}

// marshalTimeline writes Customer.timeline's result in one pass.
func marshalTimeline(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	res, err := next(ctx)
	conn, ok := res.(*model.TimelineConnection)
	if err != nil || !ok || conn == nil {
		return res, err
	}
	return &timelineJSON{plan: planFor(ctx, fc.Field, "TimelineConnection"), conn: conn,
		w: interactionsJSON{loc: locationOf(ctx)}}, nil
}

// marshalInteractions writes Customer.interactions' result in one pass.
func marshalInteractions(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	res, err := next(ctx)
	nis, ok := res.([]*model.NetworkInteractions)
	if err != nil || !ok {
		return res, err
	}
	return &interactionsJSON{plan: planFor(ctx, fc.Field, "NetworkInteractions"), nis: nis, loc: locationOf(ctx)}, nil
}

func locationOf(ctx context.Context) *time.Location {
	if p, ok := interaction.FromContext(ctx); ok {
		return p.Org.Location()
	}
	return time.UTC
}

// customerField is one field selected on Customer.
type customerField struct {
	key  []byte
	name string
	// for interactions: each customer's result, in the order of the list
	interactions []*interactionsJSON
	// for timeline: the same
	timelines []*timelineJSON
}

// customersJSON is the customers of Query.customers (or the one of
// Query.customer, single), ready to write; nil when the selection is not
// one it handles.
type customersJSON struct {
	single bool
	list   []*interaction.Customer
	fields []customerField
}

func (r *Resolver) customersJSON(ctx context.Context, fc *graphql.FieldContext, res any, given *givenInteractions) graphql.Marshaler {
	out := &customersJSON{}
	switch v := res.(type) {
	case []*interaction.Customer:
		out.list = v
	case *interaction.Customer:
		if v == nil {
			return nil // gqlgen writes the null
		}
		out.single, out.list = true, []*interaction.Customer{v}
	default:
		return nil
	}
	op := graphql.GetOperationContext(ctx)
	var present []*interaction.Customer
	for _, c := range out.list {
		if c != nil {
			present = append(present, c)
		}
	}
	loc := locationOf(ctx)
	quiet := quietly(ctx)
	fields := given.customerFields()
	if fields == nil {
		fields = graphql.CollectFields(op, fc.Field.Selections, []string{"Customer"})
	}
	for _, f := range fields {
		cf := customerField{key: []byte(string(appendQuoted(nil, f.Alias)) + ":"), name: f.Name}
		switch f.Name {
		case "__typename", "id", "mobile", "email", "externalId":
		case "interactions":
			var results [][]*model.NetworkInteractions
			if given != nil && given.alias == f.Alias {
				results = given.results
			} else {
				child, err := fc.Child(quiet, f)
				if err != nil {
					return nil
				}
				if results, err = r.interactionsOf(graphql.WithFieldContext(ctx, child), present, child.Args); err != nil {
					return nil
				}
			}
			plan := planFor(ctx, f, "NetworkInteractions")
			cf.interactions = make([]*interactionsJSON, len(results))
			for i, nis := range results {
				cf.interactions[i] = &interactionsJSON{plan: plan, nis: nis, loc: loc}
			}
		case "timeline":
			child, err := fc.Child(quiet, f)
			if err != nil {
				return nil
			}
			results, err := r.timelineOf(graphql.WithFieldContext(ctx, child), present, child.Args)
			if err != nil {
				return nil
			}
			plan := planFor(ctx, f, "TimelineConnection")
			cf.timelines = make([]*timelineJSON, len(results))
			for i, conn := range results {
				cf.timelines[i] = &timelineJSON{plan: plan, conn: conn, w: interactionsJSON{loc: loc}}
			}
		default:
			return nil
		}
		out.fields = append(out.fields, cf)
	}
	return out
}

// quietly is ctx for coercing a child field's arguments with the
// generated code (fc.Child) with errors kept out of the response: on any
// error the one-pass path gives the field back to gqlgen, which does it
// again and reports it itself.
func quietly(ctx context.Context) context.Context {
	return graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, graphql.DefaultRecover)
}

// givenInteractions is what identifiedJSON has already: the Customer
// selection, collected, and one interactions field's results, read, for
// the customers present in the list (as interactionsOf returns them).
type givenInteractions struct {
	fields  []graphql.CollectedField // the Customer selection, collected already
	alias   string
	results [][]*model.NetworkInteractions
}

func (g *givenInteractions) customerFields() []graphql.CollectedField {
	if g == nil {
		return nil
	}
	return g.fields
}

// identifiedJSON answers Query.customer or Query.customers whole when the
// selection is one customersJSON writes and the store finds the customers
// and reads their first interactions field's summaries (on PostgreSQL
// with its first pages) in one statement (loader.CustomersWithInteractions):
// the lookup then costs no statement of its own. Anything else (bad arguments, an error, a customer not
// found by Query.customer, a store that cannot) gives nil, and the field
// goes the usual way: the resolver, then customersJSON.
func (r *Resolver) identifiedJSON(ctx context.Context, fc *graphql.FieldContext) graphql.Marshaler {
	if !loader.For(ctx).ReadsByIdentifier() {
		return nil
	}
	var (
		kind   interaction.IdentifierKind
		values []string
		single = fc.Field.Name == "customer"
	)
	if single {
		mobile, _ := fc.Args["mobile"].(*string)
		email, _ := fc.Args["email"].(*string)
		externalID, _ := fc.Args["externalId"].(*string)
		id, _ := fc.Args["id"].(*int64)
		ident, err := identifierOf(mobile, email, externalID, id)
		if err != nil {
			return nil
		}
		kind, values = ident.Kind, []string{ident.Value}
	} else {
		kind, _ = fc.Args["by"].(interaction.IdentifierKind)
		values, _ = fc.Args["values"].([]string)
		if checkCustomers(values) != nil || len(values) == 0 {
			return nil
		}
	}
	op := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFields(op, fc.Field.Selections, []string{"Customer"})
	var first *graphql.CollectedField
	for i := range fields {
		if fields[i].Name == "interactions" {
			first = &fields[i]
			break
		}
	}
	if first == nil {
		return nil // the lookup alone is one statement anyway
	}
	child, err := fc.Child(quietly(ctx), *first)
	if err != nil {
		return nil
	}
	cctx := graphql.WithFieldContext(ctx, child)
	req, err := requestFromArgs(cctx, child.Args)
	if err != nil {
		return nil
	}
	cs, errs, groups, err := loader.For(ctx).CustomersWithInteractions(ctx, kind, values, req)
	if err != nil {
		return nil
	}
	list := make([]*interaction.Customer, len(values))
	var found [][]interaction.Group
	for i := range values {
		switch k := interaction.KindOf(errs[i]); {
		case errs[i] == nil:
			list[i] = &cs[i]
			found = append(found, groups[i])
		case k != interaction.KindNotFound:
			return nil
		}
	}
	var res any = list
	if single {
		if list[0] == nil {
			return nil
		}
		res = list[0]
	}
	return r.customersJSON(ctx, fc, res, &givenInteractions{fields: fields, alias: first.Alias, results: presentFor(cctx, found)})
}

// interactionsOf reads Customer.interactions for cs with arguments as
// gqlgen coerced them, as the batch resolver does.
func (r *Resolver) interactionsOf(ctx context.Context, cs []*interaction.Customer, args map[string]any) ([][]*model.NetworkInteractions, error) {
	req, err := requestFromArgs(ctx, args)
	if err != nil {
		return nil, err
	}
	return interactionsFor(ctx, cs, req)
}

// timelineOf calls the batch resolver of the timeline with arguments as
// gqlgen coerced them. An error of some customers (a foreign cursor) is
// an error: the generated executor then answers the field itself.
func (r *Resolver) timelineOf(ctx context.Context, cs []*interaction.Customer, args map[string]any) ([]*model.TimelineConnection, error) {
	first, _ := args["first"].(*int)
	after, _ := args["after"].(*string)
	last, _ := args["last"].(*int)
	before, _ := args["before"].(*string)
	networks, _ := args["networks"].([]interaction.Network)
	types, _ := args["types"].([]interaction.Type)
	statuses, _ := args["statuses"].([]string)
	campaigns, _ := args["campaignIds"].([]int64)
	since, _ := args["since"].(*time.Time)
	until, _ := args["until"].(*time.Time)
	return r.Customer().Timeline(ctx, cs, first, after, last, before, networks, types, statuses, campaigns, since, until)
}

func (c *customersJSON) MarshalGQL(w io.Writer) {
	size := 64 + len(c.list)*32*len(c.fields)
	for _, f := range c.fields {
		for _, j := range f.interactions {
			size += j.size()
		}
		for _, j := range f.timelines {
			size += j.size()
		}
	}
	b := buffer(w, size)
	if !c.single {
		b = append(b, '[')
	}
	n := 0 // index among the customers present
	for i, cu := range c.list {
		if i > 0 {
			b = append(b, ',')
		}
		if cu == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '{')
		for k, f := range c.fields {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, f.key...)
			switch f.name {
			case "__typename":
				b = appendQuoted(b, "Customer")
			case "id":
				b = appendID(b, cu.ID)
			case "mobile":
				b = appendQuoted(b, cu.Mobile)
			case "email":
				b = appendQuoted(b, cu.Email)
			case "externalId":
				b = appendQuoted(b, cu.ExternalID)
			case "interactions":
				b = f.interactions[n].append(b)
			case "timeline":
				b = f.timelines[n].append(b)
			}
		}
		b = append(b, '}')
		n++
	}
	if !c.single {
		b = append(b, ']')
	}
	w.Write(b)
}

// plans caches one request's plans by field: every customer of a list
// shares its interactions field's selection, so it is collected once.
type plans struct {
	mu sync.Mutex
	m  map[*ast.Field]*plan
}

type plansKey struct{}

// withPlans gives every request a plan cache of its own, for documents
// whose plans depend on the request's variables (see planFor).
func withPlans(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), plansKey{}, &plans{})))
	})
}

// planFor returns the plan of f's selection as typename. A document
// without directives has the same plans on every request (only @skip and
// @include make a selection depend on the variables), and gqlgen's query
// cache hands every request for it the same parsed document: its plans
// are kept across requests (sharedPlans), so a kept plan is found without
// looking at the document. Others are kept for the request.
func planFor(ctx context.Context, f graphql.CollectedField, typename string) *plan {
	if p, ok := sharedPlans.get(f.Field, typename); ok {
		return p
	}
	op := graphql.GetOperationContext(ctx)
	if !hasDirectives(op.Doc) {
		return sharedPlans.put(f.Field, typename, collect(op, f.Selections, typename))
	}
	ps, ok := ctx.Value(plansKey{}).(*plans)
	if !ok {
		return collect(op, f.Selections, typename)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p, ok := ps.m[f.Field]; ok && p.typename == typename {
		return p
	}
	p := collect(op, f.Selections, typename)
	if ps.m == nil {
		ps.m = make(map[*ast.Field]*plan)
	}
	ps.m[f.Field] = p
	return p
}

// fieldKind names a field of one of the subtree's types.
type fieldKind uint8

const (
	fTypename fieldKind = iota
	fNetwork
	fInteractions
	fType
	fCount
	fLast
	fUsed
	fMessages
	fMissedCalls
	fSurveys
	fID
	fSender
	fReceiver
	fSubject
	fBody
	fStatus
	fCampaign
	fUser
	fSentAt
	fDeliveredAt
	fCalledAt
	fName
	fSubmittedAt
	fResponses
	fStatusCounts
	fEdges
	fPageInfo
	fTotalCount
	fCursor
	fNode
	fHasNext
	fHasPrevious
	fStartCursor
	fEndCursor
)

// The fields of each type, by GraphQL name.
var fieldsOf = map[string]map[string]fieldKind{
	"NetworkInteractions": {"network": fNetwork, "interactions": fInteractions},
	"Interaction": {"network": fNetwork, "type": fType, "count": fCount, "lastInteractionTime": fLast, "usedStatus": fUsed,
		"messages": fMessages, "missedCalls": fMissedCalls, "surveys": fSurveys, "statusCounts": fStatusCounts},
	"Message": {"id": fID, "network": fNetwork, "type": fType, "sender": fSender, "receiver": fReceiver, "subject": fSubject,
		"body": fBody, "status": fStatus, "campaignId": fCampaign, "userId": fUser, "sentAt": fSentAt, "deliveredAt": fDeliveredAt},
	"MissedCall":         {"id": fID, "calledAt": fCalledAt, "used": fUsed},
	"Survey":             {"id": fID, "name": fName, "submittedAt": fSubmittedAt, "responses": fResponses},
	"StatusCount":        {"status": fStatus, "count": fCount},
	"TimelineConnection": {"edges": fEdges, "pageInfo": fPageInfo, "totalCount": fTotalCount},
	"TimelineEdge":       {"cursor": fCursor, "node": fNode},
	"PageInfo": {"hasNextPage": fHasNext, "hasPreviousPage": fHasPrevious, "startCursor": fStartCursor,
		"endCursor": fEndCursor},
}

// implementors are the type conditions each type satisfies, as the
// generated executor collects its fields (a union member satisfies the
// union's fragments too).
var implementors = map[string][]string{
	"Message":    {"Message", "TimelineItem"},
	"MissedCall": {"MissedCall", "TimelineItem"},
	"Survey":     {"Survey", "TimelineItem"},
}

// nodeTypes are the members of TimelineItem, by interaction.EntryKind.
var nodeTypes = [...]string{interaction.EntryMessage: "Message", interaction.EntryMissedCall: "MissedCall",
	interaction.EntrySurvey: "Survey"}

// children says which type a list field's elements are.
var children = map[fieldKind]string{
	fInteractions: "Interaction", fMessages: "Message", fMissedCalls: "MissedCall", fSurveys: "Survey",
	fStatusCounts: "StatusCount", fEdges: "TimelineEdge", fPageInfo: "PageInfo",
}

// plan is one selection set, collected: the fields to write in order.
type plan struct {
	typename string
	fields   []planField
}

type planField struct {
	alias string // the response key
	key   []byte // the quoted response key and its colon
	kind  fieldKind
	sub   *plan // for lists of objects
	// for a timeline's node: the plan of each member type, by kind
	nodes [len(nodeTypes)]*plan
}

func collect(op *graphql.OperationContext, sel ast.SelectionSet, typename string) *plan {
	p := &plan{typename: typename}
	known := fieldsOf[typename]
	satisfies := implementors[typename]
	if satisfies == nil {
		satisfies = []string{typename}
	}
	fields := graphql.CollectFields(op, sel, satisfies)
	p.fields = make([]planField, 0, len(fields))
	for _, f := range fields {
		// A key collected twice (under the union and under its member
		// type, which gqlgen does not merge) is written once, the first,
		// as gqlgen's FieldSet writes it.
		if p.has(f.Alias) {
			continue
		}
		// The key quoted with its colon, in one allocation: plans are
		// collected on every request.
		key := append(appendQuoted(make([]byte, 0, len(f.Alias)+3), f.Alias), ':')
		pf := planField{alias: f.Alias, key: key, kind: fTypename}
		if f.Name != "__typename" {
			pf.kind = known[f.Name] // validation guarantees the field exists
		}
		if child, ok := children[pf.kind]; ok {
			pf.sub = collect(op, f.Selections, child)
		}
		if pf.kind == fNode {
			for k, t := range nodeTypes {
				pf.nodes[k] = collect(op, f.Selections, t)
			}
		}
		p.fields = append(p.fields, pf)
	}
	return p
}

// has reports whether p has a field under alias (a selection set has a
// handful of fields: a scan beats a map).
func (p *plan) has(alias string) bool {
	for _, f := range p.fields {
		if f.alias == alias {
			return true
		}
	}
	return false
}

// interactionsJSON is one customer's interactions, ready to write.
type interactionsJSON struct {
	plan *plan
	nis  []*model.NetworkInteractions
	loc  *time.Location
}

func (j *interactionsJSON) MarshalGQL(w io.Writer) {
	b := buffer(w, j.size())
	w.Write(j.append(b))
}

// buffer returns room to append n bytes or so into: w's own spare
// capacity when w is a bytes.Buffer (as gqlgen's response is), so the
// answer is written in place rather than built apart and copied.
func buffer(w io.Writer, n int) []byte {
	if buf, ok := w.(interface {
		Grow(int)
		AvailableBuffer() []byte
	}); ok {
		buf.Grow(n)
		return buf.AvailableBuffer()
	}
	return make([]byte, 0, n)
}

func (j *interactionsJSON) append(b []byte) []byte {
	return appendList(b, len(j.nis), func(b []byte, i int) []byte { return j.networkInteractions(b, j.plan, j.nis[i]) })
}

// appendList writes a JSON array of n elements, each by elem.
func appendList(b []byte, n int, elem func(b []byte, i int) []byte) []byte {
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, i)
	}
	return append(b, ']')
}

// size guesses the bytes of the answer from its shape, so the buffer grows
// rarely: about 20 bytes a field of an object.
func (j *interactionsJSON) size() int {
	p := j.plan
	n := 2
	for _, ni := range j.nis {
		n += 2 + 20*len(p.fields)
		for _, f := range p.fields {
			if f.sub == nil {
				continue
			}
			for _, it := range ni.Interactions {
				n += 2 + 20*len(f.sub.fields)
				for _, g := range f.sub.fields {
					if g.sub != nil {
						k := len(it.Item.Messages) + len(it.Item.MissedCalls) + len(it.Item.Surveys)
						n += k * (2 + 24*len(g.sub.fields))
					}
				}
			}
		}
	}
	return n
}

func (j *interactionsJSON) networkInteractions(b []byte, p *plan, ni *model.NetworkInteractions) []byte {
	return appendObject(b, p, func(b []byte, f *planField) []byte {
		switch f.kind {
		case fNetwork:
			b = appendEnum(b, string(ni.Network))
		case fInteractions:
			b = appendList(b, len(ni.Interactions), func(b []byte, k int) []byte { return j.interaction(b, f.sub, ni.Interactions[k]) })
		}
		return b
	})
}

func (j *interactionsJSON) interaction(b []byte, p *plan, it *model.Interaction) []byte {
	return appendObject(b, p, func(b []byte, f *planField) []byte {
		switch f.kind {
		case fNetwork:
			b = appendEnum(b, string(it.Network))
		case fType:
			b = appendEnum(b, string(it.Type))
		case fCount:
			b = strconv.AppendInt(b, int64(it.Count), 10)
		case fLast:
			b = j.appendOptionalTime(b, it.LastInteractionTime)
		case fUsed:
			b = strconv.AppendBool(b, it.UsedStatus)
		case fMessages:
			b = appendList(b, len(it.Item.Messages), func(b []byte, k int) []byte {
				return j.message(b, f.sub, &it.Item.Messages[k], it.MaskOTP)
			})
		case fMissedCalls:
			b = appendList(b, len(it.Item.MissedCalls), func(b []byte, k int) []byte { return j.missedCall(b, f.sub, &it.Item.MissedCalls[k]) })
		case fSurveys:
			b = appendList(b, len(it.Item.Surveys), func(b []byte, k int) []byte { return j.survey(b, f.sub, &it.Item.Surveys[k]) })
		case fStatusCounts:
			b = appendList(b, len(it.Item.StatusCounts), func(b []byte, k int) []byte { return statusCount(b, f.sub, &it.Item.StatusCounts[k]) })
		}
		return b
	})
}

// message writes m as model.NewMessage presents it (masked text, -1 ids
// as null) without building the presented copy.
func (j *interactionsJSON) message(b []byte, p *plan, m *interaction.Message, maskOTP bool) []byte {
	return appendObject(b, p, func(b []byte, f *planField) []byte {
		switch f.kind {
		case fID:
			b = appendID(b, m.ID)
		case fNetwork:
			b = appendEnum(b, string(m.Network))
		case fType:
			b = appendEnum(b, string(m.Type))
		case fSender:
			b = appendQuoted(b, m.Sender)
		case fReceiver:
			b = appendQuoted(b, m.Receiver)
		case fSubject:
			b = appendQuoted(b, otp.MaskIf(m.Subject, maskOTP))
		case fBody:
			b = appendQuoted(b, otp.MaskIf(m.Body, maskOTP))
		case fStatus:
			b = appendQuoted(b, m.Status)
		case fCampaign:
			b = appendOptionalID(b, m.CampaignID)
		case fUser:
			b = appendOptionalID(b, m.UserID)
		case fSentAt:
			b = j.appendTime(b, m.SentAt)
		case fDeliveredAt:
			b = j.appendOptionalTime(b, m.DeliveredAt)
		}
		return b
	})
}

func (j *interactionsJSON) missedCall(b []byte, p *plan, c *interaction.MissedCall) []byte {
	return appendObject(b, p, func(b []byte, f *planField) []byte {
		switch f.kind {
		case fID:
			b = appendID(b, c.ID)
		case fCalledAt:
			b = j.appendTime(b, c.CalledAt)
		case fUsed:
			b = strconv.AppendBool(b, c.Used)
		}
		return b
	})
}

func (j *interactionsJSON) survey(b []byte, p *plan, s *interaction.Survey) []byte {
	return appendObject(b, p, func(b []byte, f *planField) []byte {
		switch f.kind {
		case fID:
			b = appendID(b, s.ID)
		case fName:
			b = appendQuoted(b, s.Name)
		case fSubmittedAt:
			b = j.appendTime(b, s.SubmittedAt)
		case fResponses:
			b = appendQuoted(b, string(s.Responses))
		}
		return b
	})
}

func statusCount(b []byte, p *plan, sc *interaction.StatusCount) []byte {
	return appendObject(b, p, func(b []byte, f *planField) []byte {
		switch f.kind {
		case fStatus:
			b = appendQuoted(b, sc.Status)
		case fCount:
			b = strconv.AppendInt(b, int64(sc.Count), 10)
		}
		return b
	})
}

// timelineJSON is one customer's timeline page, ready to write; w writes
// its nodes (as the interactions' lists are written) in the
// organisation's time zone.
type timelineJSON struct {
	plan *plan
	conn *model.TimelineConnection
	w    interactionsJSON
}

func (t *timelineJSON) MarshalGQL(w io.Writer) {
	b := buffer(w, t.size())
	w.Write(t.append(b))
}

// size guesses the answer's bytes: about 24 a field, a cursor 80.
func (t *timelineJSON) size() int {
	n := 64 + 20*len(t.plan.fields)
	for _, f := range t.plan.fields {
		if f.kind == fEdges {
			n += len(t.conn.Edges) * (100 + 24*len(f.sub.fields))
		}
	}
	return n
}

func (t *timelineJSON) append(b []byte) []byte {
	p := t.plan
	return appendObject(b, p, func(b []byte, f *planField) []byte {
		switch f.kind {
		case fTotalCount:
			b = strconv.AppendInt(b, int64(t.conn.TotalCount), 10)
		case fPageInfo:
			b = pageInfo(b, f.sub, t.conn.PageInfo)
		case fEdges:
			b = appendList(b, len(t.conn.Edges), func(b []byte, k int) []byte { return t.edge(b, f.sub, t.conn.Edges[k]) })
		}
		return b
	})
}

func (t *timelineJSON) edge(b []byte, p *plan, e *model.TimelineEdge) []byte {
	return appendObject(b, p, func(b []byte, f *planField) []byte {
		switch f.kind {
		case fCursor:
			b = append(b, '"') // base64url needs no escaping
			b = e.CursorOf().AppendEncoded(b)
			b = append(b, '"')
		case fNode:
			np := f.nodes[e.Entry.Kind]
			switch e.Entry.Kind {
			case interaction.EntryMessage:
				b = t.w.message(b, np, &e.Entry.Message, e.MaskOTP)
			case interaction.EntryMissedCall:
				b = t.w.missedCall(b, np, &e.Entry.MissedCall)
			case interaction.EntrySurvey:
				b = t.w.survey(b, np, &e.Entry.Survey)
			}
		}
		return b
	})
}

// appendObject writes one object of plan p: each field's key and then its
// value, __typename here for every type and the others by value.
func appendObject(b []byte, p *plan, value func(b []byte, f *planField) []byte) []byte {
	b = append(b, '{')
	for i := range p.fields {
		f := &p.fields[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		if f.kind == fTypename {
			b = appendQuoted(b, p.typename)
		} else {
			b = value(b, f)
		}
	}
	return append(b, '}')
}

func pageInfo(b []byte, p *plan, pi *model.PageInfo) []byte {
	optional := func(b []byte, s *string) []byte {
		if s == nil {
			return append(b, "null"...)
		}
		return appendQuoted(b, *s)
	}
	return appendObject(b, p, func(b []byte, f *planField) []byte {
		switch f.kind {
		case fHasNext:
			b = strconv.AppendBool(b, pi.HasNextPage)
		case fHasPrevious:
			b = strconv.AppendBool(b, pi.HasPreviousPage)
		case fStartCursor:
			b = optional(b, pi.StartCursor)
		case fEndCursor:
			b = optional(b, pi.EndCursor)
		}
		return b
	})
}

// The scalars, written as scalar.MarshalInt64ID, scalar.MarshalTime and
// gqlgen's enum and string marshallers write them.

func appendID(b []byte, id int64) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, id, 10)
	return append(b, '"')
}

// appendOptionalID writes a campaign or user id; -1, "none", is null.
func appendOptionalID(b []byte, id int64) []byte {
	if id < 0 {
		return append(b, "null"...)
	}
	return appendID(b, id)
}

func (j *interactionsJSON) appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.In(j.loc).AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

func (j *interactionsJSON) appendOptionalTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return j.appendTime(b, *t)
}

// appendEnum writes a Network or InteractionType as the generated
// marshallers do: its GraphQL name, or "" for a value the schema does not
// know (which the importer never stores).
func appendEnum(b []byte, v string) []byte {
	if name, ok := enumNames[v]; ok {
		return append(b, name...)
	}
	return append(b, `""`...)
}

// enumNames maps every stored network and type to its quoted GraphQL name
// (its name in upper case, as gqlgen.yml binds them).
var enumNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range interaction.Networks {
		m[string(n)] = `"` + strings.ToUpper(string(n)) + `"`
	}
	for _, t := range interaction.Types {
		m[string(t)] = `"` + strings.ToUpper(string(t)) + `"`
	}
	return m
}()

const hex = "0123456789abcdef"

// appendQuoted quotes s as gqlgen's MarshalString does: control
// characters, backslash and quote escaped, everything else as it is.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
