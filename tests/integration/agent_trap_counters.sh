#!/usr/bin/env bash
# agent_trap_counters.sh: the agent's trap receiver counts what it accepts and drops, read back through snmpd.
. "$(dirname "$0")/lib.sh"
sa_init trapcount
sa_start_snmpd
RX=$(sa_free_port udp)
sa_agent_conf "trap_receiver = {
  listen = \"udp:127.0.0.1:$RX\";
  communities = ( { community = \"feeder\"; sources = [ \"127.0.0.1/32\" ]; } );
};"
sa_start_agent
sa_wait_agent
sa_wait_for 5 sa_udp_listening "$RX" || sa_fail "receiver not listening on $RX"
counters() { sa_get $SA_OID.1.3.1.0 $SA_OID.1.3.2.0 $SA_OID.1.3.3.0 $SA_OID.1.3.4.0 | tr '\n' ' '; }
[ "$(counters)" = "0 0 0 0 " ] || sa_fail "counters at start: $(counters)"
trap_oid=.1.3.6.1.4.1.32473.99.1
snmptrap -v2c -c feeder "127.0.0.1:$RX" '' $trap_oid || sa_fail "snmptrap"
snmptrap -v2c -c forged "127.0.0.1:$RX" '' $trap_oid || sa_fail "snmptrap"
snmpinform -v2c -c feeder -t 2 -r 1 "127.0.0.1:$RX" '' $trap_oid || sa_fail "inform not acknowledged"
printf 'not snmp at all' >/dev/udp/127.0.0.1/"$RX"
want="4 2 1 1 "
sa_wait_for 5 test "$(counters)" = "$want" || sa_fail "counters: $(counters), want received accepted unauth malformed = $want"
echo "counters: $(counters)"
# A forged community is never logged.
grep -q forged "$SA_TMP/sanagentd.log" && sa_fail "community value logged"
echo PASS
