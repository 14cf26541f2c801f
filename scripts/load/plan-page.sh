#!/usr/bin/env bash
# Throughput of the vendor's plan page (issue 4: at least 1,000 requests/s with SQLite and 64
# connections on a 2-core machine).
#
# Builds the release binary, starts `preuves serve --demo` on a free local port with a fresh
# SQLite database, signs in as the demo vendor, opens the webinar's case-3 candidature through
# the pages, then runs wrk on `GET /candidatures/{id}` with the session cookie.
#
# Usage: scripts/load/plan-page.sh            (from any directory)
# Settings (environment): DURATION (20s), CONNECTIONS (64), THREADS (2), TARGET_RPS (1000).
#   SKIP_BUILD=1 runs target/release/preuves as it is (no cargo build).
# Exit status: 0 target met, 2 target missed, 1 the measurement could not be made.
set -euo pipefail

# shellcheck source=scripts/load/lib.sh
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
TARGET_RPS=${TARGET_RPS:-1000}

need wrk "apt-get install -y wrk"
load_build
# shellcheck disable=SC2119 # no extra serve argument
load_start_server
load_sign_in
load_open_case3

PAGE="$BASE/candidatures/$CANDIDATURE"
COOKIE="preuves_session=$(session_cookie)"

# The page must be the plan, answered 200, before it is measured.
status=$(curl -sS -o "$WORK/plan.html" -w '%{http_code}' -H "Cookie: $COOKIE" "$PAGE")
[[ "$status" == 200 ]] || fail "GET $PAGE answered $status"
in_scope=$(grep -o 'data-in-scope="[0-9]*"' "$WORK/plan.html" | awk 'NR == 1' | tr -dc '0-9')
[[ -n "$in_scope" ]] || fail "GET $PAGE did not show a plan"
say "GET /candidatures/$CANDIDATURE: 200, $(wc -c <"$WORK/plan.html") bytes, $in_scope requirements in scope"

say "load average before the run: $(cut -d ' ' -f 1-3 /proc/loadavg) ($(nproc) cores)"
say "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $PAGE"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -H "Cookie: $COOKIE" "$PAGE" | tee "$WORK/wrk.txt"

rps=$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.txt")
p50=$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.txt")
p99=$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.txt")
errors=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$WORK/wrk.txt")
socket_errors=$(grep -E '^ *Socket errors:' "$WORK/wrk.txt" | sed -e 's/^ *Socket errors: *//' || true)
[[ -n "$rps" ]] || fail "wrk printed no Requests/sec"

# The page is still the plan after the run (the session was not lost on the way).
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "$PAGE")

echo
echo "plan page GET /candidatures/$CANDIDATURE (case 3, $in_scope requirements in scope)"
echo "  requests/s   $rps (target >= $TARGET_RPS)"
echo "  latency p50  $p50"
echo "  latency p99  $p99"
echo "  non-2xx      ${errors:-0}"
[[ -z "$socket_errors" ]] || echo "  socket       $socket_errors"
echo "  after run    GET answered $status"

[[ -z "$errors" && "$status" == 200 ]] || fail "some responses were not 200: the figures are not those of the page"
if awk -v r="$rps" -v t="$TARGET_RPS" 'BEGIN { exit !(r >= t) }'; then
    echo "  verdict      target met"
else
    echo "  verdict      TARGET MISSED"
    exit 2
fi
