#!/usr/bin/env bash
# agent_dlmod.sh: sanagent.so loaded into snmpd with dlmod serves the same objects as the subagent.
. "$(dirname "$0")/lib.sh"
sa_init dlmod
so="$SA_BUILDDIR/.libs/sanagent.so"
[ -f "$so" ] || sa_fail "plug-in not built: $so"
sa_start_snmptrapd
sa_agent_conf 'discovery = { };' 'cluster = { };'

# Subagent mode first, for the reference walk.
sa_start_snmpd
sa_start_agent
sa_wait_agent
sub=$(sa_walk $SA_OID.1 | grep -v -e "^$SA_OID.1.1.2.0 " -e "^$SA_OID.1.2.1.6\.") || sa_fail "subagent walk"
sa_wait_for 10 sa_trap_seen "= OID: $SA_OID.0.1" || sa_fail "no sanAgentStart from the subagent"
sa_stop_pid "$SA_AGENT_PID"
sa_stop_pid "$SA_SNMPD_PID"
starts=$(sa_trap_count "= OID: $SA_OID.0.1")

# Plug-in mode: the same config, read through the sanagentConfig token.
sa_start_snmpd "dlmod sanagent $so" "sanagentConfig $SA_TMP/sanagent.conf"
sa_wait_agent
plug=$(sa_walk $SA_OID.1 | grep -v -e "^$SA_OID.1.1.2.0 " -e "^$SA_OID.1.2.1.6\.") || sa_fail "dlmod walk"
echo "$plug"
[ "$(echo "$plug" | grep -c .)" = 26 ] || sa_fail "dlmod walk: $(echo "$plug" | grep -c .) objects, want 26 (32 less 6 times)"
diff <(echo "$sub") <(echo "$plug") || sa_fail "dlmod and subagent walks differ (start and change times excluded)"
sa_get $SA_OID.1.1.2.0 | grep -q . || sa_fail "no start time in dlmod mode"
plugin_started() { [ "$(sa_trap_count "= OID: $SA_OID.0.1")" -gt "$starts" ]; }
sa_wait_for 10 plugin_started || sa_fail "no sanAgentStart from the plug-in"
# Writes work natively too.
sa_set $SA_OID.1.2.1.3.2 i 1 >/dev/null || sa_fail "dlmod SET"
[ "$(sa_get $SA_OID.1.2.1.3.2)" = 1 ] || sa_fail "dlmod SET not applied"
echo PASS
