package rest

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// The v1.1 envelope. Field order and names follow the vendor samples,
// "reciever" included; XML uses the same names.
type v11Response struct {
	XMLName  xml.Name     `json:"-" xml:"response"`
	Status   v11Status    `json:"status" xml:"status"`
	Customer *v11Customer `json:"customer,omitempty" xml:"customer,omitempty"`
}

type v11Status struct {
	Success string `json:"success" xml:"success"`
	Code    int    `json:"code" xml:"code"`
	Message string `json:"message" xml:"message"`
}

type v11Customer struct {
	ID           string           `json:"id" xml:"id"`
	Mobile       string           `json:"mobile" xml:"mobile"`
	Email        string           `json:"email" xml:"email"`
	ExternalID   string           `json:"external_id" xml:"external_id"`
	Interactions *v11Interactions `json:"interactions,omitempty" xml:"interactions,omitempty"`
	ItemStatus   v11Status        `json:"item_status" xml:"item_status"`
}

type v11Interactions struct {
	Network []v11Network `json:"network" xml:"network"`
}

type v11Network struct {
	Name        string           `json:"name" xml:"name"`
	Interaction []v11Interaction `json:"interaction" xml:"interaction"`
}

type v11Interaction struct {
	Messages            *v11Messages `json:"messages,omitempty" xml:"messages,omitempty"`
	LastInteractionTime when         `json:"last_interaction_time" xml:"last_interaction_time"`
	UsedStatus          bool         `json:"used_status" xml:"used_status"`
	Count               int          `json:"count" xml:"count"`
	Type                string       `json:"type" xml:"type"`
}

type v11Messages struct {
	Message []v11Message `json:"message" xml:"message"`
}

type v11Message struct {
	ID            int64   `json:"id" xml:"id"`
	Sender        string  `json:"sender" xml:"sender"`
	Reciever      string  `json:"reciever" xml:"reciever"` // sic: the vendor's spelling is the contract
	Subject       string  `json:"subject" xml:"subject"`
	Status        string  `json:"status" xml:"status"`
	SentTime      when    `json:"sent_time" xml:"sent_time"`
	DeliveredTime when    `json:"delivered_time" xml:"delivered_time"` // zero: "null"
	CampaignID    decimal `json:"campaign_id" xml:"campaign_id"`
}

const null = "null" // the vendor writes a missing time as the string "null"

// The message columns a v1.1 answer renders.
const v11Fields = interaction.FieldSender | interaction.FieldReceiver | interaction.FieldSubject | interaction.FieldStatus |
	interaction.FieldDelivered | interaction.FieldCampaign

// V11 serves GET /v1.1/customer/interaction.
func V11(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query() // parsed once: each parse is a map and a slice a parameter
		xmlOut, err := wantsXML(r, q)
		var req request
		if err == nil {
			req, err = parseV11(r, q)
		}
		if err == nil {
			var d data
			if d, err = load(r.Context(), req, interaction.LayoutV11, interaction.ListMessages, v11Fields); err == nil {
				writeV11(w, r, xmlOut, http.StatusOK, v11Response{Status: v11Status{"true", 200, "Success"}, Customer: d.v11()})
				return
			}
		}
		o.logInternal(r.Context(), "v1.1", err)
		writeV11Failure(w, r, xmlOut, failureOf(err))
	})
}

func parseV11(r *http.Request, q url.Values) (request, error) {
	var req request
	switch name := strings.TrimSpace(q.Get("identifierName")); {
	case name != "":
		req.id = interaction.Identifier{Kind: interaction.IdentifierKind(strings.ToLower(name)), Value: q.Get("identifierValue")}
	default:
		for _, k := range interaction.IdentifierKinds {
			if v := q.Get(string(k)); v != "" {
				req.id = interaction.Identifier{Kind: k, Value: v}
				break
			}
		}
	}
	if req.id.Kind == "" {
		return req, badIdentifier(interaction.Errorf(interaction.KindInvalid, "no identifier given"))
	}
	var err error
	if req.id, err = req.id.Normalize(); err != nil {
		return req, badIdentifier(err)
	}
	p, _ := interaction.FromContext(r.Context())
	if req.filter, err = filterParams(q, p.Org.Location(), true); err != nil {
		return req, err
	}
	req.page, err = pageParams(q)
	return req, err
}

// given echoes the identifiers the caller sent, as error envelopes do.
func given(q map[string][]string) v11Customer {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	c := v11Customer{ID: get("id"), Mobile: get("mobile"), Email: get("email"), ExternalID: get("external_id")}
	switch interaction.IdentifierKind(strings.ToLower(strings.TrimSpace(get("identifierName")))) {
	case interaction.ByID:
		c.ID = get("identifierValue")
	case interaction.ByMobile:
		c.Mobile = get("identifierValue")
	case interaction.ByEmail:
		c.Email = get("identifierValue")
	case interaction.ByExternalID:
		c.ExternalID = get("identifierValue")
	}
	return c
}

// writeV11Failure writes f in the v1.1 envelope: a failure of the inputs
// or the lookup as the vendor's status 500 with an item_status naming it,
// any other with its HTTP status as the status code.
func writeV11Failure(w http.ResponseWriter, r *http.Request, asXML bool, f failure) {
	f.headers(w)
	if !f.item() {
		writeV11(w, r, asXML, f.status, v11Response{Status: v11Status{"false", f.code, f.message}})
		return
	}
	c := given(r.URL.Query())
	c.ItemStatus = v11Status{"false", f.code, f.message}
	writeV11(w, r, asXML, f.status, v11Response{Status: v11Status{"false", 500, msgAllFailed}, Customer: &c})
}

func (d data) v11() *v11Customer {
	c := &v11Customer{
		ID: strconv.FormatInt(d.customer.ID, 10), Mobile: d.customer.Mobile, Email: d.customer.Email,
		ExternalID: d.customer.ExternalID, Interactions: &v11Interactions{Network: []v11Network{}},
		ItemStatus: v11Status{"true", codeRetrieved, msgRetrieved},
	}
	for _, g := range d.groups {
		n := v11Network{Name: string(g.Network), Interaction: []v11Interaction{}}
		for _, s := range g.Items {
			it := v11Interaction{UsedStatus: s.Used, Count: s.Count, Type: string(s.Type)} // no time: "null"
			if !s.Type.IsMessage() && s.Last != nil {
				it.LastInteractionTime = d.when(*s.Last, layoutDMY)
			}
			if ms := s.Messages; len(ms) > 0 {
				it.Messages = &v11Messages{Message: make([]v11Message, len(ms))}
				for i, m := range ms {
					it.Messages.Message[i] = v11Message{
						ID: m.ID, Sender: m.Sender, Reciever: m.Receiver, Subject: d.subject(m), Status: m.Status,
						SentTime: d.when(m.SentAt, layoutV11Sent), CampaignID: decimal(m.CampaignID),
					}
					if m.DeliveredAt != nil {
						it.Messages.Message[i].DeliveredTime = d.when(*m.DeliveredAt, layoutV11Sent)
					}
				}
			}
			n.Interaction = append(n.Interaction, it)
		}
		c.Interactions.Network = append(c.Interactions.Network, n)
	}
	return c
}

// wantsXML reads format=json|xml, or the Accept header when format is
// absent (JSON unless XML is asked for). For an invalid format it still
// says what Accept asks for, so that the error comes in that format.
func wantsXML(r *http.Request, q url.Values) (bool, error) {
	a := r.Header.Get("Accept")
	byAccept := strings.Contains(a, "/xml") && !strings.Contains(a, "/json")
	switch f := strings.ToLower(strings.TrimSpace(q.Get("format"))); f {
	case "json":
		return false, nil
	case "xml":
		return true, nil
	case "":
		return byAccept, nil
	default:
		return byAccept, invalid(codeFormat, "format must be json or xml, got %q", q.Get("format"))
	}
}

func writeV11(w http.ResponseWriter, r *http.Request, asXML bool, status int, v v11Response) {
	if asXML {
		writeXML(w, r, status, v)
		return
	}
	writeAppended(w, r, status, &v)
}

// WriteV11Error writes err in the v1.1 envelope, in the format the request
// asks for; the HTTP middleware uses it for 401, 405, 413, 429 and 500.
func WriteV11Error(w http.ResponseWriter, r *http.Request, err error) {
	asXML, _ := wantsXML(r, r.URL.Query())
	writeV11Failure(w, r, asXML, failureOf(err))
}
