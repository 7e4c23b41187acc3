package interaction

import "slices"

// Network is the channel family an interaction travelled on.
type Network string

// The networks the vendor API knows.
const (
	Capillary  Network = "capillary"
	Facebook   Network = "facebook"
	Twitter    Network = "twitter"
	Foursquare Network = "foursquare"
)

// Networks lists every network in a stable order.
var Networks = []Network{Capillary, Facebook, Twitter, Foursquare}

// Valid reports whether n is a known network.
func (n Network) Valid() bool { return slices.Contains(Networks, n) }

// Type is the kind of an interaction within its network.
type Type string

// Message types, plus the two non-message interactions (missed calls and
// surveys), which always belong to the capillary network.
const (
	Email          Type = "email"
	EmailBulk      Type = "emailbulk"
	SMS            Type = "sms"
	Phone          Type = "phone"
	WhatsApp       Type = "whatsapp"
	Viber          Type = "viber"
	Line           Type = "line"
	Zalo           Type = "zalo"
	Feedback       Type = "feedback"
	Checkin        Type = "checkin"
	Like           Type = "like"
	Comment        Type = "comment"
	Mention        Type = "mention"
	Retweet        Type = "retweet"
	Tweet          Type = "tweet"
	MissedCallType Type = "missed_call"
	SurveyType     Type = "survey"
)

// Types lists every type in a stable order.
var Types = []Type{
	Email, EmailBulk, SMS, Phone, WhatsApp, Viber, Line, Zalo, Feedback,
	Checkin, Like, Comment, Mention, Retweet, Tweet, MissedCallType, SurveyType,
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return slices.Contains(Types, t) }

// IsMessage reports whether interactions of type t are messages (as opposed
// to missed calls or surveys).
func (t Type) IsMessage() bool { return t.Valid() && t != MissedCallType && t != SurveyType }

// StoredTypes returns the message types whose rows make up an interaction of
// type t. The vendor reports the SMS traffic to a customer's phone under both
// "sms" and "phone" (its sample response lists the same messages under each),
// so a phone interaction is the customer's sms messages plus any message
// imported with type phone. Every other type is just itself.
func (t Type) StoredTypes() []Type {
	if t == Phone {
		return []Type{SMS, Phone}
	}
	return []Type{t}
}

// NetworksOf returns the networks interactions of type t belong to, as
// the vendor documents them ("mention, retweet, tweet - only for Twitter
// network", "like, comment - for facebook", "checkin: applicable only for
// foursquare/facebook", "feedback: only for Capillary"; missed calls and
// surveys are capillary's), the one shown when nothing is there first. It
// is nil for the types the documents tie to no network (email, sms and
// the other messaging channels): those are looked for wherever asked.
func NetworksOf(t Type) []Network {
	switch t {
	case Mention, Retweet, Tweet:
		return onTwitter
	case Like, Comment:
		return onFacebook
	case Checkin:
		return onCheckin
	case Feedback, MissedCallType, SurveyType:
		return onCapillary
	}
	return nil
}

var (
	onTwitter   = []Network{Twitter}
	onFacebook  = []Network{Facebook}
	onCheckin   = []Network{Foursquare, Facebook}
	onCapillary = []Network{Capillary}
)

// On reports whether interactions of type t can belong to network n.
func (t Type) On(n Network) bool {
	ns := NetworksOf(t)
	return ns == nil || slices.Contains(ns, n)
}
