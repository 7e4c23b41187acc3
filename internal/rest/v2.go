package rest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// The v2 payload, as in the vendor's "Interaction Type as Viber" sample.
type v2Response struct {
	Name        string          `json:"name"`
	Interaction []v2Interaction `json:"interaction"`
	Warnings    []v2Error       `json:"warnings"`
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
	SentDate      string `json:"sentDate"`
	DeliveredTime string `json:"deliveredTime,omitempty"`
	UserID        int64  `json:"userId"`
}

// v2Survey is a submitted survey; the vendor documents no shape, so it is
// ours: id, name, submittedDate ("DD-MM-YYYY HH:mm:ss") and the responses
// object as recorded.
type v2Survey struct {
	ID            int64           `json:"id"`
	Name          string          `json:"name"`
	SubmittedDate string          `json:"submittedDate"`
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
				resp := d.v2(req.filter.Network)
				write(w, r, http.StatusOK, "application/json; charset=utf-8", resp.appendJSON(make([]byte, 0, 4096)))
				return
			}
		}
		if interaction.KindOf(err) == interaction.KindInternal {
			o.logger().ErrorContext(r.Context(), "v2: load", "err", err)
		}
		WriteV2Error(w, r, err)
	})
}

func parseV2(r *http.Request) (request, error) {
	q := r.URL.Query()
	var req request
	name, value := strings.ToLower(strings.TrimSpace(q.Get("identifierName"))), q.Get("identifierValue")
	if name == "" && value == "" {
		return req, errNoIdentifier
	}
	if name == "" {
		return req, interaction.Errorf(interaction.KindInvalid, "identifierName is required: mobile, email or external_id")
	}
	var err error
	if req.id, err = (interaction.Identifier{Kind: interaction.IdentifierKind(name), Value: value}).Normalize(); err != nil {
		return req, err
	}
	p, _ := interaction.FromContext(r.Context())
	// The v2 payload describes one network: capillary unless asked.
	req.filter, req.page, err = filters(q, p.Org.Location(), interaction.Capillary, false)
	return req, err
}

func (d data) v2(network interaction.Network) v2Response {
	out := v2Response{Name: string(network), Interaction: []v2Interaction{}, Warnings: []v2Error{}}
	for _, g := range d.groups {
		if g.Network != network {
			continue
		}
		for _, s := range g.Items {
			it := v2Interaction{Count: s.Count, Name: string(s.Type)}
			switch {
			case s.Type == interaction.MissedCallType:
				used := s.Used
				it.UsedStatus = &used
			case s.Type == interaction.SurveyType:
				list := make([]v2Survey, 0, len(s.Surveys))
				for _, sv := range s.Surveys {
					list = append(list, v2Survey{ID: sv.ID, Name: sv.Name, SubmittedDate: d.format(sv.SubmittedAt, layoutDMY), Responses: sv.Responses})
				}
				it.Surveys = &list
			default:
				ms := s.Messages
				list := make([]v2Message, len(ms))
				for i, m := range ms {
					list[i] = v2Message{ID: m.ID, Receiver: m.Receiver, Subject: d.subject(m), CampaignID: m.CampaignID,
						Status: m.Status, SentDate: d.format(m.SentAt, layoutDMY), UserID: m.UserID}
					if m.DeliveredAt != nil {
						list[i].DeliveredTime = m.DeliveredAt.UTC().Format(layoutV2Deliv)
					}
				}
				it.MessageList = &list
			}
			out.Interaction = append(out.Interaction, it)
		}
	}
	return out
}

// WriteV2Error writes err as {"errors":[{code, message}]} with the status
// its kind decides; the HTTP middleware uses it for 401, 413, 429 and 500.
func WriteV2Error(w http.ResponseWriter, r *http.Request, err error) {
	k := interaction.KindOf(err)
	status := statusOf(k)
	e := v2Error{Code: status, Message: interaction.MessageOf(err)}
	switch {
	case k == interaction.KindNotFound:
		e = v2Error{Code: codeNotFound, Message: msgNotFound}
	case err == errNoIdentifier:
		e.Code = codeNoIdentifier
	case k == interaction.KindInvalid:
		e.Code = codeInvalid
	case status == http.StatusInternalServerError:
		e.Message = "internal error"
	}
	writeJSON(w, r, status, v2Errors{Errors: []v2Error{e}})
}
