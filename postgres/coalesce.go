package postgres

import (
	"context"
	"strconv"

	"github.com/touchpoint/touchpoint/internal/coalesce"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// A question about one customer by identifier is one statement here (see
// CustomersWithHeads), and under load most of its cost is the statement's
// own, not its rows: the round trip and its wake-ups on both sides, the
// executor started for the plan, the transaction. Measured with pgbench on
// this 2-CPU machine, PostgreSQL spends 31 µs of CPU on `SELECT 1` and 75
// µs on the one-customer statement. Concurrent questions of the same
// shape therefore share statements: while one of a shape is under way,
// the ones that arrive wait and go together in the next, whose rows are
// split between them again (package coalesce). A caller that waits is
// answered by a statement that started after it arrived, so it never sees
// older data than a statement of its own would.
//
// One statement under way per shape, not one per CPU: the database is
// shared by every shape and every replica, and a statement that waits for
// the one before it gathers the calls that a second one would have split.
// Alternated at 32 connections on 2 CPUs beside the database
// (sidebyside.sh's data), against two under way: the one-customer
// question asked again and again went from 0.39 to 0.21 statements a
// request, PostgreSQL's CPU from 40-57 to 20-27 µs a request and the
// server's from 147-196 to 111-160, and 6,660-8,890 to 8,280-11,590 req/s
// (a median 1.08x slower than SQLite, against 1.39x); the dashboard
// question went from 2,650-3,060 to 3,310-3,420 req/s; over random
// customers, 5,330-6,120 against 5,090-6,050 (0.86-1.09 of before), as
// their statements grow with the customers they gather.
const headsInFlight = 1

// headsKey is what must be equal for two CustomersWithHeads calls to share
// a statement: everything but the identifiers.
type headsKey struct {
	org     interaction.OrgID
	kind    interaction.IdentifierKind
	network interaction.Network
	typ     interaction.Type
	rows    int
	order   interaction.Order
	fields  interaction.MessageFields
}

// headsAnswer is one call's share of a CustomersWithHeads statement.
type headsAnswer struct {
	customers []interaction.Customer
	summaries []interaction.Summary
	heads     []interaction.Message
}

func newHeadsGroup(db *DB) *coalesce.Group[headsKey, []string, headsAnswer] {
	return coalesce.New(db.headsBatch, headsInFlight, maxHeadsBatch)
}

// maxHeadsBatch bounds the calls that share one statement, and so its
// rows: each call names a customer or a few.
const maxHeadsBatch = 32

// headsBatch answers a batch of CustomersWithHeads calls with one
// statement over all their identifiers.
func (db *DB) headsBatch(ctx context.Context, k headsKey, ins [][]string) ([]headsAnswer, error) {
	f := interaction.Filter{Network: k.network, Type: k.typ}
	values := ins[0]
	if len(ins) > 1 {
		values = unionOf(ins)
	}
	cs, sums, heads, err := db.customersWithHeads(ctx, k.org, k.kind, values, f, k.rows, k.order, k.fields)
	if err != nil {
		return nil, err
	}
	if len(ins) == 1 {
		return []headsAnswer{{cs, sums, heads}}, nil
	}
	return splitHeads(k.kind, ins, cs, sums, heads), nil
}

// unionOf returns the distinct values of ins, in order.
func unionOf(ins [][]string) []string {
	seen := make(map[string]struct{})
	var all []string
	for _, in := range ins {
		for _, v := range in {
			if _, ok := seen[v]; !ok {
				seen[v] = struct{}{}
				all = append(all, v)
			}
		}
	}
	return all
}

// splitHeads hands each call the customers its own identifiers name, as
// the statement matched them (see lookupKey), and their summaries and
// heads in the statement's order.
func splitHeads(kind interaction.IdentifierKind, ins [][]string, cs []interaction.Customer, sums []interaction.Summary, heads []interaction.Message) []headsAnswer {
	named := make(map[string][]int, len(ins)) // identifier -> calls naming it
	for i, in := range ins {
		for _, v := range in {
			v, ok := lookupKey(kind, v)
			if calls := named[v]; ok && (len(calls) == 0 || calls[len(calls)-1] != i) {
				named[v] = append(calls, i)
			}
		}
	}
	out := make([]headsAnswer, len(ins))
	askedBy := make(map[int64][]int, len(cs)) // customer -> calls naming it
	for _, c := range cs {
		for _, i := range named[c.Identifier(kind)] {
			if calls := askedBy[c.ID]; len(calls) == 0 || calls[len(calls)-1] != i {
				askedBy[c.ID] = append(calls, i)
				out[i].customers = append(out[i].customers, c)
			}
		}
	}
	for _, s := range sums {
		for _, i := range askedBy[s.CustomerID] {
			out[i].summaries = append(out[i].summaries, s)
		}
	}
	for _, m := range heads {
		for _, i := range askedBy[m.CustomerID] {
			out[i].heads = append(out[i].heads, m)
		}
	}
	return out
}

// lookupKey is the key a caller's identifier v matches a customer by (its
// Customer.Identifier), as the statement compares them: ids as the
// integers they parse to, text exactly, and never an empty or invalid text
// (the statement leaves those out). ok is false for a value that names no
// one.
func lookupKey(kind interaction.IdentifierKind, v string) (key string, ok bool) {
	if kind == interaction.ByID {
		n, err := strconv.ParseInt(v, 10, 64)
		return strconv.FormatInt(n, 10), err == nil
	}
	return v, v != "" && validText(v)
}
