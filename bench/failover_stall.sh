#!/usr/bin/env bash
# failover_stall.sh: the longest gap in the team's completed I/O when one of two paths fails mid-run (hard, link
# down, silent), with suspect handling on (shipped defaults) and off (the anchor: the old behaviour), same run.
#
# Namespace lab (tests/integration/netns_lab.bash), two unshaped veth paths.  Each case is one `sanpath run` (4 KiB random
# mixed I/O with --verify, 16 in flight, FS_TIME s, a tick every 20 ms) with path 2 failed at ~FS_AT s and
# restored 3 s later (hard: the portal stays, so the path reconnects by itself after its backoff); sanpath prints every gap between two completions of 5 ms or more (--gap-report): the
# stall is the longest one starting between 0.1 s before and 2.5 s after the failure; the run's longest gap
# from 1 s to the failure (scheduling noise on a busy 2-CPU box) is shown beside it.
#   hard    the target resets path 2's connection (tgtadm --op delete --mode conn): TCP says so at once.
#   link    the initiator's link of path 2 goes down (ip link set down): no TCP signal, caught by NOP-Out/timeout.
#   silent  iptables DROP of path 2's packets in the initiator namespace: caught by NOP-Out/command timeout.
# Each case runs twice: "on" with the shipped defaults (suspect after max(4 x p99, 20 ms) without an answer),
# "off" with --suspect off (the anchor: new commands keep going to the dead path until it is declared down).
# Detection (path down) is the same in both: NOP-Out 250 ms, timeout 750 ms, command timeout 1 s.
# Goals: <= 50 ms in every "on" case; errors=0 and verify mismatches=0 in every run.
# Plots: bench/failover_hard.png, bench/failover_silent.png, bench/failover_link.png (per-path throughput over
# time, suspect handling on).  FS_OUT: PNG dir.  FS_CASES: the cases to run (default "hard link silent").
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"
# shellcheck source=../tests/integration/netns_lab.bash
. "$SA_SRCDIR/tests/integration/netns_lab.bash"

FS_TIME=${FS_TIME:-9}
FS_AT=${FS_AT:-3}
FS_OUT=${FS_OUT:-$SA_SRCDIR/bench}
FS_CASES=${FS_CASES:-hard link silent}
# sanpath and tgtd run at this nice level (the box is shared: scheduling noise shows up as gaps); 0: as is.
FS_NICE=${FS_NICE:--10}
SANPATH=$SA_BUILDDIR/sanpath
TICK=20

sa_init bench-failover
[ -x "$SANPATH" ] || sa_skip "no $SANPATH: build first"
sa_need iptables iptables
lab_up none none
if [ "$FS_NICE" != 0 ]; then
	for tid in /proc/"$LAB_TGTD_PID"/task/*; do renice -n "$FS_NICE" -p "${tid##*/}" >/dev/null; done
fi

last_t() { grep '^tick' "$SA_TMP/$1.out" | tail -1 | sed -n 's/^tick t=\([0-9.]*\).*/\1/p'; }
past() { awk -v t="$(last_t "$1")" -v w="$2" 'BEGIN { exit !(t != "" && t >= w) }'; }

fail_p2() {
	case "$1" in
	hard)
		local sid
		sid=$(lab_tgt_sid "sanpath-$2-p2")
		[ -n "$sid" ] || sa_fail "$2: no tgt session for path 2"
		lab_tgt --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0 ;;
	link) in_ini ip link set vi2 down ;;
	silent*) in_ini iptables -I INPUT -s "${LAB_P2%:*}" -j DROP ;;
	esac
}
restore_p2() {
	case "$1" in
	hard) : ;;
	link) in_ini ip link set vi2 up ;;
	silent*) in_ini iptables -D INPUT -s "${LAB_P2%:*}" -j DROP ;;
	esac
}

# one CASE ON|OFF: prints "CASE-ONOFF GAP_MS PRE_FAILURE_MAX_GAP FAIL_AT SUSPECTS HEDGED FENCED DETECT_LOG"
one() {
	local c=$1 k=$2 name=fs-$1-$2 at rc
	in_ini nice -n "$FS_NICE" "$SANPATH" run --target "$LAB_IQN" --lun 1 --portal "$LAB_P1" --portal "$LAB_P2" --name "$name" \
		--rw mix --pattern rand --bs 4k --qd 16 --size 16M --verify --time "$FS_TIME" --report-ms $TICK --gap-report 5 \
		--suspect "$k" >"$SA_TMP/$name.out" 2>"$SA_TMP/$name.log" &
	RUN=$!
	SA_PIDS+=("$RUN")
	sa_wait_for 20 past "$name" "$FS_AT" || sa_fail "$c: no progress"
	at=$(last_t "$name")
	fail_p2 "$c" "$name" || sa_fail "$c: cannot fail path 2"
	sa_wait_for 10 past "$name" "$(awk -v a="$at" 'BEGIN { print a + 3 }')"
	restore_p2 "$c"
	wait "$RUN"
	rc=$?
	[ $rc = 0 ] || sa_fail "$c $k: sanpath exited $rc: $(tail -3 "$SA_TMP/$name.log")"
	grep -q '^result: .* errors=0$' "$SA_TMP/$name.out" || sa_fail "$c $k: application errors"
	grep -q '^verify: .* mismatches=0$' "$SA_TMP/$name.out" || sa_fail "$c $k: $(grep ^verify "$SA_TMP/$name.out")"
	grep '^tick' "$SA_TMP/$name.out" | sed -n \
		's/^tick t=\([0-9.]*\) .* p1=[a-z]*:\([0-9]*\):\([0-9]*\) p2=[a-z]*:\([0-9]*\):\([0-9]*\).*/\1 \2 \3 \4 \5/p' |
		awk -v tk=$TICK '{ printf "%s %.3f %.3f\n", $1, ($2 + $3) / tk / 1000, ($4 + $5) / tk / 1000 }' >"$SA_TMP/$c-$k.dat"
	# The failure's stall: the longest gap that starts from just before the failure to 2.5 s after it.
	fgap=$(sed -n 's/^gap: at=\([0-9.]*\) ms=\([0-9.]*\)/\1 \2/p' "$SA_TMP/$name.out" |
		awk -v f="$at" '$1 >= f - 0.1 && $1 <= f + 2.5 && $2 > m { m = $2 } END { if (m) printf "%.1f", m; else printf "<5" }')
	p2=$(grep '^path 2: ' "$SA_TMP/$name.out" | tail -1)
	# The same run's noise: its longest gap from 1 s to just before the failure.
	pre=$(sed -n 's/^gap: at=\([0-9.]*\) ms=\([0-9.]*\)/\1 \2/p' "$SA_TMP/$name.out" |
		awk -v f="$at" '$1 >= 1 && $1 < f - 0.1 && $2 > m { m = $2 } END { if (m) printf "%.1f", m; else printf "<5" }')
	echo "$c-$k $fgap $pre $at" \
		"$(sed -n 's/.* suspects=\([0-9]*\).*/\1/p' <<<"$p2") $(sed -n 's/.* hedged_reads=\([0-9]*\).*/\1/p' <<<"$p2")" \
		"$(sed -n 's/.* fenced_writes=\([0-9]*\).*/\1/p' <<<"$p2")" \
		"$(grep -m1 -o 'path 2 ([^)]*) down: .*' "$SA_TMP/$name.log" | sed 's/^path 2 ([^)]*) //')"
}

echo "failover stall benchmark: two unshaped veth paths between namespaces, 4 KiB random mixed I/O, qd 16,"
echo "  --verify, path 2 failed at ~${FS_AT} s and restored 3 s later; tick ${TICK} ms; $(nproc) CPUs"
echo "  on: suspect handling with the shipped defaults; off: --suspect off (the anchor, the old behaviour)"
printf "%-11s %15s %14s %8s %8s %7s %7s  %s\n" case stall_at_fail_ms noise_before_ms fail_at suspects hedged fenced "detected as"
res=()
for c in $FS_CASES; do
	for k in on off; do
		line=$(one "$c" "$k") || exit 1
		res+=("$line")
		read -r n gap gat fat sus hed fen why <<<"$line"
		printf "%-11s %15s %14s %8s %8s %7s %7s  %s\n" "$n" "$gap" "$gat" "$fat" "$sus" "$hed" "$fen" "$why"
	done
done
all=$(printf '%s\n' "${res[@]}")
for c in $FS_CASES; do
	on=$(awk -v c="$c-on" '$1 == c { print $2 }' <<<"$all")
	off=$(awk -v c="$c-off" '$1 == c { print $2 }' <<<"$all")
	ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { if (a ~ /</ && b ~ /</) { print "both under 5 ms,"; exit }
		sub("<", "", a); sub("<", "", b); if (a + 0 > 0) printf "%.1fx shorter;", b / a; else print "-;" }')
	goal=$(awk -v a="$on" 'BEGIN { sub("<", "", a); print (a + 0 <= 50) ? "met" : "MISSED" }')
	echo "$c: stall $on ms with suspect handling, anchor (off) $off ms: $ratio goal <= 50 ms $goal"
done
echo "every run: errors=0, verify mismatches=0"

if command -v gnuplot >/dev/null; then
	mkdir -p "$FS_OUT"
	for c in $FS_CASES; do
		fat=$(awk -v c="$c-on" '$1 == c { print $4 }' <<<"$all")
		gap=$(awk -v c="$c-on" '$1 == c { print $2 }' <<<"$all")
		gapoff=$(awk -v c="$c-off" '$1 == c { print $2 }' <<<"$all")
		note="restored 3 s later"
		[ "$c" = hard ] && note="the target kept its portal: the path reconnects by itself"
		gnuplot <<EOF || sa_fail "gnuplot failed"
set terminal pngcairo size 1000,500 font ",10" noenhanced
set output "$FS_OUT/failover_$c.png"
set title "Failover stall, $c failure of path 2 at ${fat} s ($note): longest gap in completed I/O ${gap} ms (suspect handling off: ${gapoff} ms)"
set xlabel "time (s)"
set ylabel "throughput (MB/s, ${TICK} ms bins)"
set yrange [0:*]
set grid
set key outside bottom center horizontal
set arrow from $fat, graph 0 to $fat, graph 1 nohead lc rgb "red" dt 2
set label "path 2 fails" at $fat, graph 0.95 offset 0.5,0 tc rgb "red"
plot "$SA_TMP/$c-on.dat" using 1:(\$2+\$3) with lines lw 1 lc rgb "gray60" title "team", \
     "$SA_TMP/$c-on.dat" using 1:2 with lines lw 2.5 lc rgb "#0060c0" title "path 1", \
     "$SA_TMP/$c-on.dat" using 1:3 with lines lw 1.5 lc rgb "#e07000" dt 2 title "path 2", \
     "$SA_TMP/$c-off.dat" using 1:(\$2+\$3) with lines lw 1 lc rgb "#c00000" dt 3 title "team, suspect handling off"
EOF
		echo "plot: $FS_OUT/failover_$c.png"
	done
fi
exit 0
