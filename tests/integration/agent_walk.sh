#!/usr/bin/env bash
# agent_walk.sh: every SANAGENT-MIB object read through a real snmpd master, and the admin status SET rules.
. "$(dirname "$0")/lib.sh"
sa_init walk
sa_start_snmptrapd
sa_start_snmpd
sa_agent_conf 'discovery = { };' 'balance = { enabled = true; };' 'cluster = { };'
sa_start_agent
sa_wait_agent

ver=$("$SA_BUILDDIR/sanagentd" -v | awk '{print $2}')
[ "$(sa_get $SA_OID.1.1.1.0)" = "\"$ver\"" ] || sa_fail "sanAgentVersion: got $(sa_get $SA_OID.1.1.1.0), want $ver"
[ "$(sa_get $SA_OID.1.1.3.0)" = "\"$SA_TMP/sanagent.conf\"" ] || sa_fail "sanAgentConfigFile: $(sa_get $SA_OID.1.1.3.0)"
# DateAndTime of the start: 8 or 11 octets, year now.
st=$(snmpget -v2c -c public -On -Ox "127.0.0.1:$SA_SNMP_PORT" $SA_OID.1.1.2.0 | sed 's/.*Hex-STRING: //')
year=$((16#$(echo "$st" | awk '{print $1 $2}')))
[ "$year" = "$(date -u +%Y)" ] || sa_fail "sanAgentStartTime year $year from '$st'"

walk=$(sa_walk $SA_OID.1) || sa_fail "walk failed"
echo "$walk"
n=$(echo "$walk" | grep -c "^$SA_OID\.")
# 3 info scalars + 5 engine rows x 5 readable columns + 4 trap receiver counters
[ "$n" = 32 ] || sa_fail "walk returned $n objects, want 32"
names=$(echo "$walk" | grep "^$SA_OID.1.2.1.2\." | sed 's/.*STRING: //' | tr -d '"' | tr '\n' ' ')
[ "$names" = "discovery balance redirect rediscover cluster " ] || sa_fail "engine names: $names"
admin=$(echo "$walk" | grep "^$SA_OID.1.2.1.3\." | sed 's/.*INTEGER: //' | tr '\n' ' ')
[ "$admin" = "1 1 2 2 1 " ] || sa_fail "engine admin status: $admin (config enables discovery, balance and cluster)"
oper=$(echo "$walk" | grep "^$SA_OID.1.2.1.4\." | sed 's/.*INTEGER: //' | tr '\n' ' ')
# discovery, balance and cluster run (up); admin down shows down(2).
[ "$oper" = "1 1 2 2 1 " ] || sa_fail "engine oper status: $oper"
[ "$(echo "$walk" | grep -c "^$SA_OID.1.3.[1-4].0 = Counter64: ")" = 4 ] || sa_fail "trap receiver counters"
# A running engine serves its own module under sanEngineMibs: balance's team NextIndex.
[ "$(sa_get $SA_OID.3.2.1.1.0)" = 1 ] || sa_fail "balance engine objects not served"
# The cluster engine's: its role (host by default).
[ "$(sa_get $SA_OID.3.5.1.1.9.0)" = 1 ] || sa_fail "cluster engine objects not served"

# Writes: only the v3 authPriv user may set; values and types are checked.
sa_set $SA_OID.1.2.1.3.3 i 1 >/dev/null || sa_fail "authPriv SET of redirect admin up"
[ "$(sa_get $SA_OID.1.2.1.3.3)" = 1 ] || sa_fail "admin status did not change"
out=$(snmpset -v2c -c public -t 1 -r 0 "127.0.0.1:$SA_SNMP_PORT" $SA_OID.1.2.1.3.3 i 2 2>&1) && sa_fail "v2c SET allowed: $out"
echo "v2c set refused: $out"
out=$(sa_set $SA_OID.1.2.1.3.3 i 7 2>&1) && sa_fail "admin 7 accepted"
echo "$out" | grep -q wrongValue || sa_fail "admin 7: want wrongValue, got $out"
out=$(sa_set $SA_OID.1.2.1.3.3 s up 2>&1) && sa_fail "string admin accepted"
echo "$out" | grep -q wrongType || sa_fail "string admin: want wrongType, got $out"
out=$(sa_set $SA_OID.1.2.1.2.3 s x 2>&1) && sa_fail "name writable"
echo "$out" | grep -q notWritable || sa_fail "engine name: want notWritable, got $out"
out=$(sa_set $SA_OID.1.2.1.3.9 i 1 2>&1) && sa_fail "row 9 created"
echo "$out" | grep -Eq 'noCreation|noSuchName|notWritable' || sa_fail "row 9: got $out"
[ "$(sa_get $SA_OID.1.2.1.3.3)" = 1 ] || sa_fail "failed SETs changed the value"
echo "PASS"
