#!/usr/bin/env bash
# selector.sh: instructions per path-selection decision (bal_select) for 2, 4 and 8 paths, counted with callgrind.
#
# bench/selector_bench.c is compiled here with gcc -O2 against iscsi/sp_shares.c (a separate object, so
# bal_select is a real call), then run under valgrind --tool=callgrind --toggle-collect=bal_select: only
# instructions executed inside bal_select and its callees are counted.  SEL_N decisions (default 100000) per run;
# the figure is that count divided by SEL_N.  The anchor is the round-robin selector measured in the same run.
# Every decision keeps 32 commands in flight (completions feed the queue-length and service-time selectors).
# Also reported: bal_account under the dynamic algorithm, which samples every path's pending bytes.
# Exit: 0 measured, 1 failed, 77 skipped (no valgrind or no C compiler).
set -u -o pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SEL_N=${SEL_N:-100000}
CC=${CC:-gcc}

command -v valgrind >/dev/null || { echo "FAIL: valgrind not found: install valgrind (./sanlab deps installs it)"; exit 1; }
command -v "$CC" >/dev/null || { echo "FAIL: no C compiler ($CC): install build-essential (./sanlab deps installs it)"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/selector.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

if ! "$CC" -std=gnu11 -O2 -Wall -Wextra -I"$SRC" -c "$SRC/iscsi/sp_shares.c" -o "$TMP/shares.o" ||
	! "$CC" -std=gnu11 -O2 -Wall -Wextra -I"$SRC" -o "$TMP/selector_bench" "$SRC/bench/selector_bench.c" \
		"$TMP/shares.o"; then
	echo "FAIL: cannot build bench/selector_bench.c"
	exit 1
fi

# count FUNCTION PATHS ALGO: instructions per call of FUNCTION, two decimals.
count() {
	local fn=$1 paths=$2 algo=$3 out=$TMP/cg.$1.$2.$3 total
	valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$fn" \
		"$TMP/selector_bench" "$paths" "$algo" "$SEL_N" >/dev/null 2>"$out.log" ||
		{ echo "FAIL: callgrind run $fn $paths $algo" >&2; cat "$out.log" >&2; return 1; }
	total=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out")
	[ -n "$total" ] || { echo "FAIL: no summary in $out" >&2; return 1; }
	awk -v t="$total" -v n="$SEL_N" 'BEGIN { printf "%.2f", t / n }'
}

echo "path selection: instructions per decision (callgrind, $SEL_N decisions, gcc -O2, $(uname -m))"
printf '%-28s %10s %10s %10s %14s\n' "selector" "2 paths" "4 paths" "8 paths" "8p vs rr(8p)"
declare -A ir
for algo in rr static dynamic ql st; do
	for p in 2 4 8; do
		ir[$algo.$p]=$(count bal_select "$p" "$algo") || exit 1
	done
done
for p in 2 4 8; do
	ir[acct.$p]=$(count bal_account "$p" dynamic) || exit 1
done
row() {
	local label=$1 key=$2
	printf '%-28s %10s %10s %10s %14s\n' "$label" "${ir[$key.2]}" "${ir[$key.4]}" "${ir[$key.8]}" \
		"$(awk -v a="${ir[$key.8]}" -v b="${ir[rr.8]}" 'BEGIN { printf "%.2f", a / b }')"
}
row "round-robin (anchor)" rr
row "static LBV (seed 002)" static
row "dynamic (select)" dynamic
row "queue-length" ql
row "service-time" st
row "bal_account under dynamic" acct
exit 0
