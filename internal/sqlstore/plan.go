package sqlstore

import (
	"cmp"
	"slices"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// PagePlan is how a store reads the partitions of an interaction.PageQuery,
// in three ways that one statement can combine:
//
//   - Whole: every row of these customers (within the query's network), for
//     customers most of whose rows are wanted anyway: one index seek each.
//   - Uniform: the partitions of one network and type, whole, for many
//     customers: one seek each, the network and type bound once.
//   - Cut: any other partition, read down to its page's last row, found by
//     a second seek: for partitions much longer than the page.
//
// The planner trades seeks against rows read with the partitions' counts.
type PagePlan struct {
	Whole   []int64
	Uniform Uniform
	Cut     []interaction.Partition
}

// Uniform is partitions of one network and type.
type Uniform struct {
	Customers []int64
	Network   interaction.Network
	Type      interaction.Type
}

// seekCost is what an index seek costs, in rows read: measured on SQLite,
// a seek costs about as much as reading four rows.
const seekCost = 4

// PlanPages plans q (its partitions must be sorted by customer, as
// interaction.Read sends them).
func PlanPages(q interaction.PageQuery) PagePlan {
	var plan PagePlan
	var rest []interaction.Partition
	for i := 0; i < len(q.Partitions); {
		c := q.Partitions[i].CustomerID
		j := i
		seek, scan := 0, seekCost
		for ; j < len(q.Partitions) && q.Partitions[j].CustomerID == c; j++ {
			p := q.Partitions[j]
			seek += seekCost + min(p.Count, q.Rows)
			if long(p, q.Rows) {
				seek += seekCost
			}
			scan += p.Count
		}
		if q.Complete && scan <= seek {
			plan.Whole = append(plan.Whole, c)
		} else {
			rest = append(rest, q.Partitions[i:j]...)
		}
		i = j
	}
	// The most common network and type among the short partitions left is
	// read the uniform way; the others are cut.
	type nt struct {
		n interaction.Network
		t interaction.Type
	}
	type count struct {
		nt
		n int
	}
	var freq []count // a handful of pairs: a slice beats a map here
	var best nt
	bestN := 0
	for _, p := range rest {
		if long(p, q.Rows) {
			continue
		}
		k := nt{p.Network, p.Type}
		i := slices.IndexFunc(freq, func(c count) bool { return c.nt == k })
		if i < 0 {
			i = len(freq)
			freq = append(freq, count{nt: k})
		}
		freq[i].n++
		if freq[i].n > bestN {
			best, bestN = k, freq[i].n
		}
	}
	plan.Uniform = Uniform{Network: best.n, Type: best.t}
	for _, p := range rest {
		if !long(p, q.Rows) && p.Network == best.n && p.Type == best.t {
			plan.Uniform.Customers = append(plan.Uniform.Customers, p.CustomerID)
		} else {
			plan.Cut = append(plan.Cut, p)
		}
	}
	return plan
}

// long reports whether a partition is worth cutting at its page's last row
// rather than reading whole: when it holds more than twice the page and a
// seek's worth of rows.
func long(p interaction.Partition, rows int) bool { return p.Count > 2*rows+seekCost }

// PartKey names a partition.
type PartKey struct {
	CustomerID int64
	Network    interaction.Network
	Type       interaction.Type
}

// CutPages turns the rows a plan read into the query's answer, in place:
// the first q.Rows of each requested partition. Rows of partitions not
// asked for (read with a whole customer) are dropped. Each partition's rows
// must arrive together and in q.Order (see ReverseRuns); q.Partitions must
// be sorted by customer, network and type, as interaction.Read sends them.
func CutPages[V any](q interaction.PageQuery, rows []V, key func(*V) PartKey) []V {
	out := rows[:0]
	var run PartKey
	n, wanted := 0, false
	for i := range rows {
		k := key(&rows[i])
		if i == 0 || k != run {
			run, n, wanted = k, 0, requested(q.Partitions, k)
		}
		if wanted && n < q.Rows {
			out = append(out, rows[i])
		}
		n++
	}
	return out
}

// requested reports whether k is among the sorted partitions.
func requested(ps []interaction.Partition, k PartKey) bool {
	_, found := slices.BinarySearchFunc(ps, k, func(p interaction.Partition, k PartKey) int {
		return cmp.Or(cmp.Compare(p.CustomerID, k.CustomerID), cmp.Compare(p.Network, k.Network), cmp.Compare(p.Type, k.Type))
	})
	return found
}

// SortPages orders messages by partition, in order o within each, for a
// store whose statement does not promise an order.
func SortPages(ms []interaction.Message, o interaction.Order) {
	slices.SortFunc(ms, func(a, b interaction.Message) int {
		return cmp.Or(cmp.Compare(a.CustomerID, b.CustomerID), cmp.Compare(a.Network, b.Network),
			cmp.Compare(a.Type, b.Type), o.Compare(a, b))
	})
}

// ReverseRuns reverses, in place, each run of consecutive rows with the
// same key. A store whose statement reads each partition in index order
// (newest first) and, for an oldest-first query, only the partition's
// oldest rows, turns them into oldest first this way: what it reads is
// bounded by the page either way, so the reversal costs no more than the
// rows themselves.
func ReverseRuns[V any, K comparable](vs []V, key func(*V) K) {
	for i := 0; i < len(vs); {
		k := key(&vs[i])
		j := i + 1
		for j < len(vs) && key(&vs[j]) == k {
			j++
		}
		slices.Reverse(vs[i:j])
		i = j
	}
}

// HeadOf keeps the first q.Rows in q.Order of each customer's run of rows:
// missed calls and surveys arrive as one run per customer, newest first,
// and are reversed first for an oldest-first query.
func HeadOf[V any](vs []V, q interaction.PageQuery, customer func(V) int64) []V {
	if q.Order == interaction.OldestFirst {
		ReverseRuns(vs, func(v *V) int64 { return customer(*v) })
	}
	n := q.Rows
	out := vs[:0]
	run, last := 0, int64(0)
	for i, v := range vs {
		c := customer(v)
		if i == 0 || c != last {
			run, last = 0, c
		}
		if run < n {
			out = append(out, v)
		}
		run++
	}
	return out
}

// PartitionCustomers is the customer of each of q's partitions, in their
// order: the stores read missed calls and surveys by customer.
func PartitionCustomers(q interaction.PageQuery) []int64 {
	ids := make([]int64, len(q.Partitions))
	for i, p := range q.Partitions {
		ids[i] = p.CustomerID
	}
	return ids
}

// ExpectedRows is how many rows a page query returns at most, going by its
// counts: a capacity to allocate up front.
func ExpectedRows(q interaction.PageQuery) int {
	n := 0
	for _, p := range q.Partitions {
		n += min(p.Count, q.Rows)
	}
	return min(n, 1<<16)
}
