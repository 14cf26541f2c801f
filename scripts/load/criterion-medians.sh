#!/usr/bin/env bash
# Prints the median (and its 95 % confidence interval) of every criterion benchmark measured so
# far, from target/criterion/**/new/estimates.json: criterion's terminal summary shows the mean
# slope, the targets of issue 4 are medians.
#
# Usage: scripts/load/criterion-medians.sh [filter]     (e.g. `plan_page`; from any directory)
set -euo pipefail

cd "$(dirname "$0")/../.." || exit 1
filter=${1:-}
[[ -d target/criterion ]] || {
    echo "no criterion results yet: run cargo bench first" >&2
    exit 1
}

found=0
while IFS= read -r file; do
    name=${file#target/criterion/}
    name=${name%/new/estimates.json}
    [[ -z "$filter" || "$name" == *"$filter"* ]] || continue
    found=1
    # estimates.json: {"median": {"point_estimate": ns, "confidence_interval": {...}}, ...}
    tr -d ' \n' <"$file" |
        sed -e 's/.*"median":{"confidence_interval":{"confidence_level":[0-9.e-]*,"lower_bound":\([0-9.e+-]*\),"upper_bound":\([0-9.e+-]*\)},"point_estimate":\([0-9.e+-]*\).*/\3 \1 \2/' |
        awk -v n="$name" '
            function t(ns) {
                if (ns >= 1e9) return sprintf("%.3f s", ns / 1e9)
                if (ns >= 1e6) return sprintf("%.3f ms", ns / 1e6)
                if (ns >= 1e3) return sprintf("%.2f µs", ns / 1e3)
                return sprintf("%.0f ns", ns)
            }
            NF == 3 { printf "%-50s median %-11s [%s .. %s]\n", n, t($1), t($2), t($3); next }
            { printf "%-50s (unreadable estimates.json)\n", n }'
done < <(find target/criterion -path '*/new/estimates.json' | sort)
((found)) || echo "no benchmark matches \"$filter\"" >&2
