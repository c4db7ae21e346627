#!/usr/bin/env bash
# redirect_walk.sh: walk speed of sanRedirResourceTable with 10,000 and 100,000 rows, through AgentX and with dlmod, against a native snmpd table.
#
# The rows come from the config's redirect section (three real tgtd servers, so they are healthy).
# Each figure is whole-table GETBULK walks from one client process (bench/walkloop.c), done two ways:
#   subtree  as snmpbulkwalk does: one varbind per request, WALK_MAXREP deep;
#   table    as snmptable and NMS table pollers do: all columns in each request, each WALK_MAXREP deep.
#   anchor  hrSWRunTable, a table snmpd serves itself (WALK_N walks, it is small);
#   agentx  the resource table served by sanagentd through snmpd's AgentX master, at 10k and 100k rows;
#   dlmod   the same with sanagent.so loaded into a second snmpd, at 10k and 100k rows.
# "Flat cost per row": varbinds/s at 100k rows against 10k rows (1.0 = flat).
# CPU per varbind (user+sys from /proc, over the 100k-row walks): snmpd and sanagentd through AgentX,
# snmpd alone with dlmod: where a varbind's time goes, steadier than rates on a shared machine.
# Knobs: WALK_SMALL (10000), WALK_BIG (100000), WALK_MAXREP (25), WALK_N (20, anchor and 10k runs; 100k: 1),
# WALK_MODES ("subtree table").
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=walk_lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/walk_lib.bash"

WALK_SMALL=${WALK_SMALL:-10000}
WALK_BIG=${WALK_BIG:-100000}
WALK_MAXREP=${WALK_MAXREP:-25}
WALK_N=${WALK_N:-20}
WALK_MODES=${WALK_MODES:-subtree table}
IQN=$SA_TGT_IQN
RES_TABLE=$SA_OID.3.3.1.6
ANCHOR=.1.3.6.1.2.1.25.4.2

walk_init bench-redirect-walk
walk_floor_build
WALK_FLOOR_ROWS=$WALK_SMALL WALK_FLOOR_COLS=11 # the floor: the resource table's 11 columns, the small size's rows

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
dl_conf() { walk_dl_agent_conf "$(redirect_section "$1" "$DPORT")"; }

rows_served() { # PORT N: the last row is there
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 2 -r 0 -Oqv "127.0.0.1:$1" "$RES_TABLE.1.2.$2" 2>/dev/null | grep -q "r$2"
}

# --- AgentX ---
ax_conf "$WALK_SMALL"
sa_start_snmpd
sa_start_agent
sa_wait_for 30 rows_served "$SA_SNMP_PORT" "$WALK_SMALL" || sa_fail "AgentX: row $WALK_SMALL not served"
# Results go in R[MODE.WHAT] as "PER_WALK RATE SECONDS [CPU...]".
for m in $WALK_MODES; do
	R[$m.axsmall]=$(rate "$SA_SNMP_PORT" "$RES_TABLE" "$WALK_N" "$m") || sa_fail "AgentX $m walk ($WALK_SMALL)"
done
ax_conf "$WALK_BIG"
kill -HUP "$SA_AGENT_PID"
sa_wait_for 60 rows_served "$SA_SNMP_PORT" "$WALK_BIG" || sa_fail "AgentX: row $WALK_BIG not served after reload"
for m in $WALK_MODES; do
	R[$m.axbig]=$(rate "$SA_SNMP_PORT" "$RES_TABLE" 1 "$m" "$SA_SNMPD_PID" "$SA_AGENT_PID") ||
		sa_fail "AgentX $m walk ($WALK_BIG)"
	R[$m.an]=$(rate "$SA_SNMP_PORT" "$ANCHOR" "$WALK_N" "$m") || sa_fail "anchor $m walk"
done
sa_stop_pid "$SA_AGENT_PID"
walk_floor_ax "$WALK_FLOOR_ROWS" "$WALK_FLOOR_COLS" "$WALK_N"

# --- dlmod ---
walk_dl_snmpd_conf
dl_conf "$WALK_SMALL"
WALK_FLOOR_ROWS=$WALK_FLOOR_ROWS WALK_FLOOR_COLS=$WALK_FLOOR_COLS walk_dl_start snmpd-dlmod.log
sa_wait_for 30 rows_served "$DL_PORT" "$WALK_SMALL" || sa_fail "dlmod: row $WALK_SMALL not served"
for m in $WALK_MODES; do
	R[$m.dlsmall]=$(rate "$DL_PORT" "$RES_TABLE" "$WALK_N" "$m") || sa_fail "dlmod $m walk ($WALK_SMALL)"
done
dl_conf "$WALK_BIG"
kill -HUP "$DL_PID"
sa_wait_for 60 rows_served "$DL_PORT" "$WALK_BIG" || sa_fail "dlmod: row $WALK_BIG not served after reload"
for m in $WALK_MODES; do
	R[$m.dlbig]=$(rate "$DL_PORT" "$RES_TABLE" 3 "$m" "$DL_PID") || sa_fail "dlmod $m walk ($WALK_BIG)"
	R[$m.da]=$(rate "$DL_PORT" "$ANCHOR" "$WALK_N" "$m") || sa_fail "anchor $m walk (dlmod snmpd)"
done
walk_floor_dl "$WALK_FLOOR_ROWS" "$WALK_FLOOR_COLS" "$WALK_N"

echo "resource table walk: GETBULK max-repetitions $WALK_MAXREP, one client process (walkloop), loopback, $(nproc) CPUs,"
echo "  net-snmp $(walk_netsnmp); walks per figure: anchor and ${WALK_SMALL} rows $WALK_N, ${WALK_BIG} rows 1 (AgentX) / 3 (dlmod)"
echo "  subtree: one varbind per request (snmpbulkwalk); table: every column in each request (snmptable)"
walk_head 36 subtree
walk_sizes_report 36 resources rows " rows"
