package interaction

import (
	"strconv"
	"strings"
	"time"
)

// Paging bounds shared by every transport.
const (
	DefaultLimit = 50
	// MaxLimit caps one page of messages, surveys or missed calls. It keeps a
	// single request's work bounded; callers page with offset beyond it.
	MaxLimit = 500
	// MaxOffset keeps deep paging from scanning unbounded index ranges.
	MaxOffset = 100_000
)

// Filter narrows which interactions are summarised or listed. The zero value
// of each field means "no constraint". Filter is comparable so that it can be
// part of a dataloader key; times are normalised to UTC by NewFilter.
type Filter struct {
	Network Network   // "" for every network
	Type    Type      // "" for every type
	Since   time.Time // zero for no lower bound; inclusive
	Until   time.Time // zero for no upper bound; inclusive
	// Statuses and Campaigns, when set, keep only the messages with one
	// of these delivery statuses and of one of these campaigns. Missed
	// calls and surveys have neither, so a filter with either keeps none
	// of them.
	Statuses  List
	Campaigns List
}

// Page selects a window of a list in Order.
type Page struct {
	Limit  int
	Offset int
	Order  Order
}

// Order is the order a page's lists are in, and so which end offset and
// limit count from.
type Order uint8

// The orders: GraphQL documents newest first (its zero value); the REST
// shims list oldest first, as every vendor sample with an order does.
const (
	NewestFirst Order = iota
	OldestFirst
)

// NewFilter validates and normalises filter arguments. Pointers are nil
// when the caller did not give the argument.
func NewFilter(network *Network, typ *Type, since, until *time.Time) (Filter, error) {
	var f Filter
	if network != nil {
		if !network.Valid() {
			return Filter{}, Errorf(KindInvalid, "invalid network %q", string(*network))
		}
		f.Network = *network
	}
	if typ != nil {
		if !typ.Valid() {
			return Filter{}, Errorf(KindInvalid, "invalid type %q", string(*typ))
		}
		f.Type = *typ
	}
	span, ok := spanOf(since, until)
	if !ok {
		return Filter{}, Errorf(KindInvalid, "end date is before start date")
	}
	f.Since, f.Until = span.Since, span.Until
	return f, nil
}

// NewPage validates paging arguments; nil means the default.
func NewPage(limit, offset *int) (Page, error) {
	p := Page{Limit: DefaultLimit}
	if limit != nil {
		if *limit < 0 || *limit > MaxLimit {
			return Page{}, Errorf(KindInvalid, "limit must be between 0 and %d", MaxLimit)
		}
		p.Limit = *limit
	}
	if offset != nil {
		if *offset < 0 || *offset > MaxOffset {
			return Page{}, Errorf(KindInvalid, "offset must be between 0 and %d", MaxOffset)
		}
		p.Offset = *offset
	}
	return p, nil
}

// WithMessages returns f that also keeps only messages of the given
// statuses and campaigns (nil: no constraint).
func (f Filter) WithMessages(statuses []string, campaigns []int64) Filter {
	f.Statuses, f.Campaigns = StringList(statuses), IntList(campaigns)
	return f
}

// Narrowed reports whether f keeps only some messages by status or
// campaign: the kept counts per network and type then do not answer it.
func (f Filter) Narrowed() bool { return f.Statuses != "" || f.Campaigns != "" }

// Span returns f's time bounds.
func (f Filter) Span() Span { return Span{Since: f.Since, Until: f.Until} }

// Wants reports whether f lets through interactions of network n and
// (API) type t.
func (f Filter) Wants(n Network, t Type) bool {
	return (f.Network == "" || f.Network == n) && (f.Type == "" || f.Type == t)
}

// WantsAll reports whether Wants is true for every network and type.
func (f Filter) WantsAll() bool { return f.Network == "" && f.Type == "" }

// Normalize returns id in the form the store keeps: surrounding space
// trimmed, e-mail addresses lower-cased, numeric ids in canonical decimal.
// It fails for an unknown kind, an empty value or a non-numeric id.
func (id Identifier) Normalize() (Identifier, error) {
	if !id.Kind.Valid() {
		return Identifier{}, Errorf(KindInvalid, "invalid identifier name %q", string(id.Kind))
	}
	v := strings.TrimSpace(id.Value)
	if v == "" {
		return Identifier{}, Errorf(KindInvalid, "identifier value for %s is empty", id.Kind)
	}
	switch id.Kind {
	case ByEmail:
		v = NormalizeEmail(v)
	case ByMobile:
		v = NormalizeMobile(v)
	case ByID:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return Identifier{}, Errorf(KindInvalid, "customer id %q is not a positive integer", v)
		}
		v = strconv.FormatInt(n, 10)
	}
	return Identifier{Kind: id.Kind, Value: v}, nil
}

// NormalizeEmail lower-cases an email. A space inside it can only be a
// "+" that a client put in a query string unescaped (which decodes as a
// space): emails hold no spaces, so it is turned back.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "+"))
}

// NormalizeMobile drops the formatting people and phones put in numbers
// (spaces, dashes, dots, brackets and a leading "+"), so "+91 99882-21100"
// finds the customer stored as 919988221100.
func NormalizeMobile(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, s)
}

// Identifier returns c's identifier of kind k in normalised form ("" when
// not set).
func (c Customer) Identifier(k IdentifierKind) string {
	switch k {
	case ByID:
		return strconv.FormatInt(c.ID, 10)
	case ByMobile:
		return c.Mobile
	case ByEmail:
		return c.Email
	case ByExternalID:
		return c.ExternalID
	}
	return ""
}
