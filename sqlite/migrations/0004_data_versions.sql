-- A data version per organisation: the server's response cache and its
-- ETags are keyed by it, so it must move in the same transaction as
-- anything that can change an answer. Imports bump it themselves (write.go,
-- before their commit); the triggers below cover settings (time zone, OTP
-- masking) and keys, whichever process changes them.
--
-- A bump is max(version + 1, now in microseconds): it always grows, and
-- a database restored from a backup, or recreated, does not hand out again
-- a version (an ETag) a client may hold for other data.
CREATE TABLE data_versions (
    org_id  INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO data_versions (org_id, version)
    SELECT id, CAST(unixepoch('subsec') * 1000000 AS INTEGER) FROM orgs;

CREATE TRIGGER orgs_data_version_insert AFTER INSERT ON orgs BEGIN
    INSERT INTO data_versions (org_id, version) VALUES (NEW.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER))
        ON CONFLICT (org_id) DO UPDATE SET version = MAX(version + 1, excluded.version);
END;
CREATE TRIGGER orgs_data_version_update AFTER UPDATE ON orgs BEGIN
    UPDATE data_versions SET version = MAX(version + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER)) WHERE org_id = NEW.id;
END;
CREATE TRIGGER api_keys_data_version_insert AFTER INSERT ON api_keys BEGIN
    UPDATE data_versions SET version = MAX(version + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER)) WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER api_keys_data_version_update AFTER UPDATE ON api_keys BEGIN
    UPDATE data_versions SET version = MAX(version + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER)) WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER api_keys_data_version_delete AFTER DELETE ON api_keys BEGIN
    UPDATE data_versions SET version = MAX(version + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER)) WHERE org_id = OLD.org_id;
END;
