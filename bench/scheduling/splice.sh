#!/usr/bin/env bash
# Puts a scheduling section (between its <!-- scheduling:begin ... --> and <!-- scheduling:end -->
# lines) into RESULTS.md in place of the one there, or at its end; the rest stays as it is.
# Usage: bench/scheduling/splice.sh RESULTS.md SECTION.md
set -euo pipefail
results=${1:?usage: splice.sh RESULTS.md SECTION.md}
section=${2:?usage: splice.sh RESULTS.md SECTION.md}
tmp=$(mktemp)
if [ -f "$results" ] && grep -q '^<!-- scheduling:begin' "$results"; then
  awk -v section="$section" '
    /^<!-- scheduling:begin/ {while ((getline line < section) > 0) print line; skip = 1; next}
    /^<!-- scheduling:end/ {skip = 0; next}
    !skip {print}' "$results" >"$tmp"
else
  { [ -f "$results" ] && cat "$results" && echo; cat "$section"; } >"$tmp"
fi
mv "$tmp" "$results"
