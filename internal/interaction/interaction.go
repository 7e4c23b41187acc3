// Package interaction is Touchpoint's domain: organisations, customers and the
// messages, missed calls and surveys that make up their interactions, plus the
// store contract that the SQL packages implement and the loaders consume.
//
// It imports nothing from SQL, GraphQL or HTTP packages so every transport and
// every store can depend on it without dragging the others along.
package interaction

import (
	"encoding/json"
	"sync"
	"time"
)

// OrgID identifies an organisation (a tenant). Every row in the store belongs
// to exactly one organisation and every read is scoped by one.
type OrgID int64

// Org is a tenant and its settings.
type Org struct {
	ID   OrgID
	Name string
	// TimeZone is an IANA zone name; REST payloads render times in it.
	TimeZone string
	// MaskOTP turns on masking of one-time passwords in message text.
	MaskOTP bool
	// RateLimit is requests per minute for each of the org's keys; 0 means
	// the service default.
	RateLimit int
}

// Location returns the organisation's time zone, falling back to UTC when
// the stored name is empty or unknown to this machine.
func (o Org) Location() *time.Location {
	if o.TimeZone == "" || o.TimeZone == "UTC" {
		return time.UTC
	}
	if loc, ok := locations.Load(o.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(o.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	locations.Store(o.TimeZone, loc)
	return loc
}

// locations caches time zones by name: time.LoadLocation reads the zone
// file on every call, and times are rendered thousands of times a request.
var locations sync.Map

// Customer is a person a brand talks to. Mobile, Email and ExternalID are
// empty when not set; each one that is set is unique within the organisation.
type Customer struct {
	ID         int64  `db:"id"`
	OrgID      OrgID  `db:"org_id"`
	Mobile     string `db:"mobile"`
	Email      string `db:"email"`
	ExternalID string `db:"external_id"`
}

// IdentifierKind names the field a customer is looked up by.
type IdentifierKind string

// The identifiers a customer can be found by.
const (
	ByID         IdentifierKind = "id"
	ByMobile     IdentifierKind = "mobile"
	ByEmail      IdentifierKind = "email"
	ByExternalID IdentifierKind = "external_id"
)

// IdentifierKinds lists every kind, in the order the vendor documents them.
var IdentifierKinds = []IdentifierKind{ByMobile, ByEmail, ByExternalID, ByID}

// Valid reports whether k is a known identifier kind.
func (k IdentifierKind) Valid() bool {
	switch k {
	case ByID, ByMobile, ByEmail, ByExternalID:
		return true
	}
	return false
}

// Identifier is one way of naming a customer: a kind and a value.
type Identifier struct {
	Kind  IdentifierKind
	Value string
}

// Message is one SMS, email, WhatsApp, Viber, LINE, Zalo or social message
// sent to a customer. Status is kept as the text the sending system reported
// and is never rejected for an unknown value.
type Message struct {
	ID          int64      `db:"id"`
	CustomerID  int64      `db:"customer_id"`
	Network     Network    `db:"network"`
	Type        Type       `db:"type"`
	Sender      string     `db:"sender"`
	Receiver    string     `db:"receiver"`
	Subject     string     `db:"subject"`
	Body        string     `db:"body"`
	Status      string     `db:"status"`
	CampaignID  int64      `db:"campaign_id"` // -1 when the message had no campaign
	UserID      int64      `db:"user_id"`     // -1 when no user sent it
	SentAt      time.Time  `db:"sent_at"`
	DeliveredAt *time.Time `db:"delivered_at"` // nil until delivered
}

// MissedCall is a call received from the customer's registered mobile.
type MissedCall struct {
	ID         int64     `db:"id"`
	CustomerID int64     `db:"customer_id"`
	CalledAt   time.Time `db:"called_at"`
	Used       bool      `db:"used"`
}

// Survey is a survey the customer submitted. Responses is the JSON object the
// survey system recorded, kept verbatim.
type Survey struct {
	ID          int64           `db:"id"`
	CustomerID  int64           `db:"customer_id"`
	Name        string          `db:"name"`
	SubmittedAt time.Time       `db:"submitted_at"`
	Responses   json.RawMessage `db:"responses"`
}

// Summary is the aggregate of one customer's interactions of one network and
// type: how many there are in total, when the last one happened and, for
// missed calls, whether the latest one was used.
type Summary struct {
	CustomerID int64
	Network    Network
	Type       Type
	Count      int
	// Last is the time of the newest interaction; nil when Count is 0.
	Last *time.Time
	// Used is the used flag of the newest missed call; false for other types.
	Used bool
}
