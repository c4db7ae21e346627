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

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

WALK_N=${WALK_N:-1000}
WALK_MAXREP=${WALK_MAXREP:-10}
WALK_ROUNDS=${WALK_ROUNDS:-3}
AGENT_ROOT=.1.3.6.1.4.1.32473
# Native candidates: the snmp group (counters), the system group with sysORTable, snmpEngine + USM + VACM.
ANCHOR_CANDIDATES=(.1.3.6.1.2.1.11 .1.3.6.1.2.1.1 .1.3.6.1.6.3.10.2.1 .1.3.6.1.6.3.15.1.2)

sa_init bench-walk
[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first"
SO=$SA_BUILDDIR/.libs/sanagent.so
[ -f "$SO" ] || sa_skip "no $SO: build first"
command -v cc >/dev/null || sa_skip "no C compiler"

cc -std=gnu11 -O2 -o "$SA_TMP/walkloop" "$SA_SRCDIR/bench/walkloop.c" -lnetsnmp ||
	sa_fail "cannot build bench/walkloop.c"

# walk_rate PORT OID: best of WALK_ROUNDS loops; prints "PER_WALK RATE SECONDS" (varbinds/walk, varbinds/s, s/loop).
walk_rate() {
	local port=$1 root=$2 r line per secs rate best_rate=-1 best_per="" best_secs=""
	for ((r = 0; r < WALK_ROUNDS; r++)); do
		line=$("$SA_TMP/walkloop" "127.0.0.1:$port" "$SA_RO_COMMUNITY" "$root" "$WALK_N" "$WALK_MAXREP") ||
			return 1
		per=$(sed -n 's/.*per_walk=\([0-9]*\).*/\1/p' <<<"$line")
		secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
		rate=$(awk -v n="$WALK_N" -v p="$per" -v s="$secs" 'BEGIN { printf "%.0f", n * p / s }')
		if [ "$rate" -gt "$best_rate" ]; then
			best_rate=$rate best_per=$per best_secs=$secs
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
DL_PORT=$(sa_free_port udp)
mkdir -p "$SA_TMP/dl" "$SA_TMP/dl-persist"
cat >"$SA_TMP/dl/sanagent.conf" <<EOF
agent = {
  state_file = "$SA_TMP/dl/state/sanagent.state";
};
EOF
cat >"$SA_TMP/dl/snmpd.conf" <<EOF
agentaddress udp:127.0.0.1:$DL_PORT
rocommunity $SA_RO_COMMUNITY 127.0.0.1
dlmod sanagent $SO
sanagentConfig $SA_TMP/dl/sanagent.conf
EOF
SNMP_PERSISTENT_DIR="$SA_TMP/dl-persist" sa_bg snmpd -f -I -smux -Lf "$SA_TMP/snmpd-dlmod.log" -C \
	-c "$SA_TMP/dl/snmpd.conf" -p "$SA_TMP/dl/snmpd.pid"
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

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "walk benchmark: $WALK_N GETBULK walks per loop (max-repetitions $WALK_MAXREP), best of $WALK_ROUNDS loops,"
echo "one client process on loopback, $(nproc) CPUs, net-snmp $(snmpd -v 2>/dev/null | sed -n 's/.*version: *//p' | head -n1)"
printf '%-8s %-44s %9s %10s %14s %9s\n' "mode" "subtree" "vb/walk" "s/loop" "varbinds/s" "vs anchor"
printf '%-8s %-44s %9s %10s %14s %9s\n' anchor "$ANCHOR (native, served by snmpd)" "$AN_PER" "$AN_SECS" "$AN_RATE" "1.000"
printf '%-8s %-44s %9s %10s %14s %9s\n' agentx "$AGENT_ROOT (sanagentd over AgentX)" "$AX_PER" "$AX_SECS" "$AX_RATE" \
	"$(ratio "$AX_RATE" "$AN_RATE")"
printf '%-8s %-44s %9s %10s %14s %9s\n' dlmod "$AGENT_ROOT (sanagent.so inside snmpd)" "$DL_PER" "$DL_SECS" "$DL_RATE" \
	"$(ratio "$DL_RATE" "$AN_RATE")"
echo "agentx/dlmod: $(ratio "$AX_RATE" "$DL_RATE")"
