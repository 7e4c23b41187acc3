package rest

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendJSONMatchesEncodingJSON: the hand-rolled appenders of both
// versions write what encoding/json (HTML escaping off, as writeJSON
// sets it) writes.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		// payload returns a random payload, as appendJSON writes it and
		// as encoding/json is given it.
		payload func(rnd *rand.Rand, str func() string) (appender appender, encoded any)
	}{
		{"v2", randomV2},
		{"v1.1", randomV11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(1, 2))
			str := func() string { return hostile(rnd) }
			for range 500 {
				a, v := tc.payload(rnd, str)
				var want bytes.Buffer
				enc := json.NewEncoder(&want)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(v); err != nil {
					t.Fatal(err)
				}
				if got := a.appendJSON(nil); string(got) != want.String() {
					t.Fatalf("got  %s\nwant %s", got, want.String())
				}
			}
		})
	}
}

// appender is a payload that writes its own JSON.
type appender interface{ appendJSON([]byte) []byte }

// hostile returns a random string of pieces that JSON escapes, replaces
// or passes through.
func hostile(rnd *rand.Rand) string {
	pieces := []string{"", "a", `"`, `\`, "\n", "\t", "\r", "\b", "\f", "\x00", "\x1f", "\x7f", "<&>", "é", "☃", "\u2028", "\u2029",
		"\xff", "\xe2\x82", "😀", "OTP 123456", " "}
	var b []byte
	for range rnd.IntN(6) {
		b = append(b, pieces[rnd.IntN(len(pieces))]...)
	}
	return string(b)
}

// randomWhen is a time in one of the vendor's layouts, or none, and now
// and then one that time.Format writes itself (a year past 9999).
func randomWhen(rnd *rand.Rand) when {
	layouts := []string{"", layoutV11Sent, layoutDMY, layoutV2Deliv}
	t := time.UnixMilli(rnd.Int64N(4102444800000)).In(time.FixedZone("", (rnd.IntN(27)-12)*1800))
	if rnd.IntN(8) == 0 {
		t = t.AddDate(9000, 0, 0)
	}
	return when{t, layouts[rnd.IntN(len(layouts))]}
}

func randomV11(rnd *rand.Rand, str func() string) (appender, any) {
	r := &v11Response{Status: v11Status{Success: str(), Code: rnd.IntN(600), Message: str()}}
	if rnd.IntN(4) > 0 {
		c := &v11Customer{ID: str(), Mobile: str(), Email: str(), ExternalID: str(), ItemStatus: v11Status{str(), rnd.IntN(2000), str()}}
		if rnd.IntN(3) > 0 {
			c.Interactions = &v11Interactions{Network: []v11Network{}}
			for range rnd.IntN(4) {
				n := v11Network{Name: str(), Interaction: []v11Interaction{}}
				for range rnd.IntN(4) {
					it := v11Interaction{LastInteractionTime: randomWhen(rnd), UsedStatus: rnd.IntN(2) == 0, Count: rnd.IntN(100), Type: str()}
					if rnd.IntN(2) == 0 {
						it.Messages = &v11Messages{}
						for range 1 + rnd.IntN(3) {
							it.Messages.Message = append(it.Messages.Message, v11Message{ID: rnd.Int64(), Sender: str(), Reciever: str(),
								Subject: str(), Status: str(), SentTime: randomWhen(rnd), DeliveredTime: randomWhen(rnd), CampaignID: decimal(rnd.Int64N(2001) - 1000)})
						}
					}
					n.Interaction = append(n.Interaction, it)
				}
				c.Interactions.Network = append(c.Interactions.Network, n)
			}
		}
		r.Customer = c
	}
	return r, struct {
		Response *v11Response `json:"response"`
	}{r}
}

func randomV2(rnd *rand.Rand, str func() string) (appender, any) {
	used := rnd.IntN(2) == 0
	r := v2Response{Name: str(), Interaction: []v2Interaction{}, Warnings: []v2Warning{}}
	for range rnd.IntN(4) {
		it := v2Interaction{Count: rnd.IntN(100), Name: str()}
		switch rnd.IntN(3) {
		case 0:
			list := []v2Message{}
			for range rnd.IntN(3) {
				m := v2Message{ID: rnd.Int64(), Receiver: str(), Subject: str(), CampaignID: rnd.Int64N(3) - 1, Status: str(),
					SentDate: randomWhen(rnd), DeliveredTime: randomWhen(rnd), UserID: -1}
				list = append(list, m)
			}
			it.MessageList = &list
		case 1:
			list := []v2Survey{{ID: 3, Name: str(), SubmittedDate: randomWhen(rnd), Responses: json.RawMessage(`{ "a" : [1, 2], "b":"<x>" }`)}}
			it.Surveys = &list
		case 2:
			it.UsedStatus = &used
		}
		r.Interaction = append(r.Interaction, it)
	}
	for range rnd.IntN(3) {
		r.Warnings = append(r.Warnings, v2Warning{Code: 1201 + rnd.IntN(2), Message: str(), Name: str(), Count: rnd.IntN(100), Returned: rnd.IntN(50)})
	}
	return &r, r
}
