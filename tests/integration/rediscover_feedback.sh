#!/usr/bin/env bash
# rediscover_feedback.sh: session feedback reaches the rediscover engine through the agent's trap receiver and the
# bus, as SNMPv3 authPriv informs (the shipped config's way): a storage agent's sanSessionFeedback makes sessions
# known, an initiator agent's latency outside its threshold leads to a dry-run decision whose row is read through
# snmpd and whose sanRediscoveryTriggered reaches snmptrapd.  Forged feedback (wrong passphrase, v2c, a v3 user not
# allowed to give feedback, a session nobody reported) is dropped, counted, and decides nothing.  Counters are read
# in one PDU.
set -u
. "$(dirname "$0")/lib.sh"

sa_init rediscover_feedback
sa_need snmp snmpinform
sa_need snmptrapd snmptrapd

M=.1.3.6.1.4.1.32473.1.3.4
N=$M.0                 # notifications
FEEDBACK=$N.1          # sanSessionFeedback
REQUEST=$N.2           # sanRediscoveryRequest
TRIGGERED=$N.3         # sanRediscoveryTriggered
P=$M.1.1               # sanRediscPolicy
C=$M.1.3               # sanRediscCounters
TH=$M.1.2.1            # sanRediscThresholdEntry
SESS=$M.1.8.1          # sanRediscSessionEntry
DEC=$M.1.10.1          # sanRediscDecisionEntry
FB=$M.1.12             # sanRediscNotifyObjects
RECV=$SA_OID.1.3       # sanTrapRecv: Received .1, Accepted .2, DroppedUnauth .3
ENGINE=$SA_OID.1.2.1   # sanEngineEntry; rediscover is row 4

STOR_USER=storagent STOR_AUTH=stor-auth-secret STOR_PRIV=stor-priv-secret
HOST_USER=hostagent HOST_AUTH=host-auth-secret HOST_PRIV=host-priv-secret
# Authenticated by the receiver, but not listed in the engine's feedback_users.
OTHER_USER=monitor OTHER_AUTH=other-auth-secret OTHER_PRIV=other-priv-secret
PEER=peer-agents
X=iqn.2026-12.org.sanagent:x
H1=iqn.2026-12.org.sanagent:host1
H2=iqn.2026-12.org.sanagent:host2

sa_start_snmptrapd
sa_start_snmpd
RX=$(sa_free_port udp)
user() { echo "{ name = \"$1\"; auth_protocol = \"SHA\"; auth_passphrase = \"$2\"; priv_protocol = \"AES\"; priv_passphrase = \"$3\"; }"; }
sa_agent_conf "trap_receiver = {
  listen = \"udp:127.0.0.1:$RX\";
  communities = ( { community = \"$PEER\"; sources = [ \"127.0.0.1/32\" ]; } );
  users = ( $(user $STOR_USER $STOR_AUTH $STOR_PRIV), $(user $HOST_USER $HOST_AUTH $HOST_PRIV),
            $(user $OTHER_USER $OTHER_AUTH $OTHER_PRIV) );
};" "rediscover = {
  mode = \"dry-run\";
  hold_time = 0;
  target_cooldown = 300;
  portal_cooldown = 300;
  feedback_users = [ \"$HOST_USER\" ];
  storage_users = [ \"$STOR_USER\" ];
  thresholds = ( { metric = \"latency\"; value = 20000; direction = \"above\"; } );
  pool = [ \"10.1.0.4\" ];
};"
sa_start_agent
sa_wait_agent
sa_wait_for 5 sa_udp_listening "$RX" || sa_fail "trap receiver not listening on $RX"
[ "$(sa_get "$ENGINE.4.4")" = 1 ] || sa_fail "rediscover engine not up: oper $(sa_get "$ENGINE.4.4"), $(sa_get "$ENGINE.4.5")"

# The senders' own net-snmp state (engine boots, cached engine IDs) stays in the test's directory.
mkdir -p "$SA_TMP/tools-persist"
tool() { SNMPCONFPATH=$SA_TMP/tools-conf SNMP_PERSISTENT_DIR=$SA_TMP/tools-persist "$@"; }
# inform USER AUTH PRIV NOTIFICATION VARBINDS...: a v3 authPriv inform to the receiver; fails unless acknowledged.
inform() {
	local u=$1 a=$2 p=$3 n=$4
	shift 4
	tool snmpinform -v3 -l authPriv -u "$u" -a SHA -A "$a" -x AES -X "$p" -t 2 -r "${RETRIES:-1}" "127.0.0.1:$RX" '' \
		"$n" "$@"
}
# session VARBINDS for INITIATOR over X at 10.1.0.3:3260 (interface 36 of seed 000 Fig. 2).
session() { echo "$FB.1.0 s $1 $FB.2.0 s $X $FB.3.0 i 1 $FB.4.0 x 0A010003 $FB.5.0 u 3260"; }

# Engine: received accepted dropped unauthorized unknown-session malformed decisions; receiver: dropped unauth.
counters() { sa_get1 "$C.1.0" "$C.2.0" "$C.3.0" "$C.4.0" "$C.5.0" "$C.6.0" "$C.7.0" "$RECV.3.0"; }
counters_are() { [ "$(counters)" = "$1" ]; }
expect() { sa_wait_for 5 counters_are "$2" || sa_fail "$1: counters $(counters), want $2"; sa_log "$1: $2"; }

expect "start" "0 0 0 0 0 0 0 0"

# ---- the storage agent reports both sessions on X at interface 36 ----------------------------------
# shellcheck disable=SC2046
inform $STOR_USER $STOR_AUTH $STOR_PRIV "$FEEDBACK" $(session $H1) "$FB.11.0" C 943718400 ||
	sa_fail "storage feedback for Host_1 not acknowledged"
# shellcheck disable=SC2046
inform $STOR_USER $STOR_AUTH $STOR_PRIV "$FEEDBACK" $(session $H2) "$FB.11.0" C 104857600 ||
	sa_fail "storage feedback for Host_2 not acknowledged"
expect "storage agent's feedback" "2 2 0 0 0 0 0 0"
rows=$(sa_walk "$SESS.2" | grep -c STRING)
[ "$rows" = 2 ] || sa_fail "sanRediscSessionTable has $rows sessions, want 2"
# They compete for interface 36: one group, Host_1 with 90 % of the bytes, nobody suffering yet (balanced).
GRP=$M.1.9.1
group=$(sa_get1 "$GRP.2.1" "$GRP.6.1" "$GRP.7.1" "$GRP.8.1" "$GRP.9.1")
[ "$group" = "\"$X\" \"$H1 $H2\" \"\" 90 1" ] || sa_fail "competing group: $group"

# ---- forged or not allowed: dropped and counted, nothing decided -----------------------------------
# A wrong passphrase: the receiver refuses it (no acknowledgement) and the engine never sees it.  Sent once, so
# the receiver counts exactly one refusal.
# shellcheck disable=SC2046
RETRIES=0 inform $HOST_USER wrong-auth-secret $HOST_PRIV "$FEEDBACK" $(session $H2) "$FB.10.0" u 90000 &&
	sa_fail "an inform with a wrong passphrase was acknowledged"
expect "wrong passphrase" "2 2 0 0 0 0 0 1"
# v2c from a listed source and a v3 user the receiver knows: authenticated, but not feedback senders.
# shellcheck disable=SC2046
tool snmpinform -v2c -c "$PEER" -t 2 -r 1 "127.0.0.1:$RX" '' "$FEEDBACK" $(session $H2) "$FB.10.0" u 90000 ||
	sa_fail "v2c inform not acknowledged"
# shellcheck disable=SC2046
inform $OTHER_USER $OTHER_AUTH $OTHER_PRIV "$FEEDBACK" $(session $H2) "$FB.10.0" u 90000 ||
	sa_fail "inform of $OTHER_USER not acknowledged"
expect "v2c and an unlisted v3 user" "4 2 2 2 0 0 0 1"
# A session no storage agent reported, and a request for a portal without sessions.
# shellcheck disable=SC2046
inform $HOST_USER $HOST_AUTH $HOST_PRIV "$FEEDBACK" $(session iqn.2026-12.org.sanagent:host9) "$FB.10.0" u 90000 ||
	sa_fail "feedback about an unknown session not acknowledged"
inform $HOST_USER $HOST_AUTH $HOST_PRIV "$REQUEST" "$FB.2.0" s "$X" "$FB.3.0" i 1 "$FB.4.0" x 09030134 \
	"$FB.5.0" u 3260 "$FB.13.0" s "$H1" "$FB.14.0" i 1 || sa_fail "request not acknowledged"
# No target name: malformed.
inform $HOST_USER $HOST_AUTH $HOST_PRIV "$FEEDBACK" "$FB.1.0" s "$H2" "$FB.10.0" u 90000 ||
	sa_fail "malformed feedback not acknowledged"
expect "unknown sessions and a malformed one" "7 2 5 2 2 1 0 1"
[ -z "$(sa_walk "$DEC.3" | grep INTEGER)" ] || sa_fail "forged feedback led to a decision"
sa_trap_seen "$TRIGGERED" && sa_fail "sanRediscoveryTriggered sent for forged feedback"

# ---- Host_2's latency is outside its threshold: a decision (dry run) ------------------------------
t0=$(sa_now_ms)
# shellcheck disable=SC2046
inform $HOST_USER $HOST_AUTH $HOST_PRIV "$FEEDBACK" $(session $H2) "$FB.10.0" u 45000 "$FB.8.0" u 800 ||
	sa_fail "Host_2's feedback not acknowledged"
expect "Host_2's latency" "8 3 5 2 2 1 1 1"
sa_wait_for 5 sa_trap_seen "$TRIGGERED" || sa_fail "sanRediscoveryTriggered did not reach snmptrapd"
sa_log "feedback -> sanRediscoveryTriggered at snmptrapd: $(($(sa_now_ms) - t0)) ms"
# The row, in one PDU: trigger, metric, value, target, new address, competing, offender, mode, state, messages.
row=$(sa_get1 "$DEC.3.1" "$DEC.5.1" "$DEC.6.1" "$DEC.7.1" "$DEC.12.1" "$DEC.14.1" "$DEC.15.1" "$DEC.16.1" \
	"$DEC.17.1" "$DEC.19.1")
want="1 5 45000 \"$X\" \"0A 01 00 04 \" \"$H1 $H2\" \"$H1\" 2 1 \"type2:$H1@iSNS type1:$H2@127.0.0.1:162\""
[ "$row" = "$want" ] || sa_fail "decision row: $row, want $want"
sa_log "decision 1: $row"
# The group names the offender now and cools down.
group=$(sa_get1 "$GRP.7.1" "$GRP.9.1")
[ "$group" = "\"$H1\" 3" ] || sa_fail "competing group after the decision: $group, want offender and coolingDown(3)"
grep "$TRIGGERED" "$SA_TMP/snmptrapd.log" | grep -q "$DEC.15.1 = STRING: \"$H1\"" ||
	sa_fail "sanRediscoveryTriggered does not name the offender: $(grep "$TRIGGERED" "$SA_TMP/snmptrapd.log")"
# What Host_2's agent reported is in its session row.
lat=$(sa_walk "$SESS.11" | sed -n 's/.*Gauge32: //p' | sort -n | tr '\n' ' ')
[ "$lat" = "0 45000 " ] || sa_fail "session latencies: $lat, want 0 45000"

# ---- the policy through snmpd: a SET is validated as a whole ------------------------------------------
sa_set "$P.1.0" i 1 "$P.2.0" u 15 >/dev/null || sa_fail "SET mode off + hold time 15 refused"
[ "$(sa_get1 "$P.1.0" "$P.2.0")" = "1 15" ] || sa_fail "policy after SET: $(sa_get1 "$P.1.0" "$P.2.0")"
sa_set_err wrongValue "$P.6.0" u 40
sa_set "$TH.2.5" u 30000 "$TH.4.5" i 1 >/dev/null || sa_fail "SET latency threshold refused"
[ "$(sa_get1 "$TH.2.5" "$TH.3.5" "$TH.4.5")" = "30000 1 1" ] || sa_fail "threshold: $(sa_get1 "$TH.2.5" "$TH.3.5")"
# Mode off: feedback still counted, no decision.
# shellcheck disable=SC2046
inform $HOST_USER $HOST_AUTH $HOST_PRIV "$FEEDBACK" $(session $H2) "$FB.10.0" u 99000 ||
	sa_fail "feedback not acknowledged"
expect "mode off" "9 4 5 2 2 1 1 1"
# ---- initiator agents: Host_2's learned from its feedback, Host_1's created over SNMP -------------------
AG=$M.1.7.1
[ "$(sa_get1 "$AG.2.1" "$AG.4.1" "$AG.5.1" "$AG.6.1" "$AG.9.1")" = "\"$H2\" \"7F 00 00 01 \" 162 3 2" ] ||
	sa_fail "learned agent: $(sa_get1 "$AG.2.1" "$AG.4.1" "$AG.5.1" "$AG.6.1" "$AG.9.1")"
a=$(sa_get "$M.1.6.0")
[ "$a" = 2 ] || sa_fail "sanRediscAgentNextIndex $a, want 2"
sa_set "$AG.2.$a" s "$H1" "$AG.3.$a" i 1 "$AG.4.$a" x 7F000001 "$AG.5.$a" u 1162 "$AG.10.$a" i 4 >/dev/null ||
	sa_fail "agent row for Host_1 not created"
[ "$(sa_get1 "$AG.6.$a" "$AG.9.$a" "$AG.10.$a")" = "2 3 1" ] || sa_fail "agent row $a: $(sa_get1 "$AG.6.$a" "$AG.9.$a" "$AG.10.$a")"
sa_state_dump | grep -q "^rediscover.agent.0000000002	1 7f000001 1162 $H1$" || sa_fail "agent row $a not in the state file"
sa_set_err inconsistentValue "$AG.2.3" s "$H1" "$AG.3.3" i 1 "$AG.4.3" x 7F000002 "$AG.10.3" i 4
sa_log "initiator agents: Host_2 learned, Host_1 over SNMP at 127.0.0.1:1162"

# ---- the manual trigger: a portal and an offender, in one SET -----------------------------------------
T=$M.1.11
sa_set "$P.1.0" i 2 >/dev/null || sa_fail "SET mode dryRun refused"
# X moved less than a cooldown ago: refused, nothing recorded.
sa_set_err resourceUnavailable "$T.1.0" s "$X" "$T.2.0" i 1 "$T.3.0" x 09030134 "$T.4.0" u 3260 "$T.5.0" s "$H1" \
	"$T.6.0" i 2
Y=iqn.2026-12.org.sanagent:y
sa_set "$T.1.0" s "$Y" "$T.2.0" i 1 "$T.3.0" x 09030134 "$T.4.0" u 3260 "$T.5.0" s "$H1" "$T.6.0" i 2 >/dev/null ||
	sa_fail "manual trigger for Y refused"
row=$(sa_get1 "$DEC.3.2" "$DEC.4.2" "$DEC.7.2" "$DEC.9.2" "$DEC.15.2" "$DEC.17.2" "$DEC.19.2" "$T.6.0")
want="4 \"snmp\" \"$Y\" \"09 03 01 34 \" \"$H1\" 1 \"type2:$H1@127.0.0.1:1162\" 1"
[ "$row" = "$want" ] || sa_fail "manual decision row: $row, want $want"
sa_log "manual trigger: $row"
expect "manual trigger" "9 4 5 2 2 1 2 1"
sa_wait_for 5 eval '[ "$(sa_trap_count "$TRIGGERED")" = 2 ]' ||
	sa_fail "$(sa_trap_count "$TRIGGERED") sanRediscoveryTriggered at snmptrapd, want 2"
# ---- the address pool: the config's entry is permanent, SNMP rows are created, kept and destroyed ------
PN=$M.1.4.0
PL=$M.1.5.1
[ "$(sa_get1 "$PL.3.1" "$PL.4.1" "$PL.6.1" "$PL.8.1")" = '"0A 01 00 04 " 0 1 4' ] ||
	sa_fail "pool entry 1: $(sa_get1 "$PL.3.1" "$PL.4.1" "$PL.6.1" "$PL.8.1")"
i=$(sa_get "$PN")
[ "$i" = 2 ] || sa_fail "sanRediscPoolNextIndex $i, want 2"
sa_set "$PL.2.$i" i 1 "$PL.3.$i" x 0A010003 "$PL.4.$i" u 3261 "$PL.5.$i" s veth36 "$PL.9.$i" i 4 >/dev/null ||
	sa_fail "pool row $i (port-only variant) not created"
[ "$(sa_get1 "$PL.3.$i" "$PL.4.$i" "$PL.5.$i" "$PL.6.$i" "$PL.8.$i" "$PL.9.$i" "$PN")" = '"0A 01 00 03 " 3261 "veth36" 1 3 1 3' ] ||
	sa_fail "pool row $i: $(sa_get1 "$PL.3.$i" "$PL.4.$i" "$PL.5.$i" "$PL.6.$i" "$PL.8.$i" "$PL.9.$i" "$PN")"
sa_state_dump | grep -q "^rediscover.pool.0000000002	1 0a010003 3261 veth36$" || sa_fail "pool row 2 not in the state file"
# The same address and port again; the config's entry; a bad interface name.
sa_set_err inconsistentValue "$PL.2.3" i 1 "$PL.3.3" x 0A010003 "$PL.4.3" u 3261 "$PL.9.3" i 4
sa_set_err inconsistentValue "$PL.9.1" i 6
sa_set_err wrongValue "$PL.2.3" i 1 "$PL.3.3" x 0A010005 "$PL.5.3" s "bad name" "$PL.9.3" i 4
sa_set "$PL.9.$i" i 6 >/dev/null || sa_fail "pool row $i not destroyed"
[ -z "$(sa_get "$PL.9.$i")" ] || sa_fail "pool row $i still there"
sa_state_dump | grep -q "^rediscover.pool.0000000002" && sa_fail "pool row 2 still in the state file"
[ "$(sa_get "$PN")" = 3 ] || sa_fail "sanRediscPoolNextIndex $(sa_get "$PN") after a destroy, want 3 (never reused)"
sa_log "pool: config entry permanent, row $i created (port-only), refused duplicates, destroyed"
grep -q -e "$STOR_AUTH" -e "$HOST_PRIV" -e "$PEER" "$SA_TMP/sanagentd.log" && sa_fail "a secret is in the log"
echo PASS
