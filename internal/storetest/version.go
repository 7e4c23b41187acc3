package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// testDataVersionMoves: an organisation's data version grows with every
// change that can alter one of its answers (an import, even one that only
// repeats rows, a time zone, OTP masking, a key created or revoked), and
// with nothing another organisation does; an import that fails leaves it.
func testDataVersionMoves(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	acme := load(t, db, "acme", fixture)
	other := load(t, db, "other", fixture) // the same ids, another tenant
	version := func(o interaction.Org) int64 {
		t.Helper()
		v, err := db.DataVersion(ctx, o.ID)
		if err != nil {
			t.Fatalf("data version of %s: %v", o.Name, err)
		}
		// The settings come with it, as they are now.
		now, err := db.OrgByID(ctx, o.ID)
		if err != nil || v.TimeZone != now.TimeZone || v.MaskOTP != now.MaskOTP {
			t.Fatalf("data version of %s: settings %q %t, want %q %t (%v)", o.Name, v.TimeZone, v.MaskOTP, now.TimeZone, now.MaskOTP, err)
		}
		return v.Version
	}
	if _, err := db.DataVersion(ctx, 999_999); interaction.KindOf(err) != interaction.KindNotFound {
		t.Errorf("data version of no organisation: %v, want not found", err)
	}
	importText := func(text string) error {
		_, err := importer.Import(ctx, strings.NewReader(text), db, acme.ID, importer.Options{})
		return err
	}
	key := interaction.APIKey{ID: "tp_v", OrgID: acme.ID, SecretHash: []byte{1}, MD5Hash: []byte{2}, Scopes: "read", CreatedAt: time.Now()}
	for _, tt := range []struct {
		name   string
		change func() error
		moves  bool
	}{
		{"an import", func() error {
			return importText(`{"record":"message","id":99,"customer_id":2,"network":"capillary","type":"sms","subject":"new","status":"SENT","sent_at":"2025-03-01T10:00:00Z"}` + "\n")
		}, true},
		{"the same import again", func() error { return importText(fixture) }, true},
		{"a time zone", func() error { acme.TimeZone = "Asia/Kolkata"; return db.UpdateOrg(ctx, acme) }, true},
		{"OTP masking", func() error { acme.MaskOTP = true; return db.UpdateOrg(ctx, acme) }, true},
		{"a new key", func() error { return db.CreateKey(ctx, key) }, true},
		{"a revocation", func() error { return db.RevokeKey(ctx, key.ID, time.Now()) }, true},
		{"a read", func() error {
			_, err := db.CustomersByIdentifier(ctx, acme.ID, interaction.ByID, []string{"1"})
			return err
		}, false},
		{"a failed change", func() error {
			if err := db.UpdateOrg(ctx, interaction.Org{ID: 999_999, TimeZone: "UTC"}); interaction.KindOf(err) != interaction.KindNotFound {
				t.Errorf("update of no organisation: %v", err)
			}
			return nil
		}, false},
	} {
		before, otherBefore := version(acme), version(other)
		if err := tt.change(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		after := version(acme)
		if tt.moves && after <= before {
			t.Errorf("%s: version %d -> %d, want it to grow", tt.name, before, after)
		}
		if !tt.moves && after != before {
			t.Errorf("%s: version %d -> %d, want it unchanged", tt.name, before, after)
		}
		if got := version(other); got != otherBefore {
			t.Errorf("%s: the other organisation's version %d -> %d, want it unchanged", tt.name, otherBefore, got)
		}
	}
}
