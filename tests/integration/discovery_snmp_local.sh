#!/usr/bin/env bash
# discovery_snmp_local.sh: "scan the current subnets": a scan range 0.0.0.0/0 with sanDiscSourceLocalSubnets, created
# by snmpset on an agent that runs in its own network namespace.  With no interface up it fails and says why; with
# the namespace lab's two paths up (two /24s towards tgtd) and a /15 on a third interface, the scan walks the two
# /24s and the /16 around the dummy's address (the bound every scan has), finds the target on both paths while it
# runs, and stops when the row is destroyed.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lab.bash"

sa_init discovery_snmp_local
lab_up

S=.1.3.6.1.4.1.32473.1.3.1
SRC=$S.1.2.1 # sanDiscSourceEntry
TGT=$S.1.3.1 # sanDiscTargetEntry: 2 name, 5 portals
NEXT=$S.1.17.0

# The agent's namespace starts with its paths down: only loopback, which is no subnet storage sits on.
in_ini ip link set vi1 down && in_ini ip link set vi2 down || sa_fail "cannot take the paths down"
sa_start_snmptrapd
sa_start_snmpd
sa_agent_conf "discovery = {
  initiator_name = \"iqn.2026-12.org.sanagent:localscan\";
  interval = 600;
  age_out = 600;
};"
mkdir -p "$SA_TMP/agent-persist"
SNMP_PERSISTENT_DIR="$SA_TMP/agent-persist" sa_bg ip netns exec "$LAB_INI" "$SA_BUILDDIR/sanagentd" -f \
	-c "$SA_TMP/sanagent.conf" -p "$SA_TMP/sanagentd.pid" 2>>"$SA_TMP/sanagentd.log"
SA_AGENT_PID=$SA_LASTPID
sa_wait_agent
sa_wait_for 10 sa_get "$NEXT" >/dev/null || sa_fail "sanDiscSourceNextIndex not served"

I=$(sa_get "$NEXT")
sa_set "$SRC.21.$I" i 4 "$SRC.2.$I" i 4 "$SRC.4.$I" x 00000000 "$SRC.14.$I" i 1 "$SRC.5.$I" u 3260 >/dev/null ||
	sa_fail "cannot create the local-subnets range"
[ "$(sa_get1 "$SRC.13.$I" "$SRC.14.$I")" = "0 1" ] || sa_fail "prefix/local of row $I: $(sa_get1 "$SRC.13.$I" "$SRC.14.$I")"
no_subnet() { [ "$(sa_get "$SRC.17.$I")" = 4 ] && sa_get "$SRC.12.$I" | grep -q "no IPv4 subnet"; }
sa_wait_for 10 no_subnet || sa_fail "with no interface up: state $(sa_get "$SRC.17.$I"), error $(sa_get "$SRC.12.$I")"
sa_log "no interface up: failed(4), $(sa_get "$SRC.12.$I")"

# Paths up, and a /15 that a scan must not walk whole.
in_ini ip link set vi1 up && in_ini ip link set vi2 up || sa_fail "cannot bring the paths up"
# (A veth whose far end has no address: probes there time out, as on an empty subnet.)
in_ini ip link add vi3 type veth peer name vs3 netns "$LAB_STO" && in_ini ip addr add 198.18.0.1/15 dev vi3 &&
	in_ini ip link set vi3 up && in_sto ip link set vs3 up || sa_fail "cannot add the third interface"
sa_set "$S.1.18.0" i 2 >/dev/null || sa_fail "cannot set sanDiscRefresh"
found_both() {
	sa_walk "$TGT.2" 2>/dev/null | grep -q "$LAB_IQN\"" || return 1
	[ "$(sa_walk "$TGT.5" | sed -n 's/.*Gauge32: //p' | head -n1)" = 2 ]
}
sa_wait_for 30 found_both || sa_fail "target not found on both paths: $(sa_walk "$TGT"); row $(sa_walk "$SRC" | grep "\.$I = ")"
SUBNETS=$(grep "this host's subnets" "$SA_TMP/sanagentd.log" | tail -n1)
for n in 192.0.2.0/24 198.51.100.0/24 198.18.0.0/16; do
	echo "$SUBNETS" | grep -q " $n" || sa_fail "$n not among the scan's subnets: $SUBNETS"
done
! echo "$SUBNETS" | grep -q "127.0.0.0\|/15" || sa_fail "loopback or the whole /15 scanned: $SUBNETS"
st=$(sa_get1 "$SRC.17.$I" "$SRC.18.$I")
[ "${st% *}" = 3 ] && [ "${st#* }" -lt 100 ] || sa_fail "the /16 is still being walked: state/percent $st"
sa_log "scanning this host's subnets: state/percent $st, $LAB_IQN found on both paths"
sa_set "$SRC.21.$I" i 6 >/dev/null || sa_fail "cannot destroy the range"
gone() { ! sa_walk "$TGT.2" 2>/dev/null | grep -q "$LAB_IQN"; }
sa_wait_for 5 gone || sa_fail "target still listed after the range went"
echo "PASS: discovery_snmp_local"
