package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// hostileFile mixes good lines with lines no store may keep (NUL, invalid
// UTF-8, lone surrogates, unprintable times) and lines that break the
// order rule (a record before its customer). Its bad lines, by number,
// with the start of their reasons.
const hostileFile = `{"record":"customer","id":1,"mobile":"9100"}
{"record":"message","id":10,"customer_id":1,"network":"capillary","type":"sms","body":"a\u0000b","sent_at":"2025-01-01T00:00:00Z"}
{"record":"message","id":20,"customer_id":2,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z"}
{"record":"customer","id":2,"mobile":"9200"}
{"record":"message","id":21,"customer_id":2,"network":"capillary","type":"sms","sent_at":"2025-01-02T00:00:00Z"}
{"record":"customer","id":4,"mobile":"9` + "\xff" + `"}
{"record":"survey","id":1,"customer_id":1,"name":"NPS","submitted_at":"2025-01-01T00:00:00Z","responses":{"a":"\u0000"}}
{"record":"survey","id":2,"customer_id":1,"name":"NPS","submitted_at":"2025-01-01T00:00:00Z","responses":{"a":"\ud800"}}
{"record":"missed_call","id":1,"customer_id":1,"called_at":"9999-12-31T23:59:59-01:00"}
{"record":"message","id":11,"customer_id":1,"network":"capillary","type":"sms","sent_at":"0000-01-01T00:00:00+01:00"}
{"record":"message","id":12,"customer_id":1,"network":"capillary","type":"sms","sent_at":"2025-01-03T00:00:00Z"}
{"record":"customer","id":3,"mobile":"9100"}
{"record":"missed_call","id":2,"customer_id":3,"called_at":"2025-01-01T00:00:00Z"}
{"record":"missed_call","id":3,"customer_id":5,"called_at":"2025-01-01T00:00:00Z"}
{"record":"customer","id":5,"external_id":"x\u0000"}
{"record":"survey","id":3,"customer_id":2,"name":"NPS","submitted_at":"2025-01-01T00:00:00Z","responses":{"a":"\ud83d\ude00"}}
{"record":"customer","id":6}
`

var hostileRejections = []struct {
	line   int
	reason string
}{
	{2, `field "body" holds a NUL character`},
	{3, "unknown customer 2"},
	{6, "invalid UTF-8 at byte"},
	{7, `field "responses": a NUL character`},
	{8, `field "responses": half of a UTF-16 surrogate pair`},
	{9, `"called_at" is outside the times the API can show`},
	{10, `"sent_at" is outside the times the API can show`},
	{12, "an identifier (mobile, email or external_id) already belongs to another customer"},
	{13, "unknown customer 3"},
	{14, "unknown customer 5"},
	{15, `field "external_id" holds a NUL character`},
}

// testImportRejectsAlike: every store accepts and rejects the same lines
// of a hostile file, for the same reasons, in one batch or many, and
// commits every good line: the two stores cannot disagree on what an
// import kept.
func testImportRejectsAlike(t *testing.T, open Opener) {
	for _, batch := range []int{1000, 3, 1} {
		t.Run(fmt.Sprintf("batches of %d", batch), func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			org := must(db.EnsureOrg(ctx, "acme"))
			rep, err := importer.Import(ctx, strings.NewReader(hostileFile), db, org.ID, importer.Options{BatchSize: batch})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rep.Rejections {
				got = append(got, fmt.Sprintf("%d: %s", r.Line, r.Reason))
			}
			if len(rep.Rejections) != len(hostileRejections) {
				t.Fatalf("%d rejections, want %d:\n%s", len(rep.Rejections), len(hostileRejections), strings.Join(got, "\n"))
			}
			for i, want := range hostileRejections {
				if r := rep.Rejections[i]; r.Line != want.line || !strings.HasPrefix(r.Reason, want.reason) {
					t.Errorf("rejection %d: %d: %s, want %d: %s", i, r.Line, r.Reason, want.line, want.reason)
				}
			}
			// Customers 1, 2 and 6; messages 12 and 21; survey 3.
			if rep.Accepted != 6 || rep.Customers != 3 || rep.Messages != 2 || rep.Surveys != 1 || rep.MissedCalls != 0 {
				t.Errorf("accepted %+v", rep)
			}
			sums := must(db.Summaries(ctx, org.ID, []int64{1, 2, 3, 5}, interaction.Filter{}))
			if got := renderSummaries(sums); strings.Join(got, "\n") != strings.Join([]string{
				"1/capillary/sms=1@2025-01-03T00:00:00Z used=false",
				"2/capillary/sms=1@2025-01-02T00:00:00Z used=false",
				"2/capillary/survey=1@2025-01-01T00:00:00Z used=false",
			}, "\n") {
				t.Errorf("stored: %q", got)
			}
		})
	}
}
