-- The PostgreSQL twin of sqlite/migrations/0002_read_store.sql. A page of
-- messages is one range of messages_by_customer; the index carries the
-- status too, so a dashboard's page (id, type, status, sent time) is read
-- from the index alone once the table is vacuumed. Bodies, which no list
-- shows unless asked, move to their own table.
CREATE TABLE message_bodies (
    org_id BIGINT NOT NULL,
    id     BIGINT NOT NULL,
    body   TEXT   NOT NULL,
    PRIMARY KEY (org_id, id)
);
INSERT INTO message_bodies (org_id, id, body) SELECT org_id, id, body FROM messages;
ALTER TABLE messages DROP COLUMN body;
DROP INDEX messages_by_customer;
CREATE INDEX messages_by_customer ON messages (org_id, customer_id, network, type, sent_at DESC, id DESC) INCLUDE (status);

-- Counts, newest times and used flags per customer, network and stored
-- type, kept by the importer in the same transaction as the rows.
CREATE TABLE interaction_counts (
    org_id      BIGINT  NOT NULL,
    customer_id BIGINT  NOT NULL,
    network     TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    last_at     BIGINT  NOT NULL,
    used        BOOLEAN NOT NULL DEFAULT FALSE,
    -- type before network: a request filtered by type seeks it
    PRIMARY KEY (org_id, customer_id, type, network)
);
INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
    SELECT org_id, customer_id, network, type, COUNT(*), MAX(sent_at), FALSE FROM messages
    GROUP BY org_id, customer_id, network, type;
INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
    SELECT org_id, customer_id, 'capillary', 'missed_call', COUNT(*), MAX(called_at),
        (SELECT x.used FROM missed_calls x WHERE x.org_id = mc.org_id AND x.customer_id = mc.customer_id
            ORDER BY x.called_at DESC, x.id DESC LIMIT 1)
    FROM missed_calls mc GROUP BY org_id, customer_id;
INSERT INTO interaction_counts (org_id, customer_id, network, type, n, last_at, used)
    SELECT org_id, customer_id, 'capillary', 'survey', COUNT(*), MAX(submitted_at), FALSE FROM surveys
    GROUP BY org_id, customer_id;
