-- The timeline reads a customer's messages across networks and types,
-- newest first: this index is that order, one range per customer, and
-- (with the primary key's columns every index of a WITHOUT ROWID table
-- carries: network, type) holds what a timeline filters on, so a page and
-- its cut are read from it alone but for the columns a page renders.
CREATE INDEX messages_timeline ON messages (org_id, customer_id, sent_at DESC, id DESC, status, campaign_id);

-- Counts by delivery status, kept by the importer beside
-- interaction_counts (same transaction, same customers): statusCounts
-- and a statuses filter read a few rows per customer instead of grouping
-- every message on every request.
CREATE TABLE interaction_status_counts (
    org_id      INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    network     TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    PRIMARY KEY (org_id, customer_id, type, network, status)
) WITHOUT ROWID;
INSERT INTO interaction_status_counts (org_id, customer_id, network, type, status, n, last_at)
    SELECT org_id, customer_id, network, type, status, COUNT(*), MAX(sent_at) FROM messages
    GROUP BY org_id, customer_id, network, type, status;
