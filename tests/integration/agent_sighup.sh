#!/usr/bin/env bash
# agent_sighup.sh: SIGHUP applies a good config (and announces it) and rejects a bad one, keeping the old.
. "$(dirname "$0")/lib.sh"
sa_init sighup
sa_start_snmptrapd
sa_start_snmpd
sa_agent_conf 'discovery = { };'
sa_start_agent
sa_wait_agent
[ "$(sa_get $SA_OID.1.2.1.3.2)" = 2 ] || sa_fail "balance should start admin down"

sa_agent_conf 'discovery = { };' 'balance = { };'
kill -HUP "$SA_AGENT_PID"
sa_wait_for 5 sa_trap_seen "= OID: $SA_OID.0.3" || sa_fail "no sanAgentConfigReloaded"
[ "$(sa_get $SA_OID.1.2.1.3.2)" = 1 ] || sa_fail "good reload not applied"

printf 'agent = {\n  agentx_ping_interval = 1;\n};\nbalance = {\n  bogus = 3;\n};\n' >"$SA_TMP/sanagent.conf"
kill -HUP "$SA_AGENT_PID"
sa_wait_for 5 grep -q "$SA_TMP/sanagent.conf:5:" "$SA_TMP/sanagentd.log" || sa_fail "bad reload not logged with file:line"
grep "$SA_TMP/sanagent.conf:5:" "$SA_TMP/sanagentd.log"
kill -0 "$SA_AGENT_PID" || sa_fail "agent died on a bad reload"
[ "$(sa_get $SA_OID.1.2.1.3.1)" = 1 ] || sa_fail "old config not kept (discovery)"
[ "$(sa_get $SA_OID.1.2.1.3.2)" = 1 ] || sa_fail "old config not kept (balance)"
[ "$(sa_trap_count "= OID: $SA_OID.0.3")" = 1 ] || sa_fail "a rejected config was announced"
echo PASS
