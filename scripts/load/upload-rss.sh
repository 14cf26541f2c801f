#!/usr/bin/env bash
# Memory of a 1 GiB proof upload (issue 4: the server's resident memory grows by less than
# 64 MiB; the file is streamed to the blob store, never held in memory).
#
# Builds the release binary, starts `preuves serve --demo --max-upload-mib 2048` on a free local
# port with a fresh SQLite database, signs in as the demo vendor, opens the webinar's case-3
# candidature, then uploads a 1 GiB PDF to the first expected proof of the deposit page while
# sampling the server's VmRSS every 100 ms.
#
# Usage: scripts/load/upload-rss.sh            (from any directory; needs ~2.1 GiB of free disk
#        space in $TMPDIR or /tmp: the file and its stored copy)
# Settings (environment): SIZE_MIB (1024), LIMIT_MIB (64).
#   SKIP_BUILD=1 runs target/release/preuves as it is (no cargo build).
# Exit status: 0 target met, 2 target missed, 1 the measurement could not be made.
set -euo pipefail

# shellcheck source=scripts/load/lib.sh
source "$(dirname "$0")/lib.sh"

SIZE_MIB=${SIZE_MIB:-1024}
LIMIT_MIB=${LIMIT_MIB:-64}

# VmRSS of the server, in KiB.
rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"
}
mib() {
    awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}

load_build
load_start_server --max-upload-mib 2048
load_sign_in
load_open_case3

# A PDF by its first bytes (the platform checks content, not names), zeros after.
FILE="$WORK/preuve-1gib.pdf"
say "creating a $SIZE_MIB MiB PDF file in $WORK"
printf '%%PDF-1.7\n' >"$FILE"
head -c $((SIZE_MIB * 1024 * 1024 - 9)) /dev/zero >>"$FILE"
size=$(stat -c %s "$FILE")

# The first upload form of the deposit page: its requirement and expected proof.
PROOFS="$BASE/candidatures/$CANDIDATURE/preuves"
curl -fsS -b "$JAR" -c "$JAR" -o "$WORK/preuves.html" "$PROOFS"
csrf=$(html_field csrf "$WORK/preuves.html")
exigence=$(html_field exigence "$WORK/preuves.html")
scenario=$(html_field scenario "$WORK/preuves.html")
preuve=$(html_field preuve "$WORK/preuves.html")
[[ -n "$csrf" && -n "$exigence" && -n "$scenario" && -n "$preuve" ]] ||
    fail "no upload form on /candidatures/$CANDIDATURE/preuves"
say "depositing for requirement $exigence (scenario $scenario, proof $preuve)"

# Let start-up settle, then the baseline.
sleep 1
before=$(rss_kib)
peak=$before
say "server VmRSS before: $(mib "$before")"

# The CSRF part first: the server checks it before reading the file.
started=$(date +%s.%N)
curl -sS -b "$JAR" -o "$WORK/upload.html" -D "$WORK/upload.headers" \
    -F "csrf=$csrf" \
    -F "exigence=$exigence" \
    -F "scenario=$scenario" \
    -F "preuve=$preuve" \
    -F "fichier=@$FILE;type=application/pdf" \
    "$PROOFS" &
curl_pid=$!
samples=0
while kill -0 "$curl_pid" 2>/dev/null; do
    now=$(rss_kib)
    ((now > peak)) && peak=$now
    samples=$((samples + 1))
    sleep 0.1
done
wait "$curl_pid" || fail "the upload failed (curl exit status $?)"
ended=$(date +%s.%N)
after=$(rss_kib)
((after > peak)) && peak=$after

status=$(status_of "$WORK/upload.headers")
location=$(location_of "$WORK/upload.headers")
[[ "$status" == 303 ]] || fail "the upload answered $status instead of 303: $(head -c 600 "$WORK/upload.html")"

# The file is listed on the deposit page.
curl -fsS -b "$JAR" -o "$WORK/preuves-after.html" "$PROOFS"
grep -q "preuve-1gib.pdf" "$WORK/preuves-after.html" ||
    fail "the uploaded file is not listed on /candidatures/$CANDIDATURE/preuves"
sleep 1
settled=$(rss_kib)
stored=$(find "$WORK/data" -type f -size +$((SIZE_MIB / 2))M -printf '%s\n' | awk 'NR == 1')

growth=$((peak - before))
seconds=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')
echo
echo "upload of $(mib $((size / 1024))) to requirement $exigence: 303 -> ${location:-?}, listed on the page"
echo "  duration        ${seconds} s ($(awk -v s="$size" -v t="$seconds" 'BEGIN { printf "%.0f", s / 1048576 / t }') MiB/s), $samples RSS samples"
echo "  stored copy     ${stored:-not found} bytes"
echo "  RSS before      $(mib "$before")"
echo "  RSS peak        $(mib "$peak")"
echo "  RSS after       $(mib "$after") (1 s later: $(mib "$settled"))"
echo "  growth (peak)   $(mib "$growth") (limit $LIMIT_MIB MiB)"
if ((growth < LIMIT_MIB * 1024)); then
    echo "  verdict         target met"
else
    echo "  verdict         TARGET MISSED"
    exit 2
fi
