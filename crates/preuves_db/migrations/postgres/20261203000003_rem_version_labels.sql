-- A REM version's own label (docs/rules.md, "REM versions"): free text entered at import, unique
-- per dispositif, what pages, the API and attestations show (never the internal id). Versions
-- imported before this migration get their import number as label ("1", "2", ...).
-- Keep in step with ../sqlite/20261203000003_rem_version_labels.sql.
ALTER TABLE rem_versions ADD COLUMN label TEXT NOT NULL DEFAULT '';
UPDATE rem_versions SET label = CAST(version AS TEXT);
CREATE UNIQUE INDEX rem_versions_dispositif_label_key ON rem_versions (dispositif_id, label);
