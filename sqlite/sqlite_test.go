package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/sqlite"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func load(t *testing.T, db *sqlite.DB, org string, ndjson string) interaction.Org {
	t.Helper()
	ctx := context.Background()
	o, err := db.EnsureOrg(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := importer.Import(ctx, strings.NewReader(ndjson), db, o.ID, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 0 {
		t.Fatalf("rejections: %+v", rep.Rejections)
	}
	return o
}

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

func TestReaderQueries(t *testing.T) {
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

	capSMS := interaction.GroupKey{Network: interaction.Capillary, Type: interaction.SMS}
	capPhone := interaction.GroupKey{Network: interaction.Capillary, Type: interaction.Phone}
	capEmail := interaction.GroupKey{Network: interaction.Capillary, Type: interaction.Email}
	tweet := interaction.GroupKey{Network: interaction.Twitter, Type: interaction.Tweet}
	page := func(limit, offset int) interaction.Page { return interaction.Page{Limit: limit, Offset: offset} }
	tests := []struct {
		name   string
		groups []interaction.GroupKey
		span   interaction.Span
		page   interaction.Page
		ids    []int64
		want   []string
	}{
		{"phone is sms+phone newest first", []interaction.GroupKey{capPhone}, interaction.Span{}, page(10, 0), []int64{1}, []string{"phone:12", "phone:11", "phone:10"}},
		{"offset", []interaction.GroupKey{capPhone}, interaction.Span{}, page(1, 1), []int64{1}, []string{"phone:11"}},
		{"per customer pages", []interaction.GroupKey{capSMS}, interaction.Span{}, page(1, 0), []int64{1, 2}, []string{"sms:11", "sms:20"}},
		{"until", []interaction.GroupKey{capSMS}, interaction.Span{Until: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}, page(5, 0), []int64{1}, []string{"sms:10"}},
		{"network", []interaction.GroupKey{tweet}, interaction.Span{}, page(5, 0), []int64{1}, []string{"tweet:14"}},
		{"many groups, one statement", []interaction.GroupKey{capSMS, capPhone, capEmail, tweet}, interaction.Span{}, page(1, 0), []int64{1, 2},
			[]string{"email:13", "phone:12", "sms:11", "tweet:14", "phone:20", "sms:20"}},
		{"limit 0", []interaction.GroupKey{capSMS}, interaction.Span{}, page(0, 0), []int64{1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := db.Messages(ctx, org.ID, tt.ids, tt.groups, tt.span, tt.page)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, fmt.Sprintf("%s:%d", m.Group.Type, m.ID))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	ms, _ := db.Messages(ctx, org.ID, []int64{1}, []interaction.GroupKey{capSMS}, interaction.Span{}, page(5, 0))
	if ms[1].DeliveredAt == nil || ms[0].DeliveredAt != nil || ms[1].Status != "DELIVERED" || ms[0].CampaignID != -1 {
		t.Errorf("message fields: %+v", ms)
	}
	calls, _ := db.MissedCalls(ctx, org.ID, []int64{1}, interaction.PageQuery{Page: interaction.Page{Limit: 5}})
	if len(calls) != 2 || calls[0].ID != 2 {
		t.Errorf("missed calls: %+v", calls)
	}
	svs, _ := db.Surveys(ctx, org.ID, []int64{2}, interaction.PageQuery{Page: interaction.Page{Limit: 5}})
	if len(svs) != 1 || string(svs[0].Responses) != `{"score":9}` {
		t.Errorf("surveys: %+v", svs)
	}
}

// TestTenancy: the same ids and identifiers in two organisations never leak.
func TestTenancy(t *testing.T) {
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
	all := []interaction.GroupKey{{Network: interaction.Capillary, Type: interaction.SMS}, {Network: interaction.Capillary, Type: interaction.Phone}}
	if ms, _ := db.Messages(ctx, b.ID, []int64{1}, all, interaction.Span{}, interaction.Page{Limit: 50}); len(ms) != 0 {
		t.Errorf("org b sees org a's messages: %+v", ms)
	}
}

func TestStatementsCounted(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	org := load(t, db, "a", fixture)
	before := db.Statements()
	if _, err := db.Summaries(ctx, org.ID, []int64{1, 2}, interaction.Filter{}); err != nil {
		t.Fatal(err)
	}
	groups := []interaction.GroupKey{{Network: interaction.Capillary, Type: interaction.SMS}, {Network: interaction.Capillary, Type: interaction.Phone}}
	if _, err := db.Messages(ctx, org.ID, []int64{1, 2}, groups, interaction.Span{}, interaction.Page{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if d := db.Statements() - before; d != 2 {
		t.Errorf("statements = %d, want 2", d)
	}
}

func TestReopenAndReady(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	ctx := context.Background()
	for range 2 { // migrations are idempotent
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
}

func TestAdmin(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	o, err := db.EnsureOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := db.EnsureOrg(ctx, "acme"); again.ID != o.ID {
		t.Fatal("EnsureOrg created a second org")
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
