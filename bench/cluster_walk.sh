#!/usr/bin/env bash
# cluster_walk.sh: walk speed of the cluster resource table (sanCluResTable, the CRT) with 10,000 and 100,000
# devices, through AgentX and with dlmod, against a native snmpd table in the same run.
#
# The CRT is put in place before the agent starts: one unit, controllers of 100 devices each, written into the
# agent's state file in the cluster engine's own row format (tests/integration/state_writer load), so building it
# takes seconds and needs no tgtd with 100,000 LUNs.  The agent loads it like any restart would.
# Each figure is whole-table GETBULK walks from one client process (bench/walkloop.c), done two ways:
#   subtree  as snmpbulkwalk does: one varbind per request, WALK_MAXREP deep;
#   table    as snmptable and NMS table pollers do: all columns in each request, each WALK_MAXREP deep.
#   anchor   hrSWRunTable, a table snmpd serves itself (WALK_N walks, it is small).
# "Flat cost per row": varbinds/s at the big table against the small one (1.0 = flat).
# Knobs: WALK_SMALL (10000 devices), WALK_BIG (100000), WALK_MAXREP (25), WALK_N (20, anchor and small runs;
# big: 1 AgentX, 2 dlmod), WALK_MODES ("subtree table").
# Goals (issue): >= 30,000 varbinds/s AgentX, >= 250,000/s dlmod, flat per row.  Printed, never a threshold.
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=walk_lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/walk_lib.bash"

WALK_SMALL=${WALK_SMALL:-10000}
WALK_BIG=${WALK_BIG:-100000}
WALK_MAXREP=${WALK_MAXREP:-25}
WALK_N=${WALK_N:-20}
WALK_MODES=${WALK_MODES:-subtree table}
PER_CTL=100 # devices per controller
RES_TABLE=$SA_OID.3.5.1.3
ANCHOR=.1.3.6.1.2.1.25.4.2

walk_init bench-cluster-walk
walk_floor_build
WALK_FLOOR_ROWS=$WALK_SMALL WALK_FLOOR_COLS=13 # the floor: the CRT's 13 readable columns, the small size's rows
SW=$SA_BUILDDIR/tests/integration/state_writer
[ -x "$SW" ] || sa_skip "no $SW: make check builds it (make -C build tests/integration/state_writer)"

# crt_state N FILE: a state file holding a CRT of N devices (and its unit and controllers), version 1.
# Row format: the cluster engine's (engines/cluster/model.c row_encode): "1<TAB>type<TAB>guid<TAB>address<TAB>
# number<TAB>parent<TAB>ownership<TAB>owners<TAB>version<TAB>name<TAB>vendor<TAB>model<TAB>size<TAB>valid<TAB>paths".
crt_state() {
	rm -f "$2" "$2".journal "$2".journal.old
	mkdir -p "$(dirname "$2")"
	awk -v n="$1" -v per="$PER_CTL" -v iqn="$SA_IQN_PREFIX" 'BEGIN {
		OFS = "\t"
		print "cluster.version", "1 00000000000000c1 1"
		print "cluster.res.1", 1, 2, "00000000000000b1", "udp:127.0.0.1:161", 0, 0, 1, "", 1, "unit1", "", "", 0, 1, 0
		nctl = int((n + per - 1) / per); idx = 2
		for (c = 1; c <= nctl; c++) {
			ctl = idx++
			print "cluster.res." ctl, 1, 3, sprintf("%016x", 65536 + c), "127.0.0.1:3260", c, 1, 1, "", 1,
			      iqn ":crt" c, "", "", 0, 1, 0
			for (l = 1; l <= per && (c - 1) * per + l <= n; l++)
				print "cluster.res." idx++, 1, 4, sprintf("6001405%025x", (c - 1) * per + l), "", l, ctl, 1, "", 1,
				      "", "LIO-ORG", "disk", 67108864, 1, 1
		}
	}' | "$SW" load "$2" >/dev/null || sa_fail "cannot write the CRT state file $2"
}
# The cluster section: a host on its own (no peers, no probe): the agent only serves its table.
CLUSTER='cluster = { role = "host"; guid = "00000000000000c1"; initiator_name = "iqn.2024-01.org.sanagent.test:bench"; poll_interval = 0; sync_interval = 0; };'
ax_conf() {
	crt_state "$1" "$SA_TMP/state/sanagent.state"
	sa_agent_conf "$CLUSTER"
}
dl_conf() {
	crt_state "$1" "$SA_TMP/dl/state/sanagent.state"
	walk_dl_agent_conf "$CLUSTER"
}

# rows_served PORT N: the device row of the Nth device is there (its index: the unit, the controllers before it).
last_index() { echo $(($1 + 1 + ($1 + PER_CTL - 1) / PER_CTL)); }
rows_served() {
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 2 -r 0 -Oqv "127.0.0.1:$1" "$RES_TABLE.1.3.$(last_index "$2")" 2>/dev/null |
		grep -qx 4
}

# --- AgentX ---
sa_start_snmpd
for size in small big; do
	n=$WALK_SMALL walks=$WALK_N
	[ $size = big ] && n=$WALK_BIG walks=1
	ax_conf "$n"
	sa_start_agent
	sa_wait_for 120 rows_served "$SA_SNMP_PORT" "$n" || sa_fail "AgentX: device $n not served"
	for m in $WALK_MODES; do
		R[$m.ax$size]=$(rate "$SA_SNMP_PORT" "$RES_TABLE" "$walks" "$m" "$SA_SNMPD_PID" "$SA_AGENT_PID") ||
			sa_fail "AgentX $m walk ($n devices)"
		[ $size = big ] && { R[$m.an]=$(rate "$SA_SNMP_PORT" "$ANCHOR" "$WALK_N" "$m") || sa_fail "anchor $m walk"; }
	done
	sa_stop_pid "$SA_AGENT_PID"
done
walk_floor_ax "$WALK_FLOOR_ROWS" "$WALK_FLOOR_COLS" "$WALK_N"

# --- dlmod ---
walk_dl_snmpd_conf
for size in small big; do
	n=$WALK_SMALL walks=$WALK_N
	[ $size = big ] && n=$WALK_BIG walks=2
	dl_conf "$n"
	WALK_FLOOR_ROWS=$WALK_FLOOR_ROWS WALK_FLOOR_COLS=$WALK_FLOOR_COLS walk_dl_start "snmpd-dlmod-$size.log"
	sa_wait_for 120 rows_served "$DL_PORT" "$n" || sa_fail "dlmod: device $n not served"
	for m in $WALK_MODES; do
		R[$m.dl$size]=$(rate "$DL_PORT" "$RES_TABLE" "$walks" "$m" "$DL_PID") || sa_fail "dlmod $m walk ($n devices)"
		[ $size = big ] && { R[$m.da]=$(rate "$DL_PORT" "$ANCHOR" "$WALK_N" "$m") || sa_fail "anchor $m walk (dlmod)"; }
	done
	[ $size = small ] || walk_floor_dl "$WALK_FLOOR_ROWS" "$WALK_FLOOR_COLS" "$WALK_N"
	sa_stop_pid "$DL_PID"
done

echo "CRT walk (sanCluResTable, 14 columns): GETBULK max-repetitions $WALK_MAXREP, one client process (walkloop), loopback,"
echo "  $(nproc) CPUs, net-snmp $(walk_netsnmp); walks per figure: anchor and" \
	"$WALK_SMALL devices $WALK_N, $WALK_BIG devices 1 (AgentX) / 2 (dlmod)"
walk_head 38 table
walk_sizes_report 38 CRT devices ""
