package postgres

import (
	"fmt"
	"testing"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// TestSplitHeads: each call of a shared statement gets the customers its
// own identifiers name, as the statement matched them, with their
// summaries and heads in the statement's order, and nothing of the others'.
func TestSplitHeads(t *testing.T) {
	cs := []interaction.Customer{{ID: 7, Mobile: "91", Email: "a@x", ExternalID: "E7"}, {ID: 8, Mobile: "92"}, {ID: 9}}
	sums := []interaction.Summary{{CustomerID: 9, Count: 1}, {CustomerID: 7, Count: 2}, {CustomerID: 8, Count: 3}, {CustomerID: 7, Count: 4}}
	heads := []interaction.Message{{CustomerID: 7, ID: 1}, {CustomerID: 7, ID: 2}, {CustomerID: 8, ID: 3}, {CustomerID: 9, ID: 4}}
	render := func(a headsAnswer) string {
		s := ""
		for _, c := range a.customers {
			s += fmt.Sprintf("c%d ", c.ID)
		}
		for _, x := range a.summaries {
			s += fmt.Sprintf("s%d ", x.Count)
		}
		for _, m := range a.heads {
			s += fmt.Sprintf("m%d ", m.ID)
		}
		return s
	}
	for _, tc := range []struct {
		kind interaction.IdentifierKind
		ins  [][]string
		want []string
	}{
		{interaction.ByMobile, [][]string{{"91"}, {"92", "91"}, {""}, {"93"}, {"91", "91"}},
			[]string{"c7 s2 s4 m1 m2 ", "c7 c8 s2 s3 s4 m1 m2 m3 ", "", "", "c7 s2 s4 m1 m2 "}},
		{interaction.ByID, [][]string{{"9"}, {"007", "+8"}, {"x", "-9"}},
			[]string{"c9 s1 m4 ", "c7 c8 s2 s3 s4 m1 m2 m3 ", ""}},
		{interaction.ByEmail, [][]string{{"a@x"}, {""}}, []string{"c7 s2 s4 m1 m2 ", ""}},
		{interaction.ByExternalID, [][]string{{"E8"}, {"E7", ""}}, []string{"", "c7 s2 s4 m1 m2 "}},
	} {
		got := splitHeads(tc.kind, tc.ins, cs, sums, heads)
		for i := range tc.ins {
			if g := render(got[i]); g != tc.want[i] {
				t.Errorf("by %s %q: got %q, want %q", tc.kind, tc.ins[i], g, tc.want[i])
			}
		}
	}
}
