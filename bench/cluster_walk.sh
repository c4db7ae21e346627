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

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

WALK_SMALL=${WALK_SMALL:-10000}
WALK_BIG=${WALK_BIG:-100000}
WALK_MAXREP=${WALK_MAXREP:-25}
WALK_N=${WALK_N:-20}
WALK_MODES=${WALK_MODES:-subtree table}
PER_CTL=100 # devices per controller
RES_TABLE=$SA_OID.3.5.1.3
ANCHOR=.1.3.6.1.2.1.25.4.2

sa_init bench-cluster-walk
[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first"
SO=$SA_BUILDDIR/.libs/sanagent.so
[ -f "$SO" ] || sa_skip "no $SO: build first"
SW=$SA_BUILDDIR/tests/integration/state_writer
[ -x "$SW" ] || sa_skip "no $SW: make check builds it (make -C build tests/integration/state_writer)"
sa_need build-essential cc
cc -std=gnu11 -O2 -o "$SA_TMP/walkloop" "$SA_SRCDIR/bench/walkloop.c" -lnetsnmp || sa_fail "cannot build bench/walkloop.c"

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
	mkdir -p "$SA_TMP/dl"
	crt_state "$1" "$SA_TMP/dl/state/sanagent.state"
	{
		echo "agent = { state_file = \"$SA_TMP/dl/state/sanagent.state\"; };"
		echo "$CLUSTER"
	} >"$SA_TMP/dl/sanagent.conf"
}

# CPU seconds (user + system) a process has used.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# rate PORT ROOT N MODE [PID...]: one walkloop run; prints "PER_WALK RATE SECONDS [US_PER_VARBIND...]".
rate() {
	local line per secs port=$1 root=$2 n=$3 mode=$4 p before=() i=0 cpu=""
	shift 4
	for p in "$@"; do before+=("$(cpu_s "$p")"); done
	line=$("$SA_TMP/walkloop" "127.0.0.1:$port" "$SA_RO_COMMUNITY" "$root" "$n" "$WALK_MAXREP" "$mode") || return 1
	per=$(sed -n 's/.*per_walk=\([0-9]*\).*/\1/p' <<<"$line")
	secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
	for p in "$@"; do
		cpu+=" $(awk -v a="${before[$i]}" -v b="$(cpu_s "$p")" -v v="$((n * per))" 'BEGIN { printf "%.2f", (b - a) / v * 1e6 }')"
		i=$((i + 1))
	done
	echo "$per $(awk -v n="$n" -v p="$per" -v s="$secs" 'BEGIN { printf "%.0f", n * p / s }') $secs$cpu"
}
# rows_served PORT N: the device row of the Nth device is there (its index: the unit, the controllers before it).
last_index() { echo $(($1 + 1 + ($1 + PER_CTL - 1) / PER_CTL)); }
rows_served() {
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 2 -r 0 -Oqv "127.0.0.1:$1" "$RES_TABLE.1.3.$(last_index "$2")" 2>/dev/null |
		grep -qx 4
}

declare -A R
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

# --- dlmod ---
DL_PORT=$(sa_free_port udp)
mkdir -p "$SA_TMP/dl-persist" "$SA_TMP/dl"
cat >"$SA_TMP/dl/snmpd.conf" <<EOF
agentaddress udp:127.0.0.1:$DL_PORT
rocommunity $SA_RO_COMMUNITY 127.0.0.1
dlmod sanagent $SO
sanagentConfig $SA_TMP/dl/sanagent.conf
EOF
for size in small big; do
	n=$WALK_SMALL walks=$WALK_N
	[ $size = big ] && n=$WALK_BIG walks=2
	dl_conf "$n"
	SNMP_PERSISTENT_DIR="$SA_TMP/dl-persist" sa_bg snmpd -f -I -smux -Lf "$SA_TMP/snmpd-dlmod-$size.log" -C \
		-c "$SA_TMP/dl/snmpd.conf" -p "$SA_TMP/dl/snmpd.pid"
	DL_PID=$SA_LASTPID
	sa_wait_for 120 rows_served "$DL_PORT" "$n" || sa_fail "dlmod: device $n not served"
	for m in $WALK_MODES; do
		R[$m.dl$size]=$(rate "$DL_PORT" "$RES_TABLE" "$walks" "$m" "$DL_PID") || sa_fail "dlmod $m walk ($n devices)"
		[ $size = big ] && { R[$m.da]=$(rate "$DL_PORT" "$ANCHOR" "$WALK_N" "$m") || sa_fail "anchor $m walk (dlmod)"; }
	done
	sa_stop_pid "$DL_PID"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
f() { cut -d' ' -f"$2" <<<"${R[$1]}"; } # f KEY FIELD: 1 per walk, 2 rate, 3 seconds, 4.. CPU per varbind
row() { # row MODE LABEL KEY ANCHOR_KEY
	printf '%-8s %-8s %-38s %9s %10s %12s %9s\n' "$1" "${3%%.*}" "$2" "$(f "$3" 1)" "$(f "$3" 3)" "$(f "$3" 2)" \
		"$(ratio "$(f "$3" 2)" "$(f "$4" 2)")"
}
echo "CRT walk (sanCluResTable, 14 columns): GETBULK max-repetitions $WALK_MAXREP, one client process (walkloop), loopback,"
echo "  $(nproc) CPUs, net-snmp $(snmpd -v 2>/dev/null | sed -n 's/.*version: *//p' | head -n1); walks per figure: anchor and" \
	"$WALK_SMALL devices $WALK_N, $WALK_BIG devices 1 (AgentX) / 2 (dlmod)"
printf '%-8s %-8s %-38s %9s %10s %12s %9s\n' mode walk table "vb/walk" "s/loop" "varbinds/s" "vs anchor"
for m in $WALK_MODES; do
	row agentx "hrSWRunTable (anchor, AgentX snmpd)" "$m.an" "$m.an"
	row agentx "CRT, $WALK_SMALL devices" "$m.axsmall" "$m.an"
	row agentx "CRT, $WALK_BIG devices" "$m.axbig" "$m.an"
	row dlmod "hrSWRunTable (anchor, dlmod snmpd)" "$m.da" "$m.da"
	row dlmod "CRT, $WALK_SMALL devices" "$m.dlsmall" "$m.da"
	row dlmod "CRT, $WALK_BIG devices" "$m.dlbig" "$m.da"
done
for m in $WALK_MODES; do
	ax=$(f "$m.axbig" 2) dl=$(f "$m.dlbig" 2)
	echo "$m walk: flat cost per row (rate at $WALK_BIG / at $WALK_SMALL): AgentX $(ratio "$ax" "$(f "$m.axsmall" 2)")," \
		"dlmod $(ratio "$dl" "$(f "$m.dlsmall" 2)"); CPU per varbind at $WALK_BIG: AgentX snmpd $(f "$m.axbig" 4) us +" \
		"sanagentd $(f "$m.axbig" 5) us, dlmod snmpd $(f "$m.dlbig" 4) us"
	echo "$m walk goals: AgentX >= 30000 vb/s: $([ "$ax" -ge 30000 ] && echo met || echo MISSED) ($ax);" \
		"dlmod >= 250000 vb/s: $([ "$dl" -ge 250000 ] && echo met || echo MISSED) ($dl)"
done
