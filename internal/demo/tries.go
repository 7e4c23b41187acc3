package demo

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/touchpoint/touchpoint/internal/importer"
)

// Try is a customer worth looking up for one network and type: one of
// those with the most interactions of it in the data set.
type Try struct {
	Network, Type string
	CustomerID    int64
	Mobile, Email string
	Count         int
}

// Tries returns up to perGroup customers for every network and type the
// data set has (missed calls and surveys as the capillary types
// missed_call and survey), those with the most of it first. The data set is
// deterministic, so the list is too: the README shows it.
func Tries(o Options, perGroup int) []Try {
	type group struct{ network, typ string }
	customers := map[int64]importer.Line{}
	counts := map[group]map[int64]int{}
	add := func(g group, id int64) {
		if counts[g] == nil {
			counts[g] = map[int64]int{}
		}
		counts[g][id]++
	}
	generate(o, func(r importer.Line) error {
		switch r.Record {
		case "customer":
			customers[*r.ID] = r
		case "message":
			add(group{r.Network, r.Type}, *r.CustomerID)
		case "missed_call":
			add(group{"capillary", "missed_call"}, *r.CustomerID)
		case "survey":
			add(group{"capillary", "survey"}, *r.CustomerID)
		}
		return nil
	})
	var out []Try
	for g, byCustomer := range counts {
		var ts []Try
		for id, n := range byCustomer {
			c := customers[id]
			ts = append(ts, Try{Network: g.network, Type: g.typ, CustomerID: id, Mobile: c.Mobile, Email: c.Email, Count: n})
		}
		slices.SortFunc(ts, func(a, b Try) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.CustomerID, b.CustomerID))
		})
		out = append(out, ts[:min(perGroup, len(ts))]...)
	}
	slices.SortFunc(out, func(a, b Try) int {
		return cmp.Or(cmp.Compare(a.Network, b.Network), cmp.Compare(a.Type, b.Type),
			cmp.Compare(b.Count, a.Count), cmp.Compare(a.CustomerID, b.CustomerID))
	})
	return out
}

// WriteTries writes Tries as a table.
func WriteTries(w io.Writer, o Options, perGroup int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NETWORK\tTYPE\tCUSTOMER\tMOBILE\tEMAIL\tCOUNT")
	for _, t := range Tries(o, perGroup) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\n", t.Network, t.Type, t.CustomerID, t.Mobile, orDash(t.Email), t.Count)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
