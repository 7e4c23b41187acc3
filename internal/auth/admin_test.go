package auth_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// memAdmin is an interaction.Admin kept in maps. It deliberately does not
// implement auth.CredentialStore, so the authenticator's two-lookup path
// is the one exercised; it counts lookups to show nothing is cached.
type memAdmin struct {
	mu      sync.Mutex
	orgs    map[interaction.OrgID]interaction.Org
	keys    map[string]interaction.APIKey
	lookups int
	fail    error // returned by Key when set
}

func newMemAdmin() *memAdmin {
	return &memAdmin{orgs: map[interaction.OrgID]interaction.Org{}, keys: map[string]interaction.APIKey{}}
}

// byName finds the organisation called name; m.mu is held.
func (m *memAdmin) byName(name string) (interaction.Org, bool) {
	for _, o := range m.orgs {
		if o.Name == name {
			return o, true
		}
	}
	return interaction.Org{}, false
}

func (m *memAdmin) EnsureOrg(_ context.Context, name string) (interaction.Org, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.byName(name); ok {
		return o, nil
	}
	o := interaction.Org{ID: interaction.OrgID(len(m.orgs) + 1), Name: name}
	m.orgs[o.ID] = o
	return o, nil
}

func (m *memAdmin) OrgByName(ctx context.Context, name string) (interaction.Org, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.byName(name); ok {
		return o, nil
	}
	return interaction.Org{}, interaction.Errorf(interaction.KindNotFound, "no organisation %q", name)
}

func (m *memAdmin) OrgByID(_ context.Context, id interaction.OrgID) (interaction.Org, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
	o, ok := m.orgs[id]
	if !ok {
		return o, interaction.Errorf(interaction.KindNotFound, "no organisation %d", id)
	}
	return o, nil
}

func (m *memAdmin) UpdateOrg(_ context.Context, o interaction.Org) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orgs[o.ID] = o
	return nil
}

func (m *memAdmin) CreateKey(_ context.Context, k interaction.APIKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.keys[k.ID]; dup {
		return interaction.Errorf(interaction.KindConflict, "key %s exists", k.ID)
	}
	m.keys[k.ID] = k
	return nil
}

func (m *memAdmin) Key(_ context.Context, id string) (interaction.APIKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
	if m.fail != nil {
		return interaction.APIKey{}, m.fail
	}
	k, ok := m.keys[id]
	if !ok {
		return k, interaction.Errorf(interaction.KindNotFound, "no key %s", id)
	}
	return k, nil
}

func (m *memAdmin) Keys(_ context.Context, org interaction.OrgID) ([]interaction.APIKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []interaction.APIKey
	for _, k := range m.keys {
		if k.OrgID == org {
			out = append(out, k)
		}
	}
	return out, nil
}

func (m *memAdmin) RevokeKey(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok {
		return interaction.Errorf(interaction.KindNotFound, "no key %s", id)
	}
	k.RevokedAt = &at
	m.keys[id] = k
	return nil
}

func authenticate(t *testing.T, a *auth.Authenticator, header string) (interaction.Principal, error) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", header)
	return a.Authenticate(context.Background(), r)
}

// TestChangesApplyOnNextRequest: revocation and organisation settings are
// read on every request, with no restart and no cache to expire.
func TestChangesApplyOnNextRequest(t *testing.T) {
	ctx := context.Background()
	m := newMemAdmin()
	id, secret, err := auth.CreateKey(ctx, m, "acme", auth.KeySpec{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Admin: m}
	p, err := authenticate(t, a, basic(id, secret))
	if err != nil || p.Org.RateLimit != 0 || !p.Has(interaction.ScopeRead) || p.Has(interaction.ScopeOTPRead) {
		t.Fatalf("first request: %+v, %v", p, err)
	}
	if m.lookups != 2 {
		t.Errorf("%d store lookups for one request, want 2 (key, organisation)", m.lookups)
	}

	o, _ := m.OrgByName(ctx, "acme")
	o.RateLimit = 7
	m.UpdateOrg(ctx, o)
	if p, err := authenticate(t, a, basic(id, secret)); err != nil || p.Org.RateLimit != 7 {
		t.Errorf("after org update: rate %d, %v; want 7", p.Org.RateLimit, err)
	}

	m.RevokeKey(ctx, id, time.Now())
	if _, err := authenticate(t, a, basic(id, secret)); interaction.KindOf(err) != interaction.KindUnauthorized {
		t.Errorf("after revocation: %v, want unauthorized", err)
	}
}

// TestFailuresLookAlike: every bad credential gets the same kind and the
// same message, so a caller cannot tell an unknown key from a wrong secret.
func TestFailuresLookAlike(t *testing.T) {
	ctx := context.Background()
	m := newMemAdmin()
	id, secret, _ := auth.CreateKey(ctx, m, "acme", auth.KeySpec{}, time.Now())
	revoked, rsecret, _ := auth.CreateKey(ctx, m, "acme", auth.KeySpec{}, time.Now())
	m.RevokeKey(ctx, revoked, time.Now())
	soon := time.Now().Add(time.Hour)
	expired, esecret, _ := auth.CreateKey(ctx, m, "acme", auth.KeySpec{ExpiresAt: &soon}, time.Now())
	a := &auth.Authenticator{Admin: m, Now: func() time.Time { return soon }}
	var msgs []string
	for _, h := range []string{
		basic(id, "wrong"), basic(id, md5hex("wrong")), basic("tp_unknown", secret),
		basic(revoked, rsecret), basic(expired, esecret), "Basic %%%", "",
	} {
		_, err := authenticate(t, a, h)
		if interaction.KindOf(err) != interaction.KindUnauthorized {
			t.Fatalf("%q: %v, want unauthorized", h, err)
		}
		msgs = append(msgs, interaction.MessageOf(err))
	}
	for _, msg := range msgs[1:] {
		if msg != msgs[0] {
			t.Errorf("messages differ: %q", msgs)
			break
		}
	}
}

// TestStoreFailureIsNotUnauthorized: an unavailable store is an internal
// error (500, logged), not a reason to tell the caller its key is bad.
func TestStoreFailureIsNotUnauthorized(t *testing.T) {
	m := newMemAdmin()
	id, secret, _ := auth.CreateKey(context.Background(), m, "acme", auth.KeySpec{}, time.Now())
	cause := errors.New("disk on fire")
	m.fail = cause
	_, err := authenticate(t, &auth.Authenticator{Admin: m}, basic(id, secret))
	if interaction.KindOf(err) != interaction.KindInternal || !errors.Is(err, cause) {
		t.Errorf("err = %v, want an internal error wrapping the cause", err)
	}
}

func TestNewKey(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))
	idPattern := regexp.MustCompile(`^tp_[a-z2-7]{16}$`)
	seen := map[string]bool{}
	for range 50 {
		k, secret, err := auth.NewKey(3, auth.KeySpec{Scopes: []interaction.Scope{interaction.ScopeOTPRead}, RateLimit: 9}, now)
		if err != nil {
			t.Fatal(err)
		}
		if !idPattern.MatchString(k.ID) || len(secret) != 43 || seen[k.ID] || seen[secret] {
			t.Fatalf("id %q secret %q (len %d, seen %t/%t)", k.ID, secret, len(secret), seen[k.ID], seen[secret])
		}
		seen[k.ID], seen[secret] = true, true
		if k.OrgID != 3 || k.RateLimit != 9 || k.Scopes != "read otp:read" || !k.CreatedAt.Equal(now) || k.CreatedAt.Location() != time.UTC {
			t.Errorf("key %+v", k)
		}
		if len(k.SecretHash) != 32 || len(k.MD5Hash) != 32 || strings.Contains(string(k.SecretHash), secret) {
			t.Errorf("hashes %x %x", k.SecretHash, k.MD5Hash)
		}
		if k.ExpiresAt != nil {
			t.Errorf("a key made without an expiry expires at %v", k.ExpiresAt)
		}
	}
	// An expiry is kept in UTC, in a time of the key's own.
	expiry := now.Add(time.Hour)
	k, _, _ := auth.NewKey(3, auth.KeySpec{ExpiresAt: &expiry}, now)
	if k.ExpiresAt == &expiry || !k.ExpiresAt.Equal(expiry) || k.ExpiresAt.Location() != time.UTC {
		t.Errorf("expires %v, want %v in UTC, not the caller's pointer", k.ExpiresAt, expiry)
	}
}

func TestVerify(t *testing.T) {
	k, secret, _ := auth.NewKey(1, auth.KeySpec{}, time.Now())
	zero := interaction.APIKey{SecretHash: make([]byte, 32), MD5Hash: make([]byte, 32)}
	tests := []struct {
		name     string
		key      interaction.APIKey
		password string
		want     bool
	}{
		{"secret", k, secret, true},
		{"md5 hex", k, md5hex(secret), true},
		{"md5 hex upper", k, strings.ToUpper(md5hex(secret)), true},
		{"md5 hex truncated", k, md5hex(secret)[:31], false},
		{"md5 hex with a non-hex char", k, "z" + md5hex(secret)[1:], false},
		{"secret's prefix", k, secret[:20], false},
		{"empty", k, "", false},
		// The dummy key Authenticate hashes against for an unknown id
		// matches nothing.
		{"zero hashes, secret", zero, secret, false},
		{"zero hashes, md5", zero, md5hex(secret), false},
		{"zero hashes, empty", zero, "", false},
	}
	for _, tt := range tests {
		if got := auth.Verify(tt.key, tt.password); got != tt.want {
			t.Errorf("%s: Verify = %t, want %t", tt.name, got, tt.want)
		}
	}
}

// TestCreateKeyRejects: a key that could never be used as asked is
// refused as invalid input before anything is stored, not even its
// organisation.
func TestCreateKeyRejects(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, tt := range []struct {
		name string
		spec auth.KeySpec
	}{
		{"a negative rate", auth.KeySpec{RateLimit: -1}},
		{"an expiry now", auth.KeySpec{ExpiresAt: at(0)}},
		{"an expiry past", auth.KeySpec{ExpiresAt: at(-time.Hour)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemAdmin()
			_, _, err := auth.CreateKey(context.Background(), m, "acme", tt.spec, now)
			if interaction.KindOf(err) != interaction.KindInvalid || len(m.keys) != 0 || len(m.orgs) != 0 {
				t.Errorf("err = %v, keys %d, orgs %d", err, len(m.keys), len(m.orgs))
			}
		})
	}
}

// TestExpiry: a key works until its expiry by the authenticator's clock
// and is refused from that instant on, as any bad credential is; a key
// without an expiry works whatever the clock says.
func TestExpiry(t *testing.T) {
	ctx := context.Background()
	made := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	expiry := made.Add(30 * 24 * time.Hour)
	m := newMemAdmin()
	expiring, esecret, err := auth.CreateKey(ctx, m, "acme", auth.KeySpec{ExpiresAt: &expiry}, made)
	if err != nil {
		t.Fatal(err)
	}
	forever, fsecret, err := auth.CreateKey(ctx, m, "acme", auth.KeySpec{}, made)
	if err != nil {
		t.Fatal(err)
	}
	var now time.Time // the authenticator's clock, set by each case
	a := &auth.Authenticator{Admin: m, Now: func() time.Time { return now }}
	_, wrong := authenticate(t, a, basic(expiring, esecret+"x"))
	for _, tt := range []struct {
		name   string
		now    time.Time
		header string
		ok     bool
	}{
		{"at creation", made, basic(expiring, esecret), true},
		{"a millisecond before expiry", expiry.Add(-time.Millisecond), basic(expiring, esecret), true},
		{"in the vendor's form, before expiry", expiry.Add(-time.Millisecond), basic(expiring, md5hex(esecret)), true},
		{"exactly at expiry", expiry, basic(expiring, esecret), false},
		{"after expiry", expiry.Add(time.Nanosecond), basic(expiring, esecret), false},
		{"in the vendor's form, after expiry", expiry.Add(time.Hour), basic(expiring, md5hex(esecret)), false},
		{"with a wrong secret, after expiry", expiry.Add(time.Hour), basic(expiring, esecret+"x"), false},
		{"a clock behind the key's creation", made.Add(-time.Hour), basic(expiring, esecret), true},
		{"no expiry, years on", made.AddDate(30, 0, 0), basic(forever, fsecret), true},
		{"no expiry, at the other key's expiry", expiry, basic(forever, fsecret), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now = tt.now
			p, err := authenticate(t, a, tt.header)
			switch {
			case tt.ok && (err != nil || p.KeyID == ""):
				t.Errorf("principal %+v, err %v; want the key", p, err)
			case !tt.ok && (interaction.KindOf(err) != interaction.KindUnauthorized || interaction.MessageOf(err) != interaction.MessageOf(wrong)):
				// An expired key is told nothing a wrong secret is not.
				t.Errorf("err = %v, want %v", err, wrong)
			}
		})
	}
}

// BenchmarkAuthenticate shows a failure costs what a success does: an
// unknown key still hashes, so timing does not tell which part was wrong.
func BenchmarkAuthenticate(b *testing.B) {
	m := newMemAdmin()
	id, secret, _ := auth.CreateKey(context.Background(), m, "acme", auth.KeySpec{}, time.Now())
	a := &auth.Authenticator{Admin: m}
	for _, c := range []struct{ name, header string }{
		{"good", basic(id, secret)},
		{"wrong-secret", basic(id, secret+"x")},
		{"unknown-key", basic("tp_aaaaaaaaaaaaaaaa", secret)},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", c.header)
			for b.Loop() {
				a.Authenticate(context.Background(), r)
			}
		})
	}
}
