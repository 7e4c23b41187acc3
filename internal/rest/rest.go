// Package rest serves the vendor's two REST endpoints, payload for payload,
// so existing integrations can point at Touchpoint and notice nothing:
//
//	GET /v1.1/customer/interaction   (JSON or XML, the "response" envelope)
//	GET /v2/customers/interaction    (JSON, {name, interaction, warnings})
//
// Both read through the same per-request loaders and store as the GraphQL
// resolvers, so the three can never disagree. openapi.json (served at
// /openapi.json) describes both; the tests validate every response they
// see against it.
//
// # Decisions where the vendor documents are silent or contradict themselves
//
//   - Messages (and v2's surveys) are listed oldest first (sent time, then
//     id), as both samples that show an order do, and limit and offset page
//     in that order. (The v2 sample's sms and phone lists are in no order
//     at all.) GraphQL keeps its documented newest first.
//   - limit (default 50) above 500 is taken as 500; count is always the
//     total, and v2's warnings name every list that was cut. offset runs
//     from 0 to 100,000.
//   - A type the documents tie to networks implies them when network is
//     absent: tweet, mention and retweet twitter, like and comment
//     facebook, feedback (and missed_call, survey) capillary. checkin is
//     looked for on foursquare and facebook both: v1.1 shows each network
//     that has some; v2 shows the first of foursquare, facebook that has
//     some (foursquare when neither has) and warns of the other's. A type
//     asked for on a network the documents rule out is invalid input.
//     Other types (email, sms, ...) are looked for on capillary in v2
//     unless a network is asked for, and on every network in v1.1.
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
//   - v1.1 takes identifierName/identifierValue, or else the first
//     identifier present in the order mobile, email, external_id, id. v2
//     accepts id besides the documented email, mobile and external_id.
//   - A campaign id or user id that is not set is -1 ("-1" in v1.1).
//   - v2 answers JSON only; format and Accept are not read there.
//
// # Statuses and codes
//
// The vendor documents v1.1's status code 500 ("All requests have failed
// due to errors. Invalid or unsupported inputs passed.") and v2's 1012
// ("Cannot find customer for provided mobile/external-id/e-mail/id") for
// an identifier that is "invalid or unsupported". Every failure caused by
// the request's inputs or its lookup carries them: v1.1's status is
// {"false", 500, that message} and its item_status says what was wrong;
// v2's errors[0] does. The codes 11xx and 12xx are ours.
//
//	case                                   HTTP  v1.1 item_status / v2 errors[].code
//	success                                200   1000 / -
//	identifier missing, empty, invalid,    400   1012 "Cannot find customer ..."
//	  unsupported (identifierName=card)
//	no customer with that identifier       404   1012 "Cannot find customer ..."
//	invalid network                        400   1101 with the reason
//	invalid type                           400   1102 with the reason
//	type on a network that has none        400   1103 with the reason
//	invalid limit (negative, not a number) 400   1104 with the reason
//	invalid offset (ditto, above 100,000)  400   1105 with the reason
//	invalid start_date or end_date (v1.1)  400   1106 with the reason
//	invalid format (v1.1)                  400   1107 with the reason
//
// Failures of the request itself rather than its inputs carry the HTTP
// status as their code, in v1.1's status (with no customer) and in v2's
// errors[0]: 401 (credentials), 403 (scope), 405 (a method other than GET
// or HEAD), 413 (body), 429 (rate limit, with Retry-After), 500 (internal
// error, logged with the request id) and 503 (the store does not answer
// for now, with Retry-After).
//
// v2 warnings (HTTP 200) are {code, message, name, count, returned}:
// 1201 for a list cut by limit or offset (name, and returned of count),
// 1202 for checkins on the other network v2 did not show (count of them).
//
// Error bodies are always the endpoint's own envelope, in the endpoint's
// format (never HTML, never a Go error string).
package rest

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
	"github.com/touchpoint/touchpoint/internal/otp"
	"github.com/touchpoint/touchpoint/internal/reqlog"
)

// Options configure the handlers.
type Options struct {
	// Logger receives internal errors; nil logs nowhere.
	Logger *slog.Logger
}

// logInternal logs err when it is an internal error, whose answer shows
// only "internal error", with the request's id, which the client has: the
// one place the shims log one.
func (o Options) logInternal(ctx context.Context, route string, err error) {
	if o.Logger != nil && interaction.KindOf(err) == interaction.KindInternal {
		o.Logger.ErrorContext(ctx, route+": load", "request_id", reqlog.RequestID(ctx), "err", err)
	}
}

// Item, error and warning codes of the vendor's envelopes (1000, 1012) and
// ours (see the package documentation).
const (
	codeRetrieved   = 1000
	codeCustomer    = 1012
	codeNetwork     = 1101
	codeType        = 1102
	codeTypeNetwork = 1103
	codeLimit       = 1104
	codeOffset      = 1105
	codeDate        = 1106
	codeFormat      = 1107
	warnCut         = 1201
	warnElsewhere   = 1202
)

// The vendor's documented texts.
const (
	msgNotFound  = "Cannot find customer for provided mobile/external-id/e-mail/id"
	msgAllFailed = "All requests have failed due to errors. Invalid or unsupported inputs passed."
	msgRetrieved = "Customer successfully retrieved"
	// ours
	msgUnavailable = "the service did not answer in time; retry later"
)

// inputError is an invalid request parameter: the code that names it and
// a reason safe to show. It is of kind KindInvalid.
type inputError struct {
	code int
	err  *interaction.Error
}

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func invalid(code int, format string, args ...any) error {
	return &inputError{code: code, err: interaction.Errorf(interaction.KindInvalid, format, args...)}
}

// badIdentifier is an identifier that cannot name a customer; the reason
// is for the logs, the caller gets the vendor's 1012.
func badIdentifier(err error) error {
	return &inputError{code: codeCustomer, err: interaction.Errorf(interaction.KindInvalid, "%s", interaction.MessageOf(err))}
}

// failure is what an error answer shows.
type failure struct {
	status  int    // HTTP
	code    int    // the item or error code
	message string // safe to show
}

// item reports whether f is about the request's inputs or lookup (an item
// code) rather than the request itself (an HTTP status as its code).
func (f failure) item() bool { return f.code >= 1000 }

// headers sets the headers f's answer carries besides the envelope.
func (f failure) headers(w http.ResponseWriter) {
	if f.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
}

// failureOf is the one mapping from an error to what both shims answer.
func failureOf(err error) failure {
	k := interaction.KindOf(err)
	var in *inputError
	if errors.As(err, &in) {
		if in.code == codeCustomer {
			return failure{statusOf(k), codeCustomer, msgNotFound}
		}
		return failure{statusOf(k), in.code, interaction.MessageOf(in)}
	}
	switch {
	case k == interaction.KindNotFound:
		return failure{statusOf(k), codeCustomer, msgNotFound}
	case k == interaction.KindUnavailable, k == interaction.KindInternal && unavailable(err):
		k = interaction.KindUnavailable
		return failure{statusOf(k), statusOf(k), msgUnavailable}
	}
	status := statusOf(k)
	msg := interaction.MessageOf(err)
	if status == 500 {
		msg = "internal error"
	}
	return failure{status, status, msg}
}

// unavailable reports whether err is the store not answering (a timeout,
// a refused or broken connection) rather than a bug.
func unavailable(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

// request is a parsed query string, the same for both versions.
type request struct {
	id     interaction.Identifier
	filter interaction.Filter
	page   interaction.Page
}

// pageParams parses limit and offset. Absent or empty means the default
// (50, 0); a limit above interaction.MaxLimit is taken as the maximum.
// Messages are paged oldest first.
func pageParams(q url.Values) (interaction.Page, error) {
	p := interaction.Page{Limit: interaction.DefaultLimit, Order: interaction.OldestFirst}
	if v := strings.TrimSpace(q.Get("limit")); v != "" {
		n, ok := wholeNumber(v)
		if !ok {
			return p, invalid(codeLimit, "limit must be a whole number (0 or more, at most %d are listed), got %q", interaction.MaxLimit, v)
		}
		p.Limit = min(n, interaction.MaxLimit)
	}
	if v := strings.TrimSpace(q.Get("offset")); v != "" {
		n, ok := wholeNumber(v)
		if !ok || n > interaction.MaxOffset {
			return p, invalid(codeOffset, "offset must be a whole number from 0 to %d, got %q", interaction.MaxOffset, v)
		}
		p.Offset = n
	}
	return p, nil
}

// wholeNumber parses a decimal number of 0 or more (a leading "+" allowed);
// one too large for an int is math.MaxInt.
func wholeNumber(v string) (int, bool) {
	v = strings.TrimPrefix(v, "+")
	if v == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt-int(c-'0'))/10 {
			n = math.MaxInt // keep checking the digits
			continue
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// filterParams parses network and type (and, with dates, v1.1's start_date
// and end_date). A type tied to one network implies it when no network is
// asked for; a type asked for on a network that has none is invalid.
func filterParams(q url.Values, loc *time.Location, dates bool) (interaction.Filter, error) {
	var f interaction.Filter
	if raw := q.Get("network"); raw != "" {
		n := interaction.Network(strings.ToLower(strings.TrimSpace(raw)))
		if !n.Valid() {
			return f, invalid(codeNetwork, "network must be one of %s, got %q", list(interaction.Networks), raw)
		}
		f.Network = n
	}
	if raw := q.Get("type"); raw != "" {
		t := interaction.Type(strings.ToLower(strings.TrimSpace(raw)))
		if !t.Valid() {
			return f, invalid(codeType, "type must be one of %s, got %q", list(interaction.Types), raw)
		}
		ns := interaction.NetworksOf(t)
		if f.Network != "" && !t.On(f.Network) {
			return f, invalid(codeTypeNetwork, "type %s is only on %s, not on %s", t, list(ns), f.Network)
		}
		if f.Network == "" && len(ns) == 1 {
			f.Network = ns[0]
		}
		f.Type = t
	}
	if dates {
		since, err := dateParam(q, "start_date", loc, false)
		if err != nil {
			return f, err
		}
		until, err := dateParam(q, "end_date", loc, true)
		if err != nil {
			return f, err
		}
		span, err := interaction.NewFilter(nil, nil, since, until)
		if err != nil {
			return f, invalid(codeDate, "%s", interaction.MessageOf(err))
		}
		f.Since, f.Until = span.Since, span.Until
	}
	return f, nil
}

// list joins names for a message: "a, b or c".
func list[S ~string](names []S) string {
	var b strings.Builder
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(n))
	}
	return b.String()
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
	return nil, invalid(codeDate, "%s must be YYYY-MM-DD, YYYY-MM-DD HH:mm:ss or RFC 3339, got %q", name, v)
}

// data is what both versions render.
type data struct {
	customer interaction.Customer
	groups   []interaction.Group
	page     interaction.Page
	mask     bool
	loc      *time.Location
}

// load reads a customer and its interactions under the request, each group
// with its page of the lists the version renders, through the same loaders
// and read path as GraphQL.
func load(ctx context.Context, r request, layout interaction.Layout, lists interaction.Lists, fields interaction.MessageFields) (data, error) {
	p, _ := interaction.FromContext(ctx)
	cs, errs, groups, err := loader.For(ctx).CustomersWithInteractions(ctx, r.id.Kind, []string{r.id.Value}, interaction.Request{
		Filter: r.filter, Page: r.page, Layout: layout, Lists: lists, Fields: fields,
	})
	switch {
	case err != nil:
		return data{}, err
	case errs[0] != nil:
		return data{}, errs[0]
	}
	return data{customer: cs[0], groups: groups[0], page: r.page, mask: p.Org.MaskOTP && !p.Has(interaction.ScopeOTPRead), loc: p.Org.Location()}, nil
}

// subject is the one place message text leaves through REST.
func (d data) subject(m interaction.Message) string { return otp.MaskIf(m.Subject, d.mask) }

// when is t in the organisation's zone, to be written with one of the
// vendor's layouts.
func (d data) when(t time.Time, layout string) when { return when{t.In(d.loc), layout} }

// when is a time the payload writes in one of the vendor's layouts. It is
// kept as the time, not as its text: the JSON appenders write its digits
// straight into the answer, where a string for every message's every
// time was a sixth of a REST v1.1 request's allocations. encoding/xml
// (and encoding/json, in the tests) write it through MarshalText.
type when struct {
	t      time.Time // already in the zone it is written in
	layout string    // "" for no time: v1.1 writes the string "null", v2 leaves the field out (omitzero)
}

func (w when) IsZero() bool { return w.layout == "" }

func (w when) MarshalText() ([]byte, error) { return w.appendText(nil), nil }

func (w when) appendText(b []byte) []byte {
	if w.layout == "" {
		return append(b, null...)
	}
	return appendTime(b, w.t, w.layout)
}

// appendJSON writes w as a JSON string. Its text needs no escaping: digits,
// '-', ':', ' ', 'T' and 'Z' (or "null").
func (w when) appendJSON(b []byte) []byte {
	b = append(b, '"')
	b = w.appendText(b)
	return append(b, '"')
}

// decimal is a number the vendor writes as a string ("campaign_id": "42").
type decimal int64

func (n decimal) MarshalText() ([]byte, error) { return strconv.AppendInt(nil, int64(n), 10), nil }

func (n decimal) appendJSON(b []byte) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '"')
}

// appendTime is t.AppendFormat(b, layout), written digit by digit for the
// vendor's three layouts: time's formatting parses its layout on every
// call, which was 3.5% of a REST v1.1 request's CPU (a date for every
// message).
func appendTime(b []byte, t time.Time, layout string) []byte {
	y, mo, dd := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, layout)
	}
	h, mi, s := t.Clock()
	var f [20]byte
	switch layout {
	case layoutV11Sent, layoutV2Deliv: // 2006-01-02 15:04:05, 2006-01-02T15:04:05Z
		put4(f[0:], y)
		f[4], f[7] = '-', '-'
		put2(f[5:], int(mo))
		put2(f[8:], dd)
		f[10] = ' '
	case layoutDMY: // 02-01-2006 15:04:05
		put2(f[0:], dd)
		f[2], f[5] = '-', '-'
		put2(f[3:], int(mo))
		put4(f[6:], y)
		f[10] = ' '
	default:
		return t.AppendFormat(b, layout)
	}
	put2(f[11:], h)
	f[13], f[16] = ':', ':'
	put2(f[14:], mi)
	put2(f[17:], s)
	if layout == layoutV2Deliv {
		f[10], f[19] = 'T', 'Z'
		return append(b, f[:20]...)
	}
	return append(b, f[:19]...)
}

func put2(b []byte, v int) { b[0], b[1] = byte('0'+v/10), byte('0'+v%10) }

func put4(b []byte, v int) { put2(b, v/100); put2(b[2:], v%100) }

// cut says how a list of count items was cut to returned by the page, or
// "" when nothing was left out.
// It is written on the hot path (any v2 answer for a customer with more
// than a page), so in one allocation rather than fmt's several.
func (d data) cut(name string, returned, count int) string {
	if returned >= count {
		return ""
	}
	var buf [160]byte
	b := append(buf[:0], name...)
	b = append(b, ": "...)
	b = strconv.AppendInt(b, int64(returned), 10)
	b = append(b, " of "...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, " returned (offset "...)
	b = strconv.AppendInt(b, int64(d.page.Offset), 10)
	b = append(b, ", limit "...)
	b = strconv.AppendInt(b, int64(d.page.Limit), 10)
	b = append(b, "); page with offset and limit for the others"...)
	return string(b)
}

const (
	layoutV11Sent = "2006-01-02 15:04:05" // YYYY-MM-DD HH:mm:ss
	layoutDMY     = "02-01-2006 15:04:05" // DD-MM-YYYY HH:mm:ss
	layoutV2Deliv = "2006-01-02T15:04:05Z"
)
