#!/usr/bin/env bash
# discovery_snmp_isns.sh: an iSNS server added to a running agent by snmpset (no iSNS server in its config): the
# targets registered at a real isnsd appear with mechanism isns(2) and the alias registered, a target registered
# later appears through the state change notifications the new server sends, and destroying the row removes its
# targets with sanTargetLost and takes the agent's registration off the server.
set -u
. "$(dirname "$0")/lib.sh"

sa_init discovery_snmp_isns
sa_need open-isns-server isnsd
sa_need open-isns-utils isnsadm

S=.1.3.6.1.4.1.32473.1.3.1
N=$S.0       # notifications: 2 sanTargetLost
SRC=$S.1.2.1 # sanDiscSourceEntry
TGT=$S.1.3.1 # sanDiscTargetEntry: 2 name, 3 mechanism
NEXT=$S.1.17.0
SA_ISCSI_PORT=$(sa_free_port tcp) # the portals registered; nothing needs to listen there
T1=$SA_IQN_PREFIX:isns1
T2=$SA_IQN_PREFIX:isns2
T3=$SA_IQN_PREFIX:isns3
sa_start_isnsd_storage "$T1,alias=disk-one" "$T2"

sa_start_snmptrapd
sa_start_snmpd
sa_agent_conf "discovery = {
  initiator_name = \"iqn.2026-12.org.sanagent:isnssrc\";
  interval = 600;
  age_out = 600;
};"
sa_start_agent
sa_wait_agent
sa_wait_for 10 sa_get "$NEXT" >/dev/null || sa_fail "sanDiscSourceNextIndex not served"
! sa_walk "$SRC.2" 2>/dev/null | grep -q "INTEGER" || sa_fail "sources before any SET: $(sa_walk "$SRC.2")"

names() { sa_walk "$TGT.2" 2>/dev/null | sed -n 's/.*STRING: "\(.*\)"$/\1/p' | sort | tr '\n' ' '; }
has_names() { [ "$(names)" = "$1" ]; }

I=$(sa_get "$NEXT")
sa_set_err inconsistentValue "$SRC.21.$I" i 4 "$SRC.2.$I" i 2 "$SRC.4.$I" x 7F000001 "$SRC.15.$I" u 1
sa_set "$SRC.21.$I" i 4 "$SRC.2.$I" i 2 "$SRC.4.$I" x 7F000001 "$SRC.5.$I" u "$ISNS_PORT" "$SRC.20.$I" i 2 \
	>/dev/null || sa_fail "cannot create iSNS source $I"
sa_wait_for 15 has_names "$T1 $T2 " || sa_fail "targets from iSNS source $I: '$(names)'; $(sa_walk "$SRC" | grep "\.$I = ")"
sa_walk "$TGT.3" | grep -v "INTEGER: 2$" | grep -q "^$TGT" && sa_fail "a target without mechanism isns(2): $(sa_walk "$TGT.3")"
ok() { [ "$(sa_get1 "$SRC.6.$I" "$SRC.17.$I" "$SRC.18.$I" "$SRC.20.$I")" = "2 1 100 2" ]; }
sa_wait_for 5 ok || sa_fail "iSNS source $I status/state/percent/storage: $(sa_get1 "$SRC.6.$I" "$SRC.17.$I" "$SRC.18.$I" "$SRC.20.$I")"
# The alias T1 registered shows beside its name; T2 registered none.
idx_of() { sa_walk "$TGT.2" | sed -n "s/^$TGT\.2\.\([0-9]*\) = STRING: \"$1\"$/\1/p"; }
[ "$(sa_get "$TGT.8.$(idx_of "$T1")")" = '"disk-one"' ] || sa_fail "alias of $T1: $(sa_get "$TGT.8.$(idx_of "$T1")")"
[ "$(sa_get "$TGT.8.$(idx_of "$T2")")" = '""' ] || sa_fail "alias of $T2: $(sa_get "$TGT.8.$(idx_of "$T2")")"
sa_log "iSNS source $I: $(names); alias of $T1: disk-one"

# A registration now reaches the agent through the new server's SCNs (the interval is 600 s).
t0=$(sa_now_ms)
sa_isnsadm --register "target=$T3" >/dev/null 2>&1 || sa_fail "cannot register $T3"
sa_wait_for 15 has_names "$T1 $T2 $T3 " || sa_fail "$T3 not discovered: '$(names)'"
sa_log "$T3 discovered $(sa_secs_since "$t0") s after its registration"

ME=iqn.2026-12.org.sanagent:isnssrc
registered() { sa_isnsadm --list nodes 2>/dev/null | grep -q "$ME"; }
unregistered() { ! registered; }
registered || sa_fail "the agent is not registered at isnsd: $(sa_isnsadm --list nodes 2>&1)"
before=$(sa_trap_count "$N.2")
sa_set "$SRC.21.$I" i 6 >/dev/null || sa_fail "cannot destroy iSNS source $I"
sa_wait_for 10 unregistered || sa_fail "still registered at isnsd after its source went"
sa_wait_for 5 has_names "" || sa_fail "targets after destroy: '$(names)'"
lost() { [ "$(sa_trap_count "$N.2")" -ge $((before + 3)) ]; }
sa_wait_for 10 lost || sa_fail "$(($(sa_trap_count "$N.2") - before)) sanTargetLost, want 3"
echo "PASS: discovery_snmp_isns"
