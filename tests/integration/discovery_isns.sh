#!/usr/bin/env bash
# discovery_isns.sh: iSNS discovery against a real isnsd: targets registered before the agent starts appear with
# mechanism isns(2) and their portal groups; a target in a discovery domain the agent is not in stays hidden; a
# target registered later appears through a state change notification, and a deregistered one goes at once
# (sanTargetLost), both well before the 60 s discovery interval.  Prints the measured delays.
set -u
. "$(dirname "$0")/lib.sh"

sa_init discovery_isns
sa_need open-isns-server isnsd
sa_need open-isns-utils isnsadm

S=.1.3.6.1.4.1.32473.1.3.1
N=$S.0       # notifications
SRC=$S.1.2.1 # sanDiscSourceEntry
TGT=$S.1.3.1 # sanDiscTargetEntry
POR=$S.1.4.1 # sanDiscPortalEntry
IQN=iqn.2026-11.org.sanagent.isns
ME=iqn.2026-11.org.sanagent:isnstest

# ---- isnsd: in memory, private port and control socket, no security, a default discovery domain --------------
ISNS_PORT=$(sa_free_port tcp)
cat >"$SA_TMP/isnsd.conf" <<EOF
SourceName = $IQN:server
BindAddress = 127.0.0.1:$ISNS_PORT
PIDFile = $SA_TMP/isnsd.pid
ControlSocket = $SA_TMP/isnsctl
Security = 0
DefaultDiscoveryDomain = 1
EOF
# One isnsadm identity per registering "storage host": the registering source owns its entity.
adm_conf() {
	cat >"$SA_TMP/adm-$1.conf" <<EOF
SourceName = $IQN:host-$1
ServerAddress = 127.0.0.1:$ISNS_PORT
Security = 0
EOF
}
adm() { local who=$1; shift; isnsadm -c "$SA_TMP/adm-$who.conf" "$@"; }
sa_bg isnsd -f -4 -c "$SA_TMP/isnsd.conf" >"$SA_TMP/isnsd.log" 2>&1
for h in a b c d; do adm_conf $h; done
sa_wait_for 10 adm a --list entities || sa_fail "isnsd did not answer on 127.0.0.1:$ISNS_PORT"

adm a --register "target=$IQN:t1" portal=127.0.0.1:3260 pg,pgt=1 portal=127.0.0.2:3260 pg,pgt=2 >/dev/null ||
	sa_fail "cannot register t1"
adm b --register "target=$IQN:t2" portal=127.0.0.3:3261 >/dev/null || sa_fail "cannot register t2"
# t3 lives in a discovery domain with another initiator only: invisible to the agent.
adm c --register "target=$IQN:t3" portal=127.0.0.4:3260 >/dev/null || sa_fail "cannot register t3"
adm c --dd-register dd-name=private "dd-member-name=$IQN:t3" "dd-member-name=$IQN:someone-else" >/dev/null ||
	sa_fail "cannot register the private discovery domain"

# ---- snmptrapd, snmpd, agent ---------------------------------------------------------------------------------
sa_start_snmptrapd
sa_start_snmpd
sa_agent_conf "discovery = {
  initiator_name = \"$ME\";
  isns = [ \"127.0.0.1:$ISNS_PORT\" ];
  interval = 60;
  age_out = 600;
};"
sa_start_agent
sa_wait_agent

names() { sa_walk "$TGT.2" 2>/dev/null | sed -n 's/.*STRING: "\(.*\)"$/\1/p' | sort | tr '\n' ' '; }
has_names() { [ "$(names)" = "$1" ]; }
index_of() { sa_walk "$TGT.2" | sed -n "s/^$TGT\.2\.\([0-9]*\) = STRING: \"$1\"$/\1/p"; }

sa_wait_for 15 has_names "$IQN:t1 $IQN:t2 " || sa_fail "sanDiscTargetTable after start: '$(names)'"
sa_log "sanDiscTargetTable: $(names)"

# The source row: mechanism isns(2), status ok(2).
[ "$(sa_get "$SRC.2.1")" = 2 ] || sa_fail "source 1 mechanism is not isns(2): $(sa_walk "$SRC")"
[ "$(sa_get "$SRC.6.1")" = 2 ] || sa_fail "source 1 status is not ok(2): $(sa_walk "$SRC")"

T1=$(index_of "$IQN:t1")
T2=$(index_of "$IQN:t2")
[ "$(sa_get "$TGT.3.$T1")" = 2 ] || sa_fail "t1 mechanism is not isns(2): $(sa_get "$TGT.3.$T1")"
# t1: two portal groups (127.0.0.1:3260 tag 1, 127.0.0.2:3260 tag 2); t2: one with isnsd's default tag.
portals() {
	local t=$1 i out=""
	for i in $(sa_walk "$POR.3.$t" | sed -n "s/^$POR\.3\.$t\.\([0-9]*\) = .*/\1/p"); do
		out="$out$(sa_get "$POR.3.$t.$i" | tr -d ' "'):$(sa_get "$POR.4.$t.$i"),$(sa_get "$POR.5.$t.$i") "
	done
	echo "$out" | tr ' ' '\n' | sort | tr '\n' ' '
}
p1=$(portals "$T1")
case "$p1" in
*7F000001:3260,1*7F000002:3260,2* | *'\177\000\000\001':3260,1*'\177\000\000\002':3260,2*) ;;
*) sa_fail "t1 portals: $p1" ;;
esac
p2=$(portals "$T2")
echo "$p2" | grep -q -e '7F000003:3261,' -e '\\177\\000\\000\\003:3261,' || sa_fail "t2 portals: $p2"
sa_log "t1 portals: $p1; t2 portals: $p2"
sa_log "t3 (discovery domain 'private') is not listed, as it must not be"

# ---- a new registration arrives through an SCN, long before the 60 s interval ----------------------------------
t0=$(sa_now_ms)
adm d --register "target=$IQN:t4" portal=127.0.0.5:3262 >/dev/null || sa_fail "cannot register t4"
sa_wait_for 20 has_names "$IQN:t1 $IQN:t2 $IQN:t4 " || sa_fail "t4 not listed after its registration: '$(names)'"
sa_log "t4 listed $(sa_secs_since "$t0") s after isnsadm --register"
sa_wait_for 5 grep -q "$IQN:t4" "$SA_TMP/snmptrapd.log" || sa_fail "no sanTargetDiscovered naming t4"

# ---- deregistration: the row goes at once, with sanTargetLost --------------------------------------------------
t0=$(sa_now_ms)
adm d --deregister "iscsi-name=$IQN:t4" >/dev/null || sa_fail "cannot deregister t4"
sa_wait_for 20 has_names "$IQN:t1 $IQN:t2 " || sa_fail "t4 still listed after its deregistration: '$(names)'"
sa_log "t4 gone $(sa_secs_since "$t0") s after isnsadm --deregister"
lost_t4() { grep -A8 "$N.2" "$SA_TMP/snmptrapd.log" | grep -q "$IQN:t4"; }
sa_wait_for 5 lost_t4 || sa_fail "no sanTargetLost naming t4"

# The agent registered itself as an initiator.  Asked only now: isnsd can drop the agent's acknowledgement of an SCN
# that reaches it in the same poll() turn as this request, and then holds its next SCNs for a minute (see the
# agent's SCN_ACK_GAP_MS), which the two changes above must not depend on.
adm a --list nodes | grep -q "$ME" || sa_fail "the agent's initiator is not registered at isnsd"
# The interval is 60 s: every query after the first came from a notification.
sa_log "iSNS queries so far: $(sa_get "$SRC.10.1")"

# ---- stop: the agent leaves the server ----------------------------------------------------------------------
sa_stop_pid "$SA_AGENT_PID"
agent_left() { ! adm a --list nodes | grep -q "$ME"; }
sa_wait_for 10 agent_left || sa_fail "the agent's initiator is still registered after it stopped"
echo "PASS: discovery_isns"
