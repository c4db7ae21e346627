#!/bin/bash
# sanpath_netns.sh: two real paths between an initiator and a storage namespace, 1:3 bandwidth (tc tbf):
# dynamic load balancing converges to 25/75, then a hard (link down) and a silent (iptables DROP) failure
# mid-run under verified I/O give zero application errors.
. "$(dirname "$0")/lib.sh"
sa_init sanpath-netns
SANPATH=$SA_BUILDDIR/sanpath
sa_built "$SANPATH" sanpath
sa_need tgt tgtd tgtadm
sa_need iproute2 tc ip

# ---- the lab: path 1 192.0.2.0/24 at 40 mbit, path 2 198.51.100.0/24 at 120 mbit ----
# shellcheck source=netns_lab.bash
. "$(dirname "$0")/netns_lab.bash"
RATE1=40mbit RATE2=120mbit
lab_up "$RATE1" "$RATE2"
INI=$LAB_INI IQN=$LAB_IQN
# A sanpath still running at exit goes first, then the namespaces.
trap 'sa__rc=$?; [ -n "${RUN_PID:-}" ] && kill "$RUN_PID" 2>/dev/null; lab_down; (exit $sa__rc); sa_cleanup' EXIT

run() {
	local name=$1
	shift
	ip netns exec "$LAB_INI" "$SANPATH" run --target "$IQN" --lun 1 --portal "$LAB_P1" --portal "$LAB_P2" \
		--name "$name" "$@" >"$SA_TMP/$name.out" 2>"$SA_TMP/$name.log" &
	RUN_PID=$!
}
ticks() { grep -c '^tick' "$SA_TMP/$1.out"; }

# ---- dynamic load balancing from 50/50 -------------------------------------------
# The interval is long enough for a backlog to move (qd * bs / slow path rate ~ 0.1 s); a small queue
# depth keeps the backlog quick to move, so the shares hover closer to 25 (measured: 20..28).
IVL=${SA_DYN_IVL:-500}
run dyn --algo dynamic --rw write --pattern seq --bs 64k --qd ${SA_DYN_QD:-8} --time ${SA_DYN_TIME:-22} --report-ms $IVL \
	--dyn-interval $IVL --dyn-threshold 5 --dyn-change 2
wait "$RUN_PID" || sa_fail "dyn: sanpath exited $?: $(tail -3 "$SA_TMP/dyn.log")"
RUN_PID=
grep -q '^result: .* errors=0$' "$SA_TMP/dyn.out" || sa_fail "dyn: application errors"
# Write share of path 1 per tick; converged = within 5 points of 25 from that tick to the end.
grep '^tick' "$SA_TMP/dyn.out" | sed -n 's/.* shares_w=\([0-9]*\)\/.*/\1/p' >"$SA_TMP/dyn.shares"
conv=$(awk '{ s[NR] = $1 } END { c = 0; for (i = NR; i >= 1; i--) { d = s[i] - 25; if (d < 0) d = -d;
	if (d > 5) break; c = i } print c }' "$SA_TMP/dyn.shares")
last=$(tail -1 "$SA_TMP/dyn.shares")
[ "$conv" -gt 0 ] || sa_fail "dyn: shares did not converge to 25/75: path 1 went $(tr '\n' ' ' <"$SA_TMP/dyn.shares")"
[ "$conv" -le $(($(wc -l <"$SA_TMP/dyn.shares") - 6)) ] ||
	sa_fail "dyn: converged only at interval $conv, too late to tell: $(tr '\n' ' ' <"$SA_TMP/dyn.shares")"
# The split actually carried over the converged ticks follows the shares.
split=$(grep '^tick' "$SA_TMP/dyn.out" | tail -n +"$((conv + 1))" |
	sed -n 's/.* p1=[a-z]*:[0-9]*:\([0-9]*\) p2=[a-z]*:[0-9]*:\([0-9]*\).*/\1 \2/p' |
	awk '{ a += $1; b += $2 } END { printf "%.1f", a + b ? 100 * a / (a + b) : 0 }')
awk -v s="$split" 'BEGIN { exit !(s >= 20 && s <= 30) }' || sa_fail "dyn: path 1 carried $split% after converging"
sa_log "dyn: 1:3 bandwidth ($RATE1/$RATE2): path 1 write share 50 -> $last, within 5 points of 25 from" \
	"interval $conv ($IVL ms intervals); bytes carried after that: path 1 $split%"
sa_log "dyn: $(grep ^result "$SA_TMP/dyn.out")"
sa_log "dyn: path 1 share per interval: $(tr '\n' ' ' <"$SA_TMP/dyn.shares")"

# ---- hard then silent failure of path 2 under verified mixed I/O --------------------
run fail --algo dynamic --rw mix --pattern rand --bs 16k --qd 16 --size 16M --verify --time 16 --report-ms 200 \
	--dyn-interval $IVL --dyn-change 2 --nop-interval 250 --nop-timeout 750 --cmd-timeout 1000
p2_state() { grep '^tick' "$SA_TMP/fail.out" | tail -1 | sed -n 's/.* p2=\([a-z]*\):.*/\1/p'; }
p2_is() { [ "$(p2_state)" = "$1" ]; }
p2_moved() { grep '^tick' "$SA_TMP/fail.out" | tail -1 | grep -q ' p2=active:[0-9]*:[1-9]'; }
sa_wait_for 10 p2_moved || sa_fail "fail: path 2 carried no I/O"
in_ini ip link set vi2 down || sa_fail "cannot take vi2 down"
t0=$(date +%s.%N)
sa_wait_for 5 p2_is down || sa_fail "hard: path 2 never went down"
sa_log "hard: link down noticed within $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
n=$(ticks fail)
later() { [ "$(ticks fail)" -ge $((n + 5)) ]; }
sa_wait_for 5 later
in_ini ip link set vi2 up || sa_fail "cannot bring vi2 back"
sa_wait_for 10 p2_moved || sa_fail "hard: path 2 did not come back into service"
in_ini iptables -I INPUT -s 198.51.100.2 -j DROP || sa_fail "iptables DROP in $INI failed"
t0=$(date +%s.%N)
sa_wait_for 5 p2_is down || sa_fail "silent: loss not detected within 5 s"
sa_log "silent: DROP noticed within $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
in_ini iptables -D INPUT -s 198.51.100.2 -j DROP
wait "$RUN_PID"
rc=$?
RUN_PID=
[ $rc = 0 ] || sa_fail "fail: sanpath exited $rc: $(tail -5 "$SA_TMP/fail.log")"
grep -q '^result: .* errors=0$' "$SA_TMP/fail.out" || sa_fail "fail: application errors"
grep -q '^verify: .* mismatches=0$' "$SA_TMP/fail.out" || sa_fail "fail: $(grep ^verify "$SA_TMP/fail.out")"
f=$(sed -n 's/^path 2: .* failures=\([0-9]*\).*/\1/p' "$SA_TMP/fail.out")
[ "${f:-0}" -ge 2 ] || sa_fail "fail: path 2 shows $f failures, want 2 (hard and silent)"
grep -q 'path 2 .* down: \(NOP-Out unanswered\|command outstanding\)' "$SA_TMP/fail.log" ||
	sa_fail "silent: not caught by the NOP-Out or command timeout"
sa_log "fail: $(grep ^result "$SA_TMP/fail.out"); $(grep ^verify "$SA_TMP/fail.out"); $(grep ^stall "$SA_TMP/fail.out")"
echo "PASS: sanpath netns"
exit 0
