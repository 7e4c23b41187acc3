package interaction

import (
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestNewFilter(t *testing.T) {
	day := time.Date(2025, 1, 2, 0, 0, 0, 0, time.FixedZone("IST", 19800))
	tests := []struct {
		name     string
		network  *Network
		typ      *Type
		since    *time.Time
		until    *time.Time
		wantKind Kind
		ok       bool
	}{
		{name: "empty", ok: true},
		{name: "valid", network: ptr(Capillary), typ: ptr(Email), since: &day, until: ptr(day.Add(time.Hour)), ok: true},
		{name: "unknown network", network: ptr(Network("myspace")), wantKind: KindInvalid},
		{name: "unknown type", typ: ptr(Type("fax")), wantKind: KindInvalid},
		{name: "until before since", since: ptr(day.Add(time.Hour)), until: &day, wantKind: KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFilter(tt.network, tt.typ, tt.since, tt.until)
			if tt.ok {
				if err != nil {
					t.Fatalf("NewFilter() error = %v", err)
				}
				if tt.since != nil && f.Since.Location() != time.UTC {
					t.Errorf("since not normalised to UTC: %v", f.Since)
				}
				return
			}
			if got := KindOf(err); got != tt.wantKind {
				t.Errorf("NewFilter() error kind = %v (%v), want %v", got, err, tt.wantKind)
			}
		})
	}
}

func TestFilterIsComparableAfterNormalising(t *testing.T) {
	// Loader keys rely on == between filters built from equal instants in
	// different zones.
	a := time.Date(2025, 1, 2, 5, 30, 0, 0, time.FixedZone("IST", 19800))
	b := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	fa, _ := NewFilter(nil, nil, &a, nil)
	fb, _ := NewFilter(nil, nil, &b, nil)
	if fa != fb {
		t.Errorf("filters for the same instant differ: %+v != %+v", fa, fb)
	}
}

func TestNewPage(t *testing.T) {
	tests := []struct {
		limit, offset *int
		want          Page
		ok            bool
	}{
		{nil, nil, Page{Limit: DefaultLimit}, true},
		{ptr(0), ptr(0), Page{}, true},
		{ptr(MaxLimit), ptr(MaxOffset), Page{Limit: MaxLimit, Offset: MaxOffset}, true},
		{ptr(-1), nil, Page{}, false},
		{ptr(MaxLimit + 1), nil, Page{}, false},
		{nil, ptr(-1), Page{}, false},
		{nil, ptr(MaxOffset + 1), Page{}, false},
	}
	for _, tt := range tests {
		got, err := NewPage(tt.limit, tt.offset)
		if (err == nil) != tt.ok {
			t.Errorf("NewPage(%v, %v) error = %v, want ok %v", tt.limit, tt.offset, err, tt.ok)
			continue
		}
		if err != nil && KindOf(err) != KindInvalid {
			t.Errorf("NewPage error kind = %v, want invalid", KindOf(err))
		}
		if got != tt.want {
			t.Errorf("NewPage() = %+v, want %+v", got, tt.want)
		}
	}
}

func TestIdentifierNormalize(t *testing.T) {
	tests := []struct {
		in   Identifier
		want Identifier
		ok   bool
	}{
		{Identifier{ByEmail, "  Tom.Sawyer@Example.COM "}, Identifier{ByEmail, "tom.sawyer@example.com"}, true},
		{Identifier{ByMobile, "919988221100"}, Identifier{ByMobile, "919988221100"}, true},
		{Identifier{ByID, "007"}, Identifier{ByID, "7"}, true},
		{Identifier{ByExternalID, "Ext-1"}, Identifier{ByExternalID, "Ext-1"}, true},
		{Identifier{ByID, "abc"}, Identifier{}, false},
		{Identifier{ByID, "-4"}, Identifier{}, false},
		{Identifier{ByID, "99999999999999999999"}, Identifier{}, false},
		{Identifier{ByMobile, "   "}, Identifier{}, false},
		{Identifier{"phone_number", "1"}, Identifier{}, false},
	}
	for _, tt := range tests {
		got, err := tt.in.Normalize()
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%+v.Normalize() = %+v, %v; want %+v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && KindOf(err) != KindInvalid {
			t.Errorf("%+v.Normalize() error kind = %v, want invalid", tt.in, KindOf(err))
		}
	}
}

func TestCustomerIdentifier(t *testing.T) {
	c := Customer{ID: 7, Mobile: "91", Email: "a@b.c", ExternalID: "x"}
	for kind, want := range map[IdentifierKind]string{ByID: "7", ByMobile: "91", ByEmail: "a@b.c", ByExternalID: "x", "bogus": ""} {
		if got := c.Identifier(kind); got != want {
			t.Errorf("Identifier(%s) = %q, want %q", kind, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	inner := Errorf(KindNotFound, "no customer")
	wrapped := &Error{Kind: KindInternal, Message: "", Err: inner}
	if KindOf(wrapped) != KindInternal {
		t.Errorf("outermost kind should win, got %v", KindOf(wrapped))
	}
	if got := MessageOf(wrapped); got != "internal error" {
		t.Errorf("internal errors must not leak detail, got %q", got)
	}
	if got := MessageOf(inner); got != "no customer" {
		t.Errorf("MessageOf = %q", got)
	}
	if KindOf(nil) != KindInternal || KindOf(errPlain{}) != KindInternal {
		t.Error("unclassified errors are internal")
	}
}

type errPlain struct{}

func (errPlain) Error() string { return "plain" }

func TestNormalizeIdentifiers(t *testing.T) {
	tests := []struct {
		in   Identifier
		want string
	}{
		{Identifier{ByMobile, "+91 99882-21100"}, "919988221100"},
		{Identifier{ByMobile, " (91) 9988.221100 "}, "919988221100"},
		{Identifier{ByEmail, "Tom Sawyer@Example.com"}, "tom+sawyer@example.com"},
		{Identifier{ByEmail, " A@B.C "}, "a@b.c"},
		{Identifier{ByExternalID, " EXT-1 "}, "EXT-1"},
	}
	for _, tt := range tests {
		got, err := tt.in.Normalize()
		if err != nil || got.Value != tt.want {
			t.Errorf("Normalize(%+v) = %q, %v; want %q", tt.in, got.Value, err, tt.want)
		}
	}
}

// TestWantsAll holds WantsAll to Wants: true exactly when every network
// and type gets through (Assemble skips the filter's walk on it).
func TestWantsAll(t *testing.T) {
	for _, f := range []Filter{{}, {Network: Capillary}, {Type: Email}, {Network: Facebook, Type: Like}, {Statuses: "sent"}} {
		all := true
		for _, n := range Networks {
			for _, typ := range Types {
				all = all && f.Wants(n, typ)
			}
		}
		if got := f.WantsAll(); got != all {
			t.Errorf("%+v: WantsAll() = %v, Wants of every network and type = %v", f, got, all)
		}
	}
}
