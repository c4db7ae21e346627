#!/usr/bin/env bash
# walk_instructions.sh: instructions per varbind of a resource table walk, counted by valgrind (callgrind Ir).
#
# Rates on a shared 2-core machine swing by 2x between runs; an instruction count of the same walk does not
# depend on the load, so two builds can be compared within a few percent.  Counted, each over one walk of
# sanRedirResourceTable with ROWS rows (GETBULK max-repetitions 25, subtree and table mode, bench/walkloop.c):
#   ax-*  sanagentd (AgentX subagent) under callgrind, snmpd native;
#   dl-*  snmpd with sanagent.so (dlmod) under callgrind.
# Counters are zeroed before each walk and dumped after it (callgrind_control), so start-up is not counted;
# background work of the engines during the walk (health probes, a failover) is, and shows in the profile.
# Profiles stay in OUT (default /tmp/walk_instructions-LABEL) for callgrind_annotate --inclusive=yes.
# Usage: SA_BUILDDIR=DIR bash bench/walk_instructions.sh [LABEL]   Knobs: ROWS (1000).
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

LABEL=${1:-build}
ROWS=${ROWS:-1000}
OUT=${OUT:-/tmp/walk_instructions-$LABEL}
RES_TABLE=$SA_OID.3.3.1.6

sa_init bench-walk-instructions
[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first"
SO=$SA_BUILDDIR/.libs/sanagent.so
[ -f "$SO" ] || sa_skip "no $SO: build first"
sa_need build-essential cc
sa_need valgrind callgrind_control
mkdir -p "$OUT"
# Under valgrind one GETBULK through AgentX takes seconds on a loaded machine: a longer client timeout.
sed 's/s.timeout = 2000000;/s.timeout = 60000000;/' "$SA_SRCDIR/bench/walkloop.c" >"$SA_TMP/walkloop.c"
cc -std=gnu11 -O2 -o "$SA_TMP/walkloop" "$SA_TMP/walkloop.c" -lnetsnmp || sa_fail "cannot build bench/walkloop.c"

sa_start_tgt_servers 3 1
section() { # section LISTEN_PORT
	echo "redirect = { listen = [ \"127.0.0.1:$1\" ]; servers = ( $(sa_tgt_servers_conf) );"
	awk -v n="$ROWS" -v iqn="$SA_TGT_IQN" 'BEGIN { printf "resources = (\n"
		for (t = 1; t <= n; t++)
			printf "{ target = \"%s:r%d\"; server = \"s%d\"; }%s\n", iqn, t, t % 3 + 1, t < n ? "," : ""
		printf "); };\n" }'
}
rows_served() { # PORT
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 3 -r 0 -Oqv "127.0.0.1:$1" "$RES_TABLE.1.2.$ROWS" 2>/dev/null | grep -q "r$ROWS"
}
# measure NAME PID PORT MODE: one walk between a zero and a dump of PID's counters; prints Ir per varbind.
measure() {
	local name=$1 pid=$2 port=$3 mode=$4 line per ir f
	callgrind_control -z "$pid" >/dev/null
	line=$("$SA_TMP/walkloop" "127.0.0.1:$port" "$SA_RO_COMMUNITY" "$RES_TABLE" 1 25 "$mode") || sa_fail "$name walk"
	callgrind_control -d "$name" "$pid" >/dev/null
	per=$(sed -n 's/.*per_walk=\([0-9]*\).*/\1/p' <<<"$line")
	f=$(ls -t "$OUT"/cg.out."$pid".* | head -n1)
	ir=$(sed -n 's/^summary: //p' "$f")
	mv "$f" "$OUT/$name.cg"
	printf '%-16s %9s varbinds %14s Ir %9s Ir/varbind\n' "$name" "$per" "$ir" \
		"$(awk -v a="$ir" -v b="$per" 'BEGIN { printf "%.0f", a / b }')"
}

sa_start_snmpd "agentXTimeout 30"
sa_agent_conf "$(section "$(sa_free_port tcp)")"
mkdir -p "$SA_TMP/agent-persist"
SNMP_PERSISTENT_DIR="$SA_TMP/agent-persist" sa_bg valgrind -q --tool=callgrind --callgrind-out-file="$OUT/cg.out.%p" \
	"$SA_BUILDDIR/sanagentd" -f -c "$SA_TMP/sanagent.conf" -p "$SA_TMP/sanagentd.pid" 2>>"$SA_TMP/sanagentd.log"
AGENT=$SA_LASTPID
sa_wait_for 120 rows_served "$SA_SNMP_PORT" || sa_fail "AgentX: row $ROWS not served"
echo "$LABEL ($SA_BUILDDIR), $ROWS rows, one walk each, GETBULK max-repetitions 25"
measure ax-res-subtree "$AGENT" "$SA_SNMP_PORT" subtree
measure ax-res-table "$AGENT" "$SA_SNMP_PORT" table
sa_stop_pid "$AGENT"

DL_PORT=$(sa_free_port udp)
mkdir -p "$SA_TMP/dl" "$SA_TMP/dl-persist"
{
	echo "agent = { state_file = \"$SA_TMP/dl/state/sanagent.state\"; };"
	section "$(sa_free_port tcp)"
} >"$SA_TMP/dl/sanagent.conf"
cat >"$SA_TMP/dl/snmpd.conf" <<EOF
agentaddress udp:127.0.0.1:$DL_PORT
rocommunity $SA_RO_COMMUNITY 127.0.0.1
dlmod sanagent $SO
sanagentConfig $SA_TMP/dl/sanagent.conf
EOF
SNMP_PERSISTENT_DIR="$SA_TMP/dl-persist" sa_bg valgrind -q --tool=callgrind --callgrind-out-file="$OUT/cg.out.%p" \
	snmpd -f -I -smux -Lf "$SA_TMP/snmpd-dlmod.log" -C -c "$SA_TMP/dl/snmpd.conf" -p "$SA_TMP/dl/snmpd.pid"
DL=$SA_LASTPID
sa_wait_for 120 rows_served "$DL_PORT" || sa_fail "dlmod: row $ROWS not served"
measure dl-res-subtree "$DL" "$DL_PORT" subtree
measure dl-res-table "$DL" "$DL_PORT" table
sa_stop_pid "$DL"
