package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/graph"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
	"github.com/touchpoint/touchpoint/internal/testenv"
)

type env struct {
	db      testenv.Store
	org     interaction.Org
	handler http.Handler
	scopes  []interaction.Scope
}

// newEnv loads the demo data into a fresh SQLite file and serves GraphQL as
// org "demo" through the real handler.
func newEnv(t testing.TB, customers int) *env {
	t.Helper()
	return newEnvConfig(t, customers, graph.HandlerConfig{Introspection: true})
}

// newEnvConfig is newEnv with the handler's configuration.
func newEnvConfig(t testing.TB, customers int, cfg graph.HandlerConfig) *env {
	t.Helper()
	db, org := testenv.DemoDB(t, customers)
	e := &env{db: db, org: org, scopes: []interaction.Scope{interaction.ScopeRead}}
	gql := graph.NewHandler(cfg)
	e.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gql.ServeHTTP(w, r.WithContext(edgeContext(r.Context(), db, e.org, e.scopes)))
	})
	return e
}

// edgeContext is ctx as the edge hands a request of org on to GraphQL:
// with the principal of a key "test" holding scopes, and loaders reading
// from r.
func edgeContext(ctx context.Context, r interaction.Reader, org interaction.Org, scopes []interaction.Scope) context.Context {
	ctx = interaction.NewContext(ctx, interaction.Principal{Org: org, KeyID: "test", Scopes: scopes})
	return loader.NewContext(ctx, loader.New(r, org.ID, loader.DefaultOptions))
}

func (e *env) query(t testing.TB, q string, vars map[string]any) response {
	t.Helper()
	_, r := serve(t, e.handler, gqlRequest{Query: q, Variables: vars}.newRequest(http.MethodPost, ""))
	return r
}

func TestLookupByEveryIdentifier(t *testing.T) {
	e := newEnv(t, 10)
	for _, arg := range []string{`mobile: "919988221100"`, `email: "TOM.SAWYER@capillarytech.com"`, `id: "565039505"`} {
		r := e.query(t, `{ customer(`+arg+`) { id mobile email externalId } }`, nil)
		want := `{"customer":{"id":"565039505","mobile":"919988221100","email":"tom.sawyer@capillarytech.com","externalId":""}}`
		if string(r.Data) != want || len(r.Errors) > 0 {
			t.Errorf("%s: %s %+v", arg, r.Data, r.Errors)
		}
	}
	r := e.query(t, `{ customer(externalId: "EXT-000003") { id } }`, nil)
	if string(r.Data) != `{"customer":{"id":"1000004"}}` {
		t.Errorf("external id: %s %+v", r.Data, r.Errors)
	}
	r = e.query(t, `{ customer(mobile: "000") { id } }`, nil)
	if string(r.Data) != `{"customer":null}` || len(r.Errors) > 0 {
		t.Errorf("not found: %s %+v", r.Data, r.Errors)
	}
	r = e.query(t, `{ customers(by: MOBILE, values: ["917385022695", "nope", "919988221100"]) { id } }`, nil)
	if string(r.Data) != `{"customers":[{"id":"565200001"},null,{"id":"565039505"}]}` {
		t.Errorf("customers: %s %+v", r.Data, r.Errors)
	}
}

func TestInteractions(t *testing.T) {
	e := newEnv(t, 10)
	q := `query($limit: Int, $offset: Int, $type: InteractionType) { customer(mobile: "917385022695") {
		interactions(type: $type, limit: $limit, offset: $offset) { network interactions { type count lastInteractionTime usedStatus
			messages { id status campaignId userId sentAt deliveredAt } } } } }`
	type msg struct {
		ID         string  `json:"id"`
		CampaignID *string `json:"campaignId"`
		SentAt     string  `json:"sentAt"`
	}
	type data struct {
		Customer struct {
			Interactions []struct {
				Network      string `json:"network"`
				Interactions []struct {
					Type     string  `json:"type"`
					Count    int     `json:"count"`
					Last     *string `json:"lastInteractionTime"`
					Messages []msg   `json:"messages"`
				} `json:"interactions"`
			} `json:"interactions"`
		} `json:"customer"`
	}
	decode := func(r response) data {
		t.Helper()
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %+v", r.Errors)
		}
		var d data
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := decode(e.query(t, q, map[string]any{"type": "PHONE", "limit": 2, "offset": 1}))
	g := d.Customer.Interactions[0].Interactions[0]
	if d.Customer.Interactions[0].Network != "CAPILLARY" || g.Type != "PHONE" || g.Count != 4 {
		t.Fatalf("phone group = %+v", d)
	}
	// newest first: 13:48:50, 13:37:22, 13:01:12, 12:57:06; offset 1 limit 2
	if len(g.Messages) != 2 || g.Messages[0].ID != "1740767430545" || g.Messages[1].ID != "1740767429770" {
		t.Errorf("page = %+v", g.Messages)
	}
	if g.Messages[0].CampaignID != nil || g.Last == nil || *g.Last != "2025-03-07T13:48:50Z" {
		t.Errorf("fields = %+v last=%v", g.Messages[0], g.Last)
	}

	// every layout type is listed for capillary, zero counts included
	d = decode(e.query(t, q, map[string]any{"limit": 0}))
	var types []string
	for _, it := range d.Customer.Interactions[0].Interactions {
		types = append(types, fmt.Sprintf("%s:%d", it.Type, it.Count))
	}
	if got := strings.Join(types, " "); got != "SURVEY:0 LINE:0 VIBER:3 EMAIL:0 WHATSAPP:0 MISSED_CALL:0 PHONE:4 SMS:4 ZALO:0" {
		t.Errorf("groups = %s", got)
	}

	// times render in the organisation's time zone
	e.org.TimeZone = "Asia/Kolkata"
	d = decode(e.query(t, q, map[string]any{"type": "VIBER", "limit": 1}))
	if got := d.Customer.Interactions[0].Interactions[0].Messages[0].SentAt; got != "2025-05-28T19:22:07+05:30" {
		t.Errorf("sentAt in Kolkata = %s", got)
	}
}

func TestErrorsHaveCodes(t *testing.T) {
	e := newEnv(t, 1)
	tests := []struct{ q, code string }{
		{`{ customer { id } }`, "BAD_USER_INPUT"},
		{`{ customer(mobile: "1", email: "a@b.c") { id } }`, "BAD_USER_INPUT"},
		{`{ customer(id: "abc") { id } }`, "BAD_USER_INPUT"},
		{`{ customer(mobile: "919988221100") { interactions(limit: 501) { network } } }`, "BAD_USER_INPUT"},
		{`{ customer(mobile: "919988221100") { interactions(offset: -1) { network } } }`, "BAD_USER_INPUT"},
		{`{ customer(mobile: "919988221100") { interactions(since: "yesterday") { network } } }`, "BAD_USER_INPUT"},
		{`{ customer(mobile: "919988221100") { interactions(since: "2025-02-01T00:00:00Z", until: "2025-01-01T00:00:00Z") { network } } }`, "BAD_USER_INPUT"},
		{`{ customer(mobile: "919988221100") { interactions(type: FAX) { network } } }`, "GRAPHQL_VALIDATION_FAILED"},
		{`{ customer(mobile: "919988221100") { nope } }`, "GRAPHQL_VALIDATION_FAILED"},
		{`{ customer(`, "GRAPHQL_PARSE_FAILED"},
		{"{ " + strings.Repeat("__typename ", 101) + "}", "SELECTION_LIMIT_EXCEEDED"},
		{"{" + strings.Repeat(" customer(id: \"1\") {", 17) + " id " + strings.Repeat("}", 17), "DEPTH_LIMIT_EXCEEDED"},
		{`{ customers(by: ID, values: [` + strings.Repeat(`"1",`, 101) + `]) { id } }`, "BAD_USER_INPUT"},
		{`{ customers(by: ID, values: [` + strings.Repeat(`"1",`, 100) + `]) { interactions(limit: 500) { interactions { messages { id subject body status sentAt } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
	}
	for _, tt := range tests {
		r := e.query(t, tt.q, nil)
		if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != tt.code {
			t.Errorf("%.80s: errors = %+v, want code %s", tt.q, r.Errors, tt.code)
		}
	}
}

func TestOTPMasking(t *testing.T) {
	e := newEnv(t, 200)
	q := `{ customers(by: ID, values: [` + ids(200) + `]) { interactions(limit: 100) { interactions { messages { subject body } } } } }`
	e.org.MaskOTP = true
	masked := e.query(t, q, nil)
	if len(masked.Errors) > 0 {
		t.Fatal(masked.Errors)
	}
	if bytes.Contains(masked.Data, []byte("OTP is 0")) || !bytes.Contains(masked.Data, []byte("Your OTP is ****")) {
		t.Error("OTPs not masked")
	}
	// The timeline masks as the groups do.
	tq := `{ customers(by: ID, values: [` + ids(200) + `]) { timeline(first: 100) { edges { node { ... on Message { subject body } } } } } }`
	if r := e.query(t, tq, nil); len(r.Errors) > 0 || bytes.Contains(r.Data, []byte("OTP is 0")) || !bytes.Contains(r.Data, []byte("Your OTP is ****")) {
		t.Errorf("timeline OTPs not masked: %+v", r.Errors)
	}
	e.scopes = append(e.scopes, interaction.ScopeOTPRead)
	if clear := e.query(t, q, nil); bytes.Contains(clear.Data, []byte("Your OTP is ****")) {
		t.Error("otp:read key sees masked OTPs")
	}
	if clear := e.query(t, tq, nil); bytes.Contains(clear.Data, []byte("Your OTP is ****")) {
		t.Error("otp:read key sees masked OTPs in the timeline")
	}
}

func ids(n int) string {
	var b strings.Builder
	for i := range min(n, graph.MaxCustomers) {
		fmt.Fprintf(&b, `"%d",`, 1_000_001+i)
	}
	return b.String()
}

// uniform writes n customers (ids 1..n) that each have messages of several
// networks and types, missed calls and a survey, so every customer needs
// the same kinds of loads.
func uniform(n int) string {
	var b strings.Builder
	id := 0
	for c := 1; c <= n; c++ {
		fmt.Fprintf(&b, `{"record":"customer","id":%d,"mobile":"m%d"}`+"\n", c, c)
		for i, nt := range []string{"capillary/sms", "capillary/email", "capillary/whatsapp", "capillary/phone", "twitter/tweet", "facebook/like"} {
			net, typ, _ := strings.Cut(nt, "/")
			for k := range 3 {
				id++
				fmt.Fprintf(&b, `{"record":"message","id":%d,"customer_id":%d,"network":"%s","type":"%s","subject":"s","status":"DELIVERED","sent_at":"2025-01-%02dT10:00:00Z"}`+"\n", id, c, net, typ, 1+i*3+k)
			}
		}
		fmt.Fprintf(&b, `{"record":"missed_call","id":%d,"customer_id":%d,"called_at":"2025-01-01T00:00:00Z"}`+"\n", c, c)
		fmt.Fprintf(&b, `{"record":"survey","id":%d,"customer_id":%d,"name":"NPS","submitted_at":"2025-01-01T00:00:00Z"}`+"\n", c, c)
	}
	return b.String()
}

// TestNoNPlusOne: the dashboard query runs the same, small number of SQL
// statements for 1, 10 and 100 customers, with the production loaders
// (which never wait for keys: the batch resolver holds them all).
func TestNoNPlusOne(t *testing.T) {
	e := newEnv(t, 1)
	if rep, err := importer.Import(context.Background(), strings.NewReader(uniform(100)), e.db, e.org.ID, importer.Options{}); err != nil || rep.Rejected > 0 {
		t.Fatal(err, rep.Rejections)
	}
	q := func(n int) string {
		return `{ customers(by: ID, values: [` + firstIDs(n) + `]) { id interactions(limit: 5) { network interactions { type count lastInteractionTime
			messages { id subject } missedCalls { id } surveys { id } } } } }`
	}
	var counts []int64
	for _, n := range []int{1, 10, 100} {
		before := e.db.Statements()
		r := e.query(t, q(n), nil)
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		// Each customer: 3 each of sms, email, whatsapp, tweet and like,
		// and phone's page of 5 out of its sms and phone messages.
		if c := strings.Count(string(r.Data), `"subject"`); c != n*(5*3+5) {
			t.Errorf("messages returned for %d customers: %d, want %d", n, c, n*20)
		}
		counts = append(counts, e.db.Statements()-before)
	}
	// customers, summaries, messages, missed calls, surveys; a store that
	// finds the customers with their summaries (interaction.SummaryFinder)
	// makes one statement of the first two, and one that reads their
	// messages with them too (interaction.HeadReader) of the first three.
	want, wantCounts := int64(5), int64(2)
	if _, ok := e.db.(interaction.SummaryFinder); ok {
		want, wantCounts = 4, 1
	}
	if _, ok := e.db.(interaction.HeadReader); ok {
		want = 3
	}
	if counts[0] != want || counts[1] != want || counts[2] != want {
		t.Errorf("statements for 1, 10, 100 customers = %v; want %d each", counts, want)
	}

	// Counts alone never read a message.
	before := e.db.Statements()
	e.query(t, `{ customers(by: ID, values: [`+firstIDs(100)+`]) { interactions { interactions { count } } } }`, nil)
	if d := e.db.Statements() - before; d != wantCounts {
		t.Errorf("count-only query ran %d statements, want %d (customers, summaries)", d, wantCounts)
	}
}

func BenchmarkOneCustomer(b *testing.B) {
	e := newEnv(b, 100)
	q := `{ customer(mobile: "919988221100") { id email interactions(limit: 20) { network interactions { type count messages { id subject status sentAt } } } } }`
	for b.Loop() {
		if r := e.query(b, q, nil); len(r.Errors) > 0 {
			b.Fatal(r.Errors)
		}
	}
}

// BenchmarkDashboard is the dashboard question at 1, 50 and 100
// customers: newest 20 emails (as ../shared/peers/sidebyside.sh asks it),
// every group's counts and a 20-message page, and the newest 20 of the
// timeline (scripts/sbs-extra/tp-timeline.json). Besides time and
// allocations it reports SQL statements per request, which must not grow
// with the customers.
func BenchmarkDashboard(b *testing.B) {
	e := newEnv(b, 500)
	questions := map[string]string{
		"emails": `interactions(type: EMAIL, limit: 20) { interactions { messages { id type status sentAt } } }`,
		"groups": `interactions(limit: 20) { network interactions { type count lastInteractionTime messages { id subject status sentAt } } }`,
		"timeline": `timeline(first: 20) { edges { node { ... on Message { id type status sentAt } ... on MissedCall { id calledAt }
			... on Survey { id submittedAt } } } }`,
	}
	for _, name := range []string{"emails", "groups", "timeline"} {
		for _, n := range []int{1, 50, 100} {
			q := `{ customers(by: ID, values: [` + ids(n) + `]) { id mobile ` + questions[name] + ` } }`
			b.Run(fmt.Sprintf("%s/customers=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				before := e.db.Statements()
				for b.Loop() {
					if r := e.query(b, q, nil); len(r.Errors) > 0 {
						b.Fatal(r.Errors)
					}
				}
				b.ReportMetric(float64(e.db.Statements()-before)/float64(b.N), "SQL/op")
			})
		}
	}
}

func TestPersistedQueriesAndIntrospection(t *testing.T) {
	e := newEnv(t, 1)
	q := `{ customer(mobile: "919988221100") { id } }`
	ext := apq(sha(q))
	post := func(r gqlRequest) response {
		_, resp := serve(t, e.handler, r.newRequest(http.MethodPost, ""))
		return resp
	}
	// Hash alone before registration: gqlgen's PersistedQueryNotFound.
	if r := post(gqlRequest{Extensions: ext}); len(r.Errors) == 0 || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unregistered hash: %+v", r)
	}
	if r := post(gqlRequest{Query: q, Extensions: ext}); string(r.Data) != `{"customer":{"id":"565039505"}}` {
		t.Fatalf("register: %s %+v", r.Data, r.Errors)
	}
	if r := post(gqlRequest{Extensions: ext}); string(r.Data) != `{"customer":{"id":"565039505"}}` {
		t.Fatalf("hash only: %s %+v", r.Data, r.Errors)
	}
	// Another organisation cannot tell the hash was ever registered.
	mine := e.org
	e.org = interaction.Org{ID: mine.ID + 1, Name: "other"}
	if r := post(gqlRequest{Extensions: ext}); len(r.Errors) == 0 || r.Errors[0].Message != "PersistedQueryNotFound" || r.Data != nil && string(r.Data) != "null" {
		t.Errorf("another organisation's hash: %s %+v", r.Data, r.Errors)
	}
	e.org = mine
	// GET works for queries.
	if rec, _ := serve(t, e.handler, gqlRequest{Query: q}.newRequest(http.MethodGet, "")); !strings.Contains(rec.Body.String(), "565039505") {
		t.Errorf("GET: %s", rec.Body)
	}
	// Introspection is on here...
	if r := e.query(t, `{ __schema { queryType { name } } }`, nil); len(r.Errors) > 0 {
		t.Errorf("introspection on: %+v", r.Errors)
	}
	// ...and off, answering a code that says so (logged at info, not as
	// an internal error), with no "did you mean" hints either; the rest
	// of an operation and __typename still work.
	var logs bytes.Buffer
	off := graph.NewHandler(graph.HandlerConfig{Introspection: false, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	e.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off.ServeHTTP(w, r.WithContext(edgeContext(r.Context(), e.db, e.org, nil)))
	})
	for _, q := range []string{
		`{ __schema { queryType { name } } }`,
		`{ __type(name: "Customer") { name } }`,
		`query { ...F } fragment F on Query { __schema { types { name } } }`,
	} {
		r := e.query(t, q, nil)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeIntrospectionDisabled ||
			r.Errors[0].Message != "introspection is disabled on this server" {
			t.Errorf("%s with introspection off: %+v", q, r.Errors)
		}
	}
	if got := logs.String(); !strings.Contains(got, "level=INFO") || !strings.Contains(got, "code=INTROSPECTION_DISABLED") || strings.Contains(got, "level=ERROR") {
		t.Errorf("introspection off logged:\n%s", got)
	}
	if r := e.query(t, `{ __typename customer(id: "565039505") { id } }`, nil); len(r.Errors) != 0 || !strings.Contains(string(r.Data), "565039505") {
		t.Errorf("__typename with introspection off: %s %+v", r.Data, r.Errors)
	}
	if r := e.query(t, `{ custome(id: "1") { id } }`, nil); len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Errorf("suggestions with introspection off: %+v", r.Errors)
	}
}

// TestComplexityErrorSaysWhatToCut: an operation over the limit is told
// its cost, the limit and the fields that cost the most, each with the
// argument that drives it.
func TestComplexityErrorSaysWhatToCut(t *testing.T) {
	e := newEnv(t, 1)
	tests := []struct {
		q, message string
		first      map[string]any // the first contributor
	}{
		{
			`{ customers(by: ID, values: [` + strings.Repeat(`"1",`, 100) + `]) { interactions(limit: 500) { interactions { messages { id subject body status sentAt } } } } }`,
			"operation has complexity 608501, which exceeds the limit of 200000; the largest costs: customers with 100 values (608501), interactions with limit 500 (6085). Ask for fewer values, a lower limit or fewer fields",
			map[string]any{"field": "Query.customers", "argument": "values", "value": float64(100), "cost": float64(608501)},
		},
		{
			`{ a: customer(id: "1") { interactions(limit: 500) { interactions { messages { id } } } } ` +
				strings.Repeat(`b`, 1) + `: customer(id: "2") { interactions { network } } ` +
				strings.Repeat(`c: customer(id: "3") { ...I } `, 1) + `} fragment I on Customer { interactions(limit: 499) { network } }`,
			"",
			nil,
		},
	}
	for _, tt := range tests {
		r := e.query(t, tt.q, nil)
		if tt.message == "" {
			if len(r.Errors) != 0 {
				t.Errorf("%.60s: %+v, want no error", tt.q, r.Errors)
			}
			continue
		}
		if len(r.Errors) != 1 {
			t.Fatalf("%.60s: errors = %+v", tt.q, r.Errors)
		}
		got := r.Errors[0]
		if got.Message != tt.message || got.Extensions["code"] != "COMPLEXITY_LIMIT_EXCEEDED" || got.Extensions["limit"] != float64(graph.DefaultComplexityLimit) {
			t.Errorf("%.60s:\n got %q %v\nwant %q", tt.q, got.Message, got.Extensions, tt.message)
		}
		list, _ := got.Extensions["contributors"].([]any)
		if len(list) == 0 || fmt.Sprint(list[0]) != fmt.Sprint(tt.first) {
			t.Errorf("contributors = %v, want first %v", list, tt.first)
		}
	}
}

// TestIDArguments: an ID argument or variable of any JSON type that is not
// an id is BAD_USER_INPUT, never an internal error.
func TestIDArguments(t *testing.T) {
	e := newEnv(t, 1)
	q := `query($id: ID) { customer(id: $id) { id } }`
	for _, tt := range []struct {
		name string
		id   any
		code string
		data string
	}{
		{"a fraction", json.Number("1.5"), "BAD_USER_INPUT", ""},
		{"an exponent", json.Number("1e3"), "BAD_USER_INPUT", ""},
		{"past 64 bits", json.Number("9223372036854775808"), "BAD_USER_INPUT", ""},
		{"negative past 64 bits", json.Number("-9223372036854775809"), "BAD_USER_INPUT", ""},
		{"a string past 64 bits", "9223372036854775808", "BAD_USER_INPUT", ""},
		{"not digits", "abc", "BAD_USER_INPUT", ""},
		{"a boolean", true, "", ""}, // refused by validation (GRAPHQL_VALIDATION_FAILED)
		{"an object", map[string]any{"a": 1}, "", ""},
		{"a list", []any{1}, "", ""},
		{"an integer", json.Number("565039505"), "", `{"customer":{"id":"565039505"}}`},
		{"a string", "565039505", "", `{"customer":{"id":"565039505"}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.query(t, q, map[string]any{"id": tt.id})
			if tt.data != "" {
				if string(r.Data) != tt.data || len(r.Errors) > 0 {
					t.Errorf("%s %+v, want %s", r.Data, r.Errors, tt.data)
				}
				return
			}
			if len(r.Errors) == 0 {
				t.Fatalf("no error: %s", r.Data)
			}
			code, _ := r.Errors[0].Extensions["code"].(string)
			if code == "INTERNAL_SERVER_ERROR" || tt.code != "" && code != tt.code {
				t.Errorf("code %q (%s), want %q", code, r.Errors[0].Message, tt.code)
			}
		})
	}
	// Literals too.
	for _, lit := range []string{`1.5`, `9223372036854775808`, `true`} {
		r := e.query(t, `{ customer(id: `+lit+`) { id } }`, nil)
		if len(r.Errors) == 0 {
			t.Errorf("literal %s: no error", lit)
			continue
		}
		if code, _ := r.Errors[0].Extensions["code"].(string); code == "INTERNAL_SERVER_ERROR" {
			t.Errorf("literal %s: %s", lit, code)
		}
	}
}
