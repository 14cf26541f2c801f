-- Sign-in attempts reserved before their password is checked. Keep in step with
-- ../postgres/20261203000002_login_attempts.sql.
--
-- A sign-in records its attempt in login_failures first (pending = 1), checks the password,
-- then deletes the row on success or settles it as a failure (pending = 0). Limits per e-mail
-- address count pending rows too, so parallel attempts on one account cannot all be checked;
-- the limit per client counts settled failures only, so many people signing in at once behind
-- one address are not refused.
ALTER TABLE login_failures ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
