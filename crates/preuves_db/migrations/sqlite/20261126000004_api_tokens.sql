-- Personal API tokens, SQLite flavour. Keep in step with ../postgres/20261126000004_api_tokens.sql.
-- Same conventions as the earlier migrations: unix milliseconds, nullable timestamps as flags.
--
-- A token is a random 256-bit value shown once to its owner; only its SHA-256 is kept, like a
-- session's, so a leaked table yields no usable token. `scope` is `read` or `read_write`. A token
-- is usable while `revoked_at` is NULL, `expires_at` is in the future and its user is active.
-- `last_used_at` is written at most once a minute (not audited, like a session's `last_seen`).
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'read_write')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
