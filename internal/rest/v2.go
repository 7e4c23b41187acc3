package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// The v2 payload, as in the vendor's "Interaction Type as Viber" sample.
type v2Response struct {
	Name        string          `json:"name"`
	Interaction []v2Interaction `json:"interaction"`
	Warnings    []v2Warning     `json:"warnings"`
}

// v2Warning is one entry of warnings, whose shape the vendor leaves open:
// a code and message, as errors have, and what it is about. Name is the
// interaction type; Count how many it has and Returned how many are listed
// (1201), or Count how many checkins the other network has (1202).
type v2Warning struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	Name     string `json:"name"`
	Count    int    `json:"count"`
	Returned int    `json:"returned"`
}

// v2Interaction carries exactly one of MessageList, Surveys and UsedStatus,
// by type: the others are omitted.
type v2Interaction struct {
	Count       int          `json:"count"`
	Name        string       `json:"name"`
	MessageList *[]v2Message `json:"messageList,omitempty"`
	Surveys     *[]v2Survey  `json:"surveys,omitempty"`
	UsedStatus  *bool        `json:"usedStatus,omitempty"`
}

type v2Message struct {
	ID            int64  `json:"id"`
	Receiver      string `json:"receiver"`
	Subject       string `json:"subject"`
	CampaignID    int64  `json:"campaignId"`
	Status        string `json:"status"`
	SentDate      when   `json:"sentDate"`
	DeliveredTime when   `json:"deliveredTime,omitzero"`
	UserID        int64  `json:"userId"`
}

// v2Survey is a submitted survey; the vendor documents no shape, so it is
// ours: id, name, submittedDate ("DD-MM-YYYY HH:mm:ss") and the responses
// object as recorded.
type v2Survey struct {
	ID            int64           `json:"id"`
	Name          string          `json:"name"`
	SubmittedDate when            `json:"submittedDate"`
	Responses     json.RawMessage `json:"responses"`
}

type v2Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type v2Errors struct {
	Errors []v2Error `json:"errors"`
}

// What a v2 answer renders: messages and surveys (missed calls show only
// their count and used flag), and these message columns.
const (
	v2Lists  = interaction.ListMessages | interaction.ListSurveys
	v2Fields = interaction.FieldReceiver | interaction.FieldSubject | interaction.FieldCampaign | interaction.FieldStatus |
		interaction.FieldDelivered | interaction.FieldUser
)

// V2 serves GET /v2/customers/interaction.
func V2(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := parseV2(r)
		if err == nil {
			var d data
			d, err = load(r.Context(), req, interaction.LayoutV2, v2Lists, v2Fields)
			if err == nil {
				resp := d.v2(req.filter)
				writeAppended(w, r, http.StatusOK, &resp)
				return
			}
		}
		o.logInternal(r.Context(), "v2", err)
		WriteV2Error(w, r, err)
	})
}

func parseV2(r *http.Request) (request, error) {
	q := r.URL.Query()
	var req request
	name, value := strings.ToLower(strings.TrimSpace(q.Get("identifierName"))), q.Get("identifierValue")
	if name == "" {
		return req, badIdentifier(interaction.Errorf(interaction.KindInvalid, "identifierName is required"))
	}
	var err error
	if req.id, err = (interaction.Identifier{Kind: interaction.IdentifierKind(name), Value: value}).Normalize(); err != nil {
		return req, badIdentifier(err)
	}
	if req.filter, err = filterParams(q, time.UTC, false); err != nil {
		return req, err
	}
	// The v2 payload describes one network: capillary unless asked or
	// implied by the type. checkin's two networks are both read (see v2).
	if req.filter.Network == "" && len(interaction.NetworksOf(req.filter.Type)) < 2 {
		req.filter.Network = interaction.Capillary
	}
	req.page, err = pageParams(q)
	return req, err
}

// v2 renders the payload of one network: f's, or for a type on several
// networks (checkin) the first of them with any, with a warning for each
// other that has some too.
func (d data) v2(f interaction.Filter) v2Response {
	out := v2Response{Interaction: []v2Interaction{}, Warnings: []v2Warning{}}
	network := f.Network
	if network == "" {
		ns := interaction.NetworksOf(f.Type)
		network = ns[0]
		for _, n := range ns {
			if d.count(n, f.Type) > 0 {
				network = n
				break
			}
		}
		for _, n := range ns {
			if c := d.count(n, f.Type); n != network && c > 0 {
				out.Warnings = append(out.Warnings, v2Warning{Code: warnElsewhere, Name: string(f.Type), Count: c,
					Message: fmt.Sprintf("%s: %d more on %s; ask with network=%s", f.Type, c, n, n)})
			}
		}
	}
	out.Name = string(network)
	// The items and every list of messages are cut from one slice each
	// (capped), sized first: this runs on every request.
	items, messages := 0, 0
	for _, g := range d.groups {
		if g.Network == network {
			items += len(g.Items)
			for _, s := range g.Items {
				messages += len(s.Messages)
			}
		}
	}
	out.Interaction = make([]v2Interaction, 0, items)
	all := make([]v2Message, 0, messages)
	for _, g := range d.groups {
		if g.Network != network {
			continue
		}
		for _, s := range g.Items {
			it := v2Interaction{Count: s.Count, Name: string(s.Type)}
			returned := s.Count
			switch {
			case s.Type == interaction.MissedCallType:
				used := s.Used
				it.UsedStatus = &used
			case s.Type == interaction.SurveyType:
				list := make([]v2Survey, 0, len(s.Surveys))
				for _, sv := range s.Surveys {
					list = append(list, v2Survey{ID: sv.ID, Name: sv.Name, SubmittedDate: d.when(sv.SubmittedAt, layoutDMY), Responses: sv.Responses})
				}
				it.Surveys = &list
				returned = len(list)
			default:
				ms := s.Messages
				start := len(all)
				all = all[:start+len(ms)]
				list := all[start : start+len(ms) : start+len(ms)]
				for i, m := range ms {
					list[i] = v2Message{ID: m.ID, Receiver: m.Receiver, Subject: d.subject(m), CampaignID: m.CampaignID,
						Status: m.Status, SentDate: d.when(m.SentAt, layoutDMY), UserID: m.UserID}
					if m.DeliveredAt != nil {
						list[i].DeliveredTime = when{m.DeliveredAt.UTC(), layoutV2Deliv}
					}
				}
				it.MessageList = &list
				returned = len(list)
			}
			if msg := d.cut(it.Name, returned, s.Count); msg != "" {
				out.Warnings = append(out.Warnings, v2Warning{Code: warnCut, Message: msg, Name: it.Name, Count: s.Count, Returned: returned})
			}
			out.Interaction = append(out.Interaction, it)
		}
	}
	return out
}

// count is how many interactions of type t the customer has on network n
// (under the request's filter).
func (d data) count(n interaction.Network, t interaction.Type) int {
	for _, g := range d.groups {
		if g.Network != n {
			continue
		}
		for _, s := range g.Items {
			if s.Type == t {
				return s.Count
			}
		}
	}
	return 0
}

// WriteV2Error writes err as {"errors":[{code, message}]} with the status
// failureOf decides; the HTTP middleware uses it for 401, 405, 413, 429
// and 500.
func WriteV2Error(w http.ResponseWriter, r *http.Request, err error) {
	f := failureOf(err)
	f.headers(w)
	writeJSON(w, r, f.status, v2Errors{Errors: []v2Error{{Code: f.code, Message: f.message}}})
}
