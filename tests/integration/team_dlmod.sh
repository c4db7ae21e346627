#!/bin/bash
# team_dlmod.sh: the balance engine inside snmpd (sanagent.so loaded with dlmod): a team created by SET runs its
# data plane, verified I/O goes through its NBD export, its path table is live (counters move, a path added by SET
# joins, a lost path shows down with sanPathDown at snmptrapd and comes back), and destroy stops the data plane.
. "$(dirname "$0")/lib.sh"
# shellcheck source=team_lib.bash
. "$(dirname "$0")/team_lib.bash"
sa_init team-dlmod
sa_need_plugin nbdcopy
sa_need python3 python3
so="$SA_BUILDDIR/.libs/sanagent.so"
sa_built "$so" "sanagent.so (the dlmod plug-in)"

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
RUN=$SA_TMP/run
sa_start_snmptrapd
sa_agent_conf "balance = {
  run_dir = \"$RUN\";
  plugin = \"$PLUGIN\";
  plugin_args = [ \"report_ms=200\" ];
  poll_interval_ms = 100;
};"
sa_start_snmpd "dlmod sanagent $so" "sanagentConfig $SA_TMP/sanagent.conf"
sa_wait_agent
# No sanagentd was started: what answers below is the plug-in inside snmpd.

[ "$(col "$SA_OID.1.2.1.4.2")" = 1 ] || sa_fail "balance engine not up inside snmpd: $(col "$SA_OID.1.2.1.4.2")"

T=$(col "$PM.1.1.0")
sa_set "$TEAM.17.$T" i 4 "$TEAM.2.$T" s dl1 "$TEAM.3.$T" s "$IQN" "$TEAM.4.$T" u 1 \
	"$TEAM.14.$T" s "127.0.0.1:$P" >/dev/null || sa_fail "createAndGo of team dl1 failed"
sa_wait_for 15 is "$TEAM.10.$T" 1 || sa_fail "dl1 never optimal: $(col "$TEAM.10.$T")"
dp=$(pgrep -f "nbdkit.*name=dl1")
[ -n "$dp" ] || sa_fail "no data plane for dl1"
[ "$(ps -o ppid= -p "$dp" | tr -d ' ')" = "$SA_SNMPD_PID" ] || sa_fail "dl1's data plane is not snmpd's child"
sa_log "team dl1 created by SET inside snmpd (pid $SA_SNMPD_PID): data plane pid $dp, optimal"

team_io_start "$RUN/dl1.sock"
bytes_of() { col "$PATHS.13.$T.$1"; }
grows() { local a b; a=$(bytes_of "$1"); sleep 0.5; b=$(bytes_of "$1"); [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; }
sa_wait_for 10 grows 1 || sa_fail "path 1 counters do not move under I/O"

# ---- a path added by SET joins and carries I/O ------------------------------------------------------
sa_set "$PATHS.25.$T.2" i 4 "$PATHS.19.$T.2" s "127.0.0.2:$P" >/dev/null || sa_fail "createAndGo of path 2 failed"
sa_wait_for 15 is "$PATHS.7.$T.2" 4 || sa_fail "path 2 not active: $(col "$PATHS.7.$T.2") $(col "$PATHS.21.$T.2")"
sa_wait_for 10 grows 2 || sa_fail "path 2 carries no I/O"
walk1=$(sa_walk "$PATHS.13.$T")
sa_log "path 2 added by SET: active, write bytes $(bytes_of 1)/$(bytes_of 2)"

# ---- a lost path: the table and sanPathDown say so; it comes back --------------------------------------
sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot delete the portal"
sid=$(sa_tgt_sid 1 sanpath-dl1-p2)
[ -n "$sid" ] || sa_fail "no tgt session for path 2"
sa_tgt_ctl --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || sa_fail "cannot drop path 2"
sa_wait_for 10 sa_trap_seen "OID: $PM.0.1" || sa_fail "no sanPathDown at snmptrapd"
out() { [ "$(col "$PATHS.20.$T.2")" = 2 ]; }
sa_wait_for 5 out || sa_fail "path 2 oper status $(col "$PATHS.20.$T.2") after its loss"
[ "$(col "$TEAM.10.$T")" = 2 ] || sa_fail "team state $(col "$TEAM.10.$T"), want degraded"
sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot restore the portal"
sa_wait_for 20 is "$PATHS.7.$T.2" 4 || sa_fail "path 2 not back: $(col "$PATHS.7.$T.2")"
sa_wait_for 10 sa_trap_seen "OID: $PM.0.2" || sa_fail "no sanPathUp at snmptrapd"
walk2=$(sa_walk "$PATHS.13.$T")
[ "$walk1" != "$walk2" ] || sa_fail "the path table did not change under I/O"
sa_log "path 2 lost and back: sanPathDown and sanPathUp from snmpd itself, table live"

team_io_stop

# ---- destroy stops the data plane ----------------------------------------------------------------------
sa_set "$TEAM.17.$T" i 6 >/dev/null || sa_fail "destroy failed"
[ -z "$(col "$TEAM.2.$T")" ] || sa_fail "dl1 still in the table"
sa_wait_for 10 sa_pid_gone "$dp" || sa_fail "dl1's data plane still runs after destroy"
kill -0 "$SA_SNMPD_PID" || sa_fail "snmpd died"
echo "PASS: team in dlmod mode"
