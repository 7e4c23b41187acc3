-- Each server keeps keys with their organisations in memory between
-- requests (see postgres/credentials.go). Every change to either tells all
-- of them to forget, at commit, on one channel; a server that is not
-- listening does not keep them.
CREATE FUNCTION touchpoint_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('touchpoint_credentials', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION touchpoint_credentials_changed();
CREATE TRIGGER orgs_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orgs
    FOR EACH STATEMENT EXECUTE FUNCTION touchpoint_credentials_changed();
