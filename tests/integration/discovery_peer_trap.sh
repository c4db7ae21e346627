#!/usr/bin/env bash
# discovery_peer_trap.sh: a sanTargetDiscovered/sanTargetLost notification from another agent, accepted by the
# agent's trap receiver, reaches the discovery engine over the event bus: it asks its SendTargets portal again at
# once, so a new target shows up in sanDiscTargetTable long before the (one hour) interval.  A forged one (wrong
# community) is dropped, counted, and changes nothing.
set -u
. "$(dirname "$0")/lib.sh"

sa_init discovery_peer_trap
sa_need snmp snmptrap snmpinform

S=.1.3.6.1.4.1.32473.1.3.1
DISCOVERED=$S.0.1 # sanTargetDiscovered
LOST=$S.0.2       # sanTargetLost
ST_OK=$S.1.1.1.0  # sanDiscSendTargetsOk
TGT=$S.1.3.1      # sanDiscTargetEntry
RECV=$SA_OID.1.3  # sanTrapRecv: Received .1, Accepted .2, DroppedUnauth .3, DroppedMalformed .4

sa_start_tgtd 1
sa_start_snmpd
RX=$(sa_free_port udp)
PEER=peer-agents
sa_agent_conf "discovery = {
  initiator_name = \"iqn.2026-12.org.sanagent:peertrap\";
  portals = [ \"127.0.0.1:$SA_ISCSI_PORT\" ];
  interval = 3600;
  age_out = 86400;
};" "trap_receiver = {
  listen = \"udp:127.0.0.1:$RX\";
  communities = ( { community = \"$PEER\"; sources = [ \"127.0.0.1/32\" ]; } );
};"
sa_start_agent
sa_wait_agent
sa_wait_for 5 sa_udp_listening "$RX" || sa_fail "trap receiver not listening on $RX"

names() { sa_walk "$TGT.2" 2>/dev/null | sed -n 's/.*STRING: "\(.*\)"$/\1/p' | sort | tr '\n' ' '; }
has_names() { [ "$(names)" = "$1" ]; }
# Received, accepted, dropped (unauthenticated) and SendTargets replies, in one PDU.
state() { sa_get "$RECV.1.0" "$RECV.2.0" "$RECV.3.0" "$ST_OK" | tr '\n' ' '; }
state_is() { [ "$(state)" = "$1" ]; }
D0=$SA_IQN_PREFIX:disk0
D1=$SA_IQN_PREFIX:disk1

# The start-up round finds disk0; the next timer round is an hour away.
sa_wait_for 15 has_names "$D0 " || sa_fail "disk0 not in sanDiscTargetTable: $(names)"
sa_wait_for 5 state_is "0 0 0 1 " || sa_fail "after the first round: $(state), want 0 0 0 1"
sa_log "start: targets $(names), received accepted unauth sendTargetsOk = $(state)"

# A second target appears on the portal: nothing asks for it yet.
truncate -s 64M "$SA_TMP/disk1.img"
sa_tgt_ctl --lld iscsi --op new --mode target --tid 2 -T "$D1" &&
	sa_tgt_ctl --lld iscsi --op new --mode logicalunit --tid 2 --lun 1 -b "$SA_TMP/disk1.img" &&
	sa_tgt_ctl --lld iscsi --op bind --mode target --tid 2 -I ALL || sa_fail "tgtadm: cannot create $D1"

# ---- forged: wrong community -> dropped and counted, no round ----------------------------------
snmptrap -v2c -c not-the-peer "127.0.0.1:$RX" '' "$DISCOVERED" "$TGT.2.9" s "$D1" || sa_fail "snmptrap exited $?"
sa_wait_for 5 state_is "1 0 1 1 " || sa_fail "after the forged trap: $(state), want 1 0 1 1"
# A round would start within 200 ms of an accepted notification; give a wrongly accepted one twice that.
t_end=$(($(date +%s%N) + 400000000))
while [ "$(date +%s%N)" -lt "$t_end" ]; do
	state_is "1 0 1 1 " || sa_fail "the forged trap started a round: $(state)"
	sleep 0.1
done
has_names "$D0 " || sa_fail "the forged trap changed sanDiscTargetTable: $(names)"
sa_log "forged sanTargetDiscovered: dropped, counted, $(state)"

# ---- genuine: an inform from a peer agent, acknowledged -> one round at once -------------------
t0=$(date +%s%N)
snmpinform -v2c -c "$PEER" -t 2 -r 1 "127.0.0.1:$RX" '' "$DISCOVERED" "$TGT.2.9" s "$D1" ||
	sa_fail "sanTargetDiscovered inform not acknowledged"
sa_wait_for 5 has_names "$D0 $D1 " || sa_fail "disk1 not in sanDiscTargetTable after the inform: $(names)"
t1=$(date +%s%N)
sa_wait_for 5 state_is "2 1 1 2 " || sa_fail "after the inform: $(state), want 2 1 1 2"
sa_log "sanTargetDiscovered inform: disk1 listed after $(((t1 - t0) / 1000000)) ms (interval 3600 s), $(state)"

# ---- sanTargetLost as a v2c trap also asks again (one more reply) ------------------------------
snmptrap -v2c -c "$PEER" "127.0.0.1:$RX" '' "$LOST" "$TGT.2.9" s "$D1" || sa_fail "snmptrap exited $?"
sa_wait_for 5 state_is "3 2 1 3 " || sa_fail "after sanTargetLost: $(state), want 3 2 1 3"

# ---- another notification is accepted but is none of the engine's business --------------------
snmptrap -v2c -c "$PEER" "127.0.0.1:$RX" '' "$S.0.5" || sa_fail "snmptrap exited $?"
sa_wait_for 5 state_is "4 3 1 3 " || sa_fail "after sanSessionUp: $(state), want 4 3 1 3"
t_end=$(($(date +%s%N) + 400000000))
while [ "$(date +%s%N)" -lt "$t_end" ]; do
	state_is "4 3 1 3 " || sa_fail "an unrelated notification started a round: $(state)"
	sleep 0.1
done
grep -q "not-the-peer" "$SA_TMP/sanagentd.log" && sa_fail "forged community logged"
sa_log "sanTargetLost: one more round; an unrelated notification: none; $(state)"
echo PASS
