#!/bin/bash
# team_failback.sh: failback policy and flap damping of a running team, set by SNMP, with verified I/O running:
# manual failback waits for sanTeamFailbackNow, delayed failback waits its hold time, and a path that fails five
# times within the window is held back with sanPathFlapping at snmptrapd.  Every byte written is read back intact.
. "$(dirname "$0")/lib.sh"
# shellcheck source=team_lib.bash
. "$(dirname "$0")/team_lib.bash"
sa_init team-failback
sa_need_plugin nbdcopy
sa_need python3 python3

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
sa_start_balance_agent

T=$(col "$PM.1.1.0")
sa_set "$TEAM.17.$T" i 4 "$TEAM.2.$T" s fb1 "$TEAM.3.$T" s "$IQN" "$TEAM.4.$T" u 1 \
	"$TEAM.14.$T" s "127.0.0.1:$P 127.0.0.2:$P" >/dev/null || sa_fail "createAndGo of team fb1 failed"
sa_wait_for 15 is "$TEAM.10.$T" 1 || sa_fail "fb1 never optimal: $(col "$TEAM.10.$T")"
[ "$(sa_get1 "$TEAM.18.$T" "$TEAM.19.$T" "$TEAM.20.$T" "$TEAM.21.$T" "$TEAM.22.$T" "$TEAM.23.$T")" = "1 5 3 30 10 1" ] ||
	sa_fail "failback defaults: $(sa_get1 "$TEAM.18.$T" "$TEAM.19.$T" "$TEAM.20.$T" "$TEAM.21.$T" "$TEAM.22.$T" "$TEAM.23.$T")"

# ---- bad values: precise errors, nothing changes --------------------------------------------------
sa_set_err wrongValue "$TEAM.18.$T" i 4
sa_set_err wrongValue "$TEAM.18.$T" i 0
sa_set_err wrongType "$TEAM.18.$T" u 2
sa_set_err wrongValue "$TEAM.19.$T" u 86401
sa_set_err wrongValue "$TEAM.20.$T" u 9
sa_set_err wrongValue "$TEAM.21.$T" u 0
sa_set_err wrongValue "$TEAM.23.$T" i 3
sa_set_err wrongType "$TEAM.22.$T" s 10
# One bad varbind fails the whole PDU.
sa_set_err wrongValue "$TEAM.18.$T" i 2 "$TEAM.20.$T" u 9
[ "$(sa_get1 "$TEAM.18.$T" "$TEAM.20.$T")" = "1 3" ] || sa_fail "a refused PDU changed the policy"
sa_log "bad failback values refused with their errors"

team_io_start "$RUN/fb1.sock"

bytes_of() { col "$PATHS.13.$T.$1"; }
grows() { local a b; a=$(bytes_of "$1"); sleep 0.5; b=$(bytes_of "$1"); [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; }
# kill_path N: the target drops path N's connection; the path fails and logs in again at once.
kill_path() {
	local sid
	sid=$(sa_tgt_sid 1 "sanpath-fb1-p$1")
	[ -n "$sid" ] || sa_fail "no tgt session for path $1"
	sa_tgt_ctl --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || sa_fail "cannot drop path $1"
}
state_hold() { sa_get1 "$PATHS.7.$T.$1" "$PATHS.23.$T.$1"; }
is_state_hold() { [ "$(state_hold "$1")" = "$2" ]; }
sa_wait_for 10 grows 2 || sa_fail "path 2 carries no writes"

# ---- manual failback waits for the SET ------------------------------------------------------------
sa_set "$TEAM.18.$T" i 2 "$TEAM.20.$T" u 0 >/dev/null || sa_fail "cannot set manual failback"
sa_wait_for 5 is "$TEAM.15.$T" 1 || sa_fail "manual failback not applied: $(col "$TEAM.15.$T")"
kill_path 2
sa_wait_for 15 is_state_hold 2 "3 2" || sa_fail "path 2 not held for manual failback: $(state_hold 2)"
b0=$(bytes_of 2)
sleep 2 # the hold must last: a path released by itself would carry writes within a report interval
[ "$(state_hold 2)" = "3 2" ] || sa_fail "path 2 left standby without the SET: $(state_hold 2)"
[ "$(bytes_of 2)" = "$b0" ] || sa_fail "path 2 carried writes while held: $b0 -> $(bytes_of 2)"
sa_wait_for 5 grows 1 || sa_fail "path 1 does not carry the I/O alone"
sa_set "$TEAM.23.$T" i 2 >/dev/null || sa_fail "sanTeamFailbackNow failed"
sa_wait_for 5 is_state_hold 2 "4 1" || sa_fail "path 2 not back after the SET: $(state_hold 2)"
sa_wait_for 5 grows 2 || sa_fail "path 2 carries nothing after the manual failback"
[ "$(col "$TEAM.23.$T")" = 1 ] || sa_fail "sanTeamFailbackNow reads $(col "$TEAM.23.$T"), want idle"
sa_log "manual: path 2 held in standby (${b0} bytes, unchanged 2 s), back on sanTeamFailbackNow"

# ---- delayed failback waits the hold time ----------------------------------------------------------
HOLD=4
sa_set "$TEAM.18.$T" i 3 "$TEAM.19.$T" u "$HOLD" >/dev/null || sa_fail "cannot set delayed failback"
sa_wait_for 5 is "$TEAM.15.$T" 1 || sa_fail "delayed failback not applied"
# The path cannot be healthy again before it was dropped: active again HOLD s after the drop at the earliest.
t0=$(sa_now_ms)
kill_path 2
sa_wait_for 15 is_state_hold 2 "3 3" || sa_fail "path 2 not held for the failback delay: $(state_hold 2)"
sa_wait_for $((HOLD + 5)) is_state_hold 2 "4 1" || sa_fail "path 2 not back after the delay: $(state_hold 2)"
held=$(($(sa_now_ms) - t0))
[ "$held" -ge $((HOLD * 1000)) ] || sa_fail "path 2 back $held ms after its drop, before the $HOLD s hold"
sa_wait_for 5 grows 2 || sa_fail "path 2 carries nothing after the delayed failback"
sa_log "delayed: path 2 back in service ${held} ms after its drop (hold ${HOLD} s), carries I/O again"

# ---- flap damping: the fifth failure within the window holds the path back --------------------------
sa_set "$TEAM.18.$T" i 1 "$TEAM.20.$T" u 5 "$TEAM.21.$T" u 120 "$TEAM.22.$T" u 4 >/dev/null ||
	sa_fail "cannot set flap damping"
sa_wait_for 5 is "$TEAM.15.$T" 1 || sa_fail "flap damping not applied"
flap_trap() { sa_trap_count "OID: $PM.0.7"; }
errors_at_least() { local e; e=$(col "$PATHS.16.$T.$1"); [ -n "$e" ] && [ "$e" -ge "$2" ]; }
for i in 1 2 3 4 5; do
	sa_wait_for 15 is_state_hold 1 "4 1" || sa_fail "path 1 not active before flap $i: $(state_hold 1)"
	e0=$(col "$PATHS.16.$T.1")
	kill_path 1
	# Its failure counted first: the state read just after the drop may still be the old one.
	sa_wait_for 10 errors_at_least 1 $((e0 + 1)) || sa_fail "flap $i not seen: sanPathErrors $(col "$PATHS.16.$T.1")"
	if [ "$i" -lt 5 ]; then
		sa_wait_for 15 is_state_hold 1 "4 1" || sa_fail "path 1 not back after flap $i: $(state_hold 1)"
		[ "$(flap_trap)" = 0 ] || sa_fail "sanPathFlapping after only $i failures"
	fi
done
sa_wait_for 15 is_state_hold 1 "3 4" || sa_fail "path 1 not held back after 5 flaps: $(state_hold 1)"
sa_wait_for 10 sa_trap_seen "OID: $PM.0.7" || sa_fail "no sanPathFlapping at snmptrapd"
trap_line=$(grep "OID: $PM.0.7" "$SA_TMP/snmptrapd.log")
case $trap_line in *"$PATHS.3.$T.1 = Hex-STRING: 7F 00 00 01"*"$PATHS.23.$T.1 = INTEGER: 4"*) ;;
*) sa_fail "sanPathFlapping does not name path 1 as damped: $trap_line" ;; esac
sa_wait_for 15 is_state_hold 1 "4 1" || sa_fail "path 1 not back after the flap hold: $(state_hold 1)"
sa_wait_for 5 grows 1 || sa_fail "path 1 carries nothing after the flap hold"
sa_log "flapping: 5 failures held path 1 back (flapDamping), sanPathFlapping received, back after the hold"

team_io_stop

# ---- the policy persists with the team --------------------------------------------------------------
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent
[ "$(sa_get1 "$TEAM.18.$T" "$TEAM.19.$T" "$TEAM.20.$T" "$TEAM.21.$T" "$TEAM.22.$T")" = "1 $HOLD 5 120 4" ] ||
	sa_fail "policy after restart: $(sa_get1 "$TEAM.18.$T" "$TEAM.19.$T" "$TEAM.20.$T" "$TEAM.21.$T" "$TEAM.22.$T")"
echo "PASS: team failback"
