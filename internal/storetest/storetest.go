// Package storetest is the test suite every store must pass: the same
// reads, filters, paging, tenancy, admin and import cases run against SQLite
// and PostgreSQL, so the two stores cannot drift apart.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Store is what the suite needs of a store.
type Store interface {
	interaction.Reader
	interaction.Admin
	importer.Sink
	interaction.Versioner
	Statements() int64
	OrgNames(ctx context.Context) ([]string, error)
}

// Opener returns a fresh, empty, migrated store for one test.
type Opener func(t *testing.T) Store

// Run runs the whole suite, each case on a store of its own.
func Run(t *testing.T, open Opener) {
	runEach(t, open, map[string]func(*testing.T, Opener){
		"ReaderQueries":          testReaderQueries,
		"Tenancy":                testTenancy,
		"StatementsCounted":      testStatementsCounted,
		"Admin":                  testAdmin,
		"SummaryFilters":         testSummaryFilters,
		"UsedFollowsFilter":      testUsedFollowsFilter,
		"PagesOfCallsAndSurveys": testPagesOfCallsAndSurveys,
		"WritesAreCounted":       testWritesAreCounted,
		"CreateKeyErrors":        testCreateKeyErrors,
		"AgreesWithAModel":       testAgreesWithAModel,
		"CountsFollowImports":    testCountsFollowImports,
		"Credential":             testCredential,
		"KeyExpiry":              testKeyExpiry,
		"ImportRejectsAlike":     testImportRejectsAlike,
		"DataVersionMoves":       testDataVersionMoves,
		"ConcurrentLookups":      testConcurrentLookups,
	})
}

// runEach runs each case as a subtest of its own, opening its stores with
// open.
func runEach[O any](t *testing.T, open O, cases map[string]func(*testing.T, O)) {
	for name, test := range cases {
		t.Run(name, func(t *testing.T) { test(t, open) })
	}
}

// ensureOrg is db.EnsureOrg(name), failing t on an error.
func ensureOrg(t *testing.T, db Store, name string) interaction.Org {
	t.Helper()
	o, err := db.EnsureOrg(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func load(t *testing.T, db Store, org string, ndjson string) interaction.Org {
	t.Helper()
	o := ensureOrg(t, db, org)
	rep, err := importer.Import(context.Background(), strings.NewReader(ndjson), db, o.ID, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 0 {
		t.Fatalf("rejections: %+v", rep.Rejections)
	}
	return o
}

func at(day, hour int) time.Time { return time.Date(2025, 1, day, hour, 0, 0, 0, time.UTC) }

const fixture = `{"record":"customer","id":1,"mobile":"9100","email":"one@x.com","external_id":"E1"}
{"record":"customer","id":2,"mobile":"9200","email":"","external_id":""}
{"record":"message","id":10,"customer_id":1,"network":"capillary","type":"sms","subject":"s10","status":"DELIVERED","sent_at":"2025-01-01T10:00:00Z","delivered_at":"2025-01-01T10:00:05Z"}
{"record":"message","id":11,"customer_id":1,"network":"capillary","type":"sms","subject":"s11","status":"FAILED","sent_at":"2025-01-02T10:00:00Z"}
{"record":"message","id":12,"customer_id":1,"network":"capillary","type":"phone","subject":"p12","status":"WEIRD_NEW_STATUS","sent_at":"2025-01-03T10:00:00Z"}
{"record":"message","id":13,"customer_id":1,"network":"capillary","type":"email","subject":"e13","status":"OPENED","sent_at":"2025-01-04T10:00:00Z"}
{"record":"message","id":14,"customer_id":1,"network":"twitter","type":"tweet","subject":"t14","status":"SENT","sent_at":"2025-01-05T10:00:00Z"}
{"record":"message","id":20,"customer_id":2,"network":"capillary","type":"sms","subject":"s20","status":"DELIVERED","sent_at":"2025-02-01T10:00:00Z"}
{"record":"missed_call","id":1,"customer_id":1,"called_at":"2025-01-01T00:00:00Z","used":false}
{"record":"missed_call","id":2,"customer_id":1,"called_at":"2025-01-09T00:00:00Z","used":true}
{"record":"survey","id":1,"customer_id":2,"name":"NPS","submitted_at":"2025-03-01T00:00:00Z","responses":{"score": 9}}
`

func testReaderQueries(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	org := load(t, db, "a", fixture)

	cs, err := db.CustomersByIdentifier(ctx, org.ID, interaction.ByEmail, []string{"one@x.com", "none@x.com"})
	if err != nil || len(cs) != 1 || cs[0].ID != 1 || cs[0].ExternalID != "E1" {
		t.Fatalf("by email: %+v %v", cs, err)
	}
	cs, _ = db.CustomersByIdentifier(ctx, org.ID, interaction.ByID, []string{"2", "x", "1"})
	if len(cs) != 2 {
		t.Fatalf("by id: %+v", cs)
	}
	// Values no identifier can hold (NUL, invalid UTF-8) match nothing, and
	// fail nothing: PostgreSQL's text would reject them.
	for _, kind := range []interaction.IdentifierKind{interaction.ByMobile, interaction.ByEmail, interaction.ByExternalID} {
		cs, err = db.CustomersByIdentifier(ctx, org.ID, kind, []string{"91\x0000", "\xff\xfe", "9100"})
		if err != nil || (kind == interaction.ByMobile) != (len(cs) == 1) {
			t.Errorf("by %s with NUL and invalid UTF-8: %+v %v", kind, cs, err)
		}
	}

	sums, err := db.Summaries(ctx, org.ID, []int64{1, 2}, interaction.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]interaction.Summary{}
	for _, s := range sums {
		got[string(rune('0'+s.CustomerID))+"/"+string(s.Network)+"/"+string(s.Type)] = s
	}
	for key, want := range map[string]int{"1/capillary/sms": 2, "1/capillary/phone": 1, "1/capillary/email": 1,
		"1/twitter/tweet": 1, "1/capillary/missed_call": 2, "2/capillary/sms": 1, "2/capillary/survey": 1} {
		if got[key].Count != want {
			t.Errorf("%s count = %d, want %d", key, got[key].Count, want)
		}
	}
	if mc := got["1/capillary/missed_call"]; !mc.Used || mc.Last == nil || !mc.Last.Equal(time.Date(2025, 1, 9, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("missed call summary = %+v, want used newest", mc)
	}
	if len(got) != 7 {
		t.Errorf("got %d summaries, want 7: %v", len(got), got)
	}

	cap := func(t interaction.Type, count int) interaction.Partition {
		return interaction.Partition{CustomerID: 1, Network: interaction.Capillary, Type: t, Count: count}
	}
	parts := []interaction.Partition{cap(interaction.Email, 1), cap(interaction.Phone, 1), cap(interaction.SMS, 2),
		{CustomerID: 1, Network: interaction.Twitter, Type: interaction.Tweet, Count: 1},
		{CustomerID: 2, Network: interaction.Capillary, Type: interaction.SMS, Count: 1}}
	tests := []struct {
		name string
		q    interaction.PageQuery
		want []string
	}{
		{"one partition", interaction.PageQuery{Partitions: parts[2:3], Rows: 10}, []string{"1/sms:11", "1/sms:10"}},
		{"rows cut each partition", interaction.PageQuery{Partitions: parts, Rows: 1},
			[]string{"1/email:13", "1/phone:12", "1/sms:11", "1/tweet:14", "2/sms:20"}},
		{"whole customers", interaction.PageQuery{Partitions: parts, Rows: 5, Complete: true},
			[]string{"1/email:13", "1/phone:12", "1/sms:11", "1/sms:10", "1/tweet:14", "2/sms:20"}},
		{"whole customers within a network", interaction.PageQuery{Partitions: parts[:3], Rows: 5, Complete: true, Network: interaction.Capillary},
			[]string{"1/email:13", "1/phone:12", "1/sms:11", "1/sms:10"}},
		{"until", interaction.PageQuery{Partitions: parts[2:3], Rows: 5, Span: interaction.Span{Until: at(1, 12)}}, []string{"1/sms:10"}},
		{"a long partition is cut", interaction.PageQuery{Partitions: []interaction.Partition{cap(interaction.SMS, 100)}, Rows: 1}, []string{"1/sms:11"}},
		{"a missing partition is empty", interaction.PageQuery{Partitions: []interaction.Partition{cap(interaction.Viber, 3)}, Rows: 5}, nil},
		{"no rows", interaction.PageQuery{Partitions: parts, Rows: 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Fields = interaction.AllMessageFields
			ms, err := db.MessagePages(ctx, org.ID, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			ms = byPartition(ms)
			var got []string
			for _, m := range ms {
				got = append(got, fmt.Sprintf("%d/%s:%d", m.CustomerID, m.Type, m.ID))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	ms, _ := db.MessagePages(ctx, org.ID, interaction.PageQuery{Partitions: parts[2:3], Rows: 5, Fields: interaction.AllMessageFields})
	if ms[1].DeliveredAt == nil || ms[0].DeliveredAt != nil || ms[1].Status != "DELIVERED" || ms[0].CampaignID != -1 || ms[0].Subject != "s11" {
		t.Errorf("message fields: %+v", ms)
	}
	ms, _ = db.MessagePages(ctx, org.ID, interaction.PageQuery{Partitions: parts[2:3], Rows: 5, Fields: interaction.FieldStatus})
	if ms[0].Status != "FAILED" || ms[0].Subject != "" || ms[0].Body != "" {
		t.Errorf("only the status was asked for: %+v", ms[0])
	}
	calls, _ := db.MissedCallPages(ctx, org.ID, interaction.PageQuery{Partitions: []interaction.Partition{{CustomerID: 1}}, Rows: 5})
	if len(calls) != 2 || calls[0].ID != 2 {
		t.Errorf("missed calls: %+v", calls)
	}
	svs, _ := db.SurveyPages(ctx, org.ID, interaction.PageQuery{Partitions: []interaction.Partition{{CustomerID: 2}}, Rows: 5})
	if len(svs) != 1 || string(svs[0].Responses) != `{"score":9}` {
		t.Errorf("surveys: %+v", svs)
	}
}

// TestTenancy: the same ids and identifiers in two organisations never leak.
func testTenancy(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	a := load(t, db, "a", fixture)
	b := load(t, db, "b", `{"record":"customer","id":1,"mobile":"9100","email":"one@x.com","external_id":"E1"}`+"\n")
	for _, o := range []interaction.Org{a, b} {
		cs, _ := db.CustomersByIdentifier(ctx, o.ID, interaction.ByMobile, []string{"9100"})
		if len(cs) != 1 || cs[0].OrgID != o.ID {
			t.Fatalf("org %d: %+v", o.ID, cs)
		}
	}
	if sums, _ := db.Summaries(ctx, b.ID, []int64{1}, interaction.Filter{}); len(sums) != 0 {
		t.Errorf("org b sees org a's interactions: %+v", sums)
	}
	parts := []interaction.Partition{{CustomerID: 1, Network: interaction.Capillary, Type: interaction.SMS, Count: 100},
		{CustomerID: 1, Network: interaction.Capillary, Type: interaction.Phone, Count: 1}}
	for _, q := range []interaction.PageQuery{{Partitions: parts, Rows: 50}, {Partitions: parts, Rows: 50, Complete: true}} {
		if ms, _ := db.MessagePages(ctx, b.ID, q); len(ms) != 0 {
			t.Errorf("org b sees org a's messages: %+v", ms)
		}
	}
	if calls, _ := db.MissedCallPages(ctx, b.ID, interaction.PageQuery{Partitions: parts[:1], Rows: 50}); len(calls) != 0 {
		t.Errorf("org b sees org a's missed calls: %+v", calls)
	}
}

func testStatementsCounted(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	org := load(t, db, "a", fixture)
	before := db.Statements()
	if _, err := db.Summaries(ctx, org.ID, []int64{1, 2}, interaction.Filter{}); err != nil {
		t.Fatal(err)
	}
	// Every way of reading a partition at once: whole customer 2, the
	// uniform sms partitions, and a long one cut.
	parts := []interaction.Partition{{CustomerID: 1, Network: interaction.Capillary, Type: interaction.SMS, Count: 2},
		{CustomerID: 1, Network: interaction.Capillary, Type: interaction.Phone, Count: 100},
		{CustomerID: 2, Network: interaction.Capillary, Type: interaction.SMS, Count: 1}}
	if _, err := db.MessagePages(ctx, org.ID, interaction.PageQuery{Partitions: parts, Rows: 5, Complete: true}); err != nil {
		t.Fatal(err)
	}
	if d := db.Statements() - before; d != 2 {
		t.Errorf("statements = %d, want 2", d)
	}
}

func testAdmin(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	if names, err := db.OrgNames(ctx); err != nil || len(names) != 0 {
		t.Errorf("a new store's organisations = %q, %v; want none", names, err)
	}
	o := ensureOrg(t, db, "acme")
	if again, _ := db.EnsureOrg(ctx, "acme"); again.ID != o.ID {
		t.Fatal("EnsureOrg created a second org")
	}
	db.EnsureOrg(ctx, "a-second")
	if names, err := db.OrgNames(ctx); err != nil || !slices.Equal(names, []string{"a-second", "acme"}) {
		t.Errorf("organisations = %q, %v; want [a-second acme]", names, err)
	}
	o.TimeZone, o.MaskOTP, o.RateLimit = "Asia/Kolkata", true, 30
	if err := db.UpdateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.OrgByName(ctx, "acme"); got != o {
		t.Errorf("org = %+v, want %+v", got, o)
	}
	if _, err := db.OrgByName(ctx, "nope"); interaction.KindOf(err) != interaction.KindNotFound {
		t.Errorf("missing org: %v", err)
	}
	k := interaction.APIKey{ID: "tp_x", OrgID: o.ID, SecretHash: []byte{1}, MD5Hash: []byte{2}, Scopes: "read", CreatedAt: time.Now()}
	if err := db.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeKey(ctx, "tp_x", time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := db.Key(ctx, "tp_x")
	if err != nil || got.RevokedAt == nil || got.Scopes != "read" {
		t.Errorf("key = %+v %v", got, err)
	}
	if ks, _ := db.Keys(ctx, o.ID); len(ks) != 1 {
		t.Errorf("keys = %+v", ks)
	}
	if err := db.RevokeKey(ctx, "nope", time.Now()); interaction.KindOf(err) != interaction.KindNotFound {
		t.Errorf("revoke missing: %v", err)
	}
}

// testCredential: a store's one-statement credential read agrees with the
// key and organisation read apart, follows revocation and settings, and
// finds nothing for ids that no key can have.
func testCredential(t *testing.T, open Opener) {
	db := open(t)
	cs, ok := db.(interface {
		Credential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error)
	})
	if !ok {
		t.Skip("the store reads keys and organisations apart")
	}
	ctx := context.Background()
	o := ensureOrg(t, db, "acme")
	o.TimeZone, o.MaskOTP, o.RateLimit = "Asia/Kolkata", true, 30
	if err := db.UpdateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	k := interaction.APIKey{ID: "tp_c", OrgID: o.ID, SecretHash: []byte{1, 2}, MD5Hash: []byte{3}, Scopes: "read otp:read", RateLimit: 9, CreatedAt: created}
	if err := db.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		gotKey, gotOrg, err := cs.Credential(ctx, k.ID)
		wantKey, _ := db.Key(ctx, k.ID)
		wantOrg, _ := db.OrgByName(ctx, "acme")
		if err != nil || !reflect.DeepEqual(gotKey, wantKey) || gotOrg != wantOrg {
			t.Errorf("%s: credential = %+v %+v %v\nwant %+v %+v", when, gotKey, gotOrg, err, wantKey, wantOrg)
		}
	}
	check("new key")
	o.MaskOTP = false
	db.UpdateOrg(ctx, o)
	check("after a settings change")
	db.RevokeKey(ctx, k.ID, created.Add(time.Hour))
	check("after revocation")
	for _, id := range []string{"tp_none", "", "tp_\x00", "tp_\xff"} {
		if _, _, err := cs.Credential(ctx, id); interaction.KindOf(err) != interaction.KindNotFound {
			t.Errorf("credential %q: %v, want not found", id, err)
		}
	}
}

// testKeyExpiry: a key's expiry, set or not, comes back as it was made
// (to the millisecond the stores keep) from every read of keys: Key, Keys
// and the one-statement Credential where the store has it.
func testKeyExpiry(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	o := ensureOrg(t, db, "acme")
	cs, _ := db.(interface {
		Credential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error)
	})
	created := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	ptr := func(t time.Time) *time.Time { return &t }
	tests := []struct {
		id      string
		expires *time.Time
	}{
		{"tp_never", nil},
		{"tp_expires", ptr(time.Date(2027, 1, 2, 3, 4, 5, 678_000_000, time.UTC))},
		{"tp_expired", ptr(created.Add(-time.Hour))}, // stores keep what they are given; auth decides
	}
	for i, tt := range tests {
		k := interaction.APIKey{ID: tt.id, OrgID: o.ID, SecretHash: []byte{1}, MD5Hash: []byte{2}, Scopes: "read",
			CreatedAt: created.Add(time.Duration(i) * time.Second), ExpiresAt: tt.expires}
		if err := db.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := db.Keys(ctx, o.ID)
	if err != nil || len(keys) != len(tests) {
		t.Fatalf("keys = %+v, %v; want %d", keys, err, len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			check := func(how string, k interaction.APIKey) {
				t.Helper()
				if !reflect.DeepEqual(k.ExpiresAt, tt.expires) {
					t.Errorf("%s: expires %v, want %v", how, k.ExpiresAt, tt.expires)
				}
			}
			k, err := db.Key(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			check("Key", k)
			check("Keys", keys[i])
			if cs != nil {
				k, _, err := cs.Credential(ctx, tt.id)
				if err != nil {
					t.Fatal(err)
				}
				check("Credential", k)
			}
		})
	}
}

// TestSummaryFilters runs each filter over the fixture and compares the set
// of customer/network/type groups it answers, with their counts.
func testSummaryFilters(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	org := load(t, db, "a", fixture)
	tests := []struct {
		name string
		f    interaction.Filter
		want []string
	}{
		{"phone reads sms and phone", interaction.Filter{Type: interaction.Phone},
			[]string{"1/capillary/phone=1", "1/capillary/sms=2", "2/capillary/sms=1"}},
		{"network", interaction.Filter{Network: interaction.Twitter}, []string{"1/twitter/tweet=1"}},
		{"no such network data", interaction.Filter{Network: interaction.Facebook}, nil},
		{"missed calls only", interaction.Filter{Type: interaction.MissedCallType}, []string{"1/capillary/missed_call=2"}},
		{"surveys only", interaction.Filter{Type: interaction.SurveyType}, []string{"2/capillary/survey=1"}},
		{"surveys are capillary", interaction.Filter{Network: interaction.Twitter, Type: interaction.SurveyType}, nil},
		{"bounds are inclusive", interaction.Filter{Since: at(3, 10), Until: at(5, 10)},
			[]string{"1/capillary/email=1", "1/capillary/phone=1", "1/twitter/tweet=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sums, err := db.Summaries(ctx, org.ID, []int64{1, 2}, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range sums {
				got = append(got, strconv.FormatInt(s.CustomerID, 10)+"/"+string(s.Network)+"/"+string(s.Type)+"="+strconv.Itoa(s.Count))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUsedFollowsFilter: the used flag is the newest missed call's among
// those the filter keeps, not the newest overall.
func testUsedFollowsFilter(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	org := load(t, db, "a", fixture)
	for _, tt := range []struct {
		until time.Time
		used  bool
		count int
	}{
		{time.Time{}, true, 2}, // call 2 (Jan 9) is used
		{at(5, 0), false, 1},   // only call 1 (Jan 1) is left
	} {
		sums, err := db.Summaries(ctx, org.ID, []int64{1}, interaction.Filter{Type: interaction.MissedCallType, Until: tt.until})
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != 1 || sums[0].Used != tt.used || sums[0].Count != tt.count {
			t.Errorf("until %v: %+v, want used %v count %d", tt.until, sums, tt.used, tt.count)
		}
	}
}

func testPagesOfCallsAndSurveys(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	org := load(t, db, "a", fixture)
	sms := []interaction.Partition{{CustomerID: 1, Network: interaction.Capillary, Type: interaction.SMS, Count: 2}}
	ms, err := db.MessagePages(ctx, org.ID, interaction.PageQuery{Partitions: sms, Span: interaction.Span{Since: at(2, 10)}, Rows: 5})
	if err != nil || len(ms) != 1 || ms[0].ID != 11 {
		t.Errorf("since is inclusive: %+v %v", ms, err)
	}
	one := []interaction.Partition{{CustomerID: 1}}
	calls, err := db.MissedCallPages(ctx, org.ID, interaction.PageQuery{Partitions: one, Rows: 1})
	if err != nil || len(calls) != 1 || calls[0].ID != 2 || !calls[0].Used {
		t.Errorf("newest call: %+v %v", calls, err)
	}
	calls, _ = db.MissedCallPages(ctx, org.ID, interaction.PageQuery{Partitions: one, Span: interaction.Span{Since: at(2, 0)}, Rows: 5})
	if len(calls) != 1 || calls[0].ID != 2 || !calls[0].Used || !calls[0].CalledAt.Equal(at(9, 0)) {
		t.Errorf("calls since Jan 2: %+v", calls)
	}
	two := []interaction.Partition{{CustomerID: 2}}
	if svs, _ := db.SurveyPages(ctx, org.ID, interaction.PageQuery{Partitions: two, Span: interaction.Span{Until: at(31, 0)}, Rows: 5}); len(svs) != 0 {
		t.Errorf("survey after until returned: %+v", svs)
	}
	if svs, _ := db.SurveyPages(ctx, org.ID, interaction.PageQuery{Partitions: one, Rows: 5}); len(svs) != 0 {
		t.Errorf("customer 1 has no surveys: %+v", svs)
	}

	// Oldest first, the head of each list is its other end.
	load(t, db, "a", `{"record":"survey","id":2,"customer_id":2,"name":"CSAT","submitted_at":"2025-02-01T00:00:00Z"}
{"record":"survey","id":3,"customer_id":2,"name":"CSAT","submitted_at":"2025-04-01T00:00:00Z"}
`)
	oldest := func(ps []interaction.Partition, rows int) interaction.PageQuery {
		return interaction.PageQuery{Partitions: ps, Rows: rows, Order: interaction.OldestFirst}
	}
	if calls, err := db.MissedCallPages(ctx, org.ID, oldest(one, 1)); err != nil || len(calls) != 1 || calls[0].ID != 1 {
		t.Errorf("oldest call: %+v %v", calls, err)
	}
	var ids []int64
	svs, err := db.SurveyPages(ctx, org.ID, oldest(two, 2))
	for _, s := range svs {
		ids = append(ids, s.ID)
	}
	if err != nil || !slices.Equal(ids, []int64{2, 1}) {
		t.Errorf("oldest two surveys: %v %v", ids, err)
	}
}

// TestWritesAreCounted: the counter sees the importer's prepared statements
// too, not only the read path's queries.
func testWritesAreCounted(t *testing.T, open Opener) {
	db := open(t)
	before := db.Statements()
	load(t, db, "a", fixture)
	if db.Statements() == before {
		t.Error("import ran no counted statements")
	}
}

func testCreateKeyErrors(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	o := ensureOrg(t, db, "acme")
	k := interaction.APIKey{ID: "tp_1", OrgID: o.ID, SecretHash: []byte{1}, MD5Hash: []byte{2}, Scopes: "read", CreatedAt: time.Now()}
	if err := db.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateKey(ctx, k); interaction.KindOf(err) != interaction.KindConflict {
		t.Errorf("duplicate key: %v, want conflict", err)
	}
	k.ID, k.OrgID = "tp_2", o.ID+100
	if err := db.CreateKey(ctx, k); interaction.KindOf(err) != interaction.KindNotFound {
		t.Errorf("key for missing org: %v, want not found", err)
	}
	if _, err := db.Key(ctx, "tp_2"); interaction.KindOf(err) != interaction.KindNotFound {
		t.Errorf("Key(missing): %v, want not found", err)
	}
}
