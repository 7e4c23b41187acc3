package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

// customersWithCounts are customersBy joined to each customer's kept
// counts (countsOf's rows), all of them or, typed, those of one or two
// stored types (see typedCounts; customersWithCountsOfTypes[n-1] for n
// of them): a customer without counts comes once, with the counts'
// columns NULL.
var (
	customersWithCounts        = joinCounts("")
	customersWithCountsOfTypes = [2]map[interaction.IdentifierKind]string{joinCounts(typedCounts[0]), joinCounts(typedCounts[1])}
)

func joinCounts(typed string) map[interaction.IdentifierKind]string {
	out := make(map[interaction.IdentifierKind]string, len(customersBy))
	for kind, q := range customersBy {
		out[kind] = `SELECT c.id, c.mobile, c.email, c.external_id, s.network, s.type, s.n, s.last_at, s.used FROM (` + q + `) AS c
	LEFT JOIN interaction_counts AS s ON s.org_id = ?1 AND s.customer_id = c.id` + typed
	}
	return out
}

// CustomersWithSummaries is CustomersByIdentifier and Summaries for the
// customers found, in one statement (see interaction.SummaryFinder): for
// a question about one customer, the statement saved is about a tenth of
// its work.
func (db *DB) CustomersWithSummaries(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string, f interaction.Filter) ([]interaction.Customer, []interaction.Summary, error) {
	if f.Span() != (interaction.Span{}) || f.Narrowed() {
		return nil, nil, fmt.Errorf("sqlite: customers with summaries need the kept counts, got %+v", f)
	}
	queries := customersWithCounts
	var stored []interaction.Type // read only with a type filter, as Summaries does
	if f.Type != "" {
		stored = f.Type.StoredTypes()
		queries = customersWithCountsOfTypes[len(stored)-1]
	}
	query, ok := queries[kind]
	if !ok {
		return nil, nil, interaction.Errorf(interaction.KindInvalid, "invalid identifier name %q", kind)
	}
	list, ok, err := identifierList(kind, values)
	if err != nil || !ok {
		return nil, nil, err
	}
	var (
		cs   = make([]interaction.Customer, 0, len(values))
		sums = make([]interaction.Summary, 0, len(values)*8)
	)
	err = db.reads.query(ctx, query, func(st *sqlite3.Stmt) error {
		err := bindAll(bindKey(st, 1, int64(org)), st.BindText(2, list))
		if f.Type != "" {
			err = bindAll(err, bindTypes(st, stored))
		}
		return err
	}, func(_ *readConn, st *sqlite3.Stmt) error {
		// The plan reads each customer's counts right after it; the
		// customers are still told apart by id, as the plan is SQLite's.
		id := st.ColumnInt64(0)
		if k := len(cs) - 1; (k < 0 || cs[k].ID != id) && !slices.ContainsFunc(cs, func(c interaction.Customer) bool { return c.ID == id }) {
			cs = append(cs, interaction.Customer{ID: id, OrgID: org, Mobile: st.ColumnText(1), Email: st.ColumnText(2), ExternalID: st.ColumnText(3)})
		}
		if st.ColumnType(4) == sqlite3.NULL {
			return nil // no counts
		}
		n, t := sqlstore.NetworkOf(st.ColumnRawText(4)), sqlstore.TypeOf(st.ColumnRawText(5))
		if (f.Network != "" && n != f.Network) || (f.Type != "" && !slices.Contains(stored, t)) {
			return nil
		}
		last := fromMillis(st.ColumnInt64(7))
		sums = append(sums, interaction.Summary{CustomerID: id, Network: n, Type: t, Count: st.ColumnInt(6), Last: &last, Used: st.ColumnBool(8)})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: customers by %s with summaries: %w", kind, err)
	}
	return cs, sums, nil
}

// identifierList is values as the JSON array customersBy's statements
// take for kind, each once (the statements join on it, row for row): ids
// as numbers (a value that is not one cannot match), the other
// identifiers as strings; !ok when nothing can match.
func identifierList(kind interaction.IdentifierKind, values []string) (string, bool, error) {
	if len(values) == 0 {
		return "", false, nil
	}
	if kind == interaction.ByID {
		ids := make([]int64, 0, len(values))
		for _, v := range values {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				ids = append(ids, n)
			}
		}
		if len(ids) > 1 {
			slices.Sort(ids)
			ids = slices.Compact(ids)
		}
		return jsonInts(ids), len(ids) > 0, nil
	}
	if len(values) > 1 {
		values = slices.Compact(slices.Sorted(slices.Values(values)))
	}
	b, err := json.Marshal(values)
	if err != nil {
		return "", false, fmt.Errorf("sqlite: customers by %s: %w", kind, err)
	}
	return string(b), true, nil
}
