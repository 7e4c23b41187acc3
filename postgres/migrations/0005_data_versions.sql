-- A data version per organisation: the server's response cache and its
-- ETags are keyed by it, so it must move in the same transaction as
-- anything that can change an answer. Imports bump it themselves (write.go,
-- before their commit); the triggers below cover settings (time zone, OTP
-- masking) and keys, whichever process changes them. Every server reads it
-- per request (see postgres/version.go), so a change shows on the next
-- request to any replica.
--
-- A bump is greatest(version + 1, now in microseconds): it always grows,
-- and a database restored from a backup, or recreated, does not hand out
-- again a version (an ETag) a client may hold for other data.
CREATE FUNCTION touchpoint_version_now() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
$$;

CREATE TABLE data_versions (
    org_id  BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO data_versions (org_id, version) SELECT id, touchpoint_version_now() FROM orgs;

CREATE FUNCTION touchpoint_data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    org bigint;
BEGIN
    IF TG_TABLE_NAME = 'orgs' THEN
        IF TG_OP = 'DELETE' THEN org := OLD.id; ELSE org := NEW.id; END IF;
    ELSE
        IF TG_OP = 'DELETE' THEN org := OLD.org_id; ELSE org := NEW.org_id; END IF;
    END IF;
    INSERT INTO data_versions (org_id, version) VALUES (org, touchpoint_version_now())
        ON CONFLICT (org_id) DO UPDATE SET version = greatest(data_versions.version + 1, excluded.version);
    RETURN NULL;
END
$$;
CREATE TRIGGER orgs_data_version AFTER INSERT OR UPDATE OR DELETE ON orgs
    FOR EACH ROW EXECUTE FUNCTION touchpoint_data_version_bump();
CREATE TRIGGER api_keys_data_version AFTER INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION touchpoint_data_version_bump();
