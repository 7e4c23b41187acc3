package interaction

import "testing"

// TestTypesOnNetworks: the pairs the vendor documents rule out, and the
// network a type is shown under when nothing is there.
func TestTypesOnNetworks(t *testing.T) {
	for _, tt := range []struct {
		typ  Type
		on   []Network // every network it may be on
		home Network
	}{
		{Tweet, []Network{Twitter}, Twitter},
		{Mention, []Network{Twitter}, Twitter},
		{Retweet, []Network{Twitter}, Twitter},
		{Like, []Network{Facebook}, Facebook},
		{Comment, []Network{Facebook}, Facebook},
		{Checkin, []Network{Foursquare, Facebook}, Foursquare},
		{Feedback, []Network{Capillary}, Capillary},
		{MissedCallType, []Network{Capillary}, Capillary},
		{SurveyType, []Network{Capillary}, Capillary},
		{Email, Networks, Capillary},
		{Viber, Networks, Capillary},
	} {
		for _, n := range Networks {
			want := false
			for _, o := range tt.on {
				want = want || o == n
			}
			if got := tt.typ.On(n); got != want {
				t.Errorf("%s.On(%s) = %v, want %v", tt.typ, n, got, want)
			}
		}
		if got := HomeNetwork(tt.typ); got != tt.home {
			t.Errorf("HomeNetwork(%s) = %s, want %s", tt.typ, got, tt.home)
		}
	}
}
