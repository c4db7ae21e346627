#!/usr/bin/env bash
# agent_start_trap.sh: sanAgentStart and sanAgentStop reach a real snmptrapd through the master.
. "$(dirname "$0")/lib.sh"
sa_init starttrap
sa_start_snmptrapd
sa_start_snmpd
sa_start_agent
sa_wait_agent
sa_wait_for 10 sa_trap_seen "= OID: $SA_OID.0.1" || sa_fail "sanAgentStart not received"
# Its varbinds carry full instance OIDs.
grep -q "$SA_OID.1.1.1.0 = STRING" "$SA_TMP/snmptrapd.log" || sa_fail "start trap lacks sanAgentVersion.0"
grep -q "$SA_OID.1.1.3.0 = STRING" "$SA_TMP/snmptrapd.log" || sa_fail "start trap lacks sanAgentConfigFile.0"
kill -TERM "$SA_AGENT_PID"
sa_wait_for 10 sa_trap_seen "= OID: $SA_OID.0.2" || sa_fail "sanAgentStop not received"
wait "$SA_AGENT_PID"; rc=$?
[ "$rc" = 0 ] || sa_fail "SIGTERM exit status $rc"
cat "$SA_TMP/snmptrapd.log"
echo PASS
