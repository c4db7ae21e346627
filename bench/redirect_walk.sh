#!/usr/bin/env bash
# redirect_walk.sh: walk speed of sanRedirResourceTable with 10,000 and 100,000 rows, through AgentX and with dlmod, against a native snmpd table.
#
# The rows come from the config's redirect section (three real tgtd servers, so they are healthy).
# Each figure is whole-table GETBULK walks from one client process (bench/walkloop.c):
#   anchor  hrSWRunTable, a table snmpd serves itself (WALK_N walks, it is small);
#   agentx  the resource table served by sanagentd through snmpd's AgentX master, at 10k and 100k rows;
#   dlmod   the same with sanagent.so loaded into a second snmpd, at 10k and 100k rows.
# "Flat cost per row": varbinds/s at 100k rows against 10k rows (1.0 = flat).
# CPU per varbind (user+sys from /proc, over the 100k-row walks): snmpd and sanagentd through AgentX,
# snmpd alone with dlmod: where a varbind's time goes, steadier than rates on a shared machine.
# Knobs: WALK_SMALL (10000), WALK_BIG (100000), WALK_MAXREP (25), WALK_N (20, anchor and 10k runs; 100k: 1).
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

WALK_SMALL=${WALK_SMALL:-10000}
WALK_BIG=${WALK_BIG:-100000}
WALK_MAXREP=${WALK_MAXREP:-25}
WALK_N=${WALK_N:-20}
IQN=$SA_TGT_IQN
RES_TABLE=$SA_OID.3.3.1.6
ANCHOR=.1.3.6.1.2.1.25.4.2

sa_init bench-redirect-walk
[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first"
SO=$SA_BUILDDIR/.libs/sanagent.so
[ -f "$SO" ] || sa_skip "no $SO: build first"
command -v cc >/dev/null || sa_skip "no C compiler"
cc -std=gnu11 -O2 -o "$SA_TMP/walkloop" "$SA_SRCDIR/bench/walkloop.c" -lnetsnmp || sa_fail "cannot build bench/walkloop.c"

sa_start_tgt_servers 3 1
RPORT=$(sa_free_port tcp)
DPORT=$(sa_free_port tcp)
# redirect_section N LISTEN_PORT: the redirect section with N resources, written with awk (bash is slow at 100k).
redirect_section() {
	local i servers=""
	servers=$(sa_tgt_servers_conf)
	echo "redirect = { listen = [ \"127.0.0.1:$2\" ]; servers = ( $servers );"
	awk -v n="$1" -v iqn="$IQN" 'BEGIN {
		printf "resources = (\n"
		for (t = 1; t <= n; t++)
			printf "{ target = \"%s:r%d\"; server = \"s%d\"; }%s\n", iqn, t, t % 3 + 1, t < n ? "," : ""
		printf "); };\n" }'
}
ax_conf() { sa_agent_conf "$(redirect_section "$1" "$RPORT")"; }
dl_conf() {
	mkdir -p "$SA_TMP/dl"
	{
		echo "agent = { state_file = \"$SA_TMP/dl/state/sanagent.state\"; };"
		redirect_section "$1" "$DPORT"
	} >"$SA_TMP/dl/sanagent.conf"
}

# CPU seconds (user + system) a process has used.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# rate PORT ROOT N [PID...]: one walkloop run; prints "PER_WALK RATE SECONDS [US_PER_VARBIND...]",
# the last fields being each PID's CPU per varbind over the run.
rate() {
	local line per secs port=$1 root=$2 n=$3 p before=() i=0 cpu=""
	shift 3
	for p in "$@"; do before+=("$(cpu_s "$p")"); done
	line=$("$SA_TMP/walkloop" "127.0.0.1:$port" "$SA_RO_COMMUNITY" "$root" "$n" "$WALK_MAXREP") || return 1
	per=$(sed -n 's/.*per_walk=\([0-9]*\).*/\1/p' <<<"$line")
	secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
	for p in "$@"; do
		cpu+=" $(awk -v a="${before[$i]}" -v b="$(cpu_s "$p")" -v v="$((n * per))" 'BEGIN { printf "%.2f", (b - a) / v * 1e6 }')"
		i=$((i + 1))
	done
	echo "$per $(awk -v n="$n" -v p="$per" -v s="$secs" 'BEGIN { printf "%.0f", n * p / s }') $secs$cpu"
}
rows_served() { # PORT N: the last row is there
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 2 -r 0 -Oqv "127.0.0.1:$1" "$RES_TABLE.1.2.$2" 2>/dev/null | grep -q "r$2"
}

# --- AgentX ---
ax_conf "$WALK_SMALL"
sa_start_snmpd
sa_start_agent
sa_wait_for 30 rows_served "$SA_SNMP_PORT" "$WALK_SMALL" || sa_fail "AgentX: row $WALK_SMALL not served"
read -r AXS_PER AXS_RATE AXS_SECS < <(rate "$SA_SNMP_PORT" "$RES_TABLE" "$WALK_N") || sa_fail "AgentX walk ($WALK_SMALL)"
ax_conf "$WALK_BIG"
kill -HUP "$SA_AGENT_PID"
sa_wait_for 60 rows_served "$SA_SNMP_PORT" "$WALK_BIG" || sa_fail "AgentX: row $WALK_BIG not served after reload"
read -r AXB_PER AXB_RATE AXB_SECS AX_SNMPD_US AX_AGENT_US < <(rate "$SA_SNMP_PORT" "$RES_TABLE" 1 "$SA_SNMPD_PID" "$SA_AGENT_PID") ||
	sa_fail "AgentX walk ($WALK_BIG)"
read -r AN_PER AN_RATE AN_SECS < <(rate "$SA_SNMP_PORT" "$ANCHOR" "$WALK_N") || sa_fail "anchor walk"
sa_stop_pid "$SA_AGENT_PID"

# --- dlmod ---
DL_PORT=$(sa_free_port udp)
dl_conf "$WALK_SMALL"
mkdir -p "$SA_TMP/dl-persist"
cat >"$SA_TMP/dl/snmpd.conf" <<EOF
agentaddress udp:127.0.0.1:$DL_PORT
rocommunity $SA_RO_COMMUNITY 127.0.0.1
dlmod sanagent $SO
sanagentConfig $SA_TMP/dl/sanagent.conf
EOF
SNMP_PERSISTENT_DIR="$SA_TMP/dl-persist" sa_bg snmpd -f -Lf "$SA_TMP/snmpd-dlmod.log" -C \
	-c "$SA_TMP/dl/snmpd.conf" -p "$SA_TMP/dl/snmpd.pid"
DL_PID=$SA_LASTPID
sa_wait_for 30 rows_served "$DL_PORT" "$WALK_SMALL" || sa_fail "dlmod: row $WALK_SMALL not served"
read -r DLS_PER DLS_RATE DLS_SECS < <(rate "$DL_PORT" "$RES_TABLE" "$WALK_N") || sa_fail "dlmod walk ($WALK_SMALL)"
dl_conf "$WALK_BIG"
kill -HUP "$DL_PID"
sa_wait_for 60 rows_served "$DL_PORT" "$WALK_BIG" || sa_fail "dlmod: row $WALK_BIG not served after reload"
read -r DLB_PER DLB_RATE DLB_SECS DL_SNMPD_US < <(rate "$DL_PORT" "$RES_TABLE" 3 "$DL_PID") || sa_fail "dlmod walk ($WALK_BIG)"
read -r DA_PER DA_RATE DA_SECS < <(rate "$DL_PORT" "$ANCHOR" "$WALK_N") || sa_fail "anchor walk (dlmod snmpd)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "resource table walk: GETBULK max-repetitions $WALK_MAXREP, one client process (walkloop), loopback, $(nproc) CPUs,"
echo "  net-snmp $(snmpd -v 2>/dev/null | sed -n 's/.*version: *//p' | head -n1); walks per figure: anchor and ${WALK_SMALL} rows $WALK_N, ${WALK_BIG} rows 1 (AgentX) / 3 (dlmod)"
printf '%-8s %-36s %9s %10s %12s %9s\n' mode subtree "vb/walk" "s/loop" "varbinds/s" "vs anchor"
printf '%-8s %-36s %9s %10s %12s %9s\n' anchor "hrSWRunTable (snmpd, AgentX master)" "$AN_PER" "$AN_SECS" "$AN_RATE" 1.000
printf '%-8s %-36s %9s %10s %12s %9s\n' agentx "resources, $WALK_SMALL rows" "$AXS_PER" "$AXS_SECS" "$AXS_RATE" "$(ratio "$AXS_RATE" "$AN_RATE")"
printf '%-8s %-36s %9s %10s %12s %9s\n' agentx "resources, $WALK_BIG rows" "$AXB_PER" "$AXB_SECS" "$AXB_RATE" "$(ratio "$AXB_RATE" "$AN_RATE")"
printf '%-8s %-36s %9s %10s %12s %9s\n' anchor "hrSWRunTable (snmpd with dlmod)" "$DA_PER" "$DA_SECS" "$DA_RATE" 1.000
printf '%-8s %-36s %9s %10s %12s %9s\n' dlmod "resources, $WALK_SMALL rows" "$DLS_PER" "$DLS_SECS" "$DLS_RATE" "$(ratio "$DLS_RATE" "$DA_RATE")"
printf '%-8s %-36s %9s %10s %12s %9s\n' dlmod "resources, $WALK_BIG rows" "$DLB_PER" "$DLB_SECS" "$DLB_RATE" "$(ratio "$DLB_RATE" "$DA_RATE")"
echo "flat cost per row (rate at $WALK_BIG rows / rate at $WALK_SMALL rows): AgentX $(ratio "$AXB_RATE" "$AXS_RATE"), dlmod $(ratio "$DLB_RATE" "$DLS_RATE")"
echo "CPU per varbind at $WALK_BIG rows: AgentX snmpd $AX_SNMPD_US us + sanagentd $AX_AGENT_US us; dlmod snmpd $DL_SNMPD_US us"
echo "goals: AgentX >= 30000 vb/s: $([ "$AXB_RATE" -ge 30000 ] && echo met || echo MISSED) ($AXB_RATE);" \
	"dlmod >= 250000 vb/s: $([ "$DLB_RATE" -ge 250000 ] && echo met || echo MISSED) ($DLB_RATE)"
