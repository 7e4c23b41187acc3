package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // registers "sqlite" to tamper with a file behind the store's back

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/sqlite"
)

func at(day, hour int) time.Time { return time.Date(2025, 1, day, hour, 0, 0, 0, time.UTC) }

// TestSummaryFilters runs each filter over the fixture and compares the set
// of customer/network/type groups it answers, with their counts.
func TestSummaryFilters(t *testing.T) {
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
func TestUsedFollowsFilter(t *testing.T) {
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

func TestPagesOfCallsAndSurveys(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	org := load(t, db, "a", fixture)
	sms := []interaction.GroupKey{{Network: interaction.Capillary, Type: interaction.SMS}}
	ms, err := db.Messages(ctx, org.ID, []int64{1}, sms, interaction.Span{Since: at(2, 10)}, interaction.Page{Limit: 5})
	if err != nil || len(ms) != 1 || ms[0].ID != 11 {
		t.Errorf("since is inclusive: %+v %v", ms, err)
	}
	calls, err := db.MissedCalls(ctx, org.ID, []int64{1}, interaction.PageQuery{Page: interaction.Page{Limit: 1, Offset: 1}})
	if err != nil || len(calls) != 1 || calls[0].ID != 1 || calls[0].Used {
		t.Errorf("second page of calls: %+v %v", calls, err)
	}
	calls, _ = db.MissedCalls(ctx, org.ID, []int64{1}, interaction.PageQuery{Since: at(2, 0), Page: interaction.Page{Limit: 5}})
	if len(calls) != 1 || calls[0].ID != 2 || !calls[0].Used || !calls[0].CalledAt.Equal(at(9, 0)) {
		t.Errorf("calls since Jan 2: %+v", calls)
	}
	if svs, _ := db.Surveys(ctx, org.ID, []int64{2}, interaction.PageQuery{Until: at(31, 0), Page: interaction.Page{Limit: 5}}); len(svs) != 0 {
		t.Errorf("survey after until returned: %+v", svs)
	}
	if svs, _ := db.Surveys(ctx, org.ID, []int64{1}, interaction.PageQuery{Page: interaction.Page{Limit: 5}}); len(svs) != 0 {
		t.Errorf("customer 1 has no surveys: %+v", svs)
	}
}

// TestReadyReportsPendingMigrations forgets an applied migration behind the
// store's back; Ready must notice.
func TestReadyReportsPendingMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err == nil {
		t.Error("Ready = nil with a pending migration")
	}
}

func TestOpenRejectsEmptyPath(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), ""); err == nil {
		t.Error("Open(\"\") = nil error")
	}
}

// TestWritesAreCounted: the counter sees the importer's prepared statements
// too, not only the read path's queries.
func TestWritesAreCounted(t *testing.T) {
	db := open(t)
	before := db.Statements()
	load(t, db, "a", fixture)
	if db.Statements() == before {
		t.Error("import ran no counted statements")
	}
}

func TestCreateKeyErrors(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	o, err := db.EnsureOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
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

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "t.db")
	if db, err := sqlite.Open(context.Background(), path); err == nil {
		db.Close()
		t.Fatal("Open in a missing directory succeeded")
	} else if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
}
