-- The PostgreSQL twin of sqlite/migrations/0001_init.sql: every row
-- belongs to an organisation, which leads every key and index. Times are
-- UTC unix milliseconds (BIGINT) as in SQLite, so both stores render the
-- same values; survey responses stay TEXT so they come back byte for byte.

CREATE TABLE orgs (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    time_zone  TEXT    NOT NULL DEFAULT 'UTC',
    mask_otp   BOOLEAN NOT NULL DEFAULT FALSE,
    rate_limit INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    org_id      BIGINT  NOT NULL REFERENCES orgs (id),
    secret_hash BYTEA   NOT NULL,
    md5_hash    BYTEA   NOT NULL,
    scopes      TEXT    NOT NULL,
    rate_limit  INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_by_org ON api_keys (org_id, created_at);

CREATE TABLE customers (
    org_id      BIGINT NOT NULL REFERENCES orgs (id),
    id          BIGINT NOT NULL,
    mobile      TEXT   NOT NULL DEFAULT '',
    email       TEXT   NOT NULL DEFAULT '',
    external_id TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX customers_by_mobile ON customers (org_id, mobile) WHERE mobile <> '';
CREATE UNIQUE INDEX customers_by_email ON customers (org_id, email) WHERE email <> '';
CREATE UNIQUE INDEX customers_by_external_id ON customers (org_id, external_id) WHERE external_id <> '';

CREATE TABLE messages (
    org_id       BIGINT NOT NULL,
    id           BIGINT NOT NULL,
    customer_id  BIGINT NOT NULL,
    network      TEXT   NOT NULL,
    type         TEXT   NOT NULL,
    sender       TEXT   NOT NULL DEFAULT '',
    receiver     TEXT   NOT NULL DEFAULT '',
    subject      TEXT   NOT NULL DEFAULT '',
    body         TEXT   NOT NULL DEFAULT '',
    status       TEXT   NOT NULL DEFAULT '',
    campaign_id  BIGINT NOT NULL DEFAULT -1,
    user_id      BIGINT NOT NULL DEFAULT -1,
    sent_at      BIGINT NOT NULL,
    delivered_at BIGINT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
CREATE INDEX messages_by_customer ON messages (org_id, customer_id, network, type, sent_at DESC, id DESC);

CREATE TABLE missed_calls (
    org_id      BIGINT  NOT NULL,
    id          BIGINT  NOT NULL,
    customer_id BIGINT  NOT NULL,
    called_at   BIGINT  NOT NULL,
    used        BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
CREATE INDEX missed_calls_by_customer ON missed_calls (org_id, customer_id, called_at DESC, id DESC) INCLUDE (used);

CREATE TABLE surveys (
    org_id       BIGINT NOT NULL,
    id           BIGINT NOT NULL,
    customer_id  BIGINT NOT NULL,
    name         TEXT   NOT NULL,
    submitted_at BIGINT NOT NULL,
    responses    TEXT   NOT NULL DEFAULT '{}',
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
CREATE INDEX surveys_by_customer ON surveys (org_id, customer_id, submitted_at DESC, id DESC);
