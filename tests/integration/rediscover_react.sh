#!/usr/bin/env bash
# rediscover_react.sh: an initiator agent obeys a name server's rediscovery messages, sent to its trap receiver as
# SNMPv3 authPriv informs (snmpinform stands in for the name-server agent), against a real tgtd on 127.0.0.1-4:
#  - sanRediscover for a two-path team's target: the path at the old portal logs in at the new one, the team and
#    its export stay, and a verified copy through the export runs on throughout without an error;
#  - sanRediscover for a login with its own portal: the row and its team path move, the same team;
#  - sanRediscoverAlternative (otherPortal): the path logs in at the other portal, the old portal is avoided for good
#    (a later login built from discovery leaves it out, also after an agent restart);
#  - sanRediscoverAlternative (otherTarget): the login becomes one to the other target there;
#  - forged (an unlisted v3 user, v2c) or malformed messages move nothing and are counted.
# One message goes out through the name-server agent's own encoder and SNMP client (tests/integration/inform_send).
set -u
. "$(dirname "$0")/lib.sh"

sa_init rediscover_react
sa_need_plugin nbdcopy
sa_need snmp snmpinform

S=$SA_OID.3.1
LOGIN=$S.1.8.1
TEAM=$SA_OID.3.2.1.2.1
M=.1.3.6.1.4.1.32473.1.3.4
REDISCOVER=$M.0.5  # sanRediscover
ALTERNATIVE=$M.0.6 # sanRediscoverAlternative
FB=$M.1.12         # sanRediscNotifyObjects
R=$M.1.13          # sanRediscReaction

NS_USER=nsmsg NS_AUTH=ns-auth-secret NS_PRIV=ns-priv-secret
OTHER_USER=monitor OTHER_AUTH=other-auth-secret OTHER_PRIV=other-priv-secret
PEER=peer-agents
INI=iqn.2026-01.org.sanagent:initiator # the agent's login InitiatorName (the default)

sa_start_tgtd 2
P=$SA_ISCSI_PORT
X=$SA_IQN_PREFIX:disk0
Y=$SA_IQN_PREFIX:disk1
# A third portal now, a fourth (where Y moves) later.
sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=127.0.0.3:$P" || sa_fail "cannot add portal .3"
RX=$(sa_free_port udp)
user() { echo "{ name = \"$1\"; auth_protocol = \"SHA\"; auth_passphrase = \"$2\"; priv_protocol = \"AES\"; priv_passphrase = \"$3\"; }"; }
sa_start_balance_agent "" "trap_receiver = {
  listen = \"udp:127.0.0.1:$RX\";
  communities = ( { community = \"$PEER\"; sources = [ \"127.0.0.1/32\" ]; } );
  users = ( $(user $NS_USER $NS_AUTH $NS_PRIV), $(user $OTHER_USER $OTHER_AUTH $OTHER_PRIV) );
};
discovery = {
  portals = [ \"127.0.0.1:$P\", \"127.0.0.2:$P\", \"127.0.0.3:$P\", \"127.0.0.4:$P\" ];
  interval = 2;
  rediscover_users = [ \"$NS_USER\" ];
};"
sa_wait_for 5 sa_udp_listening "$RX" || sa_fail "trap receiver not listening on $RX"

mkdir -p "$SA_TMP/tools-persist"
tool() { SNMPCONFPATH=$SA_TMP/tools-conf SNMP_PERSISTENT_DIR=$SA_TMP/tools-persist "$@"; }
inform() { # inform USER AUTH PRIV NOTIFICATION VARBINDS...
	local u=$1 a=$2 p=$3 n=$4
	shift 4
	tool snmpinform -v3 -l authPriv -u "$u" -a SHA -A "$a" -x AES -X "$p" -t 2 -r 1 "127.0.0.1:$RX" '' "$n" "$@"
}
hexip() { printf '7F0000%02X' "$1"; }
# type1 TARGET OLD NEW (last octets of 127.0.0.x): the target moved.
type1() {
	inform $NS_USER $NS_AUTH $NS_PRIV "$REDISCOVER" "$FB.1.0" s "$INI" "$FB.2.0" s "$1" "$FB.3.0" i 1 \
		"$FB.4.0" x "$(hexip "$3")" "$FB.5.0" u "$P" "$FB.17.0" i 1 "$FB.18.0" x "$(hexip "$2")" "$FB.19.0" u "$P"
}
# type2 OLDTARGET OLD KIND TARGET NEW: never OLDTARGET at OLD again, TARGET at NEW instead.
type2() {
	inform $NS_USER $NS_AUTH $NS_PRIV "$ALTERNATIVE" "$FB.1.0" s "$INI" "$FB.16.0" s "$1" "$FB.15.0" i "$3" \
		"$FB.2.0" s "$4" "$FB.3.0" i 1 "$FB.4.0" x "$(hexip "$5")" "$FB.5.0" u "$P" \
		"$FB.17.0" i 1 "$FB.18.0" x "$(hexip "$2")" "$FB.19.0" u "$P"
}
# received type1 type2 unauthorized malformed not-ours moved avoided
counters() { sa_get1 "$R.1.0" "$R.2.0" "$R.3.0" "$R.4.0" "$R.5.0" "$R.6.0" "$R.7.0" "$R.8.0"; }
counters_are() { [ "$(counters)" = "$1" ]; }
expect() { sa_wait_for 10 counters_are "$2" || sa_fail "$1: counters $(counters), want $2"; sa_log "$1: $2 ($(sa_get "$R.9.0"))"; }
col() { sa_get "$1"; }
is() { [ "$(col "$1")" = "$2" ]; }
# The portals a team's paths log in at, as sanTeamPortals lists them.
portals() { col "$TEAM.14.$1" | tr -d '"' | tr ' ' '\n' | grep . | sort | paste -sd' '; }
portals_are() { [ "$(portals "$1")" = "$2" ]; }
# Every path of team $1 active (sanPathState 4).
paths_active() { [ -z "$(sa_walk "$SA_OID.3.2.1.3.1.7.$1" | grep -v 'INTEGER: 4$')" ]; }
# An iSCSI connection to tgtd's portal 127.0.0.$1 (the data plane's, seen by the kernel).
conn_to() { ss -Htn state established "dst 127.0.0.$1 and dport = :$P" | grep -q .; }

expect "start" "0 0 0 0 0 0 0 0"

# ---- logins: X at 127.0.0.1 (its own portal), Y at every portal discovery finds (.1 .2 .3) ----------------
sa_set "$LOGIN.2.1" s "$X" "$LOGIN.3.1" i 1 "$LOGIN.4.1" x 7F000001 "$LOGIN.5.1" u "$P" "$LOGIN.8.1" u 1 \
	"$LOGIN.9.1" i 1 "$LOGIN.10.1" i 1 "$LOGIN.17.1" i 3 "$LOGIN.18.1" i 4 >/dev/null || sa_fail "cannot create login 1"
# Discovery lists Y at all three portals first.
y_portals() {
	local ti
	ti=$(sa_walk "$S.1.3.1.2" | sed -n "s/.*\.\([0-9]*\) = STRING: \"$Y\"$/\1/p")
	[ -n "$ti" ] && [ "$(sa_walk "$S.1.4.1.3.$ti" | grep -c " = ")" = "$1" ]
}
sa_wait_for 15 y_portals 3 || sa_fail "discovery did not find $Y at 3 portals"
sa_set "$LOGIN.2.2" s "$Y" "$LOGIN.3.2" i 0 "$LOGIN.4.2" x "" "$LOGIN.8.2" u 1 "$LOGIN.9.2" i 1 "$LOGIN.10.2" i 1 "$LOGIN.17.2" i 3 \
	"$LOGIN.18.2" i 4 >/dev/null || sa_fail "cannot create login 2"
for n in 1 2; do sa_wait_for 20 is "$LOGIN.11.$n" 1 || sa_fail "login $n not up: $(col "$LOGIN.12.$n")"; done
T1=$(col "$LOGIN.15.1")
T2=$(col "$LOGIN.15.2")
Y_ALL="127.0.0.1:$P 127.0.0.2:$P 127.0.0.3:$P"
portals_are "$T2" "$Y_ALL" || sa_fail "login 2's team $T2 has portals $(portals "$T2"), want $Y_ALL"
sa_wait_for 20 paths_active "$T2" || sa_fail "team $T2 paths not all active: $(sa_walk "$SA_OID.3.2.1.3.1.7.$T2")"
sa_log "login 1: team $T1 at $(portals "$T1"); login 2: team $T2 at $(portals "$T2")"
URI2="nbd+unix:///?socket=$(col "$TEAM.13.$T2" | tr -d '"')"

# ---- forged and malformed: nothing moves ---------------------------------------------------------------------
inform $OTHER_USER $OTHER_AUTH $OTHER_PRIV "$REDISCOVER" "$FB.1.0" s "$INI" "$FB.2.0" s "$X" "$FB.3.0" i 1 \
	"$FB.4.0" x 7F000004 "$FB.5.0" u "$P" || sa_fail "inform of $OTHER_USER not acknowledged"
tool snmpinform -v2c -c "$PEER" -t 2 -r 1 "127.0.0.1:$RX" '' "$REDISCOVER" "$FB.1.0" s "$INI" "$FB.2.0" s "$X" \
	"$FB.3.0" i 1 "$FB.4.0" x 7F000004 "$FB.5.0" u "$P" || sa_fail "v2c inform not acknowledged"
inform $NS_USER $NS_AUTH $NS_PRIV "$REDISCOVER" "$FB.1.0" s "$INI" "$FB.2.0" s "$X" ||
	sa_fail "malformed inform not acknowledged"
inform $NS_USER $NS_AUTH $NS_PRIV "$REDISCOVER" "$FB.1.0" s iqn.2026-01.org.example:someone-else "$FB.2.0" s "$X" \
	"$FB.3.0" i 1 "$FB.4.0" x 7F000004 "$FB.5.0" u "$P" || sa_fail "inform for another initiator not acknowledged"
expect "forged, malformed, another initiator's" "4 0 0 2 1 1 0 0"
[ "$(col "$LOGIN.4.1")" = '"7F 00 00 01 "' ] || sa_fail "a forged message moved login 1: $(col "$LOGIN.4.1")"

# ---- type 1 for Y (.3 -> .4) while a verified copy runs through its team's export ----------------------------
sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=127.0.0.4:$P" || sa_fail "cannot add portal .4"
# Verified rounds (16 MiB written, read back, compared) through the export until told to stop.
io_rounds() {
	local n=0
	head -c $((16 << 20)) /dev/urandom >"$SA_TMP/y.in"
	while [ ! -e "$SA_TMP/io.stop" ]; do
		nbdcopy "$SA_TMP/y.in" "$URI2" 2>>"$SA_TMP/io.err" || { echo "round $n: write failed" >>"$SA_TMP/io.err"; return 1; }
		nbdcopy "$URI2" "$SA_TMP/y.out" 2>>"$SA_TMP/io.err" || { echo "round $n: read failed" >>"$SA_TMP/io.err"; return 1; }
		cmp -n $((16 << 20)) "$SA_TMP/y.in" "$SA_TMP/y.out" >>"$SA_TMP/io.err" 2>&1 || return 1
		n=$((n + 1))
		echo "$n" >"$SA_TMP/io.rounds"
	done
}
io_rounds &
IO=$!
SA_PIDS+=("$IO")
rounds() { cat "$SA_TMP/io.rounds" 2>/dev/null || echo 0; }
rounds_past() { [ "$(rounds)" -ge "$1" ]; }
sa_wait_for 20 rounds_past 1 || sa_fail "no verified round through team $T2: $(cat "$SA_TMP/io.err")"
r0=$(rounds)
t0=$(sa_now_ms)
type1 "$Y" 3 4 || sa_fail "sanRediscover for Y not acknowledged"
expect "type 1, Y" "5 1 0 2 1 1 1 0"
Y_MOVED="127.0.0.1:$P 127.0.0.2:$P 127.0.0.4:$P"
sa_wait_for 10 portals_are "$T2" "$Y_MOVED" || sa_fail "team $T2 portals $(portals "$T2"), want $Y_MOVED"
sa_wait_for 20 paths_active "$T2" || sa_fail "team $T2 not all active after the move"
sa_wait_for 10 conn_to 4 || sa_fail "no connection to 127.0.0.4"
sa_log "type 1: team $T2 path 3 logged in at 127.0.0.4 $(($(sa_now_ms) - t0)) ms after the inform"
# Two more full rounds after the path came back, then stop.
r1=$(rounds)
sa_wait_for 30 rounds_past $((r1 + 2)) || sa_fail "verified I/O stalled after the move: $(cat "$SA_TMP/io.err")"
touch "$SA_TMP/io.stop"
wait "$IO" || sa_fail "verified I/O through team $T2 failed across the move: $(cat "$SA_TMP/io.err")"
[ "$(col "$LOGIN.15.2")" = "$T2" ] || sa_fail "login 2 has team $(col "$LOGIN.15.2") now, want $T2 kept"
sa_log "type 1: $(($(rounds) - r0)) verified 16 MiB rounds through team $T2 across the move, no error; same team"

# ---- type 1 for X, a login with its own portal (.1 -> .2), sent by the name server's own code ------------------
# (redisc_msg_encode and sa_snmpc_inform: v3 engine discovery against the receiver, authPriv, the acknowledgement)
SENT=$("$SA_BUILDDIR/tests/integration/inform_send" "udp:127.0.0.1:$RX" $NS_USER $NS_AUTH $NS_PRIV 1 "$INI" "$X" \
	"127.0.0.2:$P" "127.0.0.1:$P") || sa_fail "sa_snmpc_inform's sanRediscover for X not acknowledged"
sa_log "type 1 for X through sa_snmpc_inform: $SENT"
expect "type 1, X" "6 2 0 2 1 1 2 0"
sa_wait_for 10 is "$LOGIN.4.1" '"7F 00 00 02 "' || sa_fail "login 1 address $(col "$LOGIN.4.1"), want 127.0.0.2"
sa_wait_for 10 portals_are "$T1" "127.0.0.2:$P" || sa_fail "team $T1 portals $(portals "$T1")"
sa_wait_for 20 is "$LOGIN.11.1" 1 || sa_fail "login 1 not up at 127.0.0.2"
sa_wait_for 10 conn_to 2 || sa_fail "no connection to 127.0.0.2"
[ "$(col "$LOGIN.15.1")" = "$T1" ] || sa_fail "login 1 has team $(col "$LOGIN.15.1"), want $T1 kept"
sa_state_dump | grep -q "^login.row.1	1;[0-9a-f]*;1;7f000002;" || sa_fail "login 1's new portal not in the state file"

# ---- type 2 otherPortal for Y: never .1 again, .3 instead ----------------------------------------------------
type2 "$Y" 1 1 "$Y" 3 || sa_fail "sanRediscoverAlternative for Y not acknowledged"
expect "type 2 otherPortal, Y" "7 2 1 2 1 1 3 1"
Y_ALT="127.0.0.2:$P 127.0.0.3:$P 127.0.0.4:$P"
sa_wait_for 10 portals_are "$T2" "$Y_ALT" || sa_fail "team $T2 portals $(portals "$T2"), want $Y_ALT"
sa_wait_for 20 paths_active "$T2" || sa_fail "team $T2 not all active after the alternative"
sa_state_dump | grep -q '^login.avoid.' || sa_fail "the avoided portal is not in the state file"
# Logged in anew from what discovery lists (.1 to .4): .1 stays out.
sa_set "$LOGIN.10.2" i 2 >/dev/null && sa_wait_for 10 is "$LOGIN.15.2" 0 || sa_fail "login 2 not down"
sa_set "$LOGIN.10.2" i 1 >/dev/null || sa_fail "login 2 admin up refused"
sa_wait_for 20 is "$LOGIN.11.2" 1 || sa_fail "login 2 not up again"
T2=$(col "$LOGIN.15.2")
Y_NOW="127.0.0.2:$P 127.0.0.3:$P 127.0.0.4:$P"
portals_are "$T2" "$Y_NOW" || sa_fail "login 2 logged in anew at $(portals "$T2"), want $Y_NOW"
sa_log "type 2 otherPortal: 127.0.0.1 avoided for Y; a new login takes $(portals "$T2")"

# ---- type 2 otherTarget for X: Y at .3 instead ------------------------------------------------------------------
type2 "$X" 2 2 "$Y" 3 || sa_fail "sanRediscoverAlternative (otherTarget) not acknowledged"
expect "type 2 otherTarget, X" "8 2 2 2 1 1 4 2"
sa_wait_for 10 is "$LOGIN.2.1" "\"$Y\"" || sa_fail "login 1 target $(col "$LOGIN.2.1"), want $Y"
[ "$(col "$LOGIN.4.1")" = '"7F 00 00 03 "' ] || sa_fail "login 1 address $(col "$LOGIN.4.1"), want 127.0.0.3"
sa_wait_for 20 is "$LOGIN.11.1" 1 || sa_fail "login 1 not up at Y"
sa_log "type 2 otherTarget: login 1 now $(col "$LOGIN.2.1") at 127.0.0.3, team $(col "$LOGIN.15.1")"

# ---- the avoided portals survive a restart ------------------------------------------------------------------------
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent 20
[ "$(col "$R.8.0")" = 2 ] || sa_fail "after a restart $(col "$R.8.0") avoided portals, want 2"
sa_wait_for 20 is "$LOGIN.11.2" 1 || sa_fail "login 2 not up after the restart"
portals_are "$(col "$LOGIN.15.2")" "$Y_NOW" || sa_fail "after a restart login 2 at $(portals "$(col "$LOGIN.15.2")")"
sa_log "restart: 2 avoided portals kept, login 2 at $Y_NOW"
exit 0
