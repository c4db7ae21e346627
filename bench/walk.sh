#!/usr/bin/env bash
# walk.sh: walk speed of the agent subtree through AgentX and through dlmod, against a native snmpd subtree.
#
# Three figures from one run on loopback, each N GETBULK walks from one client process (bench/walkloop.c):
#   anchor  a subtree snmpd serves itself, of about the agent's size (the closest of a few candidates);
#   agentx  enterprises.32473 served by sanagentd through snmpd's AgentX master;
#   dlmod   enterprises.32473 served by sanagent.so loaded into snmpd.
# Ratios are varbinds/s against the anchor.  Knobs: WALK_N (1000), WALK_MAXREP (10), WALK_ROUNDS (3, best kept).
# Exit: 0 measured, 1 failed, 77 skipped (not root, or the agent is not built).
set -u -o pipefail

# shellcheck source=walk_lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/walk_lib.bash"

WALK_N=${WALK_N:-1000}
WALK_MAXREP=${WALK_MAXREP:-10}
WALK_ROUNDS=${WALK_ROUNDS:-3}
AGENT_ROOT=.1.3.6.1.4.1.32473
# Native candidates: the snmp group (counters), the system group with sysORTable, snmpEngine + USM + VACM.
ANCHOR_CANDIDATES=(.1.3.6.1.2.1.11 .1.3.6.1.2.1.1 .1.3.6.1.6.3.10.2.1 .1.3.6.1.6.3.15.1.2)

walk_init bench-walk

# walk_rate PORT OID: best of WALK_ROUNDS loops; prints "PER_WALK RATE SECONDS" (varbinds/walk, varbinds/s, s/loop).
walk_rate() {
	local port=$1 root=$2 r rate best_rate=-1 best_per="" best_secs=""
	for ((r = 0; r < WALK_ROUNDS; r++)); do
		walk_once "$port" "$root" "$WALK_N" || return 1
		rate=$(walk_vbs "$WALK_N" "$WALK_PER" "$WALK_SECS")
		if [ "$rate" -gt "$best_rate" ]; then
			best_rate=$rate best_per=$WALK_PER best_secs=$WALK_SECS
		fi
	done
	echo "$best_per $best_rate $best_secs"
}

# --- AgentX: a private master plus sanagentd ---------------------------------
sa_start_snmptrapd
sa_start_snmpd
sa_agent_conf
sa_start_agent
sa_wait_agent 15

# --- dlmod: a second snmpd that loads the plug-in -----------------------------
walk_dl_snmpd_conf
walk_dl_agent_conf
walk_dl_start snmpd-dlmod.log
dl_serving() {
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 0 -Oqv "127.0.0.1:$DL_PORT" "$SA_OID.1.1.1.0" 2>/dev/null |
		grep -v -q -e '^No Such' -e '^$'
}
sa_wait_for 15 dl_serving || sa_fail "the dlmod snmpd does not serve $SA_OID.1.1.1.0"

# --- measure ------------------------------------------------------------------
read -r AX_PER AX_RATE AX_SECS < <(walk_rate "$SA_SNMP_PORT" "$AGENT_ROOT") || sa_fail "AgentX walk failed"
read -r DL_PER DL_RATE DL_SECS < <(walk_rate "$DL_PORT" "$AGENT_ROOT") || sa_fail "dlmod walk failed"
[ "$AX_PER" = "$DL_PER" ] || sa_log "note: AgentX walk has $AX_PER varbinds, dlmod walk $DL_PER"

# The anchor: the native subtree whose size is closest to the agent's.
ANCHOR="" ANCHOR_PER=0
for cand in "${ANCHOR_CANDIDATES[@]}"; do
	n=$(snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -On -Oq "127.0.0.1:$SA_SNMP_PORT" "$cand" 2>/dev/null | grep -c "^$cand\.")
	[ "$n" -gt 0 ] || continue
	if [ -z "$ANCHOR" ] || [ $(((n - AX_PER) * (n - AX_PER))) -lt $(((ANCHOR_PER - AX_PER) * (ANCHOR_PER - AX_PER))) ]; then
		ANCHOR=$cand ANCHOR_PER=$n
	fi
done
[ -n "$ANCHOR" ] || sa_fail "no native anchor subtree answered"
read -r AN_PER AN_RATE AN_SECS < <(walk_rate "$SA_SNMP_PORT" "$ANCHOR") || sa_fail "anchor walk failed"

echo "walk benchmark: $WALK_N GETBULK walks per loop (max-repetitions $WALK_MAXREP), best of $WALK_ROUNDS loops,"
echo "one client process on loopback, $(nproc) CPUs, net-snmp $(walk_netsnmp)"
printf '%-8s %-44s %9s %10s %14s %9s\n' "mode" "subtree" "vb/walk" "s/loop" "varbinds/s" "vs anchor"
printf '%-8s %-44s %9s %10s %14s %9s\n' anchor "$ANCHOR (native, served by snmpd)" "$AN_PER" "$AN_SECS" "$AN_RATE" "1.000"
printf '%-8s %-44s %9s %10s %14s %9s\n' agentx "$AGENT_ROOT (sanagentd over AgentX)" "$AX_PER" "$AX_SECS" "$AX_RATE" \
	"$(ratio "$AX_RATE" "$AN_RATE")"
printf '%-8s %-44s %9s %10s %14s %9s\n' dlmod "$AGENT_ROOT (sanagent.so inside snmpd)" "$DL_PER" "$DL_SECS" "$DL_RATE" \
	"$(ratio "$DL_RATE" "$AN_RATE")"
echo "agentx/dlmod: $(ratio "$AX_RATE" "$DL_RATE")"
