#!/usr/bin/env bash
# iscsi_mib_walk.sh: walk speed of the RFC 7147 ISCSI-MIB with 10,000 sessions, through AgentX and with dlmod, against
# a native snmpd table in the same run.
#
# The 10,000 sessions are tgt's, as the storage side reads them: the agent's storage engine runs its usual tgtadm
# commands, but a recorded-listing tgtadm first in its PATH answers them (`--op show --mode target`, `--op stat`,
# `--op show --mode portal`) with 100 targets of 100 I_T nexuses each, so no tgtd with 10,000 logins is needed; the
# agent parses and serves them like any round (storage.interval 3600: one round, then the walks).  Every session
# is an inbound row of iscsiSessionAttributesTable with its statistics and one connection row.
# Each figure is GETBULK walks from one client process (bench/walkloop.c), done two ways:
#   subtree  the whole module (mib-2.142) as snmpbulkwalk does: one varbind per request, WALK_MAXREP deep;
#   table    iscsiSessionStatsTable as snmptable and NMS pollers do: all columns per request, WALK_MAXREP deep;
#   anchor   hrSWRunTable, a table snmpd serves itself, walked the same way by the same snmpd.
#   floor    bench/walk_floor.c: a table of iscsiSessionStatsTable's shape (5 columns x sessions) computed from the
#            OID by net-snmp's own agent library, as an AgentX subagent of the same master and as a dlmod in the
#            same snmpd: what each mode costs with no data behind it.  sanagent's rate is printed against it.  The
#            two are walked in alternation, one walk each in turn, so that a change of load falls on both alike.
# Goals (as the other tables, bench/cluster_walk.sh): >= 30,000 varbinds/s AgentX, >= 250,000/s dlmod.  Printed,
# never a threshold.  Knobs: ISCSI_TARGETS (100), ISCSI_PER_TARGET (100), WALK_MAXREP (25), WALK_N (3 walks of the
# module per figure, 20 of the anchor), WALK_MODES ("subtree table").
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=walk_lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/walk_lib.bash"

ISCSI_TARGETS=${ISCSI_TARGETS:-100}
ISCSI_PER_TARGET=${ISCSI_PER_TARGET:-100}
WALK_MAXREP=${WALK_MAXREP:-25}
WALK_N=${WALK_N:-3}
WALK_MODES=${WALK_MODES:-subtree table}
NSESS=$((ISCSI_TARGETS * ISCSI_PER_TARGET))
MODULE=.1.3.6.1.2.1.142
STATS_TABLE=$MODULE.1.10.2
INST_SESSIONS=$MODULE.1.1.1.1.9.2 # iscsiInstSessionNumber of the target instance
ANCHOR=.1.3.6.1.2.1.25.4.2

walk_init bench-iscsi-mib-walk
walk_floor_build

# ---- the recorded tgt listings ------------------------------------------------------------------------------
REC=$SA_TMP/tgt-listing
mkdir -p "$REC" "$SA_TMP/fakebin"
awk -v nt="$ISCSI_TARGETS" -v per="$ISCSI_PER_TARGET" -v iqn="$SA_IQN_PREFIX" -v show="$REC/show.txt" \
	-v stat="$REC/stat.txt" 'BEGIN {
	print "tgt lun sid rd_subm(bytes,cmds) rd_done(bytes,cmds) wr_subm(bytes,cmds) wr_done(bytes,cmds) errs" > stat
	sid = 0
	for (t = 1; t <= nt; t++) {
		printf "Target %d: %s:bench%d\n    System information:\n        Driver: iscsi\n        State: ready\n", t, iqn, t > show
		print "    I_T nexus information:" > show
		for (k = 1; k <= per; k++) {
			sid++
			printf "        I_T nexus: %d\n            Initiator: %s:host%d alias: none\n", sid, iqn, sid > show
			printf "            Connection: 0\n                IP Address: 10.%d.%d.%d\n", int(sid / 65536) % 256,
			       int(sid / 256) % 256, sid % 256 > show
			printf "%3d %3d %3d %12d %6d %12d %6d %12d %6d %12d %6d %4d\n", t, 1, sid, sid * 4096, sid, sid * 4096,
			       sid, sid * 512, sid, sid * 512, sid, 0 > stat
		}
		print "    LUN information:\n    Account information:\n    ACL information:\n        ALL" > show
	}
}' || sa_fail "cannot write the recorded listings"
printf 'Portal: 127.0.0.1:3260,1\nPortal: 127.0.0.2:3260,1\n' >"$REC/portal.txt"
cat >"$SA_TMP/fakebin/tgtadm" <<TGTADM
#!/bin/sh
# A recorded tgtd: the bench's listings for what the storage engine reads, success for anything else.
case " \$* " in
*" --op show --mode target "*) exec cat "$REC/show.txt" ;;
*" --op stat "*) exec cat "$REC/stat.txt" ;;
*" --op show --mode portal "*) exec cat "$REC/portal.txt" ;;
esac
exit 0
TGTADM
chmod +x "$SA_TMP/fakebin/tgtadm"
STORAGE="storage = { tgt_control = 1; interval = 3600; feedback_interval = 0; };"

sessions_served() {
	[ "$(snmpget -v2c -c "$SA_RO_COMMUNITY" -t 2 -r 0 -Oqv "127.0.0.1:$1" "$INST_SESSIONS" 2>/dev/null)" = "$NSESS" ]
}
root_of() { if [ "$1" = table ]; then echo "$STATS_TABLE"; else echo "$MODULE"; fi; }

# ---- AgentX ----------------------------------------------------------------------------------------------------
sa_start_snmpd
sa_agent_conf "$STORAGE"
PATH="$SA_TMP/fakebin:$PATH" sa_start_agent
sa_wait_for 120 sessions_served "$SA_SNMP_PORT" || sa_fail "AgentX: iscsiInstSessionNumber.2 is not $NSESS"
# The floor: net-snmp's own subagent library beside sanagentd under the same master, a table of
# iscsiSessionStatsTable's shape (5 columns x NSESS rows) computed from the OID; walked in alternation with the module.
walk_floor_start "$SA_TMP/agentx.sock" "$NSESS" 5
for m in $WALK_MODES; do
	walk_alt "$WALK_N" "$m" "$SA_SNMP_PORT" "$m.ax" "$(root_of "$m")" "$SA_SNMPD_PID $SA_AGENT_PID" \
		"$m.fl" "$FLOOR_ROOT" "$SA_SNMPD_PID $FLOOR_PID" || sa_fail "AgentX $m walks"
	R[$m.an]=$(rate "$SA_SNMP_PORT" "$ANCHOR" 20 "$m") || sa_fail "anchor $m walk (AgentX snmpd)"
done
sa_stop_pid "$FLOOR_PID"
sa_stop_pid "$SA_AGENT_PID"

# ---- dlmod -----------------------------------------------------------------------------------------------------
walk_dl_snmpd_conf
walk_dl_agent_conf "$STORAGE"
PATH="$SA_TMP/fakebin:$PATH" WALK_FLOOR_ROWS=$NSESS WALK_FLOOR_COLS=5 walk_dl_start snmpd-dlmod.log
sa_wait_for 120 sessions_served "$DL_PORT" || sa_fail "dlmod: iscsiInstSessionNumber.2 is not $NSESS"
walk_floor_up "$DL_PORT" "$NSESS" 5 || sa_fail "dlmod: the floor is not served"
for m in $WALK_MODES; do
	walk_alt "$WALK_N" "$m" "$DL_PORT" "$m.dl" "$(root_of "$m")" "$DL_PID" "$m.df" "$FLOOR_ROOT" "$DL_PID" ||
		sa_fail "dlmod $m walks"
	R[$m.da]=$(rate "$DL_PORT" "$ANCHOR" 20 "$m") || sa_fail "anchor $m walk (dlmod snmpd)"
done
sa_stop_pid "$DL_PID"

row() { walk_row 42 "$@"; } # row MODE WALK LABEL KEY ANCHOR_KEY
echo "ISCSI-MIB walk with $NSESS sessions ($ISCSI_TARGETS targets x $ISCSI_PER_TARGET, recorded tgt listing): GETBULK"
echo "  max-repetitions $WALK_MAXREP, one client process (walkloop), loopback, $(walk_machine), net-snmp" \
	"$(walk_netsnmp); $WALK_N walks per figure, 20 of the anchor"
walk_head 42 subtree
for m in $WALK_MODES; do
	what="iscsiMibModule (mib-2.142)"
	[ "$m" = table ] && what="iscsiSessionStatsTable"
	row agentx "$m" "hrSWRunTable (anchor, AgentX snmpd)" "$m.an" "$m.an"
	row agentx "$m" "$what" "$m.ax" "$m.an"
	row dlmod "$m" "hrSWRunTable (anchor, dlmod snmpd)" "$m.da" "$m.da"
	row dlmod "$m" "$what" "$m.dl" "$m.da"
	walk_floor_rows 42 "$m" "$NSESS" 5
done
for m in $WALK_MODES; do
	ax=$(f "$m.ax" 2) dl=$(f "$m.dl" 2)
	echo "$m walk: CPU per varbind: AgentX snmpd $(f "$m.ax" 4) us + sanagentd $(f "$m.ax" 5) us, dlmod snmpd" \
		"$(f "$m.dl" 4) us"
	walk_floor_line "$m" "$ax" "$dl"
	walk_goals "$m" "$ax" "$dl"
done
