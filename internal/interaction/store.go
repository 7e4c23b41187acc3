package interaction

import (
	"context"
	"math"
	"time"
)

// Reader is what the read path (Read, through the per-request loaders)
// needs from a store. Every method answers for many customers with one SQL
// statement and is scoped to one organisation: rows of other organisations
// are never returned, whatever ids are passed.
type Reader interface {
	// CustomersByIdentifier returns the customers whose identifier of the
	// given kind is one of values (already normalised), in any order.
	// Values that match nothing are simply absent from the result.
	CustomersByIdentifier(ctx context.Context, org OrgID, kind IdentifierKind, values []string) ([]Customer, error)

	// Summaries returns, for each of the customers, one Summary per
	// network and stored type (phone and sms apart: see Assemble) that has
	// at least one interaction matching f, missed calls and surveys
	// (network capillary) included, in any order.
	Summaries(ctx context.Context, org OrgID, customerIDs []int64, f Filter) ([]Summary, error)

	// MessagePages returns, in one statement, the first q.Rows messages of
	// every partition in q (a customer's messages of one network and one
	// stored type) within q.Span in q.Order: each partition's messages
	// together, in that order (Order.Compare: sent time, then id), the
	// partitions in any order.
	// Only q.Fields of the optional columns are read; the others are left
	// zero.
	MessagePages(ctx context.Context, org OrgID, q PageQuery) ([]Message, error)

	// MissedCallPages and SurveyPages do the same for missed calls and
	// surveys (by call or submission time, then id); a partition's Network
	// and Type are ignored.
	MissedCallPages(ctx context.Context, org OrgID, q PageQuery) ([]MissedCall, error)
	SurveyPages(ctx context.Context, org OrgID, q PageQuery) ([]Survey, error)

	// StatusCounts returns, for each of the customers, how many messages
	// matching f it has of each network, stored type and delivery status
	// (only those with at least one), in any order.
	StatusCounts(ctx context.Context, org OrgID, customerIDs []int64, f Filter) ([]StatusCount, error)

	TimelineReader
}

// StatusCount is how many of a customer's messages of one network and
// type have one delivery status.
type StatusCount struct {
	CustomerID int64
	Network    Network
	Type       Type
	Status     string
	Count      int
}

// HeadReader is a Reader that can also read the summaries together with
// the newest messages of every partition they count, in one statement. A
// store across a network implements it: there each statement is a round
// trip that costs more than its rows, and a page of the newest messages
// needs nothing from the summaries that the store cannot join itself. Read
// uses it for requests that render messages and have no time span.
type HeadReader interface {
	Reader
	// SummariesWithHeads returns what Summaries returns for f (whose span
	// is open), and with it the first rows messages in order of every
	// message partition among those summaries (each partition's messages
	// together, the partitions in any order), reading only fields of the
	// optional columns.
	SummariesWithHeads(ctx context.Context, org OrgID, customerIDs []int64, f Filter, rows int, order Order, fields MessageFields) ([]Summary, []Message, error)
	// CustomersWithHeads finds the customers CustomersByIdentifier finds
	// and, in the same statement, answers SummariesWithHeads for them: a
	// question about one customer by mobile or email is then one round
	// trip.
	CustomersWithHeads(ctx context.Context, org OrgID, kind IdentifierKind, values []string, f Filter, rows int, order Order, fields MessageFields) ([]Customer, []Summary, []Message, error)
}

// SummaryFinder is a Reader that can find customers and read their kept
// summaries in one statement. Both stores implement it: embedded, a
// statement costs little beside its own work, but a question about one
// customer by mobile or email is two of them before any page; across a
// network each statement saved is a round trip, for the questions a
// HeadReader does not answer (counts without messages).
type SummaryFinder interface {
	Reader
	// CustomersWithSummaries finds the customers CustomersByIdentifier
	// finds and, in the same statement, answers Summaries for them under
	// f, whose span is open and which is not narrowed (the kept counts).
	CustomersWithSummaries(ctx context.Context, org OrgID, kind IdentifierKind, values []string, f Filter) ([]Customer, []Summary, error)
}

// Partition is one customer's interactions of one network and stored type:
// the unit a page is cut from.
type Partition struct {
	CustomerID int64
	Network    Network
	Type       Type // a stored type (a phone group pages two: see StoredTypes)
	// Count is how many interactions the partition holds, as Summaries
	// reported it. It only informs how a store reads the partition (a few
	// rows are cheaper to read whole than to seek into); a stale count
	// never changes the result.
	Count int
}

// PageQuery asks for the head of many partitions at once.
type PageQuery struct {
	Partitions []Partition
	Span       Span
	// Rows is how many of each partition's first interactions in Order to
	// return: a page's offset plus its limit.
	Rows   int
	Order  Order
	Fields MessageFields
	// Statuses and Campaigns keep only the messages of those statuses
	// and campaigns (Filter's), "" for no constraint.
	Statuses, Campaigns List
	// Complete says that Partitions hold every partition with rows of each
	// customer they name, within Network ("" for every network) and Span:
	// a store may then read those customers' rows whole instead of seeking
	// each partition, when that is cheaper.
	Complete bool
	Network  Network
}

// Empty reports whether q can match no row: it names no partition or asks
// for no rows of each. A store answers it without a statement.
func (q PageQuery) Empty() bool { return len(q.Partitions) == 0 || q.Rows <= 0 }

// Span is a time range; a zero bound is open. Both bounds are inclusive.
type Span struct {
	Since, Until time.Time
}

// spanOf is the span from since to until in UTC, a nil bound open; ok is
// false when until comes before since. The filters' constructors check
// their time arguments with it.
func spanOf(since, until *time.Time) (s Span, ok bool) {
	if since != nil {
		s.Since = since.UTC()
	}
	if until != nil {
		s.Until = until.UTC()
	}
	return s, s.Since.IsZero() || s.Until.IsZero() || !s.Until.Before(s.Since)
}

// Millis is the span in Unix milliseconds, as the stores keep times, an
// open bound the smallest or largest int64: a BETWEEN over it needs no
// case of its own.
func (s Span) Millis() (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if !s.Since.IsZero() {
		lo = s.Since.UnixMilli()
	}
	if !s.Until.IsZero() {
		hi = s.Until.UnixMilli()
	}
	return lo, hi
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
	RevokedAt  *time.Time `db:"revoked_at"` // counts by being set, never read against a clock
	ExpiresAt  *time.Time `db:"expires_at"` // nil: never; compared with the server's clock (auth)
}

// Expired reports whether the key has expired by now: at its ExpiresAt and
// after, never when that is nil. One rule for authentication and for what
// `keys list` shows.
func (k APIKey) Expired(now time.Time) bool { return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) }

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

// Versioner tells an organisation's data version: a number that moves, in
// the same transaction, with anything that can change one of the
// organisation's answers (an import, its settings, its keys), and never
// comes back. The response cache and the ETags are keyed by it.
type Versioner interface {
	DataVersion(ctx context.Context, org OrgID) (DataVersion, error)
}

// DataVersion is an organisation's data version and, read with it in one
// statement, the settings that shape its answers: a request rendered with
// these is rendered as the version says, even while the credential it
// authenticated with was read before a settings change.
type DataVersion struct {
	Version  int64
	TimeZone string
	MaskOTP  bool
}
