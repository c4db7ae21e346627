#!/usr/bin/env bash
# dynamic_lb.sh: seed 002 dynamic load balancing on two paths of 1:3 bandwidth: intervals to converge, and a plot.
#
# Namespace lab (tests/integration/netns_lab.bash), path 1 DL_RATE1 (40mbit) and path 2 DL_RATE2 (120mbit), both shaped in
# both directions.  `sanpath run --algo dynamic` starts at 50/50 and writes 64 KiB sequentially, DL_QD (8) in
# flight, for DL_TIME (40) seconds, TimerInterval DL_IVL (500 ms), ChangeThreshold 5, LBChange% DL_CHANGE (2).
# Reported: the interval from which path 1's share stays within 5 points of the bandwidth share (25), the range
# it hovers in afterwards, the byte split and throughput after convergence against the sum of the two links'
# rates (the anchor: what a perfect split could carry), and the same run with static 50/50 shares.
# Plot: bench/dynamic_lb.png (per-path throughput and path 1's share over time).  DL_OUT: where the PNG goes.
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"
# shellcheck source=../tests/integration/netns_lab.bash
. "$SA_SRCDIR/tests/integration/netns_lab.bash"

DL_RATE1=${DL_RATE1:-40mbit}
DL_RATE2=${DL_RATE2:-120mbit}
DL_TIME=${DL_TIME:-40}
DL_IVL=${DL_IVL:-500}
DL_QD=${DL_QD:-8}
DL_CHANGE=${DL_CHANGE:-2}
DL_OUT=${DL_OUT:-$SA_SRCDIR/bench}
SANPATH=$SA_BUILDDIR/sanpath

sa_init bench-dynlb
[ -x "$SANPATH" ] || sa_skip "no $SANPATH: build first"
lab_up "$DL_RATE1" "$DL_RATE2"

run() {
	local name=$1
	shift
	in_ini "$SANPATH" run --target "$LAB_IQN" --lun 1 --portal "$LAB_P1" --portal "$LAB_P2" --name "$name" \
		--rw write --pattern seq --bs 64k --qd "$DL_QD" --report-ms "$DL_IVL" "$@" \
		>"$SA_TMP/$name.out" 2>"$SA_TMP/$name.log" || sa_fail "$name: sanpath failed: $(tail -3 "$SA_TMP/$name.log")"
}
run dyn --algo dynamic --time "$DL_TIME" --dyn-interval "$DL_IVL" --dyn-threshold 5 --dyn-change "$DL_CHANGE"
run st50 --algo static --shares-write 50,50 --time 10

# Table: time, path 1 MB/s, path 2 MB/s, path 1 write share (from the tick lines).
grep '^tick' "$SA_TMP/dyn.out" | sed -n \
	's/^tick t=\([0-9.]*\) .* p1=[a-z]*:[0-9]*:\([0-9]*\) p2=[a-z]*:[0-9]*:\([0-9]*\) .*shares_w=\([0-9]*\)\/.*/\1 \2 \3 \4/p' |
	awk -v ivl="$DL_IVL" '{ printf "%s %.3f %.3f %s\n", $1, $2 / ivl / 1000, $3 / ivl / 1000, $4 }' >"$SA_TMP/dyn.dat"
n=$(wc -l <"$SA_TMP/dyn.dat")
conv=$(awk '{ s[NR] = $4 } END { c = 0; for (i = NR; i >= 1; i--) { d = s[i] - 25; if (d < 0) d = -d;
	if (d > 5) break; c = i } print c }' "$SA_TMP/dyn.dat")
[ "$conv" -gt 0 ] && [ "$conv" -lt "$n" ] || sa_fail "no convergence within $n intervals: $(cut -d' ' -f4 "$SA_TMP/dyn.dat" | tr '\n' ' ')"
# The first interval that reached 25 +- 5 (it may swing out once more before settling).
first=$(awk '{ d = $4 - 25; if (d < 0) d = -d; if (d <= 5) { print NR; exit } }' "$SA_TMP/dyn.dat")
after=$(tail -n +"$conv" "$SA_TMP/dyn.dat" | awk 'NR == 1 { lo = hi = $4 } { if ($4 < lo) lo = $4; if ($4 > hi) hi = $4;
	a += $2; b += $3; n++ } END { printf "%d %d %.1f %.2f", lo, hi, 100 * a / (a + b), (a + b) / n }')
read -r lo hi split mbs <<<"$after"
rate_mbs() { awk -v r="$1" 'BEGIN { v = r + 0; if (r ~ /gbit$/) v *= 1000; else if (r ~ /kbit$/) v /= 1000;
	printf "%.2f", v / 8 }'; }
link_sum=$(awk -v a="$(rate_mbs "$DL_RATE1")" -v b="$(rate_mbs "$DL_RATE2")" 'BEGIN { printf "%.2f", a + b }')
st50=$(sed -n 's/^result: .* write_mbs=\([0-9.]*\) .*/\1/p' "$SA_TMP/st50.out")

echo "dynamic load balancing benchmark: paths $DL_RATE1 and $DL_RATE2 (tbf, both directions), 64 KiB writes,"
echo "  qd $DL_QD, TimerInterval $DL_IVL ms, ChangeThreshold 5, LBChange% $DL_CHANGE, start 50/50, $DL_TIME s"
echo "path 1 write share per interval: $(cut -d' ' -f4 "$SA_TMP/dyn.dat" | tr '\n' ' ')"
echo "first within 5 points of 25: interval $first; stays within from interval $conv ($(awk -v c="$conv" -v i="$DL_IVL" \
	'BEGIN { printf "%.1f", c * i / 1000 }') s); afterwards share $lo..$hi"
echo "after convergence: path 1 carried $split% of the bytes, team $mbs MB/s"
echo "anchor: sum of the link rates $link_sum MB/s (raw, before TCP/iSCSI overhead); ratio $(awk -v a="$mbs" \
	-v b="$link_sum" 'BEGIN { printf "%.3f", a / b }')"
echo "same lab, static 50/50: $st50 MB/s (ratio $(awk -v a="$st50" -v b="$link_sum" 'BEGIN { printf "%.3f", a / b }'))"

if command -v gnuplot >/dev/null; then
	mkdir -p "$DL_OUT"
	gnuplot <<EOF || sa_fail "gnuplot failed"
set terminal pngcairo size 1000,560 font ",10" noenhanced
set output "$DL_OUT/dynamic_lb.png"
set title "Dynamic load balancing (seed 002): paths $DL_RATE1 and $DL_RATE2, start 50/50, interval $DL_IVL ms, LBChange $DL_CHANGE%"
set xlabel "time (s)"
set ylabel "throughput (MB/s)"
set y2label "path 1 write share (%)"
set y2range [0:60]
set yrange [0:*]
set ytics nomirror
set y2tics
set grid
set key outside bottom center horizontal
set arrow from graph 0, second 25 to graph 1, second 25 nohead dt 2 lc rgb "gray40"
set label "bandwidth share 25%" at graph 0.01, second 26.5 tc rgb "gray40"
plot "$SA_TMP/dyn.dat" using 1:2 with lines lw 2 title "path 1 ($DL_RATE1) MB/s", \
     "$SA_TMP/dyn.dat" using 1:3 with lines lw 2 title "path 2 ($DL_RATE2) MB/s", \
     "$SA_TMP/dyn.dat" using 1:(\$2+\$3) with lines lw 1 lc rgb "black" title "team MB/s", \
     "$SA_TMP/dyn.dat" using 1:4 axes x1y2 with steps lw 2 dt 3 title "path 1 share %"
EOF
	echo "plot: $DL_OUT/dynamic_lb.png"
else
	echo "gnuplot not installed: no plot"
fi
exit 0
