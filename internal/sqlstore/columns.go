package sqlstore

import (
	"slices"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// MessageColumns are the optional message columns a page can read, in the
// order both stores select them after the five every page reads
// (customer_id, network, type, sent_at, id) from messages AS m.
// Name is the column's name (an alias for an expression), Zero the
// value that stands for it where no row was joined ("" for NULL).
var MessageColumns = []struct {
	Field      interaction.MessageFields
	Expr       string
	Name, Zero string
}{
	{interaction.FieldSender, "m.sender", "sender", "''"},
	{interaction.FieldReceiver, "m.receiver", "receiver", "''"},
	{interaction.FieldSubject, "m.subject", "subject", "''"},
	{interaction.FieldStatus, "m.status", "status", "''"},
	{interaction.FieldCampaign, "m.campaign_id", "campaign_id", "-1"},
	{interaction.FieldUser, "m.user_id", "user_id", "-1"},
	{interaction.FieldDelivered, "m.delivered_at", "delivered_at", ""},
	{interaction.FieldBody, "(SELECT b.body FROM message_bodies b WHERE b.org_id = m.org_id AND b.id = m.id)", "body", "''"},
}

// PageColumns is the select list of a page reading fields.
func PageColumns(fields interaction.MessageFields) string {
	cols := "m.customer_id, m.network, m.type, m.sent_at, m.id"
	for _, c := range MessageColumns {
		if fields&c.Field != 0 {
			cols += ", " + c.Expr
		}
	}
	return cols
}

// NetworkRange is the range of network names a page of whole customers
// reads: one network, or all of them (names are lower-case ASCII, which
// U+10FFFF sorts after).
func NetworkRange(n interaction.Network) (lo, hi string) {
	if n != "" {
		return string(n), string(n)
	}
	return "", "\U0010FFFF"
}

// WantsStored reports whether f's network and type let through the
// stored partition of network n and type t (a phone filter is its sms
// and phone messages).
func WantsStored(f interaction.Filter, n interaction.Network, t interaction.Type) bool {
	if f.Network != "" && n != f.Network {
		return false
	}
	return f.Type == "" || slices.Contains(f.Type.StoredTypes(), t)
}

// SummarySource is where Summaries reads a filter's counts from.
type SummarySource uint8

const (
	// SummariesKept: the maintained counts, every row of the customers.
	SummariesKept SummarySource = iota
	// SummariesKeptOfTypes: the maintained counts of the filter's stored
	// types.
	SummariesKeptOfTypes
	// SummariesInSpan: the rows within the filter's span, aggregated
	// (counts of a span cannot be kept ahead of time).
	SummariesInSpan
	// SummariesNarrowed: a filter by status or campaign, which only the
	// messages' status counts (or the messages) answer.
	SummariesNarrowed
)

// SummariesFrom says where both stores read Summaries for f from: a
// narrowing first, then a span, then a type, else the kept counts whole.
func SummariesFrom(f interaction.Filter) SummarySource {
	switch {
	case f.Narrowed():
		return SummariesNarrowed
	case f.Span() != (interaction.Span{}):
		return SummariesInSpan
	case f.Type != "":
		return SummariesKeptOfTypes
	}
	return SummariesKept
}

// TimelineShape is what a timeline statement's text depends on (both
// stores build one text per shape and cache it): the columns it reads,
// its order, its lists, which filters it has and whether it counts.
type TimelineShape struct {
	Fields                   interaction.MessageFields
	Order                    interaction.Order
	Messages, Calls, Surveys bool
	Networks, Types          bool
	Statuses, Campaigns      bool
	Count                    bool // TimelineCounts: no keyset, no cut, no limit
}

// ShapeOf is q's shape.
func ShapeOf(q interaction.TimelineQuery, count bool) TimelineShape {
	return TimelineShape{Fields: q.Fields, Order: q.Order, Messages: q.Messages, Calls: q.MissedCalls, Surveys: q.Surveys,
		Networks: len(q.Networks) > 0, Types: len(q.Types) > 0, Statuses: q.Statuses != "", Campaigns: q.Campaigns != "", Count: count}
}
