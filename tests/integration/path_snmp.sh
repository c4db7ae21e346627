#!/bin/bash
# path_snmp.sh: SANAGENT-PATH-MIB through snmpd: team lab0 over two portals, I/O through its NBD export, share SETs, traps.
. "$(dirname "$0")/lib.sh"
sa_init path-snmp
sa_need_plugin nbdcopy

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
sa_start_balance_agent "shares_notify_interval = 5;
  $(sa_lab0_teams)"

PM=$SA_OID.3.2
TEAM=$PM.1.2.1
PATHS=$PM.1.3.1
# sanTeamTable.1 is lab0: the only config team.
col() { sa_get "$1"; }
team_state() { col "$TEAM.10.1"; }
path_state() { col "$PATHS.7.1.$1"; }
trap_seen() { grep -E -q "OID: $PM\.0\.$1([^0-9]|$)" "$SA_TMP/snmptrapd.log"; }

is() { [ "$(col "$1")" = "$2" ]; }
sa_wait_for 15 is "$TEAM.10.1" 1 || sa_fail "lab0 never optimal: state $(team_state); $(tail -5 "$RUN/lab0.log" 2>&1)"
sa_wait_for 5 is "$PATHS.7.1.2" 4 || sa_fail "path 2 not active: $(path_state 2)"

# ---- the tables as a manager reads them -----------------------------------------
[ "$(col "$TEAM.2.1")" = '"lab0"' ] || sa_fail "sanTeamName.1 = $(col "$TEAM.2.1")"
[ "$(col "$TEAM.3.1")" = "\"$IQN\"" ] || sa_fail "sanTeamTarget.1 = $(col "$TEAM.3.1")"
[ "$(col "$TEAM.4.1")" = 1 ] || sa_fail "sanTeamLun.1 = $(col "$TEAM.4.1")"
[ "$(col "$TEAM.16.1")" = 4 ] || sa_fail "config team is not permanent: $(col "$TEAM.16.1")"
[ "$(col "$TEAM.13.1")" = "\"$RUN/lab0.sock\"" ] || sa_fail "export socket $(col "$TEAM.13.1")"
[ "$(col "$PATHS.2.1.2")" = 1 ] || sa_fail "sanPathAddressType.1.2 = $(col "$PATHS.2.1.2")"
addr=$(col "$PATHS.3.1.2" | tr -d ' "')
[ "$addr" = 7F000002 ] || sa_fail "sanPathAddress.1.2 = $addr"
[ "$(col "$PATHS.4.1.2")" = "$P" ] || sa_fail "sanPathPort.1.2 = $(col "$PATHS.4.1.2")"
[ "$(sa_get1 "$PATHS.8.1.1" "$PATHS.8.1.2")" = "50 50" ] || sa_fail "default read shares not 50/50"
[ "$(col "$PM.1.1.0")" = 2 ] || sa_fail "sanTeamNextIndex = $(col "$PM.1.1.0")"
n=$(sa_walk "$PATHS" | wc -l)
[ "$n" = 48 ] || sa_fail "sanPathTable walk has $n values, want 2 paths x 24 columns"
sa_log "tables: lab0 optimal, paths $(path_state 1)/$(path_state 2), walk of sanPathTable = $n values"

# ---- I/O through the NBD export moves bytes on both paths ---------------------------
URI="nbd+unix:///?socket=$RUN/lab0.sock"
sa_nbd_roundtrip "$URI" 16 "the export"
# The data plane publishes its counters every report_ms and the agent polls them: wait for them.
at_least() { local v; v=$(col "$1"); [ -n "$v" ] && [ "$v" -ge "$2" ]; }
sa_wait_for 3 at_least "$TEAM.12.1" $((16 << 20)) || sa_fail "sanTeamWriteBytes.1 = $(col "$TEAM.12.1") after 16 MiB"
wb=$(col "$TEAM.12.1")
both_wrote() { read -r W1 W2 < <(sa_get1 "$PATHS.13.1.1" "$PATHS.13.1.2"); [ "${W1:-0}" -ge 1 ] && [ "${W2:-0}" -ge 1 ]; }
sa_wait_for 3 both_wrote || sa_fail "a path carried no writes: path write bytes ${W1:-?}/${W2:-?}"
sa_log "nbdcopy 16 MiB in and out, verified; team write bytes $wb, path write bytes $(col "$PATHS.13.1.1")/$(col "$PATHS.13.1.2")"

# ---- shares: 70/30 in one PDU, observed in the actual shares --------------------------
load() { while :; do nbdcopy "$URI" null: 2>/dev/null || sleep 0.2; done; }
load &
LOAD_PID=$!
SA_PIDS+=("$LOAD_PID")
# split_near WANT: both paths' actual read shares, read in one PDU while they move, within 5 points of WANT and
# 100 - WANT; SPLIT keeps the last pair read for the messages.
within() { [ -n "$1" ] && [ "$1" -ge $(($2 - 5)) ] && [ "$1" -le $(($2 + 5)) ]; }
split_near() {
	local a b
	read -r a b < <(sa_get1 "$PATHS.10.1.1" "$PATHS.10.1.2")
	SPLIT="${a:-?}/${b:-?}"
	within "$a" "$1" && within "$b" $((100 - $1))
}
sa_wait_for 10 split_near 50 || sa_fail "read split not 50/50 under load: $SPLIT"
t_set=$(sa_now_ms)
sa_set "$PATHS.8.1.1" u 70 "$PATHS.8.1.2" u 30 "$PATHS.9.1.1" u 70 "$PATHS.9.1.2" u 30 >/dev/null ||
	sa_fail "snmpset of 70/30 failed"
# Timed from the SET's answer and logged, not held to a figure: unloaded it shows within a few report intervals
# (200 ms each), but on a loaded 2-core machine the same correct convergence took 7 s.
t0=$(sa_now_ms)
sa_wait_for 10 split_near 70 || sa_fail "actual read split $SPLIT, want 70/30"
ms=$(($(sa_now_ms) - t0))
sa_wait_for 3 is "$TEAM.15.1" 1 || sa_fail "sanTeamControlStatus = $(col "$TEAM.15.1"), want applied"
sa_log "70/30 set: answered in $((t0 - t_set)) ms, actual read split $SPLIT $ms ms later"

# ---- 60/60 is refused as a whole and nothing changes -----------------------------
out=$(sa_set "$PATHS.8.1.1" u 60 "$PATHS.8.1.2" u 60 2>&1) && sa_fail "60/60 accepted: $out"
echo "$out" | grep -q inconsistentValue || sa_fail "60/60: want inconsistentValue, got: $out"
[ "$(sa_get1 "$PATHS.8.1.1" "$PATHS.8.1.2")" = "70 30" ] || sa_fail "60/60 changed the shares"
# A PDU mixing a valid write split with an invalid read split changes neither.
out=$(sa_set "$PATHS.9.1.1" u 40 "$PATHS.9.1.2" u 60 "$PATHS.8.1.1" u 10 2>&1) && sa_fail "mixed PDU accepted"
[ "$(sa_get1 "$PATHS.9.1.1" "$PATHS.9.1.2")" = "70 30" ] || sa_fail "a refused PDU changed write shares"
out=$(sa_set "$PATHS.8.1.1" u 101 2>&1) && sa_fail "share 101 accepted"
echo "$out" | grep -q wrongValue || sa_fail "share 101: want wrongValue, got: $out"
sa_log "60/60: inconsistentValue, shares still $(col "$PATHS.8.1.1")/$(col "$PATHS.8.1.2")"

# ---- path failure and recovery: sanPathDown, sanTeamFailover, sanTeamDegraded, sanPathUp ---
sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot delete portal"
sid=$(sa_tgt_sid 1 sanpath-lab0-p2)
[ -n "$sid" ] || sa_fail "no tgt session for lab0 path 2: $(sa_tgt_ctl --op show --mode target)"
sa_tgt_ctl --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || sa_fail "cannot delete the connection"
sa_wait_for 10 trap_seen 1 || sa_fail "no sanPathDown at snmptrapd"
sa_wait_for 5 trap_seen 4 || sa_fail "no sanTeamDegraded at snmptrapd"
sa_wait_for 5 trap_seen 3 || sa_fail "no sanTeamFailover at snmptrapd"
grep -E "OID: $PM\.0\.1([^0-9]|$)" "$SA_TMP/snmptrapd.log" | grep -q "$PATHS.3.1.2 = Hex-STRING: 7F 00 00 02" ||
	sa_fail "sanPathDown does not name path 1.2: $(grep "$PM.0.1" "$SA_TMP/snmptrapd.log")"
grep -E "OID: $PM\.0\.3([^0-9]|$)" "$SA_TMP/snmptrapd.log" | grep -q "$PATHS.3.1.1 = Hex-STRING: 7F 00 00 01" ||
	sa_fail "sanTeamFailover does not name path 1.1 as taking over"
[ "$(team_state)" = 2 ] || sa_fail "sanTeamState = $(team_state), want degraded"
[ "$(path_state 2)" = 5 ] || [ "$(path_state 2)" = 2 ] || sa_fail "path 2 state $(path_state 2), want down"
errs=$(col "$PATHS.16.1.2")
[ "$errs" -ge 1 ] || sa_fail "sanPathErrors.1.2 = $errs"
sa_log "path 2 lost: sanPathDown, sanTeamFailover, sanTeamDegraded received; state $(team_state)"
sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot re-add portal"
sa_wait_for 20 trap_seen 2 || sa_fail "no sanPathUp at snmptrapd"
sa_wait_for 5 is "$TEAM.10.1" 1 || sa_fail "lab0 not optimal again: $(team_state)"
sa_log "path 2 back: sanPathUp received, team optimal"

# ---- dynamic load balancing moves the shares: sanTeamSharesChanged ---------------------
sa_set "$TEAM.6.1" i 2 "$TEAM.7.1" u 100 "$TEAM.8.1" u 0 >/dev/null || sa_fail "cannot switch lab0 to dynamic"
[ "$(sa_get1 "$TEAM.6.1" "$TEAM.7.1")" = "2 100" ] || sa_fail "algorithm/interval not set"
sa_wait_for 20 trap_seen 6 || sa_fail "no sanTeamSharesChanged at snmptrapd under dynamic load balancing"
sa_set "$TEAM.6.1" i 1 >/dev/null || sa_fail "cannot switch lab0 back to static"
sa_log "dynamic: sanTeamSharesChanged received ($(grep -c -E "OID: $PM\.0\.6" "$SA_TMP/snmptrapd.log") in total)"

# ---- every path lost: sanTeamFailed; then back to optimal -----------------------------
for a in 127.0.0.1 127.0.0.2; do
	sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=$a:$P" || sa_fail "cannot delete portal $a"
done
for p in 1 2; do
	sid=$(sa_tgt_sid 1 "sanpath-lab0-p$p")
	[ -z "$sid" ] || sa_tgt_ctl --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0
done
sa_wait_for 10 trap_seen 5 || sa_fail "no sanTeamFailed at snmptrapd"
[ "$(team_state)" = 3 ] || sa_fail "sanTeamState = $(team_state), want failed"
for a in 127.0.0.1 127.0.0.2; do
	sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=$a:$P" || sa_fail "cannot re-add portal $a"
done
sa_wait_for 20 is "$TEAM.10.1" 1 || sa_fail "lab0 not optimal after both paths came back: $(team_state)"
sa_log "both paths lost: sanTeamFailed received; both back: optimal"
kill "$LOAD_PID" 2>/dev/null
wait "$LOAD_PID" 2>/dev/null

# ---- a team created over SNMP persists across an agent restart ---------------------
idx=$(col "$PM.1.1.0")
sa_set "$TEAM.17.$idx" i 4 "$TEAM.2.$idx" s snmp1 "$TEAM.3.$idx" s "$IQN" "$TEAM.4.$idx" u 1 \
	"$TEAM.14.$idx" s "127.0.0.1:$P 127.0.0.2:$P" "$TEAM.5.$idx" i 1 >/dev/null || sa_fail "createAndGo failed"
sa_wait_for 15 is "$TEAM.10.$idx" 1 || sa_fail "snmp1 never optimal: $(col "$TEAM.10.$idx")"
out=$(sa_set "$TEAM.17.$((idx + 1))" i 4 "$TEAM.2.$((idx + 1))" s snmp1 "$TEAM.3.$((idx + 1))" s "$IQN" \
	"$TEAM.14.$((idx + 1))" s "127.0.0.1:$P" 2>&1) && sa_fail "a second team named snmp1 was created"
out=$(sa_set "$TEAM.17.1" i 6 2>&1) && sa_fail "the config team was destroyed over SNMP"
[ "$(col "$TEAM.16.$idx")" = 3 ] || sa_fail "snmp1 storage type $(col "$TEAM.16.$idx"), want nonVolatile"
sa_set "$PATHS.8.$idx.1" u 20 "$PATHS.8.$idx.2" u 80 >/dev/null || sa_fail "snmp1 shares SET failed"
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent
[ "$(col "$TEAM.2.$idx")" = '"snmp1"' ] || sa_fail "snmp1 not restored after restart: $(col "$TEAM.2.$idx")"
[ "$(col "$TEAM.5.$idx")" = 1 ] || sa_fail "snmp1 mode not restored"
[ "$(sa_get1 "$PATHS.8.$idx.1" "$PATHS.8.$idx.2")" = "20 80" ] || sa_fail "snmp1 shares not restored"
sa_wait_for 15 is "$TEAM.10.$idx" 1 || sa_fail "snmp1 not optimal after restart: $(col "$TEAM.10.$idx")"
sa_set "$TEAM.17.$idx" i 6 >/dev/null || sa_fail "destroy failed"
[ -z "$(col "$TEAM.2.$idx")" ] || sa_fail "snmp1 still there after destroy"
sa_state_dump | grep -q "^balance.team.$idx" && sa_fail "snmp1 still in the state"
sa_log "snmp1 created over SNMP (index $idx), restored after restart with its shares, destroyed"

echo "PASS: path MIB"
