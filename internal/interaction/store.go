package interaction

import (
	"context"
	"time"
)

// Reader is what the per-request loaders need from a store. Every method
// answers for many customers with one SQL statement and is scoped to one
// organisation: rows of other organisations are never returned, whatever
// ids are passed.
type Reader interface {
	// CustomersByIdentifier returns the customers whose identifier of the
	// given kind is one of values (already normalised), in any order.
	// Values that match nothing are simply absent from the result.
	CustomersByIdentifier(ctx context.Context, org OrgID, kind IdentifierKind, values []string) ([]Customer, error)

	// Summaries returns, for each of the customers, one Summary per
	// (network, stored type) that has at least one interaction matching f,
	// including missed calls and surveys (network capillary). Phone is not
	// merged here: see Assemble.
	Summaries(ctx context.Context, org OrgID, customerIDs []int64, f Filter) ([]Summary, error)

	// Messages returns, in one statement, the pages of many customers'
	// messages in many groups: for every customer and every group, the
	// messages of the group's network and of the stored types of its type
	// (see StoredTypes) within the time bounds, newest first (sent_at, then
	// id, descending), cut to page. A message can be on two pages (an sms
	// is on the sms and the phone page), so each result says which group it
	// was paged in. Results are ordered by customer, group, then newest first.
	Messages(ctx context.Context, org OrgID, customerIDs []int64, groups []GroupKey, span Span, page Page) ([]PagedMessage, error)

	// MissedCalls and Surveys return, for each of the customers, the page
	// q.Page of its missed calls or surveys within q's time bounds, newest
	// first, ordered by customer (q.Network and q.Type are ignored).
	MissedCalls(ctx context.Context, org OrgID, customerIDs []int64, q PageQuery) ([]MissedCall, error)
	Surveys(ctx context.Context, org OrgID, customerIDs []int64, q PageQuery) ([]Survey, error)
}

// GroupKey names one group of messages: a network and an interaction type.
type GroupKey struct {
	Network Network
	Type    Type
}

// Span is a time range; a zero bound is open.
type Span struct {
	Since, Until time.Time
}

// PagedMessage is a message and the group whose page it is on.
type PagedMessage struct {
	Group GroupKey
	Message
}

// APIKey is a stored credential. The secret itself is never stored: only
// SHA-256 hashes of it and of its MD5 hex digest (the vendor's Basic-auth
// form sends md5hex(secret) as the password).
type APIKey struct {
	ID         string     `db:"id"`
	OrgID      OrgID      `db:"org_id"`
	SecretHash []byte     `db:"secret_hash"`
	MD5Hash    []byte     `db:"md5_hash"`
	Scopes     string     `db:"scopes"`     // space-separated Scope values
	RateLimit  int        `db:"rate_limit"` // requests a minute; 0 inherits the org's
	CreatedAt  time.Time  `db:"created_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

// Admin manages organisations and keys. It is used by the CLI and by
// authentication, not by the read path.
type Admin interface {
	// EnsureOrg returns the organisation named name, creating it with
	// default settings if it does not exist.
	EnsureOrg(ctx context.Context, name string) (Org, error)
	OrgByName(ctx context.Context, name string) (Org, error)
	OrgByID(ctx context.Context, id OrgID) (Org, error)
	UpdateOrg(ctx context.Context, o Org) error

	CreateKey(ctx context.Context, k APIKey) error
	// Key returns the key with the given id, revoked or not; KindNotFound
	// when there is none.
	Key(ctx context.Context, id string) (APIKey, error)
	Keys(ctx context.Context, org OrgID) ([]APIKey, error)
	RevokeKey(ctx context.Context, id string, at time.Time) error
}
