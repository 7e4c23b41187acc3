package demo_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/sqlite"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

// TestImportsCleanly loads the demo data into a real store and reads the
// vendor samples back field by field.
func TestImportsCleanly(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, err := db.EnsureOrg(ctx, demo.OrgName)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := demo.Write(&buf, demo.Options{Customers: 1000}); err != nil {
		t.Fatal(err)
	}
	rep, err := importer.Import(ctx, &buf, db, org.ID, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 0 {
		t.Fatalf("%d rejections, first: %+v", rep.Rejected, rep.Rejections[0])
	}
	// About 20 messages a customer on average.
	if perCustomer := float64(rep.Messages) / float64(rep.Customers); perCustomer < 15 || perCustomer > 25 {
		t.Errorf("%.1f messages per customer, want about 20", perCustomer)
	}
	if rep.MissedCalls == 0 || rep.Surveys == 0 {
		t.Errorf("report = %+v, want missed calls and surveys", rep)
	}

	wantCustomers := map[string]interaction.Customer{
		"919988221100": {ID: demo.TomSawyer, OrgID: org.ID, Mobile: "919988221100", Email: "tom.sawyer@capillarytech.com"},
		"919353491050": {ID: demo.GCR, OrgID: org.ID, Mobile: "919353491050", Email: "gcr9986@gmail.com"},
		"917385022695": {ID: demo.ViberSample, OrgID: org.ID, Mobile: "917385022695"},
	}
	for mobile, want := range wantCustomers {
		cs, err := db.CustomersByIdentifier(ctx, org.ID, interaction.ByMobile, []string{mobile})
		if err != nil || len(cs) != 1 || cs[0] != want {
			t.Errorf("customer %s = %+v %v, want %+v", mobile, cs, err, want)
		}
	}
	if sums, _ := db.Summaries(ctx, org.ID, []int64{demo.GCR}, interaction.Filter{}); len(sums) != 0 {
		t.Errorf("customer %d should have no interactions: %+v", demo.GCR, sums)
	}

	const user = 432796209
	email := func(id int64, subject, status, sent, delivered string) interaction.Message {
		return interaction.Message{ID: id, CustomerID: demo.TomSawyer, Network: interaction.Capillary, Type: interaction.Email,
			Receiver: "aditi.khandelwal@capillarytech.com", Subject: subject, Status: status, CampaignID: 267560, UserID: user,
			SentAt: utc(sent), DeliveredAt: ptr(utc(delivered))}
	}
	viber := func(id int64, subject string, campaign int64, sent string) interaction.Message {
		return interaction.Message{ID: id, CustomerID: demo.ViberSample, Network: interaction.Capillary, Type: interaction.Viber,
			Receiver: "917385022695", Subject: subject, Status: "FAILED", CampaignID: campaign, UserID: user, SentAt: utc(sent)}
	}
	sms := func(id int64, sent string) interaction.Message {
		return interaction.Message{ID: id, CustomerID: demo.ViberSample, Network: interaction.Capillary, Type: interaction.SMS,
			Receiver: "919988221100", Subject: "Sample message Akash Vibertest", Status: "GTW_NOT_FOUND", CampaignID: -1, UserID: user,
			SentAt: utc(sent)}
	}
	want := []interaction.Message{ // newest first within a group, groups by type name
		email(1743467660038, "Loyalty+ Release Notes - JFM'25 (Part 2️⃣)", "DELIVERED", "2025-04-16T15:32:10Z", "2025-04-16T15:32:20Z"),
		email(1743467374476, "Loyalty+ Release Notes - JFM'25 (Part 1️⃣)", "OPENED", "2025-04-14T14:23:20Z", "2025-04-14T14:23:20Z"),
		sms(1740767431623, "2025-03-07T13:48:50Z"),
		sms(1740767430545, "2025-03-07T13:37:22Z"),
		sms(1740767429770, "2025-03-07T13:01:12Z"),
		sms(1740767429676, "2025-03-07T12:57:06Z"),
		viber(1746038178479, "Hii,This is the message in viber.", 1242049, "2025-05-28T13:52:07Z"),
		viber(1746038123393, "test-hello", 1241780, "2025-05-26T16:17:07Z"),
		viber(1746038123052, "AAAAAAACCCCCCC", 1241780, "2025-05-26T15:52:02Z"),
	}
	read, err := interaction.Read(ctx, db, org.ID, []int64{demo.TomSawyer, demo.ViberSample}, interaction.Request{
		Page: interaction.Page{Limit: 50}, Layout: interaction.LayoutV2, Lists: interaction.ListMessages, Fields: interaction.AllMessageFields})
	if err != nil {
		t.Fatal(err)
	}
	var got []interaction.Message
	for _, typ := range []interaction.Type{interaction.Email, interaction.SMS, interaction.Viber} {
		for _, gs := range read {
			for _, g := range gs {
				for _, it := range g.Items {
					if g.Network == interaction.Capillary && it.Type == typ {
						got = append(got, it.Messages...)
					}
				}
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d sample messages, want %d: %+v", len(got), len(want), got)
	}
	for i, g := range got {
		w := want[i]
		g.Body = "" // bodies are ours; the vendor samples show none
		if g.DeliveredAt != nil && w.DeliveredAt != nil && g.DeliveredAt.Equal(*w.DeliveredAt) {
			g.DeliveredAt = w.DeliveredAt
		}
		if g != w || !g.SentAt.Equal(w.SentAt) {
			t.Errorf("message %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}
