-- R10, the guichet calendar (docs/rules.md): the first day (ISO) a candidature to a vague-2
-- dispositif may be opened; NULL = open. Loaded from catalogue.toml's `opens_on`.
-- Keep in step with ../postgres/20261203000004_guichet_opens_on.sql.
ALTER TABLE dispositifs ADD COLUMN opens_on TEXT;
