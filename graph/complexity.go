package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// DefaultComplexityLimit bounds what one operation may cost. The dashboard
// case (100 customers, every group's counts and a 20-message page of a
// dozen fields) costs about 100 × 12 × (17 + 20) ≈ 44,000; the limit leaves
// room for several times that and rejects 100 customers at page size 500,
// which would return up to 600,000 rows.
const DefaultComplexityLimit = 200_000

// groupsPerCustomer is the number of interaction groups a customer may
// show, for costing: the capillary layout plus a few social groups.
const groupsPerCustomer = 12

// setComplexity makes list fields cost their length: customers by the
// number of values; interactions by the groups it may return, each costing
// its selection plus its page size (the rows a message, missed-call or
// survey page can return).
func setComplexity(c *ComplexityRoot) {
	c.Query.Customers = func(child int, _ interaction.IdentifierKind, values []string) int {
		return 1 + child*max(1, len(values))
	}
	c.Customer.Interactions = func(child int, _ *interaction.Network, _ *interaction.Type, limit, _ *int, _, _ *time.Time, _ []string, _ []int64) int {
		page := interaction.DefaultLimit
		if limit != nil {
			page = max(1, *limit)
		}
		return 1 + groupsPerCustomer*(child+page)
	}
	// A timeline page costs its selection once per edge it may return.
	c.Customer.Timeline = func(child int, first *int, _ *string, last *int, _ *string, _ []interaction.Network, _ []interaction.Type, _ []string, _ []int64, _, _ *time.Time) int {
		page := 20
		switch {
		case last != nil:
			page = *last
		case first != nil:
			page = *first
		}
		return 1 + max(1, page)*child
	}
}

// costDrivers names, for each field with a cost function above, the
// argument that multiplies its cost: what a client should cut when an
// operation is over the limit.
var costDrivers = map[string]string{
	"Query.customers":       "values",
	"Customer.interactions": "limit",
	"Customer.timeline":     "first",
}

// complexityLimit is gqlgen's FixedComplexityLimit (the same costs, from
// gqlgen's own walk, under the same extension name, so the access log
// still finds the stats) with an error that names the largest contributors:
// the fields with a cost function, each with the argument that drives its
// cost, in extensions.contributors and in the message.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
	costs costCache
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = &complexityLimit{}

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	key, keyed := costKeyOf(oc, op)
	if keyed {
		if total, ok := c.costs.get(key); ok {
			oc.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: total, ComplexityLimit: c.limit})
			return nil
		}
	}
	rec := &costRecorder{ExecutableSchema: c.es}
	total := complexity.Calculate(ctx, rec, op, oc.Variables)
	oc.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: total, ComplexityLimit: c.limit})
	if total <= c.limit {
		if keyed {
			c.costs.put(key, total)
		}
		return nil
	}
	top := rec.largest(3)
	var parts []string
	var list []map[string]any
	for _, f := range top {
		parts = append(parts, f.String())
		list = append(list, map[string]any{"field": f.field, "cost": f.cost, "argument": f.arg, "value": f.value})
	}
	msg := fmt.Sprintf("operation has complexity %d, which exceeds the limit of %d", total, c.limit)
	if len(parts) > 0 {
		msg += "; the largest costs: " + strings.Join(parts, ", ") + ". Ask for fewer values, a lower limit or fewer fields"
	}
	err := gqlerror.Errorf("%s", msg)
	err.Extensions = map[string]any{"code": CodeComplexity, "complexity": total, "limit": c.limit, "contributors": list}
	return err
}

// costRecorder notes every cost the walk asks the schema for.
type costRecorder struct {
	graphql.ExecutableSchema
	costs map[string]*fieldCost
}

// fieldCost is the dearest selection of one field in the operation.
type fieldCost struct {
	field string // Type.field
	cost  int    // the cost of one selection of it, its children included
	arg   string // the argument that drives it
	value int    // its value: the number of values, or the page size
	times int    // how many selections of the field the walk costed
}

func (f fieldCost) String() string {
	name := f.field[strings.IndexByte(f.field, '.')+1:]
	each := ""
	if f.times > 1 {
		each = " each"
	}
	if f.arg == "values" {
		return fmt.Sprintf("%s with %d values (%d%s)", name, f.value, f.cost, each)
	}
	return fmt.Sprintf("%s with %s %d (%d%s)", name, f.arg, f.value, f.cost, each)
}

func (r *costRecorder) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	cost, ok := r.ExecutableSchema.Complexity(ctx, typeName, field, child, args)
	name := typeName + "." + field
	arg, driven := costDrivers[name]
	if !ok || !driven {
		return cost, ok
	}
	if r.costs == nil {
		r.costs = map[string]*fieldCost{}
	}
	f := r.costs[name]
	if f == nil {
		f = &fieldCost{field: name, arg: arg}
		r.costs[name] = f
	}
	f.times++
	if cost > f.cost {
		f.cost, f.value = cost, driverValue(arg, args[arg])
	}
	return cost, ok
}

// driverValue is what a cost driver counts: the length of a list, the
// value of a page size (the default when absent).
func driverValue(arg string, v any) int {
	switch v := v.(type) {
	case []any:
		return len(v)
	case int:
		return v
	case int64:
		return int(v)
	case nil:
		switch arg {
		case "limit":
			return interaction.DefaultLimit
		case "first":
			return 20
		}
	}
	return 0
}

// largest returns the n dearest fields, dearest first.
func (r *costRecorder) largest(n int) []fieldCost {
	var out []fieldCost
	for _, f := range r.costs {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b fieldCost) int { return cmp.Or(cmp.Compare(b.cost, a.cost), cmp.Compare(a.field, b.field)) })
	return out[:min(n, len(out))]
}

// costKey names one operation's cost: the parsed document (the query
// cache hands the same one out for the same text, so the pointer stands
// for the text), the operation and what of its variables' values a cost
// can depend on (costVars), when it declares any.
type costKey struct {
	doc  *ast.QueryDocument
	op   string
	vars string
}

func costKeyOf(oc *graphql.OperationContext, op *ast.OperationDefinition) (costKey, bool) {
	if op == nil {
		return costKey{}, false
	}
	k := costKey{doc: oc.Doc, op: oc.OperationName}
	if len(op.VariableDefinitions) > 0 {
		k.vars = string(appendCostVars(nil, oc.Variables))
	}
	return k, true
}

// appendCostVars writes what of a variables' value an operation's cost
// can depend on: numbers (page sizes), booleans, nulls and the lengths of
// lists (customers' values), with every string
// written as the same "s". Costs read no string's content (see
// setComplexity), and one-customer questions differ only in a string
// variable (the mobile asked for), so their cost is walked once, not once
// per customer. Objects are written with their keys sorted, so that one
// set of values has one text.
func appendCostVars(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return append(b, `"s"`...)
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, k)
			b = append(b, ':')
			b = appendCostVars(b, v[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCostVars(b, e)
		}
		return append(b, ']')
	default:
		j, err := json.Marshal(v) // numbers (json.Number, int64, float64), booleans, null
		if err != nil {
			return fmt.Appendf(b, "%T:%v", v, v)
		}
		return append(b, j...)
	}
}

// costCache keeps the costs of operations within the limit, so a question
// asked again is not walked again: the walk was a tenth of a one-customer
// request's CPU. Over the limit nothing is kept (the error names its
// contributors, from a walk). When full it starts again: the documents it
// holds are those the query cache holds, a bounded set.
type costCache struct {
	mu    sync.Mutex
	costs map[costKey]int
}

// maxCachedCosts bounds a costCache.
const maxCachedCosts = 4096

func (c *costCache) get(k costKey) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.costs[k]
	return n, ok
}

func (c *costCache) put(k costKey, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.costs == nil || len(c.costs) >= maxCachedCosts {
		c.costs = make(map[costKey]int)
	}
	c.costs[k] = n
}
