// Package gqlguard bounds what a GraphQL document may cost before gqlgen
// parses, validates or costs it. gqlparser's validation and gqlgen's
// complexity walk expand fragments, so a small document whose fragments
// fan out (each spreading the next ten times) can take seconds there. The
// guard reads the document once with gqlparser's lexer, summarises every
// operation and fragment on its own, and combines the summaries through
// the spreads with each fragment computed once and counts saturating, so
// its cost is linear in the document whatever the document expands to.
//
// Limits, each with its own extensions.code when exceeded:
//
//	Tokens            TOKEN_LIMIT_EXCEEDED      lexical tokens in the document
//	Depth             DEPTH_LIMIT_EXCEEDED      nesting of selection sets, through fragments
//	Fields            FIELD_LIMIT_EXCEEDED      fields selected, with fragments expanded
//	Aliases           ALIAS_LIMIT_EXCEEDED      aliased fields, with fragments expanded
//	SelectionsPerSet  SELECTION_LIMIT_EXCEEDED  selections written in one selection set
//	Directives        DIRECTIVE_LIMIT_EXCEEDED  directives written in the document
//	RootFields        ROOT_FIELD_LIMIT_EXCEEDED fields at the root of an operation, with fragments expanded
//
// Inline fragments count as a level of depth. Documents the lexer rejects
// are passed through for gqlgen to report as parse errors.
package gqlguard

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
)

// Limits bound a document; a zero field means no limit on that measure.
type Limits struct {
	Tokens           int
	Depth            int
	Fields           int
	Aliases          int
	SelectionsPerSet int
	Directives       int
	RootFields       int
}

// DefaultLimits fit every query the product's clients send with a wide
// margin: the dashboard query is about 60 tokens, depth 6 and 20 fields;
// the introspection query GraphiQL sends is the deepest at 15.
var DefaultLimits = Limits{
	Tokens:           5000,
	Depth:            16,
	Fields:           1000,
	Aliases:          50,
	SelectionsPerSet: 100,
	Directives:       50,
	RootFields:       20,
}

// Error is a rejection naming the limit exceeded.
type Error struct {
	Code  string
	Limit int
	Got   int
	What  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("document exceeds the %s limit (%d > %d)", e.What, e.Got, e.Limit)
}

// summary is what one definition (operation or fragment) selects on its own,
// plus the fragments it spreads and where.
type summary struct {
	fragment   bool
	fields     int
	aliases    int
	depth      int // deepest selection set, 1 for the definition's own
	rootFields int // fields directly in the top selection set
	spreads    []spread
	// memoised expansion (fragments only)
	state                                int // 0 new, 1 visiting, 2 done
	xFields, xAliases, xDepth, xRootFlds int
}

type spread struct {
	name  string
	depth int // depth of the selection set the spread is in
}

// Check returns an *Error when query exceeds l, and nil otherwise (also for
// documents that do not lex: gqlgen reports those).
func Check(query string, l Limits) error {
	lex := lexer.New(&ast.Source{Input: query})
	defs := map[string]*summary{}
	var ops []*summary
	var cur *summary
	var sets []int // selections written in each open selection set
	tokens, directives, parens := 0, 0, 0
	var prev lexer.Token
	// afterSpread: a "..." was read and its fragment name or type
	// condition is due; aliased: an alias's colon was read, so the next
	// name is the field already counted.
	expectFragName, afterSpread, aliased := false, false, false
	for {
		tok, err := lex.ReadToken()
		if err != nil {
			return nil
		}
		if tok.Kind == lexer.EOF {
			break
		}
		if tok.Kind == lexer.Comment {
			continue
		}
		tokens++
		if l.Tokens > 0 && tokens > l.Tokens {
			return &Error{"TOKEN_LIMIT_EXCEEDED", l.Tokens, tokens, "token"}
		}
		depth := len(sets)
		switch tok.Kind {
		case lexer.At:
			directives++
			if l.Directives > 0 && directives > l.Directives {
				return &Error{"DIRECTIVE_LIMIT_EXCEEDED", l.Directives, directives, "directive"}
			}
		case lexer.ParenL:
			parens++
		case lexer.ParenR:
			parens = max(0, parens-1)
		case lexer.BraceL:
			if parens > 0 {
				break // an input object value
			}
			if depth == 0 {
				if cur == nil || (!cur.fragment && cur.depth > 0) {
					cur = &summary{} // an anonymous operation
					ops = append(ops, cur)
				}
			} else if afterSpread && depth > 0 {
				sets[len(sets)-1]++ // an inline fragment is a selection
			}
			sets = append(sets, 0)
			if cur != nil {
				cur.depth = max(cur.depth, len(sets))
			}
			afterSpread = false
		case lexer.BraceR:
			if parens > 0 {
				break
			}
			if len(sets) > 0 {
				sets = sets[:len(sets)-1]
			}
		case lexer.Spread:
			if parens == 0 && depth > 0 {
				afterSpread = true
			}
		case lexer.Name:
			switch {
			case depth == 0 && parens == 0:
				// definition keywords and names
				switch {
				case expectFragName:
					cur = &summary{fragment: true}
					defs[tok.Value] = cur
					expectFragName = false
				case tok.Value == "fragment" && prev.Kind != lexer.Name:
					expectFragName = true
				case tok.Value == "query" || tok.Value == "mutation" || tok.Value == "subscription":
					cur = &summary{}
					ops = append(ops, cur)
				}
			case parens > 0 || cur == nil:
				// argument names and values
			case afterSpread && depth > 0:
				afterSpread = false
				if tok.Value != "on" {
					sets[len(sets)-1]++
					cur.spreads = append(cur.spreads, spread{tok.Value, depth})
				} else {
					afterSpread = true // "... on Type {": the brace is the inline fragment
				}
			case prev.Kind == lexer.Name && prev.Value == "on":
				afterSpread = true // the type condition; its brace opens the inline fragment
			case aliased:
				aliased = false // the field name after an alias: already counted
			case depth == 0:
				// a stray name outside any selection set: a parse error
			default:
				// a field (or an alias, fixed up when the colon follows)
				sets[len(sets)-1]++
				if l.SelectionsPerSet > 0 && sets[len(sets)-1] > l.SelectionsPerSet {
					return &Error{"SELECTION_LIMIT_EXCEEDED", l.SelectionsPerSet, sets[len(sets)-1], "selections per set"}
				}
				cur.fields++
				if depth == 1 {
					cur.rootFields++
				}
			}
		case lexer.Colon:
			if parens == 0 && depth > 0 && cur != nil && prev.Kind == lexer.Name {
				cur.aliases++
				aliased = true
			}
		}
		prev = tok
	}
	return expand(defs, ops, l)
}

func expand(defs map[string]*summary, ops []*summary, l Limits) error {
	var visit func(s *summary)
	visit = func(s *summary) {
		if s.state != 0 {
			return // done, or a cycle (gqlparser rejects those)
		}
		s.state = 1
		s.xFields, s.xAliases, s.xDepth, s.xRootFlds = s.fields, s.aliases, s.depth, s.rootFields
		for _, sp := range s.spreads {
			f, ok := defs[sp.name]
			if !ok {
				continue
			}
			visit(f)
			if f.state != 2 {
				continue
			}
			s.xFields = sat(s.xFields + f.xFields)
			s.xAliases = sat(s.xAliases + f.xAliases)
			s.xDepth = max(s.xDepth, sp.depth-1+f.xDepth)
			if sp.depth == 1 {
				s.xRootFlds = sat(s.xRootFlds + f.xRootFlds)
			}
		}
		s.state = 2
	}
	for _, op := range ops {
		visit(op)
		checks := []struct {
			limit, got int
			code, what string
		}{
			{l.Depth, op.xDepth, "DEPTH_LIMIT_EXCEEDED", "depth"},
			{l.Fields, op.xFields, "FIELD_LIMIT_EXCEEDED", "field"},
			{l.Aliases, op.xAliases, "ALIAS_LIMIT_EXCEEDED", "alias"},
			{l.RootFields, op.xRootFlds, "ROOT_FIELD_LIMIT_EXCEEDED", "root field"},
		}
		for _, c := range checks {
			if c.limit > 0 && c.got > c.limit {
				return &Error{c.code, c.limit, c.got, c.what}
			}
		}
	}
	return nil
}

// sat keeps expanded counts from overflowing: anything past a billion is
// over every limit anyway.
func sat(n int) int { return min(n, 1_000_000_000) }

// Extension runs Check as a gqlgen operation-parameter mutator, which gqlgen
// calls before it parses the document. Add it after the APQ extension so a
// persisted query is checked too.
type Extension struct {
	Limits Limits
	// Passed, when set, reports whether query is a document the handler
	// has already parsed and validated (its query cache holds it): it
	// passed Check under the same limits to get there, so it is not
	// checked again. Check costs a few microseconds a request, and a
	// client asks the same few documents again and again.
	Passed func(ctx context.Context, query string) bool
}

var (
	_ graphql.HandlerExtension          = Extension{}
	_ graphql.OperationParameterMutator = Extension{}
)

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return "Guard" }

// Validate implements graphql.HandlerExtension.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (e Extension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if e.Passed != nil && e.Passed(ctx, p.Query) {
		return nil
	}
	err := Check(p.Query, e.Limits)
	if err == nil {
		return nil
	}
	ge := err.(*Error)
	return &gqlerror.Error{Message: ge.Error(), Extensions: map[string]any{"code": ge.Code, "limit": ge.Limit}}
}
