#!/bin/bash
# team_failover_only.sh: a failover-mode team (seed 002's failover-only mode) with verified I/O: every command goes
# to the primary while the secondary, logged in and kept alive by NOP-Outs, moves no byte (its counters read 0
# through snmpd); the primary's portal dies: I/O moves to the secondary with no error the application sees; the
# portal comes back: failback follows the team's policy (delayed), and I/O returns to the primary.
. "$(dirname "$0")/lib.sh"
# shellcheck source=team_lib.bash
. "$(dirname "$0")/team_lib.bash"
sa_init team-failover
sa_need_plugin nbdcopy
sa_need python3 python3

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
# suspect=0: with suspect handling on (the default) a primary silent past its threshold for a moment (a loaded
# machine) lends that moment's commands to the secondary; failover-only as seed 002 has it is strict.
sa_start_snmptrapd
sa_start_snmpd
RUN=$SA_TMP/run
sa_agent_conf "balance = {
  run_dir = \"$RUN\";
  plugin = \"$PLUGIN\";
  plugin_args = [ \"report_ms=200\", \"suspect=0\" ];
  poll_interval_ms = 100;
};"
sa_start_agent
sa_wait_agent
trap_seen() { grep -E -q "OID: $PM\.0\.$1([^0-9]|$)" "$SA_TMP/snmptrapd.log"; }

HOLD=3
T=$(col "$PM.1.1.0")
sa_set "$TEAM.17.$T" i 4 "$TEAM.2.$T" s fo1 "$TEAM.3.$T" s "$IQN" "$TEAM.4.$T" u 1 \
	"$TEAM.14.$T" s "127.0.0.1:$P 127.0.0.2:$P" "$TEAM.5.$T" i 1 "$TEAM.18.$T" i 3 "$TEAM.19.$T" u "$HOLD" \
	>/dev/null || sa_fail "createAndGo of failover team fo1 failed"
sa_wait_for 15 is "$TEAM.10.$T" 1 || sa_fail "fo1 never optimal: $(col "$TEAM.10.$T")"
[ "$(sa_get1 "$TEAM.5.$T" "$TEAM.18.$T" "$TEAM.19.$T")" = "1 3 $HOLD" ] || sa_fail "mode/failback not as created"
sa_wait_for 5 is "$PATHS.6.$T.1" 1 || sa_fail "path 1 is not the primary: role $(col "$PATHS.6.$T.1")"
[ "$(col "$PATHS.6.$T.2")" = 2 ] || sa_fail "path 2 is not a secondary: role $(col "$PATHS.6.$T.2")"

team_io_start "$RUN/fo1.sock"
bytes() { sa_get1 "$PATHS.12.$T.$1" "$PATHS.13.$T.$1"; } # read and write bytes of path N, one PDU
total() { local r w; read -r r w < <(bytes "$1"); echo $((${r:-0} + ${w:-0})); }
grows() { local a b; a=$(total "$1"); sleep 0.5; b=$(total "$1"); [ "$b" -gt "$a" ]; }

# ---- every command to the primary, NOP-Outs only on the secondary -------------------------------------
sa_wait_for 10 grows 1 || sa_fail "the primary carries no I/O"
for i in 1 2 3 4 5 6; do
	[ "$(bytes 2)" = "0 0" ] || sa_fail "the secondary moved bytes (read, write): $(bytes 2)"
	sleep 0.5
done
[ -n "$(sa_tgt_sid 1 sanpath-fo1-p2)" ] || sa_fail "the secondary is not logged in at the target"
# Kept alive, not idle: 3 s of NOP-Outs (every 250 ms, each answered within 750 ms or the path fails).
[ "$(sa_get1 "$PATHS.7.$T.2" "$PATHS.16.$T.2" "$PATHS.20.$T.2")" = "4 0 1" ] ||
	sa_fail "secondary state/errors/oper: $(sa_get1 "$PATHS.7.$T.2" "$PATHS.16.$T.2" "$PATHS.20.$T.2")"
grep -q "NOP-Out" "$RUN/fo1.log" && sa_fail "a NOP-Out went unanswered: $(grep NOP-Out "$RUN/fo1.log")"
sa_log "3 s of I/O: primary $(total 1) bytes, secondary $(bytes 2) (read, write), logged in, no error"

# ---- the primary dies: I/O moves, the application sees no error --------------------------------------
sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=127.0.0.1:$P" || sa_fail "cannot delete the portal"
sid=$(sa_tgt_sid 1 sanpath-fo1-p1)
[ -n "$sid" ] || sa_fail "no tgt session for the primary"
sa_tgt_ctl --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || sa_fail "cannot drop the primary"
sa_wait_for 10 trap_seen 3 || sa_fail "no sanTeamFailover at snmptrapd"
sa_wait_for 5 is "$PATHS.6.$T.2" 1 || sa_fail "path 2 did not become the primary: role $(col "$PATHS.6.$T.2")"
sa_wait_for 10 grows 2 || sa_fail "I/O did not move to path 2"
p1=$(total 1)
sleep 1
[ "$(total 1)" = "$p1" ] || sa_fail "the dead primary still moves bytes"
sa_log "primary killed: sanTeamFailover, path 2 primary and carrying I/O"

# ---- it comes back: delayed failback, then I/O returns to it ------------------------------------------
# It cannot be healthy again before its portal is back: primary again HOLD s after that at the earliest.
t0=$(sa_now_ms)
sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=127.0.0.1:$P" || sa_fail "cannot restore the portal"
held() { [ "$(sa_get1 "$PATHS.7.$T.1" "$PATHS.23.$T.1")" = "3 3" ]; }
sa_wait_for 20 held || sa_fail "path 1 not held for the failback delay: $(sa_get1 "$PATHS.7.$T.1" "$PATHS.23.$T.1")"
p1=$(total 1)
back() { [ "$(sa_get1 "$PATHS.6.$T.1" "$PATHS.7.$T.1" "$PATHS.23.$T.1")" = "1 4 1" ]; }
sa_wait_for $((HOLD + 5)) back || sa_fail "path 1 not primary again: $(sa_get1 "$PATHS.6.$T.1" "$PATHS.7.$T.1")"
waited=$(($(sa_now_ms) - t0))
[ "$waited" -ge $((HOLD * 1000)) ] || sa_fail "failback $waited ms after the portal came back, before the $HOLD s hold"
[ "$(total 1)" -ge "$p1" ] || sa_fail "path 1 counters went back"
sa_wait_for 10 grows 1 || sa_fail "I/O did not return to path 1"
p2=$(total 2)
sleep 1
[ "$(total 2)" = "$p2" ] || sa_fail "the secondary still moves bytes after failback: $p2 -> $(total 2)"
sa_log "path 1 back: standby, primary again ${waited} ms after its portal returned (hold $HOLD s); path 2 carries NOP-Outs only again"

team_io_stop
echo "PASS: failover-only team"
