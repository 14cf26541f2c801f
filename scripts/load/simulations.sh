#!/usr/bin/env bash
# Throughput of `POST /api/v1/simulations` on the largest real REM (issue 6: at least 5,000
# requests/s on a 2-core machine).
#
# Builds the release binary, starts `preuves serve --demo` on a free local port with a fresh
# SQLite database seeded with the real draft REMs of 2023 (their catalogue.toml, RIS vague 2
# holding 246 requirements), checks the simulation of a RIS candidature answers a full plan, then
# runs wrk posting that scenario anonymously.
#
# The scenario exercises every rule of the plan: every optional profile of the RIS REM (all 246
# requirements in scope), a vague-1 RIS NRU (héritage), a vague-2 DPI NRU (équivalence on the
# shared socle requirements) and an additional component on chapter INS (R7).
#
# The API's rate limit (600 requests a minute per client address by default) is raised for the
# measurement, not turned off: the limiter still runs on every request.
#
# Usage: scripts/load/simulations.sh            (from any directory)
# Settings (environment): DURATION (20s), CONNECTIONS (64), THREADS (2), TARGET_RPS (5000),
#   PREUVES_REAL_DATA (the rem-draft-2023 folder; ../shared/data/rem-draft-2023 by default).
# Exit status: 0 target met, 2 target missed, 1 the measurement could not be made.
set -euo pipefail

# shellcheck source=scripts/load/lib.sh
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
TARGET_RPS=${TARGET_RPS:-5000}
REAL_DATA=${PREUVES_REAL_DATA:-$ROOT/../shared/data/rem-draft-2023}

need wrk "apt-get install -y wrk"
need curl
[[ -f "$REAL_DATA/catalogue.toml" ]] ||
    fail "no real REM catalogue at $REAL_DATA (set PREUVES_REAL_DATA to the rem-draft-2023 folder)"
REAL_DATA="$(cd "$REAL_DATA" && pwd)"
load_build

# `serve --demo` seeds the demo accounts and the webinar's referencings, one of which is on the
# MS2-PDE vague-1 dispositif: the real catalogue is used with that dispositif added (no REM).
mkdir -p "$WORK/catalogue"
ln -s "$REAL_DATA"/REM-*.csv "$WORK/catalogue/"
{
    cat "$REAL_DATA/catalogue.toml"
    printf '\n[[dispositif]]\ncode = "MS2-PDE"\nwave = 1\nname = "Protection de l%senfance (vague 1)"\ncorridor = "MS"\nprofiles = ["PDE"]\n' "'"
} >"$WORK/catalogue/catalogue.toml"

say "starting preuves serve --demo on the real catalogue ($REAL_DATA) in $WORK/data"
# SQLite in the temporary folder whatever the environment says; `env` execs the server, so $!
# is the server's own pid.
env -u DATABASE_URL -u PREUVES_DATA_DIR -u PREUVES_BLOB_URL \
    PREUVES_API_RATE_LIMIT=1000000000 \
    "$ROOT/target/release/preuves" serve --demo \
    --demo-catalogue "$WORK/catalogue/catalogue.toml" \
    --data-dir "$WORK/data" \
    --bind 127.0.0.1:0 \
    --insecure-cookies >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
port=""
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
    curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server stopped before being ready"
    sleep 0.1
done
say "server ready at $BASE (pid $SERVER_PID)"

# Every optional profile of the RIS REM, as the platform lists them.
curl -fsS -o "$WORK/ris.json" "$BASE/api/v1/dispositifs/RIS/2" ||
    fail "GET /api/v1/dispositifs/RIS/2 failed: is RIS in $REAL_DATA/catalogue.toml?"
profiles=$(sed -e 's/.*"optional_profiles":\(\[[^]]*\]\).*/\1/' "$WORK/ris.json")
requirements=$(grep -o '"requirement_count":[0-9]*' "$WORK/ris.json" | head -n 1 | tr -dc '0-9')
say "RIS vague 2: $requirements requirements, optional profiles $profiles"

cat >"$WORK/scenario.json" <<JSON
{
  "referencings": [
    {"nru": "REF-RIS-1-0001", "vendor": "732829320", "dispositif": "RIS", "wave": 1,
     "profiles": ["Général"], "solution": "Radio", "main_component": "radio-core",
     "version": "3.1", "status": "valid"},
    {"nru": "REF-DPI-2-0001", "vendor": "732829320", "dispositif": "DPI", "wave": 2,
     "profiles": ["Général"], "solution": "Radio", "main_component": "radio-core",
     "version": "4.0", "status": "valid"}
  ],
  "candidature": {
    "vendor": "732829320", "dispositif": "RIS", "wave": 2, "optional_profiles": $profiles,
    "solution": "Radio", "main_component": "radio-core", "version": "4.2",
    "nrus": ["REF-RIS-1-0001", "REF-DPI-2-0001"],
    "additional_components": [{"name": "Module INS", "chapters": ["INS"]}],
    "commercial_names": ["Radio"], "honour_statement": false
  }
}
JSON

# The answer must be a full plan, with every rule at work, before it is measured.
status=$(curl -sS -o "$WORK/answer.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$WORK/scenario.json" "$BASE/api/v1/simulations")
[[ "$status" == 200 ]] || fail "POST /api/v1/simulations answered $status: $(head -c 400 "$WORK/answer.json")"
grep -q '"errors": \[\]' "$WORK/answer.json" || fail "the simulation was refused: $(head -c 600 "$WORK/answer.json")"
count() { grep -o "\"$1\": [0-9]*" "$WORK/answer.json" | head -n 1 | tr -dc '0-9'; }
in_scope=$(count in_scope)
[[ "$in_scope" == "$requirements" ]] || fail "$in_scope requirements in scope, $requirements expected"
say "answer: $(wc -c <"$WORK/answer.json") bytes; in scope $in_scope, to deposit $(count to_deposit), héritage $(count masked_heritage), équivalence $(count masked_equivalence)"

# wrk posts the scenario (a Lua long string keeps the JSON as is).
{
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    printf 'wrk.body = [==[%s]==]\n' "$(cat "$WORK/scenario.json")"
} >"$WORK/post.lua"

say "load average before the run: $(cut -d ' ' -f 1-3 /proc/loadavg) ($(nproc) cores)"
say "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s post.lua $BASE/api/v1/simulations"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/post.lua" \
    "$BASE/api/v1/simulations" | tee "$WORK/wrk.txt"

rps=$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.txt")
p50=$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.txt")
p99=$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.txt")
errors=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$WORK/wrk.txt")
socket_errors=$(grep -E '^ *Socket errors:' "$WORK/wrk.txt" | sed -e 's/^ *Socket errors: *//' || true)
[[ -n "$rps" ]] || fail "wrk printed no Requests/sec"

echo
echo "POST /api/v1/simulations (RIS vague 2, $in_scope requirements in scope)"
echo "  requests/s   $rps (target >= $TARGET_RPS)"
echo "  latency p50  $p50"
echo "  latency p99  $p99"
echo "  non-2xx      ${errors:-0}"
[[ -z "$socket_errors" ]] || echo "  socket       $socket_errors"

[[ -z "$errors" ]] || fail "some responses were not 200: the figures are not those of the simulation"
if awk -v r="$rps" -v t="$TARGET_RPS" 'BEGIN { exit !(r >= t) }'; then
    echo "  verdict      target met"
else
    echo "  verdict      TARGET MISSED"
    exit 2
fi
