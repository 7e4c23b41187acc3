-- A key may expire: expires_at is when, in milliseconds since the epoch
-- like revoked_at, and NULL (every key made before this migration) for
-- never. Authentication compares it with the server's clock on every
-- request (internal/auth); keys are read by id, so it needs no index.
--
-- The data-version triggers of 0004 fire on any UPDATE of api_keys,
-- whatever columns it sets, so a change of expires_at moves the
-- organisation's version like a revocation does.
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
