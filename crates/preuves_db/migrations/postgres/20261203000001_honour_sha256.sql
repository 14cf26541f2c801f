-- The sworn statement's SHA-256 and size, recorded like a proof's, so that a backup and its
-- restore check its content too. Keep in step with ../sqlite/20261203000001_honour_sha256.sql.
-- NULL for a statement recorded before this migration (its content cannot be checked).
ALTER TABLE candidatures ADD COLUMN honour_sha256 TEXT;
ALTER TABLE candidatures ADD COLUMN honour_size BIGINT;
