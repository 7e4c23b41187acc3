// Package auth issues API keys and authenticates requests by HTTP Basic.
//
// A key is a public id ("tp_" and 16 base32 characters) and a secret of
// 32 random bytes. Only hashes are stored: SHA-256 of the secret, and
// SHA-256 of the secret's MD5 hex digest for the vendor's own Basic form
// (base64(username:md5hex(password))), which existing REST callers send
// and must keep sending unchanged. Because every secret carries 256 bits of
// entropy, a fast hash is enough: there is nothing to brute-force, so a
// slow password hash would only slow every request. Comparisons are
// constant-time, and failures never say which part was wrong: not even
// that a key has expired (see Authenticator).
package auth

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// KeySpec is what a new key is made with, beside its organisation.
type KeySpec struct {
	Scopes    []interaction.Scope // read is added when missing
	RateLimit int                 // requests a minute; 0 inherits the organisation's
	ExpiresAt *time.Time          // when the key stops working; nil for never
}

// NewKey makes a key for org with a fresh random secret, returned once;
// now is its creation time.
func NewKey(org interaction.OrgID, spec KeySpec, now time.Time) (interaction.APIKey, string, error) {
	idBytes := make([]byte, 10)
	secretBytes := make([]byte, 32)
	if _, err := rand.Read(idBytes); err != nil {
		return interaction.APIKey{}, "", err
	}
	if _, err := rand.Read(secretBytes); err != nil {
		return interaction.APIKey{}, "", err
	}
	id := "tp_" + strings.ToLower(b32.EncodeToString(idBytes))
	secret := base64.RawURLEncoding.EncodeToString(secretBytes)
	return KeyWithSecret(org, id, secret, spec, now), secret, nil
}

// KeyWithSecret makes a key with a given id and secret (the demo key).
func KeyWithSecret(org interaction.OrgID, id, secret string, spec KeySpec, now time.Time) interaction.APIKey {
	names := []string{string(interaction.ScopeRead)} // every key reads
	for _, s := range spec.Scopes {
		if !slices.Contains(names, string(s)) {
			names = append(names, string(s))
		}
	}
	var expires *time.Time
	if spec.ExpiresAt != nil {
		at := spec.ExpiresAt.UTC() // a copy: the key does not share the caller's time
		expires = &at
	}
	sum := md5.Sum([]byte(secret))
	return interaction.APIKey{
		ID: id, OrgID: org, SecretHash: hash(secret), MD5Hash: hash(hex.EncodeToString(sum[:])),
		Scopes: strings.Join(names, " "), RateLimit: spec.RateLimit, CreatedAt: now.UTC(), ExpiresAt: expires,
	}
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// ParseScopes reads a comma- or space-separated scope list; empty means
// read.
func ParseScopes(s string) ([]interaction.Scope, error) {
	var out []interaction.Scope
	for f := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		sc := interaction.Scope(f)
		if sc != interaction.ScopeRead && sc != interaction.ScopeOTPRead {
			return nil, interaction.Errorf(interaction.KindInvalid, "unknown scope %q (want %s or %s)", f, interaction.ScopeRead, interaction.ScopeOTPRead)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		out = []interaction.Scope{interaction.ScopeRead}
	}
	if !slices.Contains(out, interaction.ScopeRead) {
		// otp:read widens read; it is useless alone
		out = append([]interaction.Scope{interaction.ScopeRead}, out...)
	}
	return out, nil
}

// CreateKey makes a key for the organisation called orgName, creating the
// organisation if needed, and returns its id and secret. now is the
// creator's clock: the key's creation time, and what its expiry must come
// after (a key that could never work is refused, not made).
func CreateKey(ctx context.Context, admin interaction.Admin, orgName string, spec KeySpec, now time.Time) (id, secret string, err error) {
	if spec.RateLimit < 0 {
		return "", "", interaction.Errorf(interaction.KindInvalid, "rate must not be negative")
	}
	if spec.ExpiresAt != nil && !spec.ExpiresAt.After(now) {
		return "", "", interaction.Errorf(interaction.KindInvalid, "expiry %s is not in the future", spec.ExpiresAt.UTC().Format(time.RFC3339))
	}
	org, err := admin.EnsureOrg(ctx, orgName)
	if err != nil {
		return "", "", err
	}
	k, secret, err := NewKey(org.ID, spec, now)
	if err != nil {
		return "", "", err
	}
	if err := admin.CreateKey(ctx, k); err != nil {
		return "", "", err
	}
	return k.ID, secret, nil
}

// Authenticator checks Basic credentials against the stored keys. It asks
// the store for the key and its organisation on every request, so a
// revoked key fails on its next request and organisation settings apply
// without a restart. Both stores answer through CredentialStore: one
// statement, or an answer from a cache the store keeps exact (see
// sqlstore.CredentialCache). A store without it costs two primary-key
// lookups (key, then organisation). An expired key fails from the first
// request at or after its expiry by Now.
type Authenticator struct {
	Admin interaction.Admin
	// Now is the clock key expiry is decided by; nil means time.Now.
	// Tests set it to move past an expiry instead of sleeping until one.
	Now func() time.Time
}

func (a *Authenticator) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// absentKey stands in for a key that does not exist: its hashes are no
// SHA-256 of anything.
var absentKey = interaction.APIKey{SecretHash: make([]byte, sha256.Size), MD5Hash: make([]byte, sha256.Size)}

// errUnauthorized is the one answer to every bad credential.
var errUnauthorized = interaction.Errorf(interaction.KindUnauthorized, "invalid or missing API credentials")

// Authenticate returns the principal the request's credentials name.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (interaction.Principal, error) {
	id, password, ok := ParseBasic(r.Header.Get("Authorization"))
	if !ok {
		return interaction.Principal{}, errUnauthorized
	}
	key, org, err := a.credential(ctx, id)
	switch {
	case interaction.KindOf(err) == interaction.KindNotFound:
		// The same work as a wrong secret (the hashes and comparisons,
		// against a key no password matches), so an unknown key takes as
		// long; the store's part is equal when it caches both answers
		// alike (as sqlite's credential cache does).
		Verify(absentKey, password)
		return interaction.Principal{}, errUnauthorized
	case err != nil:
		return interaction.Principal{}, fmt.Errorf("auth: load key: %w", err)
	}
	// Revoked is revoked_at being set, not compared with a clock: read
	// against this replica's clock, a revocation stamped by a host whose
	// clock runs ahead would leave the key working until the two agreed.
	//
	// Expiry is a time, so it is compared with a clock: this replica's
	// (Now), here on every request, after the store's lookup, so neither a
	// cached credential nor a cached answer (the response cache runs after
	// authentication) outlives it. Clock skew between hosts moves it by
	// the skew: a replica whose clock runs s behind accepts the key for s
	// after its expiry, one running ahead refuses it s early; and the
	// expiry itself was reckoned on the clock of the host that made the
	// key (keys create --expires 720h). Hosts kept on NTP are milliseconds
	// apart, nothing beside expiries of hours or days.
	//
	// An expired key is refused as any bad credential is, with nothing
	// said of why, and after the same work: every check runs, whichever
	// fails.
	verified, expired := Verify(key, password), key.Expired(a.now())
	if !verified || expired || key.RevokedAt != nil {
		return interaction.Principal{}, errUnauthorized
	}
	var scopes []interaction.Scope
	for f := range strings.FieldsSeq(key.Scopes) {
		scopes = append(scopes, interaction.Scope(f))
	}
	if key.RateLimit > 0 {
		org.RateLimit = key.RateLimit // the key's own limit wins
	}
	return interaction.Principal{Org: org, KeyID: key.ID, Scopes: scopes}, nil
}

// CredentialStore is what a store can offer to load a key with its
// organisation in one round trip; stores without it cost two.
type CredentialStore interface {
	Credential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error)
}

func (a *Authenticator) credential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error) {
	if cs, ok := a.Admin.(CredentialStore); ok {
		return cs.Credential(ctx, id)
	}
	key, err := a.Admin.Key(ctx, id)
	if err != nil {
		return key, interaction.Org{}, err
	}
	org, err := a.Admin.OrgByID(ctx, key.OrgID)
	if err != nil {
		return key, org, fmt.Errorf("load organisation: %w", err)
	}
	return key, org, nil
}

// Verify reports whether password is the key's secret, or the MD5 hex
// digest of it (the vendor's form), in constant time.
func Verify(k interaction.APIKey, password string) bool {
	plain := subtle.ConstantTimeCompare(hash(password), k.SecretHash)
	md5form := 0
	if len(password) == 32 && isHex(password) {
		md5form = subtle.ConstantTimeCompare(hash(strings.ToLower(password)), k.MD5Hash)
	}
	return plain|md5form == 1
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// ParseBasic splits an Authorization header of the Basic scheme into user
// and password. Both must be non-empty.
func ParseBasic(header string) (user, password string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Basic") || len(rest) > 1024 {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	user, password, found = strings.Cut(string(raw), ":")
	if !found || user == "" || password == "" {
		return "", "", false
	}
	return user, password, true
}
