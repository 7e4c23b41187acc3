package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/graph"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// tricky holds a customer whose texts need every kind of escaping, and
// whose interactions cover every list and nullable field.
const tricky = `{"record":"customer","id":77,"mobile":"9177","email":"q@x.com"}
{"record":"message","id":7701,"customer_id":77,"network":"capillary","type":"sms","sender":"a\"b","receiver":"c\\d","subject":"tab\there\nnew \u0001 ctl é ☃ </script>","body":"your OTP is 123456","status":"DELIVERED","campaign_id":5,"user_id":6,"sent_at":"2025-01-02T03:04:05Z","delivered_at":"2025-01-02T03:04:06Z"}
{"record":"message","id":7702,"customer_id":77,"network":"twitter","type":"tweet","subject":"","status":"","sent_at":"2025-01-03T00:00:00Z"}
{"record":"message","id":7703,"customer_id":77,"network":"capillary","type":"phone","subject":"p","status":"X","sent_at":"2025-01-02T03:04:05Z"}
{"record":"missed_call","id":7704,"customer_id":77,"called_at":"2025-01-05T00:00:00Z","used":true}
{"record":"survey","id":7705,"customer_id":77,"name":"NPS \"x\"","submitted_at":"2025-01-06T00:00:00Z","responses":{"score":9,"why":"line\nbreak"}}
`

// TestFastMarshallingMatchesGqlgen runs queries through two handlers over
// one database, one marshalling the interactions subtree in one pass and
// one with gqlgen's generated executor, and wants the same bytes: every
// field of every type, aliases, fragments, __typename, @skip/@include,
// nulls, escapes, a time zone and OTP masking.
func TestFastMarshallingMatchesGqlgen(t *testing.T) {
	e := newEnv(t, 30)
	ctx := context.Background()
	if rep, err := importer.Import(ctx, strings.NewReader(tricky), e.db, e.org.ID, importer.Options{}); err != nil || rep.Rejected > 0 {
		t.Fatal(err, rep.Rejections)
	}
	org := e.org
	org.TimeZone, org.MaskOTP = "Asia/Kolkata", true
	handler := func(fast bool) http.Handler {
		graph.SetFastMarshalling(fast)
		defer graph.SetFastMarshalling(true)
		gql := graph.NewHandler(graph.HandlerConfig{Introspection: true})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gql.ServeHTTP(w, r.WithContext(edgeContext(r.Context(), e.db, org, []interaction.Scope{interaction.ScopeRead})))
		})
	}
	fast, plain := handler(true), handler(false)
	cursor77 := interaction.Cursor{Org: org.ID, Customer: 77, Filter: interaction.TimelineFilter{}.Hash(),
		Position: interaction.Position{At: time.Date(2025, 1, 5, 0, 0, 0, 0, time.UTC), Kind: interaction.EntryMissedCall, ID: 7704}}.Encode()
	do := func(h http.Handler, q string, vars map[string]any) string {
		body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	const msgFields = `id network type sender receiver subject body status campaignId userId sentAt deliveredAt __typename`
	const all = `network type count lastInteractionTime usedStatus statusCounts { status count __typename }
		messages { id network type sender receiver subject body status campaignId userId sentAt deliveredAt __typename }
		missedCalls { id calledAt used __typename } surveys { id name submittedAt responses __typename } __typename`
	queries := []struct {
		q    string
		vars map[string]any
	}{
		{`{ customer(id: "77") { id interactions { network interactions { ` + all + ` } __typename } } }`, nil},
		{`{ customers(by: ID, values: ["77", "999999", "1000001", "565039505", "77"]) { id interactions(limit: 2, offset: 1) { network interactions { ` + all + ` } } } }`, nil},
		{`{ customer(id: "77") { a: interactions(type: SMS) { n: network i: interactions { c: count m: messages { x: id y: subject x2: id } } }
			b: interactions(network: TWITTER) { interactions { type count } } } }`, nil},
		{`query($skip: Boolean!, $inc: Boolean!) { customers(by: MOBILE, values: ["9177", "917385022695"]) {
			interactions { ...N interactions { ... on Interaction { count @skip(if: $skip) type @include(if: $inc) } messages { ...M } } } } }
			fragment N on NetworkInteractions { network @include(if: $inc) }
			fragment M on Message { id sentAt @skip(if: $skip) status }`, map[string]any{"skip": true, "inc": false}},
		{`query($skip: Boolean!) { customers(by: MOBILE, values: ["9177"]) { interactions { network @skip(if: $skip) interactions { messages { id } } } } }`,
			map[string]any{"skip": false}},
		{`{ customer(id: "77") { interactions(since: "2025-01-02T03:04:05Z", until: "2025-01-04T00:00:00Z") { interactions { type count usedStatus messages { id } missedCalls { id } } } } }`, nil},
		{`{ customer(id: "77") { interactions(limit: 0) { interactions { count messages { id } surveys { id } } } } }`, nil},
		{`{ customer(id: "999") { id interactions { network } } }`, nil},
		{`{ a: customers(by: ID, values: ["77", "565039505", "1"]) { __typename i: id m: mobile e: email x: externalId
			... on Customer { interactions(type: EMAIL) { network } } ...C } }
			fragment C on Customer { id t: interactions(type: TWEET) { interactions { type count } } }`, nil},
		{`{ customers(by: ID, values: ["77", "565039505"]) { interactions(statuses: ["DELIVERED", "X"], campaignIds: ["5"]) { interactions { ` + all + ` } } } }`, nil},
		{`{ customer(id: "77") { interactions(statuses: [""]) { interactions { type count s: statusCounts { c: count } } } } }`, nil},
		{`{ customers(by: ID, values: ["77", "999999", "565039505", "77"]) { id timeline(first: 4) { totalCount __typename
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
			edges { cursor __typename node { __typename ... on Message { ` + msgFields + ` } ... on MissedCall { id calledAt used }
				... on Survey { id name submittedAt responses } } } } } }`, nil},
		{`query($skip: Boolean!) { customer(id: "77") { t: timeline(last: 2, types: [SMS, PHONE, MISSED_CALL]) { e: edges { c: cursor n: node { ...T ... on Message { id @skip(if: $skip) } } }
			p: pageInfo { s: startCursor } } u: timeline(first: 0) { pageInfo { endCursor hasNextPage } totalCount } } }
			fragment T on TimelineItem { __typename }`, map[string]any{"skip": false}},
		{`{ customers(by: ID, values: ["1000001", "1000002"]) { timeline(first: 3, statuses: ["DELIVERED"]) { edges { node { ... on Message { id status } } } } } }`, nil},
		{`query($l: Int, $t: InteractionType) { customers(by: MOBILE, values: ["9177", "919988221100"]) {
			interactions(limit: $l, type: $t) { interactions { type messages { id } } } } }`, map[string]any{"l": 1, "t": "PHONE"}},
		// Documents asked again with other variables: plans kept from the
		// first time must not carry its @skip and @include over.
		{`query($skip: Boolean!, $inc: Boolean!) { customers(by: MOBILE, values: ["9177", "917385022695"]) {
			interactions { ...N interactions { ... on Interaction { count @skip(if: $skip) type @include(if: $inc) } messages { ...M } } } } }
			fragment N on NetworkInteractions { network @include(if: $inc) }
			fragment M on Message { id sentAt @skip(if: $skip) status }`, map[string]any{"skip": false, "inc": true}},
		{`query($skip: Boolean!) { customers(by: MOBILE, values: ["9177"]) { interactions { network @skip(if: $skip) interactions { messages { id } } } } }`,
			map[string]any{"skip": true}},
		{`query($skip: Boolean!) { customer(id: "77") { t: timeline(last: 2, types: [SMS, PHONE, MISSED_CALL]) { e: edges { c: cursor n: node { ...T ... on Message { id @skip(if: $skip) } } }
			p: pageInfo { s: startCursor } } u: timeline(first: 0) { pageInfo { endCursor hasNextPage } totalCount } } }
			fragment T on TimelineItem { __typename }`, map[string]any{"skip": true}},
		{`query($l: Int, $t: InteractionType) { customers(by: MOBILE, values: ["9177", "919988221100"]) {
			interactions(limit: $l, type: $t) { interactions { type messages { id } } } } }`, map[string]any{"l": 3, "t": "SMS"}},
	}
	// Errors too: the one-pass path gives them back to the generated
	// executor, which must answer as it always does.
	failing := []string{
		`{ customers(by: ID, values: ["77", "565039505"]) { id interactions(limit: 9999) { network } } }`,
		`{ customer(id: "77") { id interactions(since: "not a time") { network } } }`,
		`{ customer(id: "77") { id interactions(since: "2025-02-01T00:00:00Z", until: "2025-01-01T00:00:00Z") { network } } }`,
		`{ customer(id: "77") { id timeline(first: 1, last: 1) { totalCount } } }`,
		`{ customers(by: ID, values: ["77", "565039505"]) { id timeline(after: "` + cursor77 + `") { edges { cursor } } } }`,
	}
	for _, q := range failing {
		want, got := do(plain, q, nil), do(fast, q, nil)
		if got != want {
			t.Errorf("query %s:\n got %s\nwant %s", q, got, want)
		}
		if !strings.Contains(want, `"errors"`) {
			t.Errorf("query %s answered no error: %s", q, want)
		}
	}
	kept := graph.SharedPlans()
	for _, tt := range queries {
		want, got := do(plain, tt.q, tt.vars), do(fast, tt.q, tt.vars)
		if got != want {
			t.Errorf("query %s:\n got %s\nwant %s", tt.q, got, want)
		}
		if strings.Contains(want, `"errors"`) {
			t.Errorf("query %s answered errors: %s", tt.q, want)
		}
	}
	if graph.SharedPlans() <= kept {
		t.Error("no plan of a directive-free document kept across requests")
	}
}
