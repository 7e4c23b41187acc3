package demo_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/demo"
)

func TestDeterministicAndComplete(t *testing.T) {
	var a, b bytes.Buffer
	if err := demo.Write(&a, demo.Options{Customers: 300}); err != nil {
		t.Fatal(err)
	}
	if err := demo.Write(&b, demo.Options{Customers: 300}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("demo output differs between runs")
	}
	out := a.String()
	// Every network and type appears somewhere.
	for _, s := range []string{`"network":"facebook"`, `"network":"twitter"`, `"network":"foursquare"`,
		`"type":"emailbulk"`, `"type":"whatsapp"`, `"type":"viber"`, `"type":"line"`, `"type":"zalo"`, `"type":"feedback"`,
		`"type":"checkin"`, `"type":"like"`, `"type":"comment"`, `"type":"mention"`, `"type":"retweet"`, `"type":"tweet"`,
		`"record":"missed_call"`, `"record":"survey"`, `"status":"SOFT_BOUNCED"`, `"status":"NOT-DELIVERED"`,
		// the vendor samples, verbatim
		`"id":1743467374476`, `Loyalty+ Release Notes - JFM'25 (Part 2️⃣)`, `"email":"gcr9986@gmail.com"`,
		`"subject":"Hii,This is the message in viber."`} {
		if !strings.Contains(out, s) {
			t.Errorf("demo data lacks %s", s)
		}
	}
}
