// Package model holds the GraphQL types that are not domain types as they
// are: groups of interactions carrying what their field resolvers need, and
// messages and surveys in the shape the schema exposes.
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

// Interaction is one group: its totals plus the query that loads its page
// lazily, so a request for counts alone never reads a message.
type Interaction struct {
	Network             interaction.Network
	Type                interaction.Type
	Count               int
	LastInteractionTime *time.Time
	UsedStatus          bool
	// CustomerID and Query are for the list resolvers; not in the schema.
	CustomerID int64
	Query      interaction.PageQuery
	// The pages, when the parent resolver queued their loads ahead (see
	// loader.Loaders.MessagesLater); nil otherwise.
	MessagePage    func() ([]interaction.Message, error)
	MissedCallPage func() ([]interaction.MissedCall, error)
	SurveyPage     func() ([]interaction.Survey, error)
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

// NewMessage is the one place a stored message becomes API output, so OTP
// masking (on the way out, never in storage) cannot be forgotten by a field.
func NewMessage(m interaction.Message, maskOTP bool) *Message {
	return &Message{
		ID: m.ID, Network: m.Network, Type: m.Type, Sender: m.Sender, Receiver: m.Receiver,
		Subject: otp.MaskIf(m.Subject, maskOTP), Body: otp.MaskIf(m.Body, maskOTP), Status: m.Status,
		CampaignID: optional(m.CampaignID), UserID: optional(m.UserID), SentAt: m.SentAt, DeliveredAt: m.DeliveredAt,
	}
}

func optional(id int64) *int64 {
	if id < 0 {
		return nil
	}
	return &id
}

// Survey is a submitted survey with its responses as a JSON string.
type Survey struct {
	ID          int64
	Name        string
	SubmittedAt time.Time
	Responses   string
}

// NewSurvey converts a stored survey.
func NewSurvey(s interaction.Survey) *Survey {
	return &Survey{ID: s.ID, Name: s.Name, SubmittedAt: s.SubmittedAt, Responses: string(s.Responses)}
}
