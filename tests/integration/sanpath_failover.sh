#!/bin/bash
# sanpath_failover.sh: a hard (connection deleted) and a silent (iptables DROP) path failure mid-run under verified I/O.
. "$(dirname "$0")/lib.sh"
sa_init sanpath-failover
SANPATH=$SA_BUILDDIR/sanpath
sa_built "$SANPATH" sanpath
sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0

# The DROP rule, if any, goes away on every exit, before the generic cleanup.
DROP_RULE=(INPUT -d 127.0.0.2 -p tcp --dport "$P" -j DROP)
undrop() { [ -n "${DROPPED:-}" ] && iptables -D "${DROP_RULE[@]}" 2>/dev/null; DROPPED=; return 0; }
trap 'sa__rc=$?; undrop; sa_stop_tgtd; (exit $sa__rc); sa_cleanup' EXIT

# ticks FILE: "tick" lines; p2 STATE:READ:WRITE bytes of the last interval.
ticks() { grep -c '^tick' "$1"; }
p2_state_seen() { grep '^tick' "$1" | tail -n +"$2" | grep -q " p2=$3:"; }
# p2 bytes in the ticks from line $2 on where p2 is in state $3 (sum of read+write).
p2_bytes() {
	grep '^tick' "$1" | tail -n +"$2" | sed -n "s/.* p2=$3:\([0-9]*\):\([0-9]*\).*/\1 \2/p" |
		awk '{ s += $1 + $2; n++ } END { printf "%d %d\n", n, s }'
}
field() { sed -n "s/^path $2: .* $3=\([^ ]*\).*/\1/p" "$1"; }

start_run() {
	local name=$1
	shift
	"$SANPATH" run --target "$IQN" --lun 1 --portal "127.0.0.1:$P" --portal "127.0.0.2:$P" --name "$name" \
		--rw mix --pattern rand --verify --report-ms 200 "$@" >"$SA_TMP/$name.out" 2>"$SA_TMP/$name.log" &
	RUN_PID=$!
	SA_PIDS+=("$RUN_PID")
	both_busy() { [ "$(p2_bytes "$SA_TMP/$name.out" 1 active | cut -d' ' -f2)" -gt 0 ]; }
	sa_wait_for 10 both_busy || sa_fail "$name: path 2 never carried I/O"
}

finish_run() {
	local name=$1 rc
	wait "$RUN_PID"
	rc=$?
	[ $rc = 0 ] || sa_fail "$name: sanpath exited $rc: $(tail -5 "$SA_TMP/$name.log")"
	grep -q '^result: .* errors=0$' "$SA_TMP/$name.out" || sa_fail "$name: application errors"
	grep -q '^verify: .* mismatches=0$' "$SA_TMP/$name.out" || sa_fail "$name: $(grep ^verify "$SA_TMP/$name.out")"
	[ "$(field "$SA_TMP/$name.out" 2 failures)" -ge 1 ] || sa_fail "$name: path 2 shows no failure"
	sa_log "$name: $(grep ^result "$SA_TMP/$name.out"); $(grep ^verify "$SA_TMP/$name.out")"
}

# p2_down_bytes FILE FROM: bytes of p2 in ticks where it was out of service (down, or reconnecting),
# without the first tick of each such streak (that interval holds what completed before the failure).
p2_down_bytes() {
	grep '^tick' "$1" | tail -n +"$2" | sed -n 's/.* p2=\([a-z]*\):\([0-9]*\):\([0-9]*\).*/\1 \2 \3/p' |
		awk '{ out = $1 == "down" || $1 == "connecting" }
		     out && prev { s += $2 + $3; n++ } { prev = out } END { printf "%d %d\n", n, s }'
}

# check_down_then_back NAME FROM: while p2 was down it carried nothing; once back it carried I/O again.
check_down_then_back() {
	local name=$1 from=$2 down
	down=$(p2_down_bytes "$SA_TMP/$name.out" "$from")
	[ "${down%% *}" -ge 2 ] || sa_fail "$name: path 2 was out of service for fewer than 2 ticks ($down)"
	[ "${down##* }" = 0 ] || sa_fail "$name: path 2 carried ${down##* } bytes while down"
	# Its own ticks after the last down one.
	local last_down after
	last_down=$(grep '^tick' "$SA_TMP/$name.out" | grep -n -E ' p2=(down|connecting):' | tail -1 | cut -d: -f1)
	after=$(p2_bytes "$SA_TMP/$name.out" "$((last_down + 1))" active)
	[ "${after##* }" -gt 0 ] || sa_fail "$name: no failback: path 2 idle after it came back ($after)"
	sa_log "$name: path 2 out of service for ${down%% *} more ticks with 0 bytes, then ${after##* } bytes after failback"
}

# ---- hard failure: tgt drops the path's connection and its portal ------------
start_run hard --time 10
from=$(ticks "$SA_TMP/hard.out")
# Without the portal the path cannot come straight back: the failure lasts.
sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot delete portal"
sid=$(sa_tgt_sid 1 sanpath-hard-p2)
[ -n "$sid" ] || sa_fail "no tgt session for path 2: $(sa_tgt_ctl --op show --mode target)"
sa_tgt_ctl --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || sa_fail "cannot delete the connection"
hard_down() { p2_state_seen "$SA_TMP/hard.out" "$from" down; }
sa_wait_for 5 hard_down || sa_fail "hard: path 2 never reported down"
n=$(ticks "$SA_TMP/hard.out")
enough() { [ "$(ticks "$SA_TMP/hard.out")" -ge $((n + 8)) ]; }
sa_wait_for 5 enough
sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot re-add portal"
finish_run hard
check_down_then_back hard "$from"

# ---- no path left: commands wait no_path_retry, then fail with a clear error ---
"$SANPATH" run --target "$IQN" --lun 1 --portal "127.0.0.2:$P" --name nopath --rw mix --time 20 \
	--report-ms 200 --no-path-retry 2 >"$SA_TMP/nopath.out" 2>"$SA_TMP/nopath.log" &
RUN_PID=$!
SA_PIDS+=("$RUN_PID")
np_busy() { grep -q ' p1=active:[1-9]' "$SA_TMP/nopath.out"; }
sa_wait_for 10 np_busy || sa_fail "nopath: no I/O"
sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot delete portal"
sid=$(sa_tgt_sid 1 sanpath-nopath-p1)
sa_tgt_ctl --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || sa_fail "cannot delete the connection"
t0=$(date +%s)
wait "$RUN_PID"
rc=$?
t1=$(date +%s)
[ $rc = 1 ] || sa_fail "nopath: exit status $rc, want 1"
grep -q 'failed: no path to the LU (no_path_retry expired)' "$SA_TMP/nopath.log" ||
	sa_fail "nopath: no clear error: $(tail -3 "$SA_TMP/nopath.log")"
[ $((t1 - t0)) -ge 1 ] && [ $((t1 - t0)) -le 6 ] || sa_fail "nopath: failed after $((t1 - t0)) s, want about 2"
sa_log "nopath: I/O failed after $((t1 - t0)) s: $(grep -m1 'no path to the LU (' "$SA_TMP/nopath.log")"
sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot re-add portal"

# ---- silent loss: packets to the path's portal dropped ------------------------
sa_need iptables iptables
if ! iptables -L INPUT -n >/dev/null 2>&1; then
	sa_log "iptables not permitted here: silent-loss case skipped"
	echo "PASS: sanpath failover (hard only)"
	exit 0
fi
start_run silent --time 12
from=$(ticks "$SA_TMP/silent.out")
t0=$(date +%s.%N)
iptables -I "${DROP_RULE[@]}" || sa_fail "iptables DROP failed"
DROPPED=1
silent_down() { p2_state_seen "$SA_TMP/silent.out" "$from" down; }
sa_wait_for 5 silent_down || sa_fail "silent: loss not detected within 5 s"
t1=$(date +%s.%N)
sa_log "silent: detected after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s (200 ms tick resolution)"
n=$(ticks "$SA_TMP/silent.out")
enough() { [ "$(ticks "$SA_TMP/silent.out")" -ge $((n + 8)) ]; }
sa_wait_for 5 enough
undrop
finish_run silent
check_down_then_back silent "$from"
grep -q 'path 2 .* down: \(NOP-Out unanswered\|command outstanding\)' "$SA_TMP/silent.log" ||
	sa_fail "silent: not caught by the NOP-Out or command timeout: $(grep 'down:' "$SA_TMP/silent.log")"
echo "PASS: sanpath failover"
exit 0
