#!/usr/bin/env bash
# Deadline rush (issue 7): N vendors (200) file their candidatures at the same time, with proofs
# of 1 to 50 MiB, while M instructors (5) browse the queue. Targets on a 2-core machine: zero
# errors, page views p99 under 200 ms.
#
# For each backend asked: builds the release binary, starts a fresh `preuves serve --demo` on a
# free local port (data in a temporary folder; for PostgreSQL a dedicated database, created
# before and dropped after), then runs scripts/load/deadline-rush.mjs, which seeds the accounts
# through the admin forms (not measured), runs the rush through the pages and prints the report
# (latency per kind of request, errors with samples, throughput, the server's peak memory). The
# JSON report goes to target/load/. The server is then stopped and its data (many GB of proofs)
# removed.
#
# Usage: scripts/load/deadline-rush.sh [sqlite|postgres|both]     (default: sqlite)
# Settings (environment):
#   VENDORS (200), INSTRUCTORS (5), UPLOADS (3 proofs per vendor), MIN_MIB (1), MAX_MIB (50),
#   SEED (2026), RAMP_MS (0: every vendor starts at once), PAGE_P99_MS (200),
#   MAX_UPLOAD_MIB (64: the server's --max-upload-mib),
#   PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), PG_DATABASE (preuves_load): the
#   PostgreSQL server (local only) and the database created and dropped there,
#   SKIP_BUILD=1 runs target/release/preuves as it is (no cargo build).
# Needs: node 20 or later, curl; psql for PostgreSQL. Free disk in $TMPDIR (or /tmp): about
# VENDORS x UPLOADS x 12.5 MiB with the default sizes (7.3 GiB), checked before each run.
# Exit status: 0 targets met, 2 a target missed, 1 the measurement could not be made.
set -euo pipefail

# shellcheck source=scripts/load/lib.sh
source "$(dirname "$0")/lib.sh"

MODE=${1:-sqlite}
VENDORS=${VENDORS:-200}
INSTRUCTORS=${INSTRUCTORS:-5}
UPLOADS=${UPLOADS:-3}
MIN_MIB=${MIN_MIB:-1}
MAX_MIB=${MAX_MIB:-50}
SEED=${SEED:-2026}
RAMP_MS=${RAMP_MS:-0}
PAGE_P99_MS=${PAGE_P99_MS:-200}
MAX_UPLOAD_MIB=${MAX_UPLOAD_MIB:-64}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
PG_DATABASE=${PG_DATABASE:-preuves_load}

case "$MODE" in
sqlite) BACKENDS=(sqlite) ;;
postgres) BACKENDS=(postgres) ;;
both) BACKENDS=(sqlite postgres) ;;
*) fail "usage: $0 [sqlite|postgres|both]" ;;
esac

need node "Node.js 20 or later"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
    fail "node 20 or later is required (found $(node --version))"
if [[ " ${BACKENDS[*]} " == *" postgres "* ]]; then
    need psql "apt-get install -y postgresql-client"
    [[ "$PGHOST" == 127.0.0.1 || "$PGHOST" == localhost ]] || fail "PGHOST must be local (127.0.0.1)"
    [[ "$PG_DATABASE" =~ ^[a-z_][a-z0-9_]*$ ]] || fail "PG_DATABASE must be a plain name"
fi
awk -v a="$MAX_MIB" -v b="$MAX_UPLOAD_MIB" 'BEGIN { exit !(a + 0 <= b + 0) }' ||
    fail "MAX_MIB ($MAX_MIB) is above the server's limit MAX_UPLOAD_MIB ($MAX_UPLOAD_MIB)"

PG_CREATED=0

psql_admin() {
    psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -v ON_ERROR_STOP=1 -qX -c "$1" >/dev/null
}

pg_drop() {
    psql_admin "DROP DATABASE IF EXISTS $PG_DATABASE WITH (FORCE)"
    PG_CREATED=0
}

rush_cleanup() {
    local status=$?
    set +e
    load_stop_server
    ((PG_CREATED == 0)) || pg_drop
    (exit "$status")
    load_cleanup
}
trap rush_cleanup EXIT

# Builds the release binary of the server only, with the locked dependencies.
rush_build() {
    if [[ "${SKIP_BUILD:-0}" == 1 ]]; then
        [[ -x "$ROOT/target/release/preuves" ]] || fail "SKIP_BUILD=1 but target/release/preuves is missing"
        say "reusing target/release/preuves (SKIP_BUILD=1)"
        return 0
    fi
    need cargo
    say "building the release binary (cargo build --release -p preuves --locked)"
    if ! cargo build --release -p preuves --locked >"$WORK/build.log" 2>&1; then
        tail -n 40 "$WORK/build.log" >&2
        fail "cargo build --release -p preuves --locked failed"
    fi
}

# Free space needed for the proofs (the mean of a log-uniform size is (max - min) / ln(max/min)),
# with a 25 % margin, checked against the temporary folder's file system.
check_disk() {
    local need_mib free_mib
    need_mib=$(awk -v n="$VENDORS" -v k="$UPLOADS" -v a="$MIN_MIB" -v b="$MAX_MIB" 'BEGIN {
        mean = (b > a) ? (b - a) / log(b / a) : a; printf "%d", n * k * mean * 1.25 + 512 }')
    free_mib=$(df -Pm "$WORK" | awk 'NR == 2 { print $4 }')
    say "disk: about $need_mib MiB needed for the proofs, $free_mib MiB free in $WORK"
    ((free_mib > need_mib)) || fail "not enough free disk space in $WORK (set TMPDIR elsewhere)"
}

# One run on one backend; prints the driver's report. Returns the driver's exit status.
run_backend() {
    local backend=$1 report status=0 extra=()
    mkdir -p "$WORK/data"
    check_disk
    if [[ "$backend" == postgres ]]; then
        say "creating the PostgreSQL database $PG_DATABASE on $PGHOST:$PGPORT"
        pg_drop || fail "cannot reach PostgreSQL on $PGHOST:$PGPORT as $PGUSER"
        psql_admin "CREATE DATABASE $PG_DATABASE" || fail "cannot create the database $PG_DATABASE"
        PG_CREATED=1
        extra=(--database-url "postgres://$PGUSER@$PGHOST:$PGPORT/$PG_DATABASE")
    fi
    load_start_server --max-upload-mib "$MAX_UPLOAD_MIB" "${extra[@]}"
    report="target/load/deadline-rush-$backend-$(date -u +%Y%m%dT%H%M%SZ).json"
    node "$ROOT/scripts/load/deadline-rush.mjs" \
        --base "$BASE" --server-pid "$SERVER_PID" --backend "$backend" \
        --vendors "$VENDORS" --instructors "$INSTRUCTORS" --uploads "$UPLOADS" \
        --min-mib "$MIN_MIB" --max-mib "$MAX_MIB" --seed "$SEED" --ramp-ms "$RAMP_MS" \
        --page-p99-ms "$PAGE_P99_MS" --report "$ROOT/$report" || status=$?
    local stored files
    stored=$(du -sm "$WORK/data" 2>/dev/null | awk '{ print $1 }')
    files=$(find "$WORK/data" -path '*proofs*' -type f 2>/dev/null | wc -l)
    echo "  stored            ${stored:-?} MiB in $WORK/data ($files proof files)"
    load_stop_server
    if ((status == 1)); then
        printf -- '--- last lines of the server log ---\n' >&2
        tail -n 20 "$WORK/server.log" >&2 || true
    fi
    # The server log (colours removed) is kept next to the JSON report; its ERROR lines (a 500
    # or a panic) are shown first, then a count of the WARN ones (slow statements, slow pool).
    local log="${report%.json}.server.log" errors warnings
    sed -e 's/\x1b\[[0-9;]*m//g' "$WORK/server.log" >"$ROOT/$log" || true
    errors=$(grep -cE ' ERROR |panicked' "$ROOT/$log" || true)
    warnings=$(grep -c ' WARN ' "$ROOT/$log" || true)
    echo "  server log        $errors ERROR lines, $warnings WARN lines ($log)"
    grep -E ' ERROR |panicked' "$ROOT/$log" | head -n 5 | cut -c 1-400 | sed -e 's/^/    /' || true
    rm -rf "$WORK/data"
    rm -f "$WORK/server.log"
    if [[ "$backend" == postgres ]]; then
        pg_drop
    fi
    [[ $status == 0 || $status == 2 ]] && echo "  JSON report       $report"
    return "$status"
}

rush_build
overall=0
for backend in "${BACKENDS[@]}"; do
    say "=== deadline rush on $backend ==="
    status=0
    run_backend "$backend" || status=$?
    if ((status == 1)); then
        overall=1
    elif ((status == 2 && overall == 0)); then
        overall=2
    fi
done
exit "$overall"
