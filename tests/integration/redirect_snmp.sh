#!/usr/bin/env bash
# redirect_snmp.sh: SANAGENT-REDIRECTOR-MIB through a real snmpd: rows created by SET, seed 003's Fig. 8
# rebalance with loads injected by SET, a manual move, SET errors, and every notification at snmptrapd.
set -u
. "$(dirname "$0")/lib.sh"
# shellcheck source=redirect_lib.bash
. "$(dirname "$0")/redirect_lib.bash"

sa_init redirect_snmp
# Names need the standard MIB texts (SNMPv2-SMI, INET-ADDRESS-MIB, ...), which Debian's main archive does not ship.
sa_need_std_mibs
sa_need tgt tgtd tgtadm

R=.1.3.6.1.4.1.32473.1.3.3
M=SANAGENT-REDIRECTOR-MIB
export MIBS="+$M"
IQN=iqn.2026-11.org.sanagent.redirsnmp

# ---- one tgtd, three portals = three servers ---------------------------------------------------
# Each server is a portal on its own loopback address; deleting a portal
# makes that server fail its health checks without touching the others.
SRV_ADDRS=(127.0.0.11 127.0.0.12 127.0.0.13)
ISCSI_PORT=$(sa_free_port tcp)
while :; do
	TGT_CONTROL=$((1000 + RANDOM % 30000))
	[ -e "/var/run/tgtd/socket.$TGT_CONTROL" ] || break
done
tgt() { tgtadm -C "$TGT_CONTROL" "$@"; }
stop_tgtd() {
	[ -n "${TGTD_PID:-}" ] && sa_tgtd_stop "$TGTD_PID" "$TGT_CONTROL"
	TGTD_PID=
}
# tgtd ignores SIGTERM while it has targets: stop it first, then the generic cleanup.
trap 'rc__=$?; stop_tgtd; (exit $rc__); sa_cleanup' EXIT

sa_bg tgtd -f -C "$TGT_CONTROL" --iscsi "portal=${SRV_ADDRS[0]}:$ISCSI_PORT" >"$SA_TMP/tgtd.log" 2>&1
TGTD_PID=$SA_LASTPID
sa_wait_for 10 tgt --op show --mode sys || sa_fail "tgtd did not answer on control port $TGT_CONTROL"
for a in "${SRV_ADDRS[@]:1}"; do
	tgt --lld iscsi --op new --mode portal --param "portal=$a:$ISCSI_PORT" || sa_fail "cannot add portal $a"
done
for i in 1 2 3 4 5 6; do
	tgt --lld iscsi --op new --mode target --tid "$i" -T "$IQN:r$i" &&
		tgt --lld iscsi --op bind --mode target --tid "$i" -I ALL || sa_fail "cannot create target r$i"
done
for a in "${SRV_ADDRS[@]}"; do
	sa_wait_for 10 sa_tcp_listening "$a" "$ISCSI_PORT" || sa_fail "tgtd does not listen on $a:$ISCSI_PORT"
done

# ---- snmptrapd, snmpd, the agent with an empty redirector --------------------------------------
sa_start_snmptrapd
# A v1 sink next to lib.sh's v2c one: notifications must reach it too (none carries a Counter64).
sa_start_snmpd "trapsess -v 1 -c $SA_TRAP_COMMUNITY 127.0.0.1:$SA_TRAP_PORT"
PORTAL_PORT=$(sa_free_port tcp)
sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$PORTAL_PORT\" ]; threshold = 50; interval = 0;
  max_moves = 2; probe_interval_ms = 200; probe_timeout_ms = 500; load_interval = 1; };"
sa_start_agent
sa_wait_agent
sa_wait_for 10 sa_get "$R.1.1.1.0" || sa_fail "sanRedirThreshold.0 not served"

# Values only, enums as numbers, no units, OID values by name: this test's rget, in place of redirect_lib.bash's.
rget() {
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -Oqv -Oe -OU "127.0.0.1:$SA_SNMP_PORT" "$@" 2>/dev/null |
		grep -v -e '^No Such'
}
# "OID = TYPE: value" lines, numeric OIDs and enums, no units.
rwalk() { snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oe -OU "127.0.0.1:$SA_SNMP_PORT" "$@" 2>/dev/null; }
# trap_has NOTIFICATION_SUFFIX PATTERN: a notification carrying that text in one of its lines.
trap_has() { grep -F -- "$1" "$SA_TMP/snmptrapd.log" 2>/dev/null | grep -q -- "$2"; }

[ "$(rget "$M::sanRedirThreshold.0")" = 50 ] || sa_fail "threshold is not the configured 50"
[ "$(rget "$M::sanRedirMaxMoves.0")" = 2 ] || sa_fail "max moves is not the configured 2"
[ "$(rget "$M::sanRedirRebalanceTrigger.0")" = 0 ] || sa_fail "trigger does not read 0"

# ---- servers by SET --------------------------------------------------------------------------
S1=$(rget "$M::sanRedirServerNextIndex.0")
[ -n "$S1" ] && [ "$S1" -gt 0 ] || sa_fail "no sanRedirServerNextIndex"
hexaddr() { printf '%02x%02x%02x%02x' ${1//./ }; }
create_server() { # INDEX NAME ADDR
	rset "$M::sanRedirServerName.$1" s "$2" "$M::sanRedirServerAddressType.$1" i 1 \
		"$M::sanRedirServerAddress.$1" x "$(hexaddr "$3")" "$M::sanRedirServerPort.$1" u "$ISCSI_PORT" \
		"$M::sanRedirServerRowStatus.$1" i 4
}
create_server "$S1" s1 "${SRV_ADDRS[0]}"
S2=$(rget "$M::sanRedirServerNextIndex.0")
[ "$S2" != "$S1" ] || sa_fail "NextIndex handed out $S1 twice"
create_server "$S2" s2 "${SRV_ADDRS[1]}"

# The third one the long way: createAndWait, notReady until it has an address, then active.
S3=$(rget "$M::sanRedirServerNextIndex.0")
rset "$M::sanRedirServerRowStatus.$S3" i 5 "$M::sanRedirServerName.$S3" s s3
[ "$(rget "$M::sanRedirServerRowStatus.$S3")" = 3 ] || sa_fail "createAndWait row is not notReady(3)"
rset_err inconsistentValue "$M::sanRedirServerRowStatus.$S3" i 1
rset "$M::sanRedirServerAddressType.$S3" i 1 "$M::sanRedirServerAddress.$S3" x "$(hexaddr "${SRV_ADDRS[2]}")" \
	"$M::sanRedirServerPort.$S3" u "$ISCSI_PORT"
[ "$(rget "$M::sanRedirServerRowStatus.$S3")" = 2 ] || sa_fail "complete row is not notInService(2)"
rset "$M::sanRedirServerRowStatus.$S3" i 1
[ "$(rget "$M::sanRedirServerRowStatus.$S3")" = 1 ] || sa_fail "row $S3 is not active"
[ "$(rget "$M::sanRedirServerName.$S3" | tr -d \")" = s3 ] || sa_fail "server $S3 name: $(rget "$M::sanRedirServerName.$S3")"

servers_up() {
	local s
	for s in "$S1" "$S2" "$S3"; do [ "$(rget "$M::sanRedirServerOperStatus.$s")" = 1 ] || return 1; done
}
sa_wait_for 10 servers_up || sa_fail "servers not oper up: $(rwalk "$R.1.4.1.8")"
sa_log "servers $S1 $S2 $S3 up"

# ---- resources by SET, seed 003 Fig. 8A: 100+100 | 150+200 | 300+400 --------------------------
LOADS=(100 100 150 200 300 400)
SRVOF=("$S1" "$S1" "$S2" "$S2" "$S3" "$S3")
RES=()
for i in 0 1 2 3 4 5; do
	x=$(rget "$M::sanRedirResourceNextIndex.0")
	[ -n "$x" ] && [ "$x" -gt 0 ] || sa_fail "no sanRedirResourceNextIndex"
	rset "$M::sanRedirResourceTarget.$x" s "$IQN:r$((i + 1))" "$M::sanRedirResourceServer.$x" u "${SRVOF[$i]}" \
		"$M::sanRedirResourceLoad.$x" u "${LOADS[$i]}" "$M::sanRedirResourceRowStatus.$x" i 4
	RES+=("$x")
done
n=$(rwalk "$R.1.6.1.11" | grep -c "INTEGER: 1$")
[ "$n" = 6 ] || sa_fail "resource table has $n active rows, want 6"
for i in 0 1 2 3 4 5; do
	[ "$(rget "$M::sanRedirResourceServer.${RES[$i]}")" = "${SRVOF[$i]}" ] || sa_fail "resource ${RES[$i]} misplaced"
	[ "$(rget "$M::sanRedirResourceLoadSource.${RES[$i]}")" = 2 ] || sa_fail "load source is not set(2)"
done
loads_are() { # want loads of S1 S2 S3
	[ "$(rget "$M::sanRedirServerLoad.$S1")" = "$1" ] && [ "$(rget "$M::sanRedirServerLoad.$S2")" = "$2" ] &&
		[ "$(rget "$M::sanRedirServerLoad.$S3")" = "$3" ]
}
# Before the first plan: the threshold (50%) would fire on these loads, so
# it is raised over SNMP to keep the engine quiet until the trigger.
rset "$M::sanRedirThreshold.0" u 1000
[ "$(rget "$M::sanRedirThreshold.0")" = 1000 ] || sa_fail "threshold SET did not take"
# Two controls in one PDU: both take (each scalar is a registration of its own, called apart).
rset "$M::sanRedirMaxMoves.0" u 3 "$M::sanRedirThreshold.0" u 900
got=$(rget "$M::sanRedirMaxMoves.0" "$M::sanRedirThreshold.0" | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "3 900" ] || sa_fail "max moves 3 and threshold 900 in one PDU read back as '$got'"
rset "$M::sanRedirThreshold.0" u 1000 "$M::sanRedirMaxMoves.0" u 2
loads_are 200 350 700 || sa_fail "server loads: $(rwalk "$R.1.4.1.9")"
[ "$(rget "$M::sanRedirServerResources.$S3")" = 2 ] || sa_fail "server $S3 resource count"

# ---- SET errors --------------------------------------------------------------------------------
rset_err wrongType "$R.1.4.1.6.$S1" s big
rset_err wrongValue "$M::sanRedirServerCapacity.$S1" u 0
rset_err wrongValue "$M::sanRedirServerAdminStatus.$S1" i 7
rset_err wrongValue "$M::sanRedirThreshold.0" u 0
rset_err wrongLength "$M::sanRedirServerAddress.$S1" x 0a0b0c0d0e
rset_err wrongValue "$M::sanRedirServerStorageType.99999" i 5
rset_err noCreation "$M::sanRedirServerCapacity.99999" u 2
rset_err inconsistentValue "$M::sanRedirServerRowStatus.$S1" i 4
# RFC 2579: notInService of an active row the agent cannot take out of service is wrongValue.
rset_err wrongValue "$M::sanRedirServerRowStatus.$S1" i 2
rset_err inconsistentValue "$M::sanRedirServerPort.$S1" u 1
rset_err inconsistentValue "$M::sanRedirResourceServer.${RES[0]}" u 99999
x=$(rget "$M::sanRedirResourceNextIndex.0")
rset_err inconsistentValue "$M::sanRedirResourceTarget.$x" s "$IQN:r1" "$M::sanRedirResourceRowStatus.$x" i 4
rset_err notWritable "$R.1.6.1.5.${RES[0]}" u 5
# Atomic: a valid move next to a bad value changes nothing.
rset_err wrongValue "$M::sanRedirResourceServer.${RES[1]}" u "$S2" "$M::sanRedirServerCapacity.$S2" u 0
[ "$(rget "$M::sanRedirResourceServer.${RES[1]}")" = "$S1" ] || sa_fail "a failed SET moved a resource"
rset_err inconsistentValue "$M::sanRedirMaxMoves.0" u 5 "$M::sanRedirResourceServer.${RES[1]}" u 99999
[ "$(rget "$M::sanRedirMaxMoves.0")" = 2 ] || sa_fail "a failed SET changed sanRedirMaxMoves"
loads_are 200 350 700 || sa_fail "loads changed by failed SETs"

# ---- Fig. 8: trigger, then the plan table ------------------------------------------------------
rset "$M::sanRedirRebalanceTrigger.0" i 1
plan_row() { rwalk "$R.1.8.1.3" | grep -q "INTEGER: 3$"; }
sa_wait_for 10 plan_row || sa_fail "no manual plan in sanRedirPlanTable: $(rwalk "$R.1.8")"
P=$(rwalk "$R.1.8.1.3" | grep "INTEGER: 3$" | tail -n 1 | sed 's/ =.*//; s/.*\.//')
before=$(rget "$M::sanRedirPlanMaxLoadBefore.$P")
after=$(rget "$M::sanRedirPlanMaxLoadAfter.$P")
moves=$(rget "$M::sanRedirPlanMoves.$P")
sa_log "plan $P: max $before -> $after with $moves moves: $(rget "$M::sanRedirPlanMoveList.$P")"
[ "$before" = 700 ] || sa_fail "plan max before is $before, want 700"
[ "$after" = 450 ] || sa_fail "plan max after is $after, want 450 (seed 003 Fig. 8B)"
[ "$moves" -ge 1 ] && [ "$moves" -le 2 ] || sa_fail "plan made $moves moves, want 1..2"
max=0
for s in "$S1" "$S2" "$S3"; do
	l=$(rget "$M::sanRedirServerLoad.$s")
	[ "$l" -gt "$max" ] && max=$l
done
[ "$max" = 450 ] || sa_fail "highest server load after the plan is $max"
sa_wait_for 5 sa_trap_seen "$R.0.4" || sa_fail "sanRebalanced did not arrive"
trap_has "$R.0.4" "$R.1.8.1.4.$P = Gauge32: $moves" || sa_fail "sanRebalanced lacks sanRedirPlanMoves.$P = $moves"
# No Counter64 in notifications: snmpd converted it for the v1 sink without a warning, and it arrived there.
sa_wait_for 5 grep -qF "$R Enterprise Specific Trap (4)" "$SA_TMP/snmptrapd.log" ||
	sa_fail "the v1 sink did not get sanRebalanced"
grep -n "Counter64" "$SA_TMP/snmpd.log" "$SA_TMP/sanagentd.log" && sa_fail "a notification carried a Counter64"
[ "$(sa_trap_count "$R.0.3")" -ge "$moves" ] || sa_fail "fewer sanResourceRemapped than moves"

# ---- a manual move by SET --------------------------------------------------------------------
r=${RES[0]}
from=$(rget "$M::sanRedirResourceServer.$r")
to=$S3
[ "$from" = "$S3" ] && to=$S2
nremap=$(sa_trap_count "$R.0.3")
rset "$M::sanRedirResourceServer.$r" u "$to"
[ "$(rget "$M::sanRedirResourceServer.$r")" = "$to" ] || sa_fail "manual move of $r did not take"
sa_wait_for 5 trap_has "$R.0.3" "$R.1.6.1.12.$r = Gauge32: $from" || sa_fail "no sanResourceRemapped for the move"
trap_has "$R.0.3" "$R.1.6.1.3.$r = Gauge32: $to" || sa_fail "sanResourceRemapped lacks the new server"
[ "$(sa_trap_count "$R.0.3")" -gt "$nremap" ] || sa_fail "no new sanResourceRemapped"

# ---- server down and up: the portal of S3 goes away and comes back ----------------------------
tgt --lld iscsi --op delete --mode portal --param "portal=${SRV_ADDRS[2]}:$ISCSI_PORT" || sa_fail "cannot drop portal"
sa_wait_for 5 sa_trap_seen "$R.0.1" || sa_fail "sanServerDown did not arrive"
trap_has "$R.0.1" "$R.1.4.1.2.$S3 = STRING: \"\\?s3" || sa_fail "sanServerDown does not name s3"
[ "$(rget "$M::sanRedirServerOperStatus.$S3")" = 2 ] || sa_fail "s3 is not oper down"
[ "$(rget "$M::sanRedirServerResources.$S3")" = 0 ] || sa_fail "s3 kept resources after failing"
tgt --lld iscsi --op new --mode portal --param "portal=${SRV_ADDRS[2]}:$ISCSI_PORT" || sa_fail "cannot re-add portal"
sa_wait_for 5 trap_has "$R.0.2" "$R.1.4.1.2.$S3 = " || sa_fail "sanServerUp for s3 did not arrive"
[ "$(rget "$M::sanRedirServerOperStatus.$S3")" = 1 ] || sa_fail "s3 is not oper up again"

# ---- destroy ----------------------------------------------------------------------------------
rset "$M::sanRedirResourceRowStatus.${RES[5]}" i 6
[ -z "$(rget "$M::sanRedirResourceTarget.${RES[5]}")" ] || sa_fail "destroyed resource still there"
n=$(rwalk "$R.1.6.1.2" | grep -c STRING)
[ "$n" = 5 ] || sa_fail "resource table has $n rows after destroy, want 5"

echo "PASS"
exit 0
