package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

type orgRow struct {
	ID        int64  `db:"id"`
	Name      string `db:"name"`
	TimeZone  string `db:"time_zone"`
	MaskOTP   bool   `db:"mask_otp"`
	RateLimit int    `db:"rate_limit"`
}

func (r orgRow) org() interaction.Org {
	return interaction.Org{ID: interaction.OrgID(r.ID), Name: r.Name, TimeZone: r.TimeZone, MaskOTP: r.MaskOTP, RateLimit: r.RateLimit}
}

const (
	orgCols   = `id, name, time_zone, mask_otp, rate_limit`
	ensureOrg = `INSERT INTO orgs (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`
	orgByName = `SELECT ` + orgCols + ` FROM orgs WHERE name = ?`
	orgByID   = `SELECT ` + orgCols + ` FROM orgs WHERE id = ?`
	orgNames  = `SELECT name FROM orgs ORDER BY name`
	updateOrg = `UPDATE orgs SET time_zone = ?, mask_otp = ?, rate_limit = ? WHERE id = ?`
	keyCols   = `id, org_id, secret_hash, md5_hash, scopes, rate_limit, created_at, revoked_at, expires_at`
	createKey = `INSERT INTO api_keys (` + keyCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)`
	keyByID   = `SELECT ` + keyCols + ` FROM api_keys WHERE id = ?`
	keysByOrg = `SELECT ` + keyCols + ` FROM api_keys WHERE org_id = ? ORDER BY created_at, id`
	revokeKey = `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`
)

// EnsureOrg returns the organisation called name, creating it with default
// settings if it does not exist.
func (db *Store) EnsureOrg(ctx context.Context, name string) (interaction.Org, error) {
	if name == "" {
		return interaction.Org{}, interaction.Errorf(interaction.KindInvalid, "organisation name is empty")
	}
	if _, err := db.w.ExecContext(ctx, db.w.Rebind(ensureOrg), name, time.Now().UnixMilli()); err != nil {
		return interaction.Org{}, fmt.Errorf("sqlstore: ensure org: %w", err)
	}
	return db.org(ctx, db.w, orgByName, name)
}

// OrgByName returns the organisation called name.
func (db *Store) OrgByName(ctx context.Context, name string) (interaction.Org, error) {
	return db.org(ctx, db.r, orgByName, name)
}

// OrgByID returns the organisation with id.
func (db *Store) OrgByID(ctx context.Context, id interaction.OrgID) (interaction.Org, error) {
	return db.org(ctx, db.r, orgByID, id)
}

// OrgNames returns the names of every organisation, sorted: serve asks
// before it loads demo data, which it adds only to a database holding no
// organisation but the demo one.
func (db *Store) OrgNames(ctx context.Context) ([]string, error) {
	var names []string
	if err := db.r.SelectContext(ctx, &names, orgNames); err != nil {
		return nil, fmt.Errorf("sqlstore: org names: %w", err)
	}
	return names, nil
}

type getter interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
}

// org reads one organisation with query; EnsureOrg passes the writer so
// it sees the row it may just have inserted.
func (db *Store) org(ctx context.Context, g getter, query string, arg any) (interaction.Org, error) {
	var r orgRow
	err := g.GetContext(ctx, &r, db.r.Rebind(query), arg)
	if errors.Is(err, sql.ErrNoRows) {
		return interaction.Org{}, interaction.Errorf(interaction.KindNotFound, "no organisation %v", arg)
	}
	if err != nil {
		return interaction.Org{}, fmt.Errorf("sqlstore: org: %w", err)
	}
	return r.org(), nil
}

// UpdateOrg stores o's settings (time zone, OTP masking, rate limit).
func (db *Store) UpdateOrg(ctx context.Context, o interaction.Org) error {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(updateOrg), o.TimeZone, o.MaskOTP, o.RateLimit, o.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: update org: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return interaction.Errorf(interaction.KindNotFound, "no organisation %d", o.ID)
	}
	return nil
}

type keyRow struct {
	ID         string        `db:"id"`
	OrgID      int64         `db:"org_id"`
	SecretHash []byte        `db:"secret_hash"`
	MD5Hash    []byte        `db:"md5_hash"`
	Scopes     string        `db:"scopes"`
	RateLimit  int           `db:"rate_limit"`
	CreatedAt  int64         `db:"created_at"`
	RevokedAt  sql.NullInt64 `db:"revoked_at"`
	ExpiresAt  sql.NullInt64 `db:"expires_at"`
}

func (r keyRow) key() interaction.APIKey {
	return interaction.APIKey{ID: r.ID, OrgID: interaction.OrgID(r.OrgID), SecretHash: r.SecretHash, MD5Hash: r.MD5Hash,
		Scopes: r.Scopes, RateLimit: r.RateLimit, CreatedAt: fromMillis(r.CreatedAt), RevokedAt: fromNullMillis(r.RevokedAt),
		ExpiresAt: fromNullMillis(r.ExpiresAt)}
}

// CreateKey stores a new API key.
func (db *Store) CreateKey(ctx context.Context, k interaction.APIKey) error {
	_, err := db.w.ExecContext(ctx, db.w.Rebind(createKey), k.ID, k.OrgID, k.SecretHash, k.MD5Hash, k.Scopes, k.RateLimit, millis(k.CreatedAt), nullMillis(k.ExpiresAt))
	switch {
	case db.violation(err) == Unique:
		return interaction.Errorf(interaction.KindConflict, "key %q already exists", k.ID)
	case db.violation(err) == ForeignKey:
		return interaction.Errorf(interaction.KindNotFound, "no organisation %d", k.OrgID)
	case err != nil:
		return fmt.Errorf("sqlstore: create key: %w", err)
	}
	return nil
}

// Key returns the key with id, revoked or not.
func (db *Store) Key(ctx context.Context, id string) (interaction.APIKey, error) {
	var r keyRow
	err := db.getRead(ctx, &r, keyByID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return interaction.APIKey{}, interaction.Errorf(interaction.KindNotFound, "no key %q", id)
	}
	if err != nil {
		return interaction.APIKey{}, fmt.Errorf("sqlstore: key: %w", err)
	}
	return r.key(), nil
}

// Keys lists an organisation's keys, oldest first.
func (db *Store) Keys(ctx context.Context, org interaction.OrgID) ([]interaction.APIKey, error) {
	var rows []keyRow
	if err := db.selectRead(ctx, &rows, keysByOrg, org); err != nil {
		return nil, fmt.Errorf("sqlstore: keys: %w", err)
	}
	out := make([]interaction.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// RevokeKey marks the key revoked at at. Revoking twice keeps the first time.
func (db *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, db.w.Rebind(revokeKey), millis(at), id)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return interaction.Errorf(interaction.KindNotFound, "no key %q", id)
	}
	return nil
}

type credentialRow struct {
	keyRow
	OrgName      string `db:"org_name"`
	OrgTimeZone  string `db:"org_time_zone"`
	OrgMaskOTP   bool   `db:"org_mask_otp"`
	OrgRateLimit int    `db:"org_rate_limit"`
}

// Credential reads a key and its organisation in one statement.
func (db *Store) Credential(ctx context.Context, id string) (interaction.APIKey, interaction.Org, error) {
	var r credentialRow
	err := db.getRead(ctx, &r, `SELECT k.id, k.org_id, k.secret_hash, k.md5_hash, k.scopes, k.rate_limit, k.created_at, k.revoked_at, k.expires_at,
		o.name AS org_name, o.time_zone AS org_time_zone, o.mask_otp AS org_mask_otp, o.rate_limit AS org_rate_limit
		FROM api_keys k JOIN orgs o ON o.id = k.org_id WHERE k.id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return interaction.APIKey{}, interaction.Org{}, interaction.Errorf(interaction.KindNotFound, "no key %q", id)
	}
	if err != nil {
		return interaction.APIKey{}, interaction.Org{}, fmt.Errorf("sqlstore: credential: %w", err)
	}
	k := r.key()
	return k, interaction.Org{ID: k.OrgID, Name: r.OrgName, TimeZone: r.OrgTimeZone, MaskOTP: r.OrgMaskOTP, RateLimit: r.OrgRateLimit}, nil
}
