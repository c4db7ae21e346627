#!/bin/bash
# sanpath_suspect.sh: a silently failing path turns suspect (no new commands, reads hedged on the healthy path) long
# before it is declared down, a path that answers again is back at once without a failover, and overlapping
# writes across a silent failure stay in order (verified) because a write leaves a dead session only once fenced.
. "$(dirname "$0")/lib.sh"
sa_init sanpath-suspect
SANPATH=$SA_BUILDDIR/sanpath
sa_built "$SANPATH" sanpath
sa_need tgt tgtd tgtadm
sa_need iproute2 tc ip
sa_need iptables iptables

# shellcheck source=netns_lab.bash
. "$(dirname "$0")/netns_lab.bash"
lab_up none none
# A sanpath still running at exit goes first, then the namespaces.
trap 'sa__rc=$?; [ -n "${RUN_PID:-}" ] && kill "$RUN_PID" 2>/dev/null; lab_down; (exit $sa__rc); sa_cleanup' EXIT
DROP=(INPUT -s "${LAB_P2%:*}" -j DROP)

run() {
	local name=$1
	shift
	ip netns exec "$LAB_INI" "$SANPATH" run --target "$LAB_IQN" --lun 1 --portal "$LAB_P1" --portal "$LAB_P2" --name "$name" \
		--pattern rand --bs 4k --qd 16 --verify --report-ms 20 --gap-report 5 "$@" \
		>"$SA_TMP/$name.out" 2>"$SA_TMP/$name.log" &
	RUN_PID=$!
}
last_tick() { grep '^tick' "$SA_TMP/$1.out" | tail -1; }
p2_is() { last_tick "$1" | grep -q " p2=$2:"; }
p2_carries() { last_tick "$1" | grep -Eq ' p2=active:([1-9][0-9]*:[0-9]+|[0-9]+:[1-9][0-9]*) '; }
tick_t() { last_tick "$1" | sed -n 's/^tick t=\([0-9.]*\).*/\1/p'; }
finish() {
	local name=$1 rc
	wait "$RUN_PID"
	rc=$?
	RUN_PID=
	[ $rc = 0 ] || sa_fail "$name: sanpath exited $rc: $(tail -5 "$SA_TMP/$name.log")"
	grep -q '^result: .* errors=0$' "$SA_TMP/$name.out" || sa_fail "$name: application errors"
	grep -q '^verify: .* mismatches=0$' "$SA_TMP/$name.out" || sa_fail "$name: $(grep ^verify "$SA_TMP/$name.out")"
}
p2_field() { sed -n "s/^path 2: .* $2=\([0-9]*\).*/\1/p" "$SA_TMP/$1.out"; }

# ---- 1. silent failure: suspect, hedged reads, healthy path carries on, then down as before ----
run silent --rw mix --size 16M --time 7 --shm-dir "$SA_TMP"
sa_wait_for 10 p2_carries silent || sa_fail "silent: path 2 carried no I/O"
at=$(tick_t silent)
in_ini iptables -I "${DROP[@]}" || sa_fail "iptables DROP failed"
sa_wait_for 2 p2_is silent suspect || sa_fail "silent: path 2 never showed suspect: $(last_tick silent)"
st=$(tick_t silent)
# What the agent reads (the shared-memory segment) says so too: sanPathState suspect(8) comes from there.
shm_suspect() { "$SANPATH" status --shm-dir "$SA_TMP" --name silent | grep -q ' path 2: .* state=suspect '; }
sa_wait_for 1 shm_suspect ||
	sa_fail "silent: the segment does not show path 2 suspect: $("$SANPATH" status --shm-dir "$SA_TMP" --name silent)"
# While path 2 is suspect (before it is declared down), path 1 carries the I/O: without the handling every slot
# ends up waiting on path 2 and path 1 is idle in every tick until the failover.  Not "in every 20 ms tick": on a
# loaded machine a tick can pass with the process not scheduled at all.
n=$(grep -c '^tick' "$SA_TMP/silent.out")
later() { [ "$(grep -c '^tick' "$SA_TMP/silent.out")" -ge $((n + 10)) ] || p2_is silent down; }
sa_wait_for 3 later
sus=$(grep '^tick' "$SA_TMP/silent.out" | tail -n +"$((n + 1))" | grep ' p2=suspect:')
idle=$(grep -c ' p1=[a-z]*:0:0 ' <<<"$sus")
busy=$(grep -vc ' p1=[a-z]*:0:0 ' <<<"$sus")
[ "$busy" -gt "$idle" ] || sa_fail "silent: path 1 busy in $busy ticks, idle in $idle, while path 2 was suspect"
sa_wait_for 5 p2_is silent down || sa_fail "silent: path 2 never went down (detection must still end in failover)"
in_ini iptables -D "${DROP[@]}"
finish silent
grep -q 'path 2 .* down: \(NOP-Out unanswered\|command outstanding\)' "$SA_TMP/silent.log" ||
	sa_fail "silent: not declared down by the NOP-Out or command timeout"
[ "$(p2_field silent hedged_reads)" -gt 0 ] || sa_fail "silent: no read was hedged"
[ "$(p2_field silent fenced_writes)" -gt 0 ] || sa_fail "silent: no write waited for the fence"
gap=$(sed -n 's/^gap: at=\([0-9.]*\) ms=\([0-9.]*\)/\1 \2/p' "$SA_TMP/silent.out" |
	awk -v f="$at" '$1 >= f - 0.1 && $1 <= f + 2.5 && $2 > m { m = $2 } END { printf "%.1f", m }')
# Without suspect handling the team stalls for the whole detection (~850 ms); a loaded box adds noise.
awk -v g="$gap" 'BEGIN { exit !(g < 400) }' || sa_fail "silent: the team stalled $gap ms at the failure"
sa_log "silent: dropped at ${at}s, suspect in the tick at ${st}s, longest team gap $gap ms," \
	"hedged reads $(p2_field silent hedged_reads), fenced writes $(p2_field silent fenced_writes)"

# ---- 2. a short silence: suspect, answers again, back in service with no failover (dynamic LB) ----
run blip --rw mix --size 16M --time 6 --algo dynamic --nop-timeout 3000 --cmd-timeout 4000
sa_wait_for 10 p2_carries blip || sa_fail "blip: path 2 carried no I/O"
in_ini iptables -I "${DROP[@]}" || sa_fail "iptables DROP failed"
sa_wait_for 2 p2_is blip suspect || sa_fail "blip: path 2 never showed suspect: $(last_tick blip)"
in_ini iptables -D "${DROP[@]}"
sa_wait_for 5 p2_carries blip || sa_fail "blip: path 2 did not come back: $(last_tick blip)"
finish blip
[ "$(p2_field blip failures)" = 0 ] || sa_fail "blip: path 2 failed over ($(p2_field blip failures) failures)"
grep -q 'path 2 .* answers again after' "$SA_TMP/blip.log" || sa_fail "blip: no return to service logged"
sa_log "blip: $(grep -m1 -o 'path 2 .* answers again after [0-9]* ms' "$SA_TMP/blip.log");" \
	"hedged reads $(p2_field blip hedged_reads) (their late copies went to bounce buffers), verify clean"

# ---- 3. overlapping writes across a silent failure: 64 blocks rewritten all the time, verified ----
run overlap --rw mix --mix-read 30 --size 256k --time 8 --algo ql
sa_wait_for 10 p2_carries overlap || sa_fail "overlap: path 2 carried no I/O"
in_ini iptables -I "${DROP[@]}" || sa_fail "iptables DROP failed"
sa_wait_for 5 p2_is overlap down || sa_fail "overlap: path 2 never went down"
# Path 2 comes back while writes it had are re-issued elsewhere and rewritten: nothing old may land.
in_ini iptables -D "${DROP[@]}"
sa_wait_for 10 p2_carries overlap || sa_fail "overlap: path 2 did not come back: $(last_tick overlap)"
finish overlap
[ "$(p2_field overlap fenced_writes)" -gt 0 ] || sa_fail "overlap: no write waited for the fence"
sa_log "overlap: $(grep ^verify "$SA_TMP/overlap.out"), fenced writes $(p2_field overlap fenced_writes)"
echo "PASS: sanpath suspect"
exit 0
