-- Instruction, decisions and the public register, SQLite flavour. Keep in step with
-- ../postgres/20261126000003_instruction.sql. Same conventions as the earlier migrations: unix
-- milliseconds, JSON text lists, actors as `Actor` text (`user:42`, `system`).

-- The instructor holding a candidature: instruction acts by another user are refused until it
-- is reassigned. NULL while nobody has taken it.
ALTER TABLE candidatures ADD COLUMN assigned_to INTEGER REFERENCES users (id);
CREATE INDEX candidatures_assigned ON candidatures (assigned_to);

-- Complement requests, kept forever: what the instructor asked (message and, per requirement, a
-- comment, as JSON `[{"requirement", "comment"}]`) and the vendor's answer once given. At most one
-- is open (unanswered) per candidature: requests are made in instruction, answers end them.
CREATE TABLE complement_requests (
    id INTEGER PRIMARY KEY,
    candidature_id INTEGER NOT NULL REFERENCES candidatures (id),
    message TEXT NOT NULL,
    items TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    requested_by TEXT NOT NULL,
    answer TEXT,
    answered_at INTEGER,
    answered_by TEXT
);
CREATE INDEX complement_requests_candidature ON complement_requests (candidature_id);

-- The last sequence number of the NRUs issued per dispositif part (`DUIMS`), wave and year;
-- read and bumped inside the grant's audited transaction (which serialises writers).
CREATE TABLE nru_sequences (
    dispositif_part TEXT NOT NULL,
    wave INTEGER NOT NULL,
    year INTEGER NOT NULL,
    last_sequence INTEGER NOT NULL,
    CONSTRAINT nru_sequences_pkey PRIMARY KEY (dispositif_part, wave, year)
);

-- What a referencing granted on this platform carries besides its register row: the
-- candidature it came from (one referencing per candidature), the REM version, the manifest
-- (per requirement in scope: proven here, inherited, equivalent; JSON) and the attestation.
CREATE TABLE referencing_grants (
    referencing_id INTEGER PRIMARY KEY REFERENCES referencings (id),
    candidature_id INTEGER NOT NULL REFERENCES candidatures (id),
    rem_version_id INTEGER NOT NULL REFERENCES rem_versions (id),
    manifest TEXT NOT NULL,
    attestation_blob_key TEXT NOT NULL,
    attestation_sha256 TEXT NOT NULL,
    verification_code TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    granted_by TEXT NOT NULL,
    CONSTRAINT referencing_grants_candidature_key UNIQUE (candidature_id)
);

-- The public register: folded search text (NRU, vendor, solution, commercial names; written by
-- the application, which folds accents the same way on both backends), and the indexes of its
-- filters and order. Rows recorded before this migration get a lower-cased approximation.
ALTER TABLE referencings ADD COLUMN search_text TEXT;
UPDATE referencings SET search_text = LOWER(nru || ' | '
    || (SELECT o.name FROM organisations o WHERE o.id = referencings.organisation_id)
    || ' | ' || solution || ' | ' || commercial_names);
CREATE INDEX referencings_register ON referencings (granted_on, nru);
CREATE INDEX referencings_dispositif_status ON referencings (dispositif_id, status);
CREATE INDEX referencings_status ON referencings (status);
