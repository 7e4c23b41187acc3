package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/sqlite"
)

func setup(t testing.TB) (*sqlite.DB, interaction.Org) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o, err := db.EnsureOrg(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return db, o
}

func TestBadLines(t *testing.T) {
	good := `{"record":"customer","id":1,"mobile":"91","email":"A@B.C"}`
	tests := []struct {
		line   string
		reason string
	}{
		{`{"record":"customer"`, "malformed JSON"},
		{`{"record":"customer","mobile":"9"}`, `missing field "id"`},
		{`{"record":"customer","id":-4}`, `"id" must be positive`},
		{`{"id":5}`, `missing field "record"`},
		{`{"record":"customer","id":"5"}`, `field "id": a JSON string where an integer belongs`},
		{`{"record":"missed_call","id":5,"customer_id":1,"called_at":"2025-01-01T00:00:00Z","used":"yes"}`, `field "used": a JSON string where a boolean belongs`},
		{`{"record":"order","id":5}`, `unknown record "order"`},
		{`{"record":"message","id":5,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z"}`, `missing field "customer_id"`},
		{`{"record":"message","id":5,"customer_id":1,"network":"myspace","type":"sms","sent_at":"2025-01-01T00:00:00Z"}`, `unknown network "myspace"`},
		{`{"record":"message","id":5,"customer_id":1,"network":"capillary","type":"fax","sent_at":"2025-01-01T00:00:00Z"}`, `unknown message type "fax"`},
		{`{"record":"message","id":5,"customer_id":1,"network":"capillary","type":"sms","sent_at":"yesterday"}`, `"sent_at" is not an RFC 3339 time`},
		{`{"record":"message","id":5,"customer_id":1,"network":"capillary","type":"sms"}`, `missing field "sent_at"`},
		{`{"record":"message","id":5,"customer_id":99,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z"}`, "unknown customer 99"},
		{`{"record":"missed_call","id":5,"customer_id":1,"called_at":"2025-13-01T00:00:00Z"}`, `"called_at" is not an RFC 3339 time`},
		{`{"record":"survey","id":5,"customer_id":1,"submitted_at":"2025-01-01T00:00:00Z"}`, `missing field "name"`},
		{`{"record":"survey","id":5,"customer_id":1,"name":"x","submitted_at":"2025-01-01T00:00:00Z","responses":[1]}`, "must be a JSON object"},
		{`{"record":"customer","id":2,"mobile":"91"}`, "already belongs to another customer"},
		{`{"record":"customer","id":2,"mobile":"9\u00001"}`, `field "mobile" holds a NUL character`},
		{`{"record":"message","id":5,"customer_id":1,"network":"capillary","type":"sms","body":"a\u0000b","sent_at":"2025-01-01T00:00:00Z"}`, `field "body" holds a NUL character`},
		{"{\"record\":\"customer\",\"id\":2,\"mobile\":\"9\xff1\"}", "invalid UTF-8 at byte 40"},
		{`{"record":"survey","id":5,"customer_id":1,"name":"x","submitted_at":"2025-01-01T00:00:00Z","responses":{"a":"\u0000"}}`, `field "responses": a NUL character`},
		{`{"record":"survey","id":5,"customer_id":1,"name":"x","submitted_at":"2025-01-01T00:00:00Z","responses":{"a":"\ud800"}}`, `half of a UTF-16 surrogate pair (\ud800)`},
		{`{"record":"survey","id":5,"customer_id":1,"name":"x","submitted_at":"2025-01-01T00:00:00Z","responses":{"a":"\udc00x"}}`, `half of a UTF-16 surrogate pair (\udc00)`},
		{`{"record":"missed_call","id":5,"customer_id":1,"called_at":"9999-12-31T23:59:59-01:00"}`, `"called_at" is outside the times the API can show`},
		{`{"record":"message","id":5,"customer_id":1,"network":"capillary","type":"sms","sent_at":"0000-01-01T00:00:00+01:00"}`, `"sent_at" is outside the times the API can show`},
		{`{"record":"message","id":5,"customer_id":1,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z","delivered_at":"0001-01-01T05:00:00Z"}`, `"delivered_at" is outside`},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			db, o := setup(t)
			in := good + "\n" + tt.line + "\n" + `{"record":"missed_call","id":1,"customer_id":1,"called_at":"2025-01-01T00:00:00Z","used":true}`
			rep, err := importer.Import(context.Background(), strings.NewReader(in), db, o.ID, importer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Accepted != 2 || rep.Rejected != 1 || len(rep.Rejections) != 1 {
				t.Fatalf("report = %+v", rep)
			}
			if r := rep.Rejections[0]; r.Line != 2 || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("rejection = %+v, want line 2 with %q", r, tt.reason)
			}
			cs, _ := db.CustomersByIdentifier(context.Background(), o.ID, interaction.ByEmail, []string{"a@b.c"})
			if len(cs) != 1 {
				t.Errorf("good customer line not committed (email lower-cased): %+v", cs)
			}
		})
	}
}

func TestLongLine(t *testing.T) {
	db, o := setup(t)
	in := `{"record":"customer","id":1,"subject":"` + strings.Repeat("x", importer.MaxLineBytes) + `"}` + "\n" +
		`{"record":"customer","id":2}`
	rep, err := importer.Import(context.Background(), strings.NewReader(in), db, o.ID, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted != 1 || rep.Rejected != 1 || rep.Rejections[0].Line != 1 {
		t.Errorf("report = %+v", rep)
	}
}

// TestIdempotent imports the demo data twice, in small batches, and checks
// nothing changes the second time.
func TestIdempotent(t *testing.T) {
	db, o := setup(t)
	var buf bytes.Buffer
	if err := demo.Write(&buf, demo.Options{Customers: 50}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	snapshot := func() string {
		ids := make([]int64, 0, 60)
		for i := range 50 {
			ids = append(ids, int64(1_000_001+i))
		}
		ids = append(ids, demo.TomSawyer, demo.ViberSample)
		groups, err := interaction.Read(ctx, db, o.ID, ids, interaction.Request{Page: interaction.Page{Limit: 500},
			Layout: interaction.LayoutV2, Lists: interaction.AllLists, Fields: interaction.AllMessageFields})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%+v", groups)
	}
	var first string
	for i := range 2 {
		var progress bytes.Buffer
		rep, err := importer.Import(ctx, bytes.NewReader(buf.Bytes()), db, o.ID, importer.Options{BatchSize: 100, Progress: &progress})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rejected != 0 || rep.Messages == 0 || rep.Customers != 53 {
			t.Fatalf("import %d: %+v", i, rep)
		}
		if !strings.Contains(progress.String(), "import: done") {
			t.Errorf("no summary on progress writer: %q", progress.String())
		}
		if i == 0 {
			first = snapshot()
		} else if got := snapshot(); got != first {
			t.Error("second import changed the data")
		}
	}
}

func BenchmarkImport(b *testing.B) {
	var buf bytes.Buffer
	if err := demo.Write(&buf, demo.Options{Customers: 2000}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	var msgs int
	for b.Loop() {
		b.StopTimer()
		db, o := setup(b)
		b.StartTimer()
		rep, err := importer.Import(context.Background(), bytes.NewReader(buf.Bytes()), db, o.ID, importer.Options{})
		if err != nil || rep.Rejected != 0 {
			b.Fatal(err, rep.Rejections)
		}
		msgs += rep.Messages
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "messages/s")
}

// TestUnknownFields: a field the format does not know warns with its line
// and the line is imported; Strict rejects the line instead. Names match
// case-insensitively, as encoding/json decodes them.
func TestUnknownFields(t *testing.T) {
	const customer = `{"record":"customer","id":1,"mobile":"91"}`
	tests := []struct {
		line string
		want string // the warning, or (strict) the rejection; "" for none
	}{
		{`{"record":"message","id":5,"customer_id":1,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z"}`, ""},
		{`{"record":"message","id":5,"customer_id":1,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z","colour":"red"}`, `unknown field "colour"`},
		{`{"record":"message","id":5,"customer_id":1,"network":"capillary","type":"sms","sentAt":"x","sent_at":"2025-01-01T00:00:00Z","x":{"y":1}}`, `unknown fields "sentAt", "x"`},
		{`{"record":"missed_call","id":5,"customer_id":1,"Called_At":"2025-01-01T00:00:00Z"}`, ""},
		{`{"record":"survey","id":5,"customer_id":1,"name":"NPS","submitted_at":"2025-01-01T00:00:00Z","responses":{"anything":1}}`, ""},
	}
	for _, tt := range tests {
		for _, strict := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/strict=%t", tt.want, strict), func(t *testing.T) {
				db, o := setup(t)
				rep, err := importer.Import(context.Background(), strings.NewReader(customer+"\n"+tt.line+"\n"), db, o.ID, importer.Options{Strict: strict})
				if err != nil {
					t.Fatal(err)
				}
				var warned, rejected string
				if len(rep.Warnings) > 0 {
					warned = fmt.Sprintf("line %d: %s", rep.Warnings[0].Line, rep.Warnings[0].Reason)
				}
				if len(rep.Rejections) > 0 {
					rejected = fmt.Sprintf("line %d: %s", rep.Rejections[0].Line, rep.Rejections[0].Reason)
				}
				switch {
				case tt.want == "":
					if warned != "" || rejected != "" || rep.Accepted != 2 {
						t.Errorf("warned %q, rejected %q, accepted %d; want a clean import", warned, rejected, rep.Accepted)
					}
				case strict:
					if rejected != "line 2: "+tt.want || warned != "" || rep.Accepted != 1 {
						t.Errorf("rejected %q, warned %q, accepted %d; want line 2 rejected: %s", rejected, warned, rep.Accepted, tt.want)
					}
				default:
					if warned != "line 2: "+tt.want+" (ignored)" || rejected != "" || rep.Accepted != 2 || rep.Warned != 1 {
						t.Errorf("warned %q, rejected %q, accepted %d; want line 2 imported with a warning: %s", warned, rejected, rep.Accepted, tt.want)
					}
				}
			})
		}
	}
}
