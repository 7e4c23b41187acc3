package sqlite

import (
	"regexp"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

// TestTimelinePlans: every shape of the timeline statement reads each
// list as index range searches of one customer at a time, with no scan
// of a table or index and no sort, so a page costs its rows whatever its
// depth (EXPLAIN QUERY PLAN; the tables' real sizes do not matter to
// SQLite's planner without ANALYZE, which Touchpoint never runs).
func TestTimelinePlans(t *testing.T) {
	db := openTemp(t)
	scan := regexp.MustCompile(`\bSCAN (m|x)\b|TEMP B-TREE`)
	for _, q := range []interaction.TimelineQuery{
		{Messages: true, MissedCalls: true, Surveys: true, Fields: interaction.FieldStatus | interaction.FieldSubject},
		{Messages: true, MissedCalls: true, Surveys: true, Order: interaction.OldestFirst},
		{Messages: true, Networks: []interaction.Network{interaction.Capillary}, Types: []interaction.Type{interaction.SMS},
			Statuses: interaction.StringList([]string{"FAILED"}), Campaigns: interaction.IntList([]int64{7})},
	} {
		text := timelineQuery(sqlstore.ShapeOf(q, false))
		rows, err := db.w.Query("EXPLAIN QUERY PLAN " + text)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		want := 0
		for _, on := range []bool{q.Messages, q.MissedCalls, q.Surveys} {
			if on {
				want += 2 // the list's range and its cut's
			}
		}
		// Each list's cut is a range of its own time index; the messages
		// themselves a range of messages_timeline, or with network and
		// type filters of the primary key, one per pair.
		if scan.MatchString(all) || strings.Count(all, "SEARCH") != want ||
			!strings.Contains(all, "SEARCH x USING COVERING INDEX messages_timeline (org_id=? AND customer_id=? AND sent_at>? AND sent_at<?)") {
			t.Errorf("plan of %+v:\n%s", q, all)
		}
	}
}
