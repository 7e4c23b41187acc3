package importer

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEveryFieldIsWritten: each of Line's fields belongs to a record
// (recordFields), and each name there is one of Line's, so a field added
// to the format is written by the demo writer too, and read back.
func TestEveryFieldIsWritten(t *testing.T) {
	written := map[string]bool{}
	for kind, names := range recordFields {
		if names[0] != "record" || !slices.Contains(names, "id") {
			t.Errorf("%s: fields %v, want record first and an id", kind, names)
		}
		for _, n := range names {
			written[n] = true
		}
	}
	typ := reflect.TypeFor[Line]()
	fields := map[string]bool{}
	for i := range typ.NumField() {
		name := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
		fields[name] = true
		if !written[name] {
			t.Errorf("Line.%s (%q) is in no record's fields: the demo writer would never write it", typ.Field(i).Name, name)
		}
	}
	for n := range written {
		if !fields[n] {
			t.Errorf("recordFields names %q, which Line does not have", n)
		}
	}
}

// TestLineRoundTrip: a Line of every record, every field set (those of
// other records too), is written with its record's fields only, in their
// order, the same by AppendJSON and json.Marshal, and reads back as what
// was written: the writer and the importer agree on every field.
func TestLineRoundTrip(t *testing.T) {
	id, customer, campaign, user := int64(7), int64(3), int64(267560), int64(-1)
	delivered := "2025-04-14T14:23:21Z"
	full := Line{
		ID: &id, CustomerID: &customer, Mobile: "919988221100", Email: "a@b.c", ExternalID: "E7",
		Network: "capillary", Type: "email", Sender: "s", Receiver: "r",
		// What encoding/json would escape: HTML (not here), quotes,
		// control characters, U+2028.
		Subject: `<b>"R&D"</b>` + "\t\n\u2028\x01", Body: "Your OTP is 1234\\", Status: "OPENED",
		CampaignID: &campaign, UserID: &user, SentAt: "2025-04-14T14:23:20Z", DeliveredAt: &delivered,
		CalledAt: "2025-04-14T14:23:22Z", Used: true, Name: "NPS", SubmittedAt: "2025-04-14T14:23:23Z",
		Responses: json.RawMessage(`{ "score": 9 }`),
	}
	tests := []struct {
		record, want string
	}{
		{"customer", `{"record":"customer","id":7,"mobile":"919988221100","email":"a@b.c","external_id":"E7"}`},
		{"message", `{"record":"message","id":7,"customer_id":3,"network":"capillary","type":"email","sender":"s","receiver":"r",` +
			`"subject":"<b>\"R&D\"</b>\t\n\u2028\u0001","body":"Your OTP is 1234\\","status":"OPENED","campaign_id":267560,"user_id":-1,` +
			`"sent_at":"2025-04-14T14:23:20Z","delivered_at":"2025-04-14T14:23:21Z"}`},
		{"missed_call", `{"record":"missed_call","id":7,"customer_id":3,"called_at":"2025-04-14T14:23:22Z","used":true}`},
		{"survey", `{"record":"survey","id":7,"customer_id":3,"name":"NPS","submitted_at":"2025-04-14T14:23:23Z","responses":{"score":9}}`},
	}
	for _, tt := range tests {
		t.Run(tt.record, func(t *testing.T) {
			l := full
			l.Record = tt.record
			got, err := l.AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("AppendJSON:\n got %s\nwant %s", got, tt.want)
			}
			// json.Marshal escapes HTML in what MarshalJSON returns; an
			// Encoder without HTML escaping writes it as it is.
			var enc strings.Builder
			e := json.NewEncoder(&enc)
			e.SetEscapeHTML(false)
			if err := e.Encode(l); err != nil || strings.TrimSuffix(enc.String(), "\n") != tt.want {
				t.Errorf("Encoder: %s %v", enc.String(), err)
			}
			var back Line
			if err := decodeLine(got, &back); err != nil {
				t.Fatalf("read back: %v", err)
			}
			if _, err := record(back); err != nil {
				t.Errorf("the importer rejects what the writer wrote: %v", err)
			}
			again, err := back.AppendJSON(nil)
			if err != nil || string(again) != string(got) {
				t.Errorf("written again: %s %v\nfirst time:   %s", again, err, got)
			}
		})
	}
	// A missing delivered_at and an unknown record.
	l := full
	l.Record, l.DeliveredAt = "message", nil
	if got, _ := l.AppendJSON(nil); !strings.HasSuffix(string(got), `"delivered_at":null}`) {
		t.Errorf("no delivery: %s", got)
	}
	l.Record = "fax"
	if _, err := l.AppendJSON(nil); err == nil {
		t.Error("an unknown record was written")
	}
}
