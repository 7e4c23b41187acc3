// Package demo writes Touchpoint's deterministic demo data as importer
// NDJSON: the exact customers and messages of the vendor's documented
// samples, plus a generated population spread across every network, type
// and delivery status, so the playground and the REST shims have something
// real to show on a fresh machine.
package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// OrgName is the demo organisation.
const OrgName = "demo"

// Options size the generated population.
type Options struct {
	// Customers is how many generated customers to write besides the
	// vendor-sample ones; 0 means 1,000.
	Customers int
	// MessagesPerCustomer is the mean number of messages per generated
	// customer (the distribution is skewed); 0 means 20.
	MessagesPerCustomer int
	// Seed makes a different but still deterministic population.
	Seed uint64
}

// Sample customers from the vendor documents.
const (
	// TomSawyer is the v1.1 sample in the v2 document: two emails.
	TomSawyer = 565039505
	// GCR is the v1.1 sample document's customer: no interactions.
	GCR = 565118794
	// ViberSample is the customer of the v2 "Interaction Type as Viber"
	// sample; the document shows no id, so this one is ours.
	ViberSample = 565200001
)

// The records are importer.Lines, built by kind. Every generated value is
// set, so each field of its record is written (campaign_id -1 for none,
// delivered_at null when not delivered), as the importer reads them.

func customer(id int64, mobile, email, externalID string) importer.Line {
	return importer.Line{Record: "customer", ID: &id, Mobile: mobile, Email: email, ExternalID: externalID}
}

func message(id, customerID int64, network, typ, sender, receiver, subject, body, status string,
	campaignID, userID int64, sentAt string, deliveredAt *string) importer.Line {
	return importer.Line{Record: "message", ID: &id, CustomerID: &customerID, Network: network, Type: typ,
		Sender: sender, Receiver: receiver, Subject: subject, Body: body, Status: status,
		CampaignID: &campaignID, UserID: &userID, SentAt: sentAt, DeliveredAt: deliveredAt}
}

func missedCall(id, customerID int64, calledAt string, used bool) importer.Line {
	return importer.Line{Record: "missed_call", ID: &id, CustomerID: &customerID, CalledAt: calledAt, Used: used}
}

func survey(id, customerID int64, name, submittedAt string, responses map[string]any) (importer.Line, error) {
	raw, err := json.Marshal(responses)
	if err != nil {
		return importer.Line{}, fmt.Errorf("demo: survey %d: %w", id, err)
	}
	return importer.Line{Record: "survey", ID: &id, CustomerID: &customerID, Name: name, SubmittedAt: submittedAt,
		Responses: raw}, nil
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func ptr(s string) *string { return &s }

// samples are the vendor documents' records, verbatim.
func samples() []importer.Line {
	const user = 432796209
	var out []importer.Line
	out = append(out,
		customer(TomSawyer, "919988221100", "tom.sawyer@capillarytech.com", ""),
		customer(GCR, "919353491050", "gcr9986@gmail.com", ""),
		customer(ViberSample, "917385022695", "", ""),
		message(1743467374476, TomSawyer, "capillary", "email", "", "aditi.khandelwal@capillarytech.com",
			"Loyalty+ Release Notes - JFM'25 (Part 1️⃣)", "Release notes, part one.", "OPENED", 267560, user,
			"2025-04-14T14:23:20Z", ptr("2025-04-14T14:23:20Z")),
		message(1743467660038, TomSawyer, "capillary", "email", "", "aditi.khandelwal@capillarytech.com",
			"Loyalty+ Release Notes - JFM'25 (Part 2️⃣)", "Release notes, part two.", "DELIVERED", 267560, user,
			"2025-04-16T15:32:10Z", ptr("2025-04-16T15:32:20Z")),
	)
	viber := []struct {
		id       int64
		subject  string
		campaign int64
		sent     string
	}{
		{1746038123052, "AAAAAAACCCCCCC", 1241780, "2025-05-26T15:52:02Z"},
		{1746038123393, "test-hello", 1241780, "2025-05-26T16:17:07Z"},
		{1746038178479, "Hii,This is the message in viber.", 1242049, "2025-05-28T13:52:07Z"},
	}
	for _, v := range viber {
		out = append(out, message(v.id, ViberSample, "capillary", "viber", "", "917385022695",
			v.subject, v.subject, "FAILED", v.campaign, user, v.sent, nil))
	}
	sms := []struct {
		id   int64
		sent string
	}{
		{1740767431623, "2025-03-07T13:48:50Z"},
		{1740767429676, "2025-03-07T12:57:06Z"},
		{1740767429770, "2025-03-07T13:01:12Z"},
		{1740767430545, "2025-03-07T13:37:22Z"},
	}
	for _, s := range sms {
		out = append(out, message(s.id, ViberSample, "capillary", "sms", "", "919988221100",
			"Sample message Akash Vibertest", "Sample message Akash Vibertest", "GTW_NOT_FOUND", -1, user, s.sent, nil))
	}
	return out
}

var (
	statuses  = []string{"DELIVERED", "DELIVERED", "DELIVERED", "OPENED", "NOT-DELIVERED", "SOFT_BOUNCED", "FAILED", "GTW_NOT_FOUND", "SENT", "CLICKED"}
	subjects  = []string{"Your order has shipped", "Weekend sale: 20% off", "Welcome to the club", "Points expiring soon", "Thanks for visiting", "New arrivals this week"}
	otpTexts  = []string{"Your OTP is %04d. Do not share it with anyone.", "%06d is your verification code", "Use code %06d to sign in"}
	surveyQ   = []string{"NPS", "Store visit", "Delivery feedback"}
	capTypes  = []interaction.Type{interaction.SMS, interaction.SMS, interaction.SMS, interaction.Email, interaction.Email, interaction.EmailBulk, interaction.WhatsApp, interaction.WhatsApp, interaction.Viber, interaction.Line, interaction.Zalo, interaction.Feedback, interaction.Phone}
	socialNet = map[interaction.Network][]interaction.Type{
		interaction.Facebook:   {interaction.Like, interaction.Comment, interaction.Checkin},
		interaction.Twitter:    {interaction.Mention, interaction.Retweet, interaction.Tweet},
		interaction.Foursquare: {interaction.Checkin},
	}
	socialOrder = []interaction.Network{interaction.Facebook, interaction.Twitter, interaction.Foursquare}
)

// Write writes the demo data to w.
func Write(w io.Writer, o Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	if err := generate(o, func(rec importer.Line) error {
		var err error
		if line, err = rec.AppendJSON(line[:0]); err != nil {
			return err
		}
		_, err = bw.Write(append(line, '\n'))
		return err
	}); err != nil {
		return err
	}
	return bw.Flush()
}

// generate passes every record of the data set to emit, in order.
func generate(o Options, emit func(rec importer.Line) error) error {
	if o.Customers <= 0 {
		o.Customers = 1000
	}
	if o.MessagesPerCustomer <= 0 {
		o.MessagesPerCustomer = 20
	}
	for _, rec := range samples() {
		if err := emit(rec); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x70c4))
	end := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	span := int64(365 * 24 * time.Hour / time.Second)
	var msgID, callID, surveyID int64 = 1_800_000_000_000, 1, 1
	for i := range o.Customers {
		id := int64(1_000_001 + i)
		c := customer(id, fmt.Sprintf("9198%08d", i), fmt.Sprintf("customer%d@example.com", i), "")
		if i%3 == 0 {
			c.ExternalID = fmt.Sprintf("EXT-%06d", i)
		}
		if i%17 == 0 {
			c.Email = ""
		}
		if err := emit(c); err != nil {
			return err
		}
		// A skewed count: most customers get a few messages, some many.
		n := int(rng.ExpFloat64() * float64(o.MessagesPerCustomer))
		for range n {
			msgID++
			network, typ := interaction.Capillary, capTypes[rng.IntN(len(capTypes))]
			if rng.IntN(10) == 0 {
				network = socialOrder[rng.IntN(len(socialOrder))]
				types := socialNet[network]
				typ = types[rng.IntN(len(types))]
			}
			sent := end.Add(-time.Duration(rng.Int64N(span)) * time.Second)
			status := statuses[rng.IntN(len(statuses))]
			var delivered *string
			if status == "DELIVERED" || status == "OPENED" || status == "CLICKED" {
				delivered = ptr(ts(sent.Add(time.Duration(1+rng.IntN(30)) * time.Second)))
			}
			receiver := c.Mobile
			if typ == interaction.Email || typ == interaction.EmailBulk {
				receiver = c.Email
			}
			subject := subjects[rng.IntN(len(subjects))]
			body := subject + ". Reply STOP to opt out."
			if rng.IntN(8) == 0 {
				body = fmt.Sprintf(otpTexts[rng.IntN(len(otpTexts))], rng.IntN(1_000_000))
				if typ == interaction.Email {
					subject = body
				}
			}
			campaign := int64(-1)
			if rng.IntN(3) > 0 {
				campaign = 200_000 + rng.Int64N(5000)
			}
			m := message(msgID, id, string(network), string(typ), "", receiver, subject, body, status,
				campaign, 432_796_209+rng.Int64N(5), ts(sent), delivered)
			if err := emit(m); err != nil {
				return err
			}
		}
		for range rng.IntN(4) / 2 * (1 + rng.IntN(3)) {
			callID++
			mc := missedCall(callID, id, ts(end.Add(-time.Duration(rng.Int64N(span))*time.Second)), rng.IntN(2) == 0)
			if err := emit(mc); err != nil {
				return err
			}
		}
		if rng.IntN(4) == 0 {
			surveyID++
			s, err := survey(surveyID, id, surveyQ[rng.IntN(len(surveyQ))],
				ts(end.Add(-time.Duration(rng.Int64N(span))*time.Second)),
				map[string]any{"score": rng.IntN(11), "comment": "Great service"})
			if err != nil {
				return err
			}
			if err := emit(s); err != nil {
				return err
			}
		}
	}
	return nil
}
