-- A store built for reads. A page of messages is the newest rows of one
-- customer's network and type, so messages are clustered on exactly that
-- key (WITHOUT ROWID): a page is one contiguous range of one B-tree, and a
-- dashboard of fifty customers reads fifty short ranges. Bodies, which no
-- list shows unless asked, move to their own table so those ranges stay
-- narrow. The id stays unique per organisation through its own index.
CREATE TABLE messages_clustered (
    org_id       INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    network      TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    sent_at      INTEGER NOT NULL,
    id           INTEGER NOT NULL,
    sender       TEXT    NOT NULL DEFAULT '',
    receiver     TEXT    NOT NULL DEFAULT '',
    subject      TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL DEFAULT '',
    campaign_id  INTEGER NOT NULL DEFAULT -1,
    user_id      INTEGER NOT NULL DEFAULT -1,
    delivered_at INTEGER,
    PRIMARY KEY (org_id, customer_id, network, type, sent_at DESC, id DESC),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
) WITHOUT ROWID;
INSERT INTO messages_clustered (org_id, customer_id, network, type, sent_at, id, sender, receiver, subject, status,
        campaign_id, user_id, delivered_at)
    SELECT org_id, customer_id, network, type, sent_at, id, sender, receiver, subject, status,
        campaign_id, user_id, delivered_at FROM messages;

CREATE TABLE message_bodies (
    org_id INTEGER NOT NULL,
    id     INTEGER NOT NULL,
    body   TEXT    NOT NULL,
    PRIMARY KEY (org_id, id)
) WITHOUT ROWID;
INSERT INTO message_bodies (org_id, id, body) SELECT org_id, id, body FROM messages;

DROP TABLE messages;
ALTER TABLE messages_clustered RENAME TO messages;
CREATE UNIQUE INDEX messages_by_id ON messages (org_id, id);

-- Missed calls: clustered the same way (they are small rows).
CREATE TABLE missed_calls_clustered (
    org_id      INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    called_at   INTEGER NOT NULL,
    id          INTEGER NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, customer_id, called_at DESC, id DESC),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
) WITHOUT ROWID;
INSERT INTO missed_calls_clustered (org_id, customer_id, called_at, id, used)
    SELECT org_id, customer_id, called_at, id, used FROM missed_calls;
DROP TABLE missed_calls;
ALTER TABLE missed_calls_clustered RENAME TO missed_calls;
CREATE UNIQUE INDEX missed_calls_by_id ON missed_calls (org_id, id);

-- What every answer starts with, kept by the importer in the same
-- transaction as the rows it counts: per customer, network and stored
-- type, how many interactions there are, when the newest happened and, for
-- missed calls, whether the newest was used. Absent means none.
CREATE TABLE interaction_counts (
    org_id      INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    network     TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0,
    -- type before network: a request filtered by type seeks it
    PRIMARY KEY (org_id, customer_id, type, network)
) WITHOUT ROWID;
INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
    SELECT org_id, customer_id, network, type, COUNT(*), MAX(sent_at), 0 FROM messages
    GROUP BY org_id, customer_id, network, type;
INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
    SELECT org_id, customer_id, 'capillary', 'missed_call', COUNT(*), MAX(called_at),
        (SELECT x.used FROM missed_calls x WHERE x.org_id = mc.org_id AND x.customer_id = mc.customer_id
            ORDER BY x.called_at DESC, x.id DESC LIMIT 1)
    FROM missed_calls mc GROUP BY org_id, customer_id;
INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
    SELECT org_id, customer_id, 'capillary', 'survey', COUNT(*), MAX(submitted_at), 0 FROM surveys
    GROUP BY org_id, customer_id;

-- An import that moves a record to another customer must recount the
-- customer it left. The importer knows the customers it writes to, not the
-- ones rows came from: these triggers note those, and the importer
-- recounts and clears them before it commits. (Not INSERT OR IGNORE: an
-- upsert's own conflict handling overrides a trigger's.)
CREATE TABLE counts_stale (
    org_id      INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    PRIMARY KEY (org_id, customer_id)
) WITHOUT ROWID;
CREATE TRIGGER messages_moved AFTER UPDATE OF customer_id ON messages
    WHEN old.customer_id <> new.customer_id
    BEGIN INSERT INTO counts_stale (org_id, customer_id) SELECT old.org_id, old.customer_id
        WHERE NOT EXISTS (SELECT 1 FROM counts_stale WHERE org_id = old.org_id AND customer_id = old.customer_id); END;
CREATE TRIGGER missed_calls_moved AFTER UPDATE OF customer_id ON missed_calls
    WHEN old.customer_id <> new.customer_id
    BEGIN INSERT INTO counts_stale (org_id, customer_id) SELECT old.org_id, old.customer_id
        WHERE NOT EXISTS (SELECT 1 FROM counts_stale WHERE org_id = old.org_id AND customer_id = old.customer_id); END;
CREATE TRIGGER surveys_moved AFTER UPDATE OF customer_id ON surveys
    WHEN old.customer_id <> new.customer_id
    BEGIN INSERT INTO counts_stale (org_id, customer_id) SELECT old.org_id, old.customer_id
        WHERE NOT EXISTS (SELECT 1 FROM counts_stale WHERE org_id = old.org_id AND customer_id = old.customer_id); END;
