-- The PostgreSQL twin of sqlite/migrations/0003_timeline.sql. The
-- timeline's order per customer, across networks and types, with what
-- it filters on and what a dashboard's page shows (network, type,
-- status, campaign), so a page is one index range read from the index.
CREATE INDEX messages_timeline ON messages (org_id, customer_id, sent_at DESC, id DESC)
    INCLUDE (network, type, status, campaign_id);

-- Counts by delivery status, kept by the importer beside
-- interaction_counts.
CREATE TABLE interaction_status_counts (
    org_id      BIGINT  NOT NULL,
    customer_id BIGINT  NOT NULL,
    network     TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    last_at     BIGINT  NOT NULL,
    PRIMARY KEY (org_id, customer_id, type, network, status)
);
INSERT INTO interaction_status_counts (org_id, customer_id, network, type, status, n, last_at)
    SELECT org_id, customer_id, network, type, status, COUNT(*), MAX(sent_at) FROM messages
    GROUP BY org_id, customer_id, network, type, status;
