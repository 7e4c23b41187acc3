-- Every row belongs to an organisation, from the first migration on: the
-- organisation is the leading column of every key and index, so a query
-- scoped to one tenant is always an index seek and can never reach another.

CREATE TABLE orgs (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    time_zone  TEXT    NOT NULL DEFAULT 'UTC',
    mask_otp   INTEGER NOT NULL DEFAULT 0,
    rate_limit INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    secret_hash BLOB    NOT NULL,
    md5_hash    BLOB    NOT NULL,
    scopes      TEXT    NOT NULL,
    rate_limit  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX api_keys_by_org ON api_keys (org_id, created_at);

-- Customers are small and always read by key, so they live in the primary
-- key's B-tree (WITHOUT ROWID). Each identifier that is set is unique in
-- its organisation; '' means "not set" and may repeat.
CREATE TABLE customers (
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    id          INTEGER NOT NULL,
    mobile      TEXT    NOT NULL DEFAULT '',
    email       TEXT    NOT NULL DEFAULT '',
    external_id TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX customers_by_mobile ON customers (org_id, mobile) WHERE mobile <> '';
CREATE UNIQUE INDEX customers_by_email ON customers (org_id, email) WHERE email <> '';
CREATE UNIQUE INDEX customers_by_external_id ON customers (org_id, external_id) WHERE external_id <> '';

-- Messages carry bodies, so they keep a rowid table; the covering index
-- answers counts, last times and the page's ids without touching a body.
-- Times are UTC unix milliseconds.
CREATE TABLE messages (
    org_id       INTEGER NOT NULL,
    id           INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    network      TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    sender       TEXT    NOT NULL DEFAULT '',
    receiver     TEXT    NOT NULL DEFAULT '',
    subject      TEXT    NOT NULL DEFAULT '',
    body         TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL DEFAULT '',
    campaign_id  INTEGER NOT NULL DEFAULT -1,
    user_id      INTEGER NOT NULL DEFAULT -1,
    sent_at      INTEGER NOT NULL,
    delivered_at INTEGER,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
CREATE INDEX messages_by_customer ON messages (org_id, customer_id, network, type, sent_at DESC, id DESC);

CREATE TABLE missed_calls (
    org_id      INTEGER NOT NULL,
    id          INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    called_at   INTEGER NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
CREATE INDEX missed_calls_by_customer ON missed_calls (org_id, customer_id, called_at DESC, id DESC, used);

CREATE TABLE surveys (
    org_id       INTEGER NOT NULL,
    id           INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    name         TEXT    NOT NULL,
    submitted_at INTEGER NOT NULL,
    responses    TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
CREATE INDEX surveys_by_customer ON surveys (org_id, customer_id, submitted_at DESC, id DESC);
