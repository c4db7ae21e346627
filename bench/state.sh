#!/usr/bin/env bash
# state.sh: SET PDUs per second of the state store at 100, 10,000 and 100,000 rows, journal against the whole-file write of ANCHOR.
#
# bench/state_bench.c is compiled twice with gcc -O2: against common/state.c of this tree, and against
# common/state.c of the anchor commit (STATE_ANCHOR, default b60f86f: the last whole-file version, taken with
# git show, so the old code path stays out of the product).  Both run in this run, in the same directory
# (STATE_DIR, default under /var/tmp: a real disk, as the agent's /var/lib/sanagent is; /tmp may be tmpfs).
# Each point: STATE_SECS seconds (default 3) of PDUs that change STATE_CHANGES rows (default 1) and commit once.
# Printed: PDUs/s, the longest single commit (the loop stall), the time of one full snapshot write at that size
# (the preload commit) and the ratio journal / whole-file.  Then, for the journal: how long the loop stalls when a
# compaction starts (fork of the child that writes the snapshot) against writing the snapshot in place.  Flat per row means the journal's PDUs/s does not fall with
# the row count.
# Exit: 0 measured, 1 failed, 77 skipped (no C compiler or no git history for the anchor).
set -u -o pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CC=${CC:-gcc}
ANCHOR=${STATE_ANCHOR:-b60f86f}
SECS=${STATE_SECS:-3}
CHANGES=${STATE_CHANGES:-1}
ROWS=${STATE_ROWS:-"100 10000 100000"}

command -v "$CC" >/dev/null || { echo "SKIP: no C compiler ($CC)"; exit 77; }
git -C "$SRC" cat-file -e "$ANCHOR:common/state.c" 2>/dev/null || { echo "SKIP: anchor $ANCHOR not in git history"; exit 77; }

TMP=$(mktemp -d "${STATE_DIR:-/var/tmp}/state-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/old/common"
git -C "$SRC" show "$ANCHOR:common/state.c" >"$TMP/old/common/state.c"
git -C "$SRC" show "$ANCHOR:common/state.h" >"$TMP/old/common/state.h"

build() { # build OUT STATE_C INCLUDE_DIR [CFLAGS...]
	local out=$1 c=$2 inc=$3
	shift 3
	"$CC" -std=gnu11 -O2 -Wall -Wextra "$@" -I"$inc" -I"$SRC" -o "$out" "$SRC/bench/state_bench.c" "$c" \
		"$SRC/common/log.c" || { echo "FAIL: cannot build $out"; exit 1; }
}
build "$TMP/bench_journal" "$SRC/common/state.c" "$SRC" -DSTATE_JOURNAL
build "$TMP/bench_whole" "$TMP/old/common/state.c" "$TMP/old"

echo "state benchmark: $SECS s per point, $CHANGES changed row(s) and one commit per PDU, files in $(df --output=fstype "$TMP" | tail -n1) $TMP"
echo "anchor: whole-file write of $ANCHOR ($(git -C "$SRC" log -1 --format=%h "$ANCHOR")), measured in this run"
printf '%-8s %8s %10s %12s %14s %10s\n' rows store PDUs/s worst-ms 'full-write-ms' 'vs anchor'
compaction=""
for rows in $ROWS; do
	old=$("$TMP/bench_whole" "$TMP/whole.$rows" "$rows" "$CHANGES" "$SECS" whole) || { echo "FAIL: whole $rows"; exit 1; }
	out=$("$TMP/bench_journal" "$TMP/journal.$rows" "$rows" "$CHANGES" "$SECS" journal) || { echo "FAIL: journal $rows"; exit 1; }
	new=$(grep '^journal ' <<<"$out")
	compaction="$compaction$(grep '^compaction ' <<<"$out")
"
	rm -f "$TMP"/whole."$rows"* "$TMP"/journal."$rows"*
	set -- $old
	old_rate=$5
	printf '%-8s %8s %10s %12s %14s %10s\n' "$2" whole "$5" "$6" "$7" 1.00
	set -- $new
	printf '%-8s %8s %10s %12s %14s %10s\n' "$2" journal "$5" "$6" "$7" "$(awk -v a="$5" -v b="$old_rate" 'BEGIN { printf "%.2f", a / b }')"
done
echo
echo "compaction stall of the loop: starting it in a forked child vs writing the snapshot in place"
printf '%-8s %16s %16s\n' rows 'background-ms' 'in-place-ms'
while read -r _ rows bg sync; do
	[ -n "$rows" ] && printf '%-8s %16s %16s\n' "$rows" "$bg" "$sync"
done <<<"$compaction"
