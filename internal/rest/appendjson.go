package rest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The success payloads of both versions are the hot ones (every REST call
// renders one), so they are written by hand-rolled appenders instead of
// encoding/json's reflection, which was a tenth of a v1.1 request's CPU:
// the same bytes, as TestAppendJSONMatchesEncodingJSON checks against
// encoding/json for the types' every field and for hostile strings. The
// structs and their tags stay the description of the payload (and XML
// still encodes them).

func (r *v2Response) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, r.Name)
	b = append(b, `,"interaction":`...)
	b = appendArray(b, r.Interaction)
	b = append(b, `,"warnings":`...)
	b = appendArray(b, r.Warnings)
	return append(b, "}\n"...) // json.Encoder ends with a newline
}

// appendArray writes vs as a JSON array, each element by its own
// appendJSON. The element's method is reached through the type parameter,
// not an interface value, so nothing is boxed.
func appendArray[T any, P interface {
	*T
	appendJSON([]byte) []byte
}](b []byte, vs []T) []byte {
	b = append(b, '[')
	for i := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = P(&vs[i]).appendJSON(b)
	}
	return append(b, ']')
}

func (w *v2Warning) appendJSON(b []byte) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(w.Code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, w.Message)
	b = append(b, `,"name":`...)
	b = appendString(b, w.Name)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(w.Count), 10)
	b = append(b, `,"returned":`...)
	b = strconv.AppendInt(b, int64(w.Returned), 10)
	return append(b, '}')
}

func (it *v2Interaction) appendJSON(b []byte) []byte {
	b = append(b, `{"count":`...)
	b = strconv.AppendInt(b, int64(it.Count), 10)
	b = append(b, `,"name":`...)
	b = appendString(b, it.Name)
	if it.MessageList != nil {
		b = append(b, `,"messageList":`...)
		b = appendArray(b, *it.MessageList)
	}
	if it.Surveys != nil {
		b = append(b, `,"surveys":`...)
		b = appendArray(b, *it.Surveys)
	}
	if it.UsedStatus != nil {
		b = append(b, `,"usedStatus":`...)
		b = strconv.AppendBool(b, *it.UsedStatus)
	}
	return append(b, '}')
}

func (m *v2Message) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	b = append(b, `,"receiver":`...)
	b = appendString(b, m.Receiver)
	b = append(b, `,"subject":`...)
	b = appendString(b, m.Subject)
	b = append(b, `,"campaignId":`...)
	b = strconv.AppendInt(b, m.CampaignID, 10)
	b = append(b, `,"status":`...)
	b = appendString(b, m.Status)
	b = append(b, `,"sentDate":`...)
	b = m.SentDate.appendJSON(b)
	if !m.DeliveredTime.IsZero() {
		b = append(b, `,"deliveredTime":`...)
		b = m.DeliveredTime.appendJSON(b)
	}
	b = append(b, `,"userId":`...)
	b = strconv.AppendInt(b, m.UserID, 10)
	return append(b, '}')
}

func (s *v2Survey) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, s.ID, 10)
	b = append(b, `,"name":`...)
	b = appendString(b, s.Name)
	b = append(b, `,"submittedDate":`...)
	b = s.SubmittedDate.appendJSON(b)
	b = append(b, `,"responses":`...)
	if len(s.Responses) == 0 {
		return append(b, "null}"...)
	}
	// encoding/json compacts a RawMessage (and, escaping HTML off, changes
	// nothing else).
	var c bytes.Buffer
	if err := json.Compact(&c, s.Responses); err != nil {
		return append(b, "null}"...) // stored responses are always valid JSON
	}
	b = append(b, c.Bytes()...)
	return append(b, '}')
}

// appendJSON writes the v1.1 JSON envelope, {"response": r}, as
// writeV11 has encoding/json write it.
func (r *v11Response) appendJSON(b []byte) []byte {
	b = append(b, `{"response":{"status":`...)
	b = r.Status.appendJSON(b)
	if r.Customer != nil {
		b = append(b, `,"customer":`...)
		b = r.Customer.appendJSON(b)
	}
	return append(b, "}}\n"...) // json.Encoder ends with a newline
}

func (s *v11Status) appendJSON(b []byte) []byte {
	b = append(b, `{"success":`...)
	b = appendString(b, s.Success)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(s.Code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, s.Message)
	return append(b, '}')
}

func (c *v11Customer) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"mobile":`...)
	b = appendString(b, c.Mobile)
	b = append(b, `,"email":`...)
	b = appendString(b, c.Email)
	b = append(b, `,"external_id":`...)
	b = appendString(b, c.ExternalID)
	if c.Interactions != nil {
		b = append(b, `,"interactions":{"network":`...)
		b = appendArray(b, c.Interactions.Network)
		b = append(b, '}')
	}
	b = append(b, `,"item_status":`...)
	b = c.ItemStatus.appendJSON(b)
	return append(b, '}')
}

func (n *v11Network) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, n.Name)
	b = append(b, `,"interaction":`...)
	b = appendArray(b, n.Interaction)
	return append(b, '}')
}

func (it *v11Interaction) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if it.Messages != nil {
		b = append(b, `"messages":{"message":`...)
		b = appendArray(b, it.Messages.Message)
		b = append(b, "},"...)
	}
	b = append(b, `"last_interaction_time":`...)
	b = it.LastInteractionTime.appendJSON(b)
	b = append(b, `,"used_status":`...)
	b = strconv.AppendBool(b, it.UsedStatus)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(it.Count), 10)
	b = append(b, `,"type":`...)
	b = appendString(b, it.Type)
	return append(b, '}')
}

func (m *v11Message) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	b = append(b, `,"sender":`...)
	b = appendString(b, m.Sender)
	b = append(b, `,"reciever":`...)
	b = appendString(b, m.Reciever)
	b = append(b, `,"subject":`...)
	b = appendString(b, m.Subject)
	b = append(b, `,"status":`...)
	b = appendString(b, m.Status)
	b = append(b, `,"sent_time":`...)
	b = m.SentTime.appendJSON(b)
	b = append(b, `,"delivered_time":`...)
	b = m.DeliveredTime.appendJSON(b)
	b = append(b, `,"campaign_id":`...)
	b = m.CampaignID.appendJSON(b)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping off:
// quote, backslash and control characters escaped (\b \f \n \r \t by
// name), invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
