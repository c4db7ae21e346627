#!/usr/bin/env bash
# flap_soak.sh: SOAK_FLAPS (1000) silent failures and recoveries of path 2 under verified mixed I/O; the
# distribution of the team's I/O gap at each flap (median, p99, max); 0 errors, 0 mismatches.
#
# Namespace lab (tests/integration/netns_lab.bash), two unshaped paths.  One `sanpath run` (4 KiB random mixed I/O,
# qd 16, --verify, a tick every 20 ms, every gap >= 5 ms printed) for the whole soak, shipped defaults.  A bounded
# loop toggles iptables DROP of path 2's packets in the initiator namespace: each flap waits (with a deadline) for
# path 2 to show suspect, keeps it silent SOAK_HOLD_MS more, restores it and waits for path 2 to carry I/O again.
# Every SOAK_LONG_EVERY-th flap (50) is held until path 2 is declared down (a real failover and reconnect; the
# flap damping then keeps it in standby for up to 10 s).  A flap's gap: the longest gap in completed team I/O from
# its failure to 0.5 s after its restore.  The full soak takes about 15 minutes; SOAK_FLAPS=100 for a short one.
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"
# shellcheck source=../tests/integration/netns_lab.bash
. "$SA_SRCDIR/tests/integration/netns_lab.bash"

SOAK_FLAPS=${SOAK_FLAPS:-1000}
SOAK_HOLD_MS=${SOAK_HOLD_MS:-200}
SOAK_LONG_EVERY=${SOAK_LONG_EVERY:-50}
SANPATH=$SA_BUILDDIR/sanpath

sa_init bench-flap-soak
[ -x "$SANPATH" ] || sa_skip "no $SANPATH: build first"
sa_need iptables iptables
lab_up none none
DROP=(INPUT -s "${LAB_P2%:*}" -j DROP)

OUT=$SA_TMP/soak.out
in_ini "$SANPATH" run --target "$LAB_IQN" --lun 1 --portal "$LAB_P1" --portal "$LAB_P2" --name soak \
	--rw mix --pattern rand --bs 4k --qd 16 --size 16M --verify --time 100000 --report-ms 20 --gap-report 5 \
	>"$OUT" 2>"$SA_TMP/soak.log" &
RUN=$!
SA_PIDS+=("$RUN")
last_tick() { grep '^tick' "$OUT" | tail -1; }
t_now() { last_tick | sed -n 's/^tick t=\([0-9.]*\).*/\1/p'; }
p2_is() { last_tick | grep -Eq " p2=($1):"; }
p2_carries() { last_tick | grep -Eq ' p2=active:([1-9][0-9]*:[0-9]+|[0-9]+:[1-9][0-9]*) '; }
hold() { awk -v ms="$1" 'BEGIN { system("sleep " ms / 1000) }'; }

sa_wait_for 20 p2_carries || sa_fail "path 2 carried no I/O"
: >"$SA_TMP/flaps"
start=$(date +%s)
for ((i = 1; i <= SOAK_FLAPS; i++)); do
	kill -0 "$RUN" 2>/dev/null || sa_fail "sanpath exited during flap $i: $(tail -3 "$SA_TMP/soak.log")"
	fat=$(t_now)
	in_ini iptables -I "${DROP[@]}" || sa_fail "iptables DROP failed"
	if ((i % SOAK_LONG_EVERY == 0)); then
		kind=down
		sa_wait_for 5 p2_is down || sa_fail "flap $i: path 2 never went down"
	else
		kind=suspect
		sa_wait_for 3 p2_is 'suspect|down' || sa_fail "flap $i: path 2 never showed suspect"
		# The failure lasts this much longer (a duration, not a wait for a condition).
		hold "$SOAK_HOLD_MS"
	fi
	rat=$(t_now)
	in_ini iptables -D "${DROP[@]}" || sa_fail "iptables -D failed"
	sa_wait_for 30 p2_carries || sa_fail "flap $i: path 2 did not come back: $(last_tick)"
	echo "$i $kind $fat $rat" >>"$SA_TMP/flaps"
done
elapsed=$(($(date +%s) - start))
# ip netns exec runs sanpath as its child: the signal goes to sanpath, which stops and prints its results.
kill -INT "$(pgrep -P "$RUN")" 2>/dev/null || kill -INT "$RUN"
wait "$RUN" || sa_fail "sanpath exited $?: $(tail -3 "$SA_TMP/soak.log")"
grep -q '^result: .* errors=0$' "$OUT" || sa_fail "application errors: $(grep ^result "$OUT")"
grep -q '^verify: .* mismatches=0$' "$OUT" || sa_fail "$(grep ^verify "$OUT")"

sed -n 's/^gap: at=\([0-9.]*\) ms=\([0-9.]*\)/\1 \2/p' "$OUT" >"$SA_TMP/gaps"
# Per flap: the longest gap from its failure to 0.5 s after its restore (0 when none reached 5 ms).
awk 'NR == FNR { g[NR] = $1; m[NR] = $2; n = NR; next }
	{ best = 0; for (k = 1; k <= n; k++) if (g[k] >= $3 - 0.02 && g[k] <= $4 + 0.5 && m[k] > best) best = m[k];
	  print $2, best }' "$SA_TMP/gaps" "$SA_TMP/flaps" >"$SA_TMP/flapgaps"
stats() {
	sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print "- - - 0"; exit }
		i99 = int(NR * 0.99 + 0.999); if (i99 < 1) i99 = 1
		printf "%.1f %.1f %.1f %d\n", v[int((NR + 1) / 2)], v[i99], v[NR], NR }'
}
echo "flap soak: $SOAK_FLAPS silent failures of path 2 (iptables DROP) in $elapsed s under 4 KiB mixed I/O, qd 16,"
echo "  --verify; short flaps held ${SOAK_HOLD_MS} ms past suspect, every ${SOAK_LONG_EVERY}th held until down; $(nproc) CPUs"
printf "%-8s %6s %10s %8s %8s\n" flaps count median_ms p99_ms max_ms
for k in suspect down all; do
	if [ $k = all ]; then read -r med p99 max n < <(awk '{ print $2 }' "$SA_TMP/flapgaps" | stats)
	else read -r med p99 max n < <(awk -v k=$k '$1 == k { print $2 }' "$SA_TMP/flapgaps" | stats); fi
	printf "%-8s %6s %10s %8s %8s\n" "$k" "$n" "$med" "$p99" "$max"
done
echo "(0: no gap of 5 ms or more at that flap)"
echo "$(grep ^result "$OUT")"
echo "$(grep ^verify "$OUT")"
grep '^path 2: ' "$OUT" | grep -o 'failures=[0-9]* .*' | grep -o 'failures=[0-9]*\|suspects=[0-9]*\|hedged_reads=[0-9]*\|fenced_writes=[0-9]*' | tr '\n' ' '
echo
exit 0
