// Package rest serves the vendor's two REST endpoints, payload for payload,
// so existing integrations can point at Touchpoint and notice nothing:
//
//	GET /v1.1/customer/interaction   (JSON or XML, the "response" envelope)
//	GET /v2/customers/interaction    (JSON, {name, interaction, warnings})
//
// Both read through the same per-request loaders and store as the GraphQL
// resolvers, so the three can never disagree.
//
// # Decisions where the vendor documents are silent or contradict themselves
//
//   - Messages are paged newest first (sent time, then id), as in GraphQL;
//     the samples list them in no consistent order.
//   - v1.1 last_interaction_time is "null" for message types, as in every
//     sample (even the email group with two messages); for missed_call and
//     survey it is the newest one's time as "DD-MM-YYYY HH:mm:ss" (the
//     response table's format), or "null" when there is none.
//   - v1.1 interaction order is the one in the v2 document's v1.1 sample
//     (survey, missed_call, whatsapp, zalo, line, phone, sms, email); the
//     v1.1 document's own sample uses another.
//   - phone is the customer's sms messages plus any recorded as phone: the
//     v2 sample lists the same four messages under both.
//   - Times are stored in UTC and rendered in the organisation's time zone,
//     except v2 deliveredTime, which the vendor documents with a Z (UTC).
//   - start_date and end_date (v1.1) accept YYYY-MM-DD, "YYYY-MM-DD
//     HH:mm:ss" (both in the organisation's time zone; a bare end date
//     includes its whole day) and RFC 3339.
//   - v1.1 takes the first identifier present in the order mobile, email,
//     external_id, id, or identifierName/identifierValue.
//   - A campaign id or user id that is not set is -1 ("-1" in v1.1).
//
// # Statuses
//
//	case                                  HTTP  v1.1 status / item code         v2 errors[].code
//	success                               200   200 / 1000                      -
//	customer not found                    404   500 / 1012                      1012
//	no identifier given                   400   400 / 1011                      1011
//	invalid parameter (network, type,     400   400 / 1013 with the reason      1013 with the reason
//	  limit, offset, dates, format,
//	  identifierName)
//	missing or bad credentials            401   401                             401
//	key lacks a scope                     403   403                             403
//	over the rate limit                   429   429                             429
//	request body too large                413   413                             413
//	internal error                        500   500 "internal error"            500
//
// Error bodies are always the endpoint's own envelope (never HTML, never a
// Go error string); internal errors are logged with the request id.
package rest

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
	"github.com/touchpoint/touchpoint/internal/otp"
)

// Options configure the handlers.
type Options struct {
	// Logger receives internal errors; nil logs nowhere.
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Item codes of the vendor's envelopes.
const (
	codeRetrieved       = 1000
	codeNoIdentifier    = 1011
	codeNotFound        = 1012
	codeInvalid         = 1013
	msgNotFound         = "Cannot find customer for provided mobile/external-id/e-mail/id"
	msgInvalidInput     = "Input is invalid"
	msgAllFailed        = "All requests have failed due to errors"
	msgRetrieved        = "Customer successfully retrieved"
	msgNoIdentifierText = "Customer identifier is required: one of mobile, email, external_id or id"
)

// errNoIdentifier is an invalid-input error with its own item code.
var errNoIdentifier = interaction.Errorf(interaction.KindInvalid, msgNoIdentifierText)

// request is a parsed query string, the same for both versions.
type request struct {
	id     interaction.Identifier
	filter interaction.Filter
	page   interaction.Page
}

func intParam(q url.Values, name string, dst **int) error {
	v := q.Get(name)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return interaction.Errorf(interaction.KindInvalid, "%s must be an integer, got %q", name, v)
	}
	*dst = &n
	return nil
}

// filters parses network, type, limit and offset (and v1.1's dates).
func filters(q url.Values, loc *time.Location, defaultNetwork interaction.Network, dates bool) (interaction.Filter, interaction.Page, error) {
	var network *interaction.Network
	var typ *interaction.Type
	if v := q.Get("network"); v != "" {
		n := interaction.Network(strings.ToLower(strings.TrimSpace(v)))
		network = &n
	} else if defaultNetwork != "" {
		network = &defaultNetwork
	}
	if v := q.Get("type"); v != "" {
		t := interaction.Type(strings.ToLower(strings.TrimSpace(v)))
		typ = &t
	}
	var since, until *time.Time
	if dates {
		var err error
		if since, err = dateParam(q, "start_date", loc, false); err != nil {
			return interaction.Filter{}, interaction.Page{}, err
		}
		if until, err = dateParam(q, "end_date", loc, true); err != nil {
			return interaction.Filter{}, interaction.Page{}, err
		}
	}
	f, err := interaction.NewFilter(network, typ, since, until)
	if err != nil {
		return f, interaction.Page{}, err
	}
	var limit, offset *int
	if err := intParam(q, "limit", &limit); err != nil {
		return f, interaction.Page{}, err
	}
	if err := intParam(q, "offset", &offset); err != nil {
		return f, interaction.Page{}, err
	}
	p, err := interaction.NewPage(limit, offset)
	return f, p, err
}

func dateParam(q url.Values, name string, loc *time.Location, endOfDay bool) (*time.Time, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return nil, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1).Add(-time.Millisecond)
		}
		return &t, nil
	}
	if t, err := time.ParseInLocation(time.DateTime, v, loc); err == nil {
		return &t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t, nil
	}
	return nil, interaction.Errorf(interaction.KindInvalid, "%s must be YYYY-MM-DD, YYYY-MM-DD HH:mm:ss or RFC 3339, got %q", name, v)
}

// data is what both versions render.
type data struct {
	customer interaction.Customer
	groups   []interaction.Group
	mask     bool
	loc      *time.Location
}

// load reads a customer and its interactions under the request, each group
// with its page of the lists the version renders, through the same loaders
// and read path as GraphQL.
func load(ctx context.Context, r request, layout interaction.Layout, lists interaction.Lists, fields interaction.MessageFields) (data, error) {
	p, _ := interaction.FromContext(ctx)
	l := loader.For(ctx)
	c, err := l.Customer(ctx, r.id)
	if err != nil {
		return data{}, err
	}
	groups, err := l.Interactions(ctx, []int64{c.ID}, interaction.Request{
		Filter: r.filter, Page: r.page, Layout: layout, Lists: lists, Fields: fields,
	})
	if err != nil {
		return data{}, err
	}
	return data{customer: c, groups: groups[0], mask: p.Org.MaskOTP && !p.Has(interaction.ScopeOTPRead), loc: p.Org.Location()}, nil
}

// subject is the one place message text leaves through REST.
func (d data) subject(m interaction.Message) string { return otp.MaskIf(m.Subject, d.mask) }

func (d data) format(t time.Time, layout string) string { return t.In(d.loc).Format(layout) }

const (
	layoutV11Sent = "2006-01-02 15:04:05" // YYYY-MM-DD HH:mm:ss
	layoutDMY     = "02-01-2006 15:04:05" // DD-MM-YYYY HH:mm:ss
	layoutV2Deliv = "2006-01-02T15:04:05Z"
)
