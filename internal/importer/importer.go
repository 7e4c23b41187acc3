// Package importer loads newline-delimited JSON interaction data into a
// store. Each line is one record:
//
//	{"record":"customer","id":565039505,"mobile":"919988221100","email":"a@b.c","external_id":""}
//	{"record":"message","id":1743467374476,"customer_id":565039505,"network":"capillary","type":"email",
//	 "sender":"","receiver":"a@b.c","subject":"...","body":"...","status":"OPENED","campaign_id":267560,
//	 "user_id":432796209,"sent_at":"2025-04-14T14:23:20Z","delivered_at":"2025-04-14T14:23:20Z"}
//	{"record":"missed_call","id":1,"customer_id":565039505,"called_at":"2025-04-14T14:23:20Z","used":true}
//	{"record":"survey","id":1,"customer_id":565039505,"name":"NPS","submitted_at":"2025-04-14T14:23:20Z","responses":{"score":9}}
//
// Required: record, id (positive), customer_id for everything but customers,
// a known network and type for messages, and RFC 3339 times. Optional
// strings default to "", campaign_id and user_id to -1 (none), delivered_at
// to null (not delivered), used to false, responses to {}. A field the
// format does not know is reported as a warning with its line (a typo such
// as sentAt for sent_at would otherwise import a message without its time)
// and the line is imported; with Options.Strict the line is rejected.
// Emails are stored lower-cased. Status is free text.
//
// Text is held to what the strictest store can keep: a line must be valid
// UTF-8, and no text field (nor a survey's responses) may hold a NUL
// character (\u0000) or, in responses, half of a UTF-16 surrogate pair;
// PostgreSQL stores none of these, and SQLite would accept them, so both
// reject such a line alike. Times must lie within what the API can print
// in any time zone: after 0001-01-02 and before 9999-12-31 (UTC).
//
// Records are written in large transactions and keyed by (organisation, id),
// so importing the same file twice changes nothing. A bad line is reported
// with its number and reason and skipped; the good lines are still committed.
package importer

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Sink stores a batch of records in one transaction, rejecting individual
// records that break the store's constraints (such as an unknown customer).
type Sink interface {
	Write(ctx context.Context, org interaction.OrgID, recs []interaction.Record) ([]interaction.Rejection, error)
}

// DefaultBatchSize is how many records go into one transaction: large enough
// that commit cost vanishes, small enough that readers and memory never
// notice an import.
const DefaultBatchSize = 5_000

// MaxLineBytes bounds one line; a longer line is rejected, not loaded.
const MaxLineBytes = 1 << 20

// Options tune an import.
type Options struct {
	// Progress, when set, receives a progress line about once a second and
	// a summary at the end.
	Progress io.Writer
	// BatchSize is records per transaction; 0 means DefaultBatchSize.
	BatchSize int
	// Strict rejects lines with unknown fields instead of warning.
	Strict bool
}

// Report says what an import did.
type Report struct {
	Customers, Messages, MissedCalls, Surveys int // accepted, by kind
	Accepted, Rejected                        int
	Rejections                                []interaction.Rejection
	// Warnings are lines imported with fields the format does not know.
	Warned   int
	Warnings []interaction.Rejection
	Elapsed  time.Duration
}

// maxReported bounds the rejections (and the warnings) kept in a Report;
// the counts stay exact.
const maxReported = 1000

// Line is one line of the format: the union of every record's fields. The
// importer decodes each line into it and the demo writer (internal/demo)
// encodes its records as Lines, so the two cannot disagree on a field's
// name or type. The pointers tell a field left out from a zero: id and
// customer_id are required, and campaign_id, user_id and delivered_at
// default to none.
type Line struct {
	Record      string          `json:"record"`
	ID          *int64          `json:"id"`
	CustomerID  *int64          `json:"customer_id"`
	Mobile      string          `json:"mobile"`
	Email       string          `json:"email"`
	ExternalID  string          `json:"external_id"`
	Network     string          `json:"network"`
	Type        string          `json:"type"`
	Sender      string          `json:"sender"`
	Receiver    string          `json:"receiver"`
	Subject     string          `json:"subject"`
	Body        string          `json:"body"`
	Status      string          `json:"status"`
	CampaignID  *int64          `json:"campaign_id"`
	UserID      *int64          `json:"user_id"`
	SentAt      string          `json:"sent_at"`
	DeliveredAt *string         `json:"delivered_at"`
	CalledAt    string          `json:"called_at"`
	Used        bool            `json:"used"`
	Name        string          `json:"name"`
	SubmittedAt string          `json:"submitted_at"`
	Responses   json.RawMessage `json:"responses"`
}

// recordFields are the fields each kind of record has, in the order a
// Line of that kind is written (the package comment's examples).
var recordFields = map[string][]string{
	"customer": {"record", "id", "mobile", "email", "external_id"},
	"message": {"record", "id", "customer_id", "network", "type", "sender", "receiver", "subject", "body",
		"status", "campaign_id", "user_id", "sent_at", "delivered_at"},
	"missed_call": {"record", "id", "customer_id", "called_at", "used"},
	"survey":      {"record", "id", "customer_id", "name", "submitted_at", "responses"},
}

// MarshalJSON writes the fields of l's record (recordFields), empty ones
// included, and no other: a message line carries no mobile, a customer
// line no customer_id. See AppendJSON.
func (l Line) MarshalJSON() ([]byte, error) { return l.AppendJSON(nil) }

// AppendJSON appends l as MarshalJSON writes it, with text as it is, not
// HTML-escaped (as an Encoder with SetEscapeHTML(false) writes it), for
// writers of many lines: encoding/json re-scans whatever a MarshalJSON
// returns, which made the demo writer four times slower.
func (l Line) AppendJSON(b []byte) ([]byte, error) {
	names, ok := recordFields[l.Record]
	if !ok {
		return nil, fmt.Errorf("importer: unknown record %q (want customer, message, missed_call or survey)", l.Record)
	}
	w := bytes.NewBuffer(b)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	str := func(s string) {
		enc.Encode(s)           // a string always encodes
		w.Truncate(w.Len() - 1) // Encode's newline
	}
	num := func(p *int64) {
		if p == nil {
			w.WriteString("null")
		} else {
			w.Write(strconv.AppendInt(w.AvailableBuffer(), *p, 10))
		}
	}
	w.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteByte('"')
		w.WriteString(name) // plain ASCII
		w.WriteString(`":`)
		switch name {
		case "id":
			num(l.ID)
		case "customer_id":
			num(l.CustomerID)
		case "campaign_id":
			num(l.CampaignID)
		case "user_id":
			num(l.UserID)
		case "delivered_at":
			if l.DeliveredAt == nil {
				w.WriteString("null")
			} else {
				str(*l.DeliveredAt)
			}
		case "used":
			w.WriteString(strconv.FormatBool(l.Used))
		case "responses":
			if len(l.Responses) == 0 {
				w.WriteString("null")
			} else if err := json.Compact(w, l.Responses); err != nil {
				return nil, fmt.Errorf("importer: field \"responses\": %w", err)
			}
		default:
			str(*l.field(name))
		}
	}
	w.WriteByte('}')
	return w.Bytes(), nil
}

// field is the text field of Line named name.
func (l *Line) field(name string) *string {
	switch name {
	case "record":
		return &l.Record
	case "mobile":
		return &l.Mobile
	case "email":
		return &l.Email
	case "external_id":
		return &l.ExternalID
	case "network":
		return &l.Network
	case "type":
		return &l.Type
	case "sender":
		return &l.Sender
	case "receiver":
		return &l.Receiver
	case "subject":
		return &l.Subject
	case "body":
		return &l.Body
	case "status":
		return &l.Status
	case "sent_at":
		return &l.SentAt
	case "called_at":
		return &l.CalledAt
	case "name":
		return &l.Name
	case "submitted_at":
		return &l.SubmittedAt
	}
	panic("importer: no text field " + name) // recordFields names only Line's fields
}

// Import reads records from r and writes them to sink for org.
//
// Parsing and writing overlap: one goroutine reads and decodes the next
// batch while the sink commits the current one, so on two cores JSON
// decoding costs (almost) no wall time. Rejections are reported in line
// order.
func Import(ctx context.Context, r io.Reader, sink Sink, org interaction.OrgID, o Options) (Report, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	start := time.Now()
	var rep Report
	p := progress{w: o.Progress, start: start, last: start}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chunk, 1)
	go read(ctx, r, o.BatchSize, o.Strict, chunks)
	// On an early return the reader is cancelled and the channel drained,
	// so the goroutine never outlives Import.
	defer func() {
		cancel()
		for range chunks {
		}
	}()

	for c := range chunks {
		if c.err != nil {
			return rep, c.err
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var rejected []interaction.Rejection
		if len(c.recs) > 0 {
			var err error
			if rejected, err = sink.Write(ctx, org, c.recs); err != nil {
				return rep, err
			}
		}
		rep.add(c, rejected)
		p.tick(rep)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	rep.Elapsed = time.Since(start)
	p.done(rep)
	return rep, nil
}

// chunk is one batch of parsed records, the lines among them that could
// not be parsed and those parsed with a warning; err ends the stream.
type chunk struct {
	recs []interaction.Record
	bad  []interaction.Rejection
	warn []interaction.Rejection
	err  error
}

// read parses r into chunks of up to size records and closes out when
// done. With strict, unknown fields reject a line instead of warning.
func read(ctx context.Context, r io.Reader, size int, strict bool, out chan<- chunk) {
	defer close(out)
	send := func(c chunk) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	c := chunk{recs: make([]interaction.Record, 0, size)}
	for n := 1; ; n++ {
		raw, tooLong, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			c.err = fmt.Errorf("importer: read line %d: %w", n, err)
			send(c)
			return
		}
		if tooLong {
			c.bad = append(c.bad, interaction.Rejection{Line: n, Reason: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)})
		} else if len(bytes.TrimSpace(raw)) > 0 {
			rec, unknown, perr := parse(raw)
			switch {
			case perr != nil:
				c.bad = append(c.bad, interaction.Rejection{Line: n, Reason: perr.Error()})
			case unknown != "" && strict:
				c.bad = append(c.bad, interaction.Rejection{Line: n, Reason: unknown})
			default:
				if unknown != "" {
					c.warn = append(c.warn, interaction.Rejection{Line: n, Reason: unknown + " (ignored)"})
				}
				rec.Line = n
				c.recs = append(c.recs, rec)
			}
		}
		if errors.Is(err, io.EOF) {
			send(c)
			return
		}
		if len(c.recs) >= size {
			if !send(c) {
				return
			}
			c = chunk{recs: make([]interaction.Record, 0, size)}
		}
	}
}

// add counts a written chunk: its unparsable lines, the records the sink
// rejected and the rest, accepted.
func (rep *Report) add(c chunk, rejected []interaction.Rejection) {
	bad := make(map[int]bool, len(rejected))
	for _, x := range rejected {
		bad[x.Line] = true
	}
	all := append(c.bad, rejected...)
	slices.SortFunc(all, func(a, b interaction.Rejection) int { return cmp.Compare(a.Line, b.Line) })
	for _, x := range all {
		rep.reject(x)
	}
	for _, w := range c.warn {
		if bad[w.Line] {
			continue // rejected by the sink: the rejection says enough
		}
		rep.Warned++
		if len(rep.Warnings) < maxReported {
			rep.Warnings = append(rep.Warnings, w)
		}
	}
	for _, rec := range c.recs {
		if bad[rec.Line] {
			continue
		}
		rep.Accepted++
		switch {
		case rec.Customer != nil:
			rep.Customers++
		case rec.Message != nil:
			rep.Messages++
		case rec.MissedCall != nil:
			rep.MissedCalls++
		case rec.Survey != nil:
			rep.Surveys++
		}
	}
}

func (rep *Report) reject(x interaction.Rejection) {
	rep.Rejected++
	if len(rep.Rejections) < maxReported {
		rep.Rejections = append(rep.Rejections, x)
	}
}

// readLine returns the next line without its newline. A line longer than
// MaxLineBytes is consumed and reported as tooLong.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLineBytes {
			tooLong = true
			buf = buf[:0]
		} else if !tooLong {
			buf = append(buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), tooLong, err
	}
}

// parse parses one line. unknown, when not "", names the fields the
// format does not know, for a warning or (strict) a rejection.
func parse(raw []byte) (rec interaction.Record, unknown string, err error) {
	if !utf8.Valid(raw) {
		return interaction.Record{}, "", fmt.Errorf("invalid UTF-8 at byte %d", invalidAt(raw)+1)
	}
	var l Line
	if err := decodeLine(raw, &l); err != nil {
		if !errors.Is(err, errUnknownField) {
			return interaction.Record{}, "", err
		}
		unknown = unknownFields(raw)
	}
	rec, err = record(l)
	return rec, unknown, err
}

var errUnknownField = errors.New("unknown field")

// decodeLine decodes raw into l, refusing fields Line does not have: the
// common case (no unknown field) costs one decode. On an unknown field it
// decodes again leniently and returns errUnknownField.
func decodeLine(raw []byte, l *Line) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(l)
	if err != nil && strings.HasPrefix(err.Error(), "json: unknown field ") {
		// encoding/json has no type for this error; its text has been
		// the same since DisallowUnknownFields was added (Go 1.10).
		*l = Line{}
		if err := json.Unmarshal(raw, l); err != nil {
			return jsonError(err)
		}
		return errUnknownField
	}
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(raw[dec.InputOffset():])) > 0 {
		return errors.New("malformed JSON: more than one value on the line")
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q: a JSON %s where %s belongs", te.Field, te.Value, kindOf(te.Type.Kind()))
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

// knownFields are Line's JSON names, lower-cased.
var knownFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Line]()
	for i := range t.NumField() {
		m[strings.ToLower(strings.Split(t.Field(i).Tag.Get("json"), ",")[0])] = true
	}
	return m
}()

// unknownFields names the top-level fields of raw (a valid JSON object)
// that Line does not have, in the order they appear.
func unknownFields(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "unknown field"
	}
	var names []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := t.(string)
		// encoding/json matches names case-insensitively.
		if !knownFields[strings.ToLower(key)] {
			names = append(names, strconv.Quote(key))
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			break
		}
	}
	if len(names) == 1 {
		return "unknown field " + names[0]
	}
	return "unknown fields " + strings.Join(names, ", ")
}

// record turns a decoded line into a record, checking what the format
// requires.
func record(l Line) (interaction.Record, error) {
	if l.ID == nil {
		return interaction.Record{}, errors.New(`missing field "id"`)
	}
	if *l.ID <= 0 {
		return interaction.Record{}, fmt.Errorf(`"id" must be positive, got %d`, *l.ID)
	}
	id := *l.ID
	if err := l.text(); err != nil {
		return interaction.Record{}, err
	}
	if l.Record == "customer" {
		c := interaction.Customer{ID: id, Mobile: interaction.NormalizeMobile(l.Mobile),
			Email: interaction.NormalizeEmail(l.Email), ExternalID: strings.TrimSpace(l.ExternalID)}
		return interaction.Record{Customer: &c}, nil
	}
	if l.CustomerID == nil {
		switch l.Record {
		case "message", "missed_call", "survey":
			return interaction.Record{}, errors.New(`missing field "customer_id"`)
		}
	}
	switch l.Record {
	case "message":
		m := interaction.Message{ID: id, CustomerID: *l.CustomerID, Network: interaction.Network(l.Network),
			Type: interaction.Type(l.Type), Sender: l.Sender, Receiver: l.Receiver, Subject: l.Subject, Body: l.Body,
			Status: l.Status, CampaignID: orNone(l.CampaignID), UserID: orNone(l.UserID)}
		if !m.Network.Valid() {
			return interaction.Record{}, fmt.Errorf("unknown network %q", l.Network)
		}
		if !m.Type.IsMessage() {
			return interaction.Record{}, fmt.Errorf("unknown message type %q", l.Type)
		}
		var err error
		if m.SentAt, err = parseTime("sent_at", l.SentAt); err != nil {
			return interaction.Record{}, err
		}
		if l.DeliveredAt != nil && *l.DeliveredAt != "" {
			t, err := parseTime("delivered_at", *l.DeliveredAt)
			if err != nil {
				return interaction.Record{}, err
			}
			m.DeliveredAt = &t
		}
		return interaction.Record{Message: &m}, nil
	case "missed_call":
		t, err := parseTime("called_at", l.CalledAt)
		if err != nil {
			return interaction.Record{}, err
		}
		return interaction.Record{MissedCall: &interaction.MissedCall{ID: id, CustomerID: *l.CustomerID, CalledAt: t, Used: l.Used}}, nil
	case "survey":
		if l.Name == "" {
			return interaction.Record{}, errors.New(`missing field "name"`)
		}
		t, err := parseTime("submitted_at", l.SubmittedAt)
		if err != nil {
			return interaction.Record{}, err
		}
		resp := l.Responses
		if len(resp) == 0 || string(resp) == "null" {
			resp = json.RawMessage("{}")
		} else if resp[0] != '{' {
			return interaction.Record{}, errors.New(`"responses" must be a JSON object`)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, resp); err != nil {
			return interaction.Record{}, fmt.Errorf(`"responses": %v`, err)
		}
		if err := escapes(compact.Bytes()); err != nil {
			return interaction.Record{}, fmt.Errorf(`field "responses": %v`, err)
		}
		return interaction.Record{Survey: &interaction.Survey{ID: id, CustomerID: *l.CustomerID, Name: l.Name,
			SubmittedAt: t, Responses: compact.Bytes()}}, nil
	case "":
		return interaction.Record{}, errors.New(`missing field "record"`)
	}
	return interaction.Record{}, fmt.Errorf("unknown record %q (want customer, message, missed_call or survey)", l.Record)
}

// kindOf names a Go kind, with its article, the way a JSON writer thinks of it.
func kindOf(k reflect.Kind) string {
	switch k {
	case reflect.Int64, reflect.Pointer:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	}
	return "a " + k.String()
}

func orNone(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// The times the API can print in every time zone (offsets reach ±14 h):
// years 1 to 9999, a day inside either end. A time outside came out as
// 10000-01-01T23:58:59Z in GraphQL, or 31-12--0001 in v2.
var (
	minTime = time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("missing field %q", field)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time: %q", field, s)
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, fmt.Errorf("%q is outside the times the API can show (0001-01-02 to 9999-12-30 UTC): %q", field, s)
	}
	return t.UTC(), nil
}

// text rejects a NUL character in any text field: PostgreSQL's text holds
// none.
func (l *Line) text() error {
	for _, f := range [...]struct{ name, v string }{
		{"record", l.Record}, {"mobile", l.Mobile}, {"email", l.Email}, {"external_id", l.ExternalID},
		{"network", l.Network}, {"type", l.Type}, {"sender", l.Sender}, {"receiver", l.Receiver},
		{"subject", l.Subject}, {"body", l.Body}, {"status", l.Status}, {"name", l.Name},
	} {
		if strings.IndexByte(f.v, 0) >= 0 {
			return fmt.Errorf("field %q holds a NUL character (\\u0000), which text cannot hold", f.name)
		}
	}
	return nil
}

// escapes checks the \u escapes of valid JSON kept as it is (a survey's
// responses): decoding would turn a lone surrogate into U+FFFD and keep a
// NUL, but PostgreSQL's jsonb refuses both.
func escapes(raw []byte) error {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(raw) || raw[i] != 'u' || i+4 >= len(raw) {
			continue
		}
		r, err := strconv.ParseUint(string(raw[i+1:i+5]), 16, 16)
		if err != nil {
			continue
		}
		switch {
		case r == 0:
			return errors.New("a NUL character (\\u0000), which text cannot hold")
		case utf16.IsSurrogate(rune(r)):
			// A high half must be followed by a low half.
			low := uint64(0)
			if r < 0xdc00 && i+10 < len(raw) && raw[i+5] == '\\' && raw[i+6] == 'u' {
				low, _ = strconv.ParseUint(string(raw[i+7:i+11]), 16, 16)
			}
			if low < 0xdc00 || low > 0xdfff {
				return fmt.Errorf("half of a UTF-16 surrogate pair (\\u%04x)", r)
			}
			i += 6
		}
		i += 4
	}
	return nil
}

// invalidAt is the offset of the first byte of raw that is not UTF-8.
func invalidAt(raw []byte) int {
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(raw)
}

// progress prints about once a second while an import runs.
type progress struct {
	w           io.Writer
	start, last time.Time
}

func (p *progress) tick(rep Report) {
	if p.w == nil || time.Since(p.last) < time.Second {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "import: %d records (%.0f/s), %d rejected\n", rep.Accepted, float64(rep.Accepted)/el, rep.Rejected)
}

func (p *progress) done(rep Report) {
	if p.w == nil {
		return
	}
	el := rep.Elapsed.Seconds()
	if el <= 0 {
		el = 1e-9
	}
	fmt.Fprintf(p.w, "import: done: %d accepted (%d customers, %d messages, %d missed calls, %d surveys), %d rejected, %.0f records/s\n",
		rep.Accepted, rep.Customers, rep.Messages, rep.MissedCalls, rep.Surveys, rep.Rejected, float64(rep.Accepted)/el)
}
