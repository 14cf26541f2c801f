# shellcheck shell=bash
# Shared steps of the load scripts (sourced, not run): build the release binary, start
# `preuves serve --demo` on a free local port with its data in a temporary folder, sign in as
# the demo vendor and open the webinar's case-3 candidature through the pages.
#
# The sourcing script must have `set -euo pipefail`. After `load_start_server`:
#   ROOT          the repository root (the current directory)
#   WORK          a temporary folder, removed at exit with the server stopped
#   SERVER_PID    the server process
#   BASE          http://127.0.0.1:<port>
#   JAR           the curl cookie jar of the signed-in vendor (after `load_sign_in`)
#   CANDIDATURE   the case-3 draft's id (after `load_open_case3`)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1

# The demo vendor of `serve --demo` (crates/preuves/src/demo.rs).
readonly DEMO_EMAIL="editeur@demo.preuves.fr"
readonly DEMO_PASSWORD="demo-preuves-2026"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/preuves-load.XXXXXX")"
JAR="$WORK/cookies.txt"
SERVER_PID=""
BASE=""
CANDIDATURE=""

say() { printf '==> %s\n' "$*" >&2; }
fail() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

# Stops the server started by load_start_server: graceful first, no more than 10 s.
load_stop_server() {
    [[ -n "$SERVER_PID" ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

load_cleanup() {
    local status=$?
    load_stop_server
    if [[ $status -ne 0 && -s "$WORK/server.log" ]]; then
        printf -- '--- last lines of the server log ---\n' >&2
        tail -n 20 "$WORK/server.log" >&2 || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap load_cleanup EXIT
trap 'exit 130' INT TERM

need() {
    command -v "$1" >/dev/null 2>&1 || fail "$1 is required${2:+ ($2)}"
}

# The value of the first `name="<field>" value="..."` of an HTML page, entities decoded.
html_field() {
    local name=$1 file=$2
    grep -o "name=\"$name\" value=\"[^\"]*\"" "$file" | awk 'NR == 1' |
        sed -e "s/^name=\"$name\" value=\"//" -e 's/"$//' \
            -e 's/&#x2f;/\//g; s/&#47;/\//g; s/&#39;/'"'"'/g; s/&#x27;/'"'"'/g' \
            -e 's/&quot;/"/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g'
}

# The `Location` header of a response headers file.
location_of() {
    grep -i '^location:' "$1" | awk 'NR == 1' | sed -e 's/^[Ll]ocation:[[:space:]]*//' | tr -d '\r'
}

# The HTTP status of a response headers file (the last one: curl may print `100 Continue`).
status_of() {
    grep -E '^HTTP/[0-9.]+ [0-9]{3}' "$1" | tail -n 1 | awk '{print $2}'
}

# Builds the release binary, unless SKIP_BUILD=1 (reuse target/release/preuves as it is).
load_build() {
    if [[ "${SKIP_BUILD:-0}" == 1 ]]; then
        [[ -x "$ROOT/target/release/preuves" ]] || fail "SKIP_BUILD=1 but target/release/preuves is missing"
        say "reusing target/release/preuves (SKIP_BUILD=1)"
        return 0
    fi
    need cargo
    say "building the release binary (cargo build --release)"
    # The compiler's output goes to a log, shown only if the build fails.
    if ! cargo build --release >"$WORK/build.log" 2>&1; then
        tail -n 40 "$WORK/build.log" >&2
        fail "cargo build --release failed"
    fi
    [[ -x "$ROOT/target/release/preuves" ]] || fail "target/release/preuves was not built"
}

# Starts the demo server on a free port (the kernel picks it: --bind 127.0.0.1:0; the start-up
# banner names it) with any extra `serve` arguments, and waits for /health/ready.
load_start_server() {
    need curl
    say "starting preuves serve --demo (data in $WORK/data) $*"
    # SQLite in the temporary folder whatever the environment says (DATABASE_URL would select
    # PostgreSQL). `env` execs the server, so $! is the server's own pid.
    env -u DATABASE_URL -u PREUVES_DATA_DIR -u PREUVES_BLOB_URL \
        "$ROOT/target/release/preuves" serve --demo \
        --demo-catalogue "$ROOT/demo/catalogue/catalogue.toml" \
        --data-dir "$WORK/data" \
        --bind 127.0.0.1:0 \
        --insecure-cookies \
        "$@" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    local port=""
    for _ in $(seq 1 600); do
        kill -0 "$SERVER_PID" 2>/dev/null || fail "the server stopped during start-up"
        port=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$WORK/server.log" 2>/dev/null |
            head -n 1 | sed -e 's/.*://' -e 's/\///') || true
        [[ -n "$port" ]] && break
        sleep 0.1
    done
    [[ -n "$port" ]] || fail "the server did not print its address within 60 s"
    BASE="http://127.0.0.1:$port"
    for _ in $(seq 1 300); do
        if curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null; then
            say "server ready at $BASE (pid $SERVER_PID)"
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || fail "the server stopped before being ready"
        sleep 0.1
    done
    fail "$BASE/health/ready did not answer within 30 s"
}

# Signs in as the demo vendor through the sign-in form; the session cookie lands in $JAR.
load_sign_in() {
    say "signing in as $DEMO_EMAIL"
    curl -fsS -c "$JAR" -b "$JAR" -o "$WORK/connexion.html" "$BASE/connexion"
    local csrf
    csrf=$(html_field csrf "$WORK/connexion.html")
    [[ -n "$csrf" ]] || fail "no csrf field on /connexion"
    curl -sS -c "$JAR" -b "$JAR" -o "$WORK/sign-in.html" -D "$WORK/sign-in.headers" \
        --data-urlencode "csrf=$csrf" \
        --data-urlencode "email=$DEMO_EMAIL" \
        --data-urlencode "password=$DEMO_PASSWORD" \
        --data-urlencode "suivant=/" \
        "$BASE/connexion"
    [[ "$(status_of "$WORK/sign-in.headers")" == 303 ]] ||
        fail "sign-in answered $(status_of "$WORK/sign-in.headers") instead of 303"
    [[ -n "$(session_cookie)" ]] || fail "no preuves_session cookie after sign-in"
}

# The session token of the jar.
session_cookie() {
    awk -F '\t' '$6 == "preuves_session" { print $7 }' "$JAR" | tail -n 1
}

# Opens the webinar's case-3 candidature through the form: DUI-MS vague 2, solution A, version
# 4.3, profile PDE, NRUs REF-DPI-2-0001 and REF-MS2-PDE-1-0001, "Module INS" on chapter INS.
load_open_case3() {
    say "opening the case-3 candidature (DUI-MS-2, 2 NRUs, profile PDE, Module INS)"
    curl -fsS -c "$JAR" -b "$JAR" -o "$WORK/nouvelle.html" "$BASE/candidatures/nouvelle"
    local csrf solution
    csrf=$(html_field csrf "$WORK/nouvelle.html")
    [[ -n "$csrf" ]] || fail "no csrf field on /candidatures/nouvelle"
    solution=$(grep -o '<option value="[0-9]*"[^>]*>A (composant' "$WORK/nouvelle.html" |
        head -n 1 | sed -e 's/^<option value="//' -e 's/".*//')
    [[ -n "$solution" ]] || fail "the demo solution \"A\" is not offered on /candidatures/nouvelle"
    curl -sS -c "$JAR" -b "$JAR" -o "$WORK/create.html" -D "$WORK/create.headers" \
        --data-urlencode "csrf=$csrf" \
        --data-urlencode "dispositif=DUI-MS-2" \
        --data-urlencode "solution=$solution" \
        --data-urlencode "version=4.3" \
        --data-urlencode "profil=PDE" \
        --data-urlencode "nrus=REF-DPI-2-0001"$'\n'"REF-MS2-PDE-1-0001" \
        --data-urlencode "composant_nom=Module INS" \
        --data-urlencode "composant_chapitres=INS" \
        --data-urlencode "noms=A"$'\n'"A Santé"$'\n'"A Social" \
        --data-urlencode "action=enregistrer" \
        "$BASE/candidatures/nouvelle"
    local status location
    status=$(status_of "$WORK/create.headers")
    location=$(location_of "$WORK/create.headers")
    [[ "$status" == 303 && "$location" =~ ^/candidatures/([0-9]+)$ ]] ||
        fail "opening the candidature answered $status (Location: ${location:-none})"
    CANDIDATURE=${BASH_REMATCH[1]}
    say "candidature $CANDIDATURE opened"
}
