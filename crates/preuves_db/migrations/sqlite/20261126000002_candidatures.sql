-- The vendor's journey, SQLite flavour. Keep in step with
-- ../postgres/20261126000002_candidatures.sql. Same conventions as the initial migration: unix
-- milliseconds, JSON text lists, flags as nullable timestamps, `revision` for optimistic
-- concurrency (every change adds 1; an update names the revision it was based on).

-- A vendor's solutions: the main component ("same solution" means same main component), its
-- versions and commercial names as JSON lists of strings.
CREATE TABLE solutions (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    main_component TEXT NOT NULL,
    versions TEXT NOT NULL,
    commercial_names TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX solutions_organisation ON solutions (organisation_id);

-- A candidature on a vague-2 dispositif, pinned to the REM version current when it was opened.
-- The administrative step is stored as columns (lists as JSON text); the solution's name and
-- main component are copied at each edit of the draft, so submission freezes them too.
CREATE TABLE candidatures (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    solution_id INTEGER NOT NULL REFERENCES solutions (id),
    dispositif_id INTEGER NOT NULL REFERENCES dispositifs (id),
    rem_version_id INTEGER NOT NULL REFERENCES rem_versions (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'in_instruction',
        'complement_requested', 'referenced', 'refused')),
    solution_name TEXT NOT NULL,
    main_component TEXT NOT NULL,
    optional_profiles TEXT NOT NULL,
    version TEXT NOT NULL,
    nrus TEXT NOT NULL,
    additional_components TEXT NOT NULL,
    commercial_names TEXT NOT NULL,
    -- The sworn statement (attestation sur l'honneur): blob key and original file name.
    honour_blob_key TEXT,
    honour_file_name TEXT,
    -- R5: NRUs entered after submission (JSON list).
    late_nrus TEXT NOT NULL,
    -- The plan frozen at submission (recomputed on a late NRU), as JSON.
    plan_snapshot TEXT,
    status_reason TEXT,
    status_changed_at INTEGER,
    revision INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    submitted_at INTEGER,
    complete_at INTEGER
);
CREATE INDEX candidatures_organisation ON candidatures (organisation_id, status);
CREATE INDEX candidatures_status ON candidatures (status);

-- Deposited proof files. Never overwritten: a new deposit is a new row. A row exists only once
-- its blob is fully stored. `scenario_index` and `proof_index` are positions (from 0) in the
-- requirement's scenarios of the pinned REM version; the REM's own numbers are kept beside.
CREATE TABLE proofs (
    id INTEGER PRIMARY KEY,
    candidature_id INTEGER NOT NULL REFERENCES candidatures (id),
    requirement_code TEXT NOT NULL,
    scenario_index INTEGER NOT NULL,
    proof_index INTEGER NOT NULL,
    scenario_ref TEXT,
    proof_ref TEXT,
    blob_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL,
    -- R5: set when the requirement became masked after submission (kept, not deleted).
    no_longer_needed_at INTEGER,
    verdict TEXT,
    verdict_comment TEXT,
    judged_by TEXT,
    judged_at INTEGER,
    CONSTRAINT proofs_blob_key_key UNIQUE (blob_key)
);
CREATE INDEX proofs_candidature ON proofs (candidature_id, requirement_code);
