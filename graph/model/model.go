// Package model holds the GraphQL types that are not domain types as they
// are: groups of interactions with their pages, and messages and surveys in
// the shape the schema exposes. This file is written by hand (gqlgen
// autobinds to it, see gqlgen.yml); models_gen.go is gqlgen's and holds
// only what the schema declares that nothing here binds.
//
// These are what gqlgen's generated executor resolves. The customers query
// and its interactions are usually written instead by the one-pass
// marshaller (graph/marshal.go), which reads Interaction.Item directly;
// TestFastMarshallingMatchesGqlgen holds the two to the same bytes.
package model

import (
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/otp"
)

// NetworkInteractions is one network's groups.
type NetworkInteractions struct {
	Network      interaction.Network
	Interactions []*Interaction
}

// Interaction is one group: its totals and its page, as the batch resolver
// of Customer.interactions read them, so gqlgen resolves nothing per group.
// The lists are methods that present the page on demand: the one-pass
// marshalling of the subtree (graph/marshal.go) reads Item directly and
// never needs them.
type Interaction struct {
	Network             interaction.Network
	Type                interaction.Type
	Count               int
	LastInteractionTime *time.Time
	UsedStatus          bool
	// Item is the group with its page; MaskOTP says whether one-time
	// passwords in its messages are masked on the way out.
	Item    *interaction.Item
	MaskOTP bool
}

// NewInteraction presents one group.
func NewInteraction(it *interaction.Item, maskOTP bool) Interaction {
	return Interaction{Network: it.Network, Type: it.Type, Count: it.Count, LastInteractionTime: it.Last, UsedStatus: it.Used,
		Item: it, MaskOTP: maskOTP}
}

// Messages is the group's page of messages.
func (i *Interaction) Messages() []*Message {
	msgs := make([]Message, len(i.Item.Messages))
	for k := range msgs {
		msgs[k] = NewMessage(&i.Item.Messages[k], i.MaskOTP)
	}
	return pointers(msgs)
}

// MissedCalls is the group's page of missed calls.
func (i *Interaction) MissedCalls() []*interaction.MissedCall {
	return pointers(i.Item.MissedCalls)
}

// Surveys is the group's page of surveys.
func (i *Interaction) Surveys() []*Survey {
	svs := make([]Survey, len(i.Item.Surveys))
	for k := range svs {
		svs[k] = NewSurvey(&i.Item.Surveys[k])
	}
	return pointers(svs)
}

// StatusCounts is the group's counts by delivery status.
func (i *Interaction) StatusCounts() []*interaction.StatusCount {
	return pointers(i.Item.StatusCounts)
}

// pointers points at each element of s, in order.
func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for k := range out {
		out[k] = &s[k]
	}
	return out
}

// Message is a message as the API shows it.
type Message struct {
	ID          int64
	Network     interaction.Network
	Type        interaction.Type
	Sender      string
	Receiver    string
	Subject     string
	Body        string
	Status      string
	CampaignID  *int64
	UserID      *int64
	SentAt      time.Time
	DeliveredAt *time.Time
}

// NewMessage presents a stored message for gqlgen's executor, masking
// one-time passwords on the way out (never in storage). The one-pass
// marshaller writes the same fields itself, masking alike.
func NewMessage(m *interaction.Message, maskOTP bool) Message {
	return Message{
		ID: m.ID, Network: m.Network, Type: m.Type, Sender: m.Sender, Receiver: m.Receiver,
		Subject: otp.MaskIf(m.Subject, maskOTP), Body: otp.MaskIf(m.Body, maskOTP), Status: m.Status,
		CampaignID: optional(&m.CampaignID), UserID: optional(&m.UserID), SentAt: m.SentAt, DeliveredAt: m.DeliveredAt,
	}
}

// optional points at id, or is nil for the -1 that means "none".
func optional(id *int64) *int64 {
	if *id < 0 {
		return nil
	}
	return id
}

// Survey is a submitted survey with its responses as a JSON string.
type Survey struct {
	ID          int64
	Name        string
	SubmittedAt time.Time
	Responses   string
}

// NewSurvey converts a stored survey.
func NewSurvey(s *interaction.Survey) Survey {
	return Survey{ID: s.ID, Name: s.Name, SubmittedAt: s.SubmittedAt, Responses: string(s.Responses)}
}

// TimelineItem is a node of a timeline: a *Message, an
// *interaction.MissedCall or a *Survey. It is bound to the union in
// gqlgen.yml as an empty interface: the members are a domain type and
// presented types, none of which should carry a GraphQL marker method.
type TimelineItem interface{}

// TimelineConnection is one page of a customer's timeline, read in full
// by the batch resolver of Customer.timeline.
type TimelineConnection struct {
	Edges      []*TimelineEdge
	PageInfo   *PageInfo
	TotalCount int
}

// TimelineEdge is one entry of a page and its cursor, both presented on
// demand: the one-pass marshalling (graph/marshal.go) writes them from
// Entry and Base without building either.
type TimelineEdge struct {
	Entry *interaction.TimelineEntry
	// Base is the cursor of the page (organisation, customer, filter):
	// the edge's own is Base at the entry's position.
	Base    interaction.Cursor
	MaskOTP bool
}

// CursorOf is the cursor of the edge's position.
func (e *TimelineEdge) CursorOf() interaction.Cursor {
	c := e.Base
	c.Position = e.Entry.Position
	return c
}

// Cursor is the edge's cursor, encoded.
func (e *TimelineEdge) Cursor() string { return e.CursorOf().Encode() }

// Node is the edge's interaction as the API shows it.
func (e *TimelineEdge) Node() TimelineItem {
	switch e.Entry.Kind {
	case interaction.EntryMissedCall:
		return &e.Entry.MissedCall
	case interaction.EntrySurvey:
		s := NewSurvey(&e.Entry.Survey)
		return &s
	}
	m := NewMessage(&e.Entry.Message, e.MaskOTP)
	return &m
}

// PageInfo says where a page sits.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}
