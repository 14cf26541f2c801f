-- preuves schema, SQLite flavour. Keep in step with ../postgres/20261126000001_initial.sql:
-- same tables, columns and constraint meaning. Times are unix milliseconds (INTEGER), calendar
-- days are ISO text (YYYY-MM-DD), lists are JSON text, flags are nullable timestamps.

-- The audit trail: append-only, hash-chained. `audit_head` is a single row holding the last
-- entry's id and hash; every audited transaction updates it first, which serialises appends.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    siren TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT organisations_siren_key UNIQUE (siren)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('vendor', 'instructor', 'admin')),
    organisation_id INTEGER REFERENCES organisations (id),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER,
    CONSTRAINT users_email_key UNIQUE (email_key),
    CHECK ((role = 'vendor') = (organisation_id IS NOT NULL))
);
CREATE INDEX users_organisation ON users (organisation_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    email_key TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email_key, at);
CREATE INDEX login_failures_addr ON login_failures (client_addr, at);

CREATE TABLE dispositifs (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    wave INTEGER NOT NULL CHECK (wave IN (1, 2)),
    name TEXT NOT NULL,
    corridor TEXT NOT NULL,
    date2 TEXT,
    predecessors TEXT NOT NULL,
    wave1_profiles TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT dispositifs_code_wave_key UNIQUE (code, wave)
);

-- Bumped by every catalogue change, so that processes caching the loaded catalogue know when
-- to load it again.
CREATE TABLE catalogue_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO catalogue_revision (id, revision) VALUES (1, 0);

CREATE TABLE rem_versions (
    id INTEGER PRIMARY KEY,
    dispositif_id INTEGER NOT NULL REFERENCES dispositifs (id),
    version INTEGER NOT NULL,
    source_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    requirement_count INTEGER NOT NULL,
    imported_at INTEGER NOT NULL,
    imported_by TEXT NOT NULL,
    -- The import report (warnings) as JSON text, when the importer kept one.
    report TEXT,
    CONSTRAINT rem_versions_dispositif_version_key UNIQUE (dispositif_id, version)
);

CREATE TABLE requirements (
    id INTEGER PRIMARY KEY,
    rem_version_id INTEGER NOT NULL REFERENCES rem_versions (id),
    ordinal INTEGER NOT NULL,
    requirement_code TEXT NOT NULL,
    perimeter TEXT NOT NULL,
    chapter_code TEXT NOT NULL,
    chapter_label TEXT NOT NULL,
    function_label TEXT NOT NULL,
    requirement_text TEXT NOT NULL,
    comment_text TEXT NOT NULL,
    profile TEXT NOT NULL,
    historical_profile TEXT NOT NULL,
    criticality TEXT NOT NULL,
    socle_id TEXT,
    wave1_id TEXT,
    scenarios TEXT NOT NULL,
    search_text TEXT NOT NULL,
    CONSTRAINT requirements_version_code_key UNIQUE (rem_version_id, requirement_code),
    CONSTRAINT requirements_version_ordinal_key UNIQUE (rem_version_id, ordinal)
);
CREATE INDEX requirements_socle ON requirements (socle_id);
CREATE INDEX requirements_code ON requirements (requirement_code);

CREATE TABLE equivalence_pairs (
    id INTEGER PRIMARY KEY,
    a_dispositif TEXT NOT NULL,
    a_requirement TEXT NOT NULL,
    b_dispositif TEXT NOT NULL,
    b_requirement TEXT NOT NULL,
    CONSTRAINT equivalence_pairs_key UNIQUE (a_dispositif, a_requirement, b_dispositif, b_requirement)
);

CREATE TABLE referencings (
    id INTEGER PRIMARY KEY,
    nru TEXT NOT NULL,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    dispositif_id INTEGER NOT NULL REFERENCES dispositifs (id),
    profiles TEXT NOT NULL,
    solution TEXT NOT NULL,
    main_component TEXT NOT NULL,
    version TEXT NOT NULL,
    commercial_names TEXT NOT NULL,
    granted_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('valid', 'suspended', 'withdrawn')),
    status_reason TEXT,
    status_changed_at INTEGER,
    created_at INTEGER NOT NULL,
    CONSTRAINT referencings_nru_key UNIQUE (nru)
);
CREATE INDEX referencings_organisation ON referencings (organisation_id);
