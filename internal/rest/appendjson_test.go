package rest

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestAppendJSONMatchesEncodingJSON: the hand-rolled v2 appenders write
// what encoding/json (HTML escaping off, as writeJSON sets it) writes.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "a", `"`, `\`, "\n", "\t", "\r", "\b", "\f", "\x00", "\x1f", "\x7f", "<&>", "é", "☃", "\u2028", "\u2029",
		"\xff", "\xe2\x82", "😀", "OTP 123456", " "}
	str := func() string {
		var b []byte
		for range rnd.IntN(6) {
			b = append(b, pieces[rnd.IntN(len(pieces))]...)
		}
		return string(b)
	}
	for i := range 500 {
		used := i%2 == 0
		r := v2Response{Name: str(), Interaction: []v2Interaction{}, Warnings: []v2Warning{}}
		for range rnd.IntN(4) {
			it := v2Interaction{Count: rnd.IntN(100), Name: str()}
			switch rnd.IntN(3) {
			case 0:
				list := []v2Message{}
				for range rnd.IntN(3) {
					m := v2Message{ID: rnd.Int64(), Receiver: str(), Subject: str(), CampaignID: rnd.Int64N(3) - 1, Status: str(),
						SentDate: str(), UserID: -1}
					if rnd.IntN(2) == 0 {
						m.DeliveredTime = str() + "x"
					}
					list = append(list, m)
				}
				it.MessageList = &list
			case 1:
				list := []v2Survey{{ID: 3, Name: str(), SubmittedDate: str(), Responses: json.RawMessage(`{ "a" : [1, 2], "b":"<x>" }`)}}
				it.Surveys = &list
			case 2:
				it.UsedStatus = &used
			}
			r.Interaction = append(r.Interaction, it)
		}
		for range rnd.IntN(3) {
			r.Warnings = append(r.Warnings, v2Warning{Code: 1201 + rnd.IntN(2), Message: str(), Name: str(), Count: rnd.IntN(100), Returned: rnd.IntN(50)})
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if got := r.appendJSON(nil); string(got) != want.String() {
			t.Fatalf("got  %s\nwant %s", got, want.String())
		}
	}
}
