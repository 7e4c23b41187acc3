package interaction

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// render is a compact, readable form of groups for comparisons:
// "capillary[survey:0 email:2] twitter[tweet:1]".
func render(gs []Group) string {
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(g.Network) + "[")
		for j, s := range g.Items {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s:%d", s.Type, s.Count)
		}
		b.WriteByte(']')
	}
	return b.String()
}

func TestAssemble(t *testing.T) {
	t1 := time.Date(2025, 4, 14, 14, 23, 20, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	raw := []Summary{
		{CustomerID: 1, Network: Capillary, Type: Email, Count: 2, Last: &t1},
		{CustomerID: 1, Network: Capillary, Type: SMS, Count: 4, Last: &t1},
		{CustomerID: 1, Network: Capillary, Type: Phone, Count: 1, Last: &t2},
		{CustomerID: 1, Network: Twitter, Type: Tweet, Count: 1, Last: &t1},
		{CustomerID: 1, Network: Capillary, Type: Feedback, Count: 3, Last: &t1},
		{CustomerID: 2, Network: Capillary, Type: Viber, Count: 9, Last: &t1}, // another customer
	}
	short := Layout{SurveyType, Email}
	tests := []struct {
		name   string
		raw    []Summary
		f      Filter
		layout Layout
		want   string
	}{
		{"no data shows the layout", nil, Filter{}, short, "capillary[survey:0 email:0]"},
		{"v11 layout order", nil, Filter{}, LayoutV11,
			"capillary[survey:0 missed_call:0 whatsapp:0 zalo:0 line:0 phone:0 sms:0 email:0]"},
		{"v2 layout order", nil, Filter{}, LayoutV2,
			"capillary[survey:0 line:0 viber:0 email:0 whatsapp:0 missed_call:0 phone:0 sms:0 zalo:0]"},
		{"phone is sms plus phone, extras after the layout, other networks after capillary", raw, Filter{}, short,
			"capillary[survey:0 email:2 sms:4 phone:5 feedback:3] twitter[tweet:1]"},
		{"network filter", raw, Filter{Network: Twitter}, short, "twitter[tweet:1]"},
		{"requested network without data is shown empty", raw, Filter{Network: Foursquare}, short, "foursquare[]"},
		{"type filter", raw, Filter{Type: Email}, short, "capillary[email:2]"},
		{"type filter without data shows a zero under its home network", nil, Filter{Type: Checkin}, short, "foursquare[checkin:0]"},
		{"type and network filter without data", nil, Filter{Network: Facebook, Type: Line}, short, "facebook[line:0]"},
		{"type filter on phone", raw, Filter{Type: Phone}, short, "capillary[phone:5]"},
		{"other customers' rows are ignored", raw[5:], Filter{}, short, "capillary[survey:0 email:0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(Assemble(1, tt.raw, tt.f, tt.layout))
			if got != tt.want {
				t.Errorf("Assemble() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAssemblePhoneKeepsNewestTime(t *testing.T) {
	t1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Minute)
	raw := []Summary{
		{CustomerID: 1, Network: Capillary, Type: SMS, Count: 1, Last: &t2},
		{CustomerID: 1, Network: Capillary, Type: Phone, Count: 1, Last: &t1},
	}
	for _, g := range Assemble(1, raw, Filter{Type: Phone}, nil) {
		for _, s := range g.Items {
			if s.Last == nil || !s.Last.Equal(t2) {
				t.Errorf("phone last = %v, want %v", s.Last, t2)
			}
		}
	}
}

// TestSlotsFitEveryNetworkAndType: Assemble's array has a place for each.
func TestSlotsFitEveryNetworkAndType(t *testing.T) {
	if len(Networks) != len4 || len(Types) != len17 {
		t.Fatalf("slots are %dx%d for %d networks and %d types", len4, len17, len(Networks), len(Types))
	}
}

// TestAssembleGroupsDoNotShareRoom: the groups' items are cut from one
// slice; appending to one group's items must not write into the next's.
func TestAssembleGroupsDoNotShareRoom(t *testing.T) {
	t1 := time.Date(2025, 4, 14, 14, 23, 20, 0, time.UTC)
	raw := []Summary{
		{CustomerID: 1, Network: Capillary, Type: Email, Count: 2, Last: &t1},
		{CustomerID: 1, Network: Twitter, Type: Tweet, Count: 1, Last: &t1},
	}
	gs := Assemble(1, raw, Filter{}, Layout{Email})
	before := render(gs)
	gs[0].Items = append(gs[0].Items, Item{Summary: Summary{Network: Capillary, Type: SMS, Count: 7}})
	if got := render(gs[1:]); got != "twitter[tweet:1]" {
		t.Errorf("after an append to %s: the next group is %s (was %s)", gs[0].Network, got, before)
	}
}

// BenchmarkAssemble is one customer's summaries assembled as the
// dashboard (a type filter) and REST v1.1 (none) ask for them: it runs
// once per customer of every answer.
func BenchmarkAssemble(b *testing.B) {
	at := time.Date(2025, 4, 14, 14, 23, 20, 0, time.UTC)
	var raw []Summary
	for i, t := range []Type{Email, SMS, WhatsApp, Viber, Line, MissedCallType, SurveyType} {
		raw = append(raw, Summary{CustomerID: 1, Network: Capillary, Type: t, Count: i + 1, Last: &at})
	}
	for _, bc := range []struct {
		name   string
		f      Filter
		layout Layout
	}{{"type filter", Filter{Type: Email}, LayoutV2}, {"no filter", Filter{}, LayoutV11}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Assemble(1, raw, bc.f, bc.layout)
			}
		})
	}
}
