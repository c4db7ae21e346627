#!/usr/bin/env bash
# cluster_etcd.sh: three host agents (each snmpd + sanagentd) share one real etcd as the fabric services database.
# An ownership change through one host appears on the others at the same version, which is etcd's revision of the
# CRT key; two managers racing through two hosts on one base: etcd takes exactly one, the other change is refused
# and reported (sanCluConflictTable, sanCluConflict at snmptrapd), never half-applied nor lost silently; a
# restarted host adopts the current table; kill -9 of the writer while its transaction is out: etcd holds the old
# or the whole new table and every host converges on it, and the restarted writer puts its acknowledged change
# there; etcd away: changes get inconsistentValue.
. "$(dirname "$0")/lib.sh"
sa_init clu-etcd
sa_need etcd-server etcd
sa_need curl curl
sa_need python3 python3

C=$SA_OID.3.5.1
VERSION=$C.1.1.0
WRITER=$C.1.2.0
OWN=$C.3.1.7   # sanCluResOwnership.ROW
OWNER=$C.4.1.2 # sanCluOwnerRowStatus.ROW.HOST
CONFLICTS=$C.6.6.0
I108=iqn.2026-01.org.sanagent:host108
I110=iqn.2026-01.org.sanagent:host110
I130=iqn.2026-01.org.sanagent:host130

# ---- a real etcd on loopback ----
EPORT=$(sa_free_port tcp)
EPEER=$(sa_free_port tcp)
EURL=http://127.0.0.1:$EPORT
start_etcd() {
	sa_bg etcd --name sa --data-dir "$SA_TMP/etcd" --listen-client-urls "$EURL" --advertise-client-urls "$EURL" \
		--listen-peer-urls "http://127.0.0.1:$EPEER" --initial-advertise-peer-urls "http://127.0.0.1:$EPEER" \
		--initial-cluster "sa=http://127.0.0.1:$EPEER" --heartbeat-interval 50 --election-timeout 500 \
		>>"$SA_TMP/etcd.log" 2>&1
	EPID=$SA_LASTPID
	sa_wait_for 20 eval "curl -sf $EURL/health | grep -q true" || sa_fail "etcd did not become healthy"
}
# A paused etcd must not outlive a failure; sa_cleanup reads the test's exit status from $?, so it is kept.
# shellcheck disable=SC2154 # sa_rc is set inside the trap
trap 'sa_rc=$?; kill -CONT "$EPID" 2>/dev/null; (exit $sa_rc); sa_cleanup' EXIT
start_etcd
sa_start_snmptrapd # every host's snmpd forwards its agent's notifications here: the manager's view
N_CONFLICT=.1.3.6.1.4.1.32473.1.3.5.0.4
# etcd_crt: "MOD_REVISION OWNERSHIP-OF-ROWS-1..N" of the CRT key, through the same JSON gateway.
etcd_crt() {
	curl -sf -m 2 -X POST "$EURL/v3/kv/range" -d "{\"key\":\"$(printf '%s' /sanagent/cluster/c1/crt | base64 -w0)\"}" |
		python3 -c '
import base64, json, sys
kv = (json.load(sys.stdin).get("kvs") or [None])[0]
if not kv: sys.exit(1)
t = json.loads(base64.b64decode(kv["value"]))
print(kv["mod_revision"], " ".join("%d:%d:%s" % (r["i"], r["o"], ",".join(map(str, r["w"]))) for r in t["rows"]))'
}
etcd_rev() { etcd_crt | cut -d' ' -f1; }

# Rows as Fig. 4 numbers them (as cluster_snmp.sh seeds them), in host 1's state file only: the first table.
row() { # INDEX TYPE GUID ADDRESS NUMBER PARENT OWNERSHIP OWNERS NAME
	printf 'cluster.res.%s\t1\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t3\t%s\t\t\t0\t1\t1\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9"
}
mkdir -p "$SA_TMP/a1/state"
{
	row 1 1 0000000000000108 udp:198.18.0.108:161 0 0 3 1 $I108
	row 2 1 0000000000000110 udp:198.18.0.110:161 0 0 3 2 $I110
	row 3 2 0000000000000112 udp:198.18.0.112:161 0 0 1 "" unit112
	row 4 3 6a1f000000000001 198.18.0.112:3260 1 3 1 "" iqn.2026-01.org.sanagent:unit112.114a
	row 5 4 600140500000000000000000000000a1 "" 1 4 1 "" ""
	row 6 4 600140500000000000000000000000a2 "" 2 4 1 "" ""
	row 7 3 6a1f000000000002 198.18.0.112:3260 2 3 1 "" iqn.2026-01.org.sanagent:unit112.114b
	row 8 4 600140500000000000000000000000b1 "" 1 7 1 "" ""
	printf 'cluster.version\t3 0000000000000108 2\n'
} | "$SA_BUILDDIR/tests/integration/state_writer" load "$SA_TMP/a1/state/sanagent.state" || sa_fail "cannot seed the state"

GUID=(x 0000000000000108 0000000000000110 0000000000000130)
INAME=(x "$I108" "$I110" "$I130")
declare -a SNMP APID
start_host() {
	local k=$1 d=$SA_TMP/a$1
	mkdir -p "$d/persist" "$d/agent-persist" "$d/state"
	: "${SNMP[$k]:=$(sa_free_port udp)}"
	[ -f "$d/snmpd.conf" ] ||
		sa_master_snmpd "$d" "${SNMP[$k]}" "trapsess -v 2c -c $SA_TRAP_COMMUNITY 127.0.0.1:$SA_TRAP_PORT"
	cat >"$d/sanagent.conf" <<EOF
agent = { agentx_socket = "unix:$d/agentx.sock"; agentx_ping_interval = 1; state_file = "$d/state/sanagent.state"; };
cluster = {
  role = "host";
  guid = "${GUID[$k]}";
  initiator_name = "${INAME[$k]}";
  granularity = "device";
  poll_interval = 0;
  sync_interval = 0;
  members = (
    { type = "host"; guid = "0000000000000108"; address = "udp:198.18.0.108:161"; name = "$I108"; },
    { type = "host"; guid = "0000000000000110"; address = "udp:198.18.0.110:161"; name = "$I110"; },
    { type = "host"; guid = "0000000000000130"; address = "udp:198.18.0.130:161"; name = "$I130"; },
    { type = "unit"; guid = "0000000000000112"; address = "udp:198.18.0.112:161"; name = "unit112"; }
  );
  etcd = { endpoints = [ "$EURL" ]; cluster = "c1"; };
};
EOF
	SNMP_PERSISTENT_DIR="$d/agent-persist" sa_bg "$SA_BUILDDIR/sanagentd" -f -c "$d/sanagent.conf" \
		-p "$d/sanagentd.pid" 2>>"$d/sanagentd.log"
	APID[$k]=$SA_LASTPID
}
set_on() {
	snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 3 -r 0 \
		"127.0.0.1:${SNMP[$1]}" "${@:2}"
}
get() { snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv "127.0.0.1:${SNMP[$1]}" "${@:2}" 2>/dev/null | grep -v '^No Such' | tr '\n' ' ' | sed 's/ $//'; }
walk() { snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On "127.0.0.1:${SNMP[$1]}" "${@:2}" 2>/dev/null; }
# view K: "VERSION OWNERSHIP-OF-ROWS-1..8" in one PDU, then the owner rows.
view() { echo "$(get "$1" $VERSION $OWN.1 $OWN.2 $OWN.3 $OWN.4 $OWN.5 $OWN.6 $OWN.7 $OWN.8) / $(walk "$1" $C.4.1.2 | sed "s/^$C.4.1.2.//; s/ = .*//" | tr '\n' ' ')"; }
version() { get "$1" $VERSION; }
dump() { for k in 1 2 3; do echo "---- a$k/sanagentd.log" >&2; tail -n 30 "$SA_TMP/a$k/sanagentd.log" >&2; done; }
fail() { dump; echo "etcd: $(etcd_crt)" >&2; sa_fail "$@"; }
# in_step K...: every host K at etcd's revision of the CRT, all with one view.
in_step() {
	local rev v0 k
	rev=$(etcd_rev) || return 1
	v0=$(view "$1")
	for k in "$@"; do
		[ "$(version "$k")" = "$rev" ] || return 1
		[ "$(view "$k")" = "$v0" ] || return 1
	done
}

# ---- host 1 writes the first table; hosts 2 and 3 start empty and adopt it ----
start_host 1
sa_wait_for 15 eval "[ \"\$(get 1 $C.1.9.0)\" = 1 ]" || fail "host 1: cluster objects not served"
sa_wait_for 10 etcd_crt || fail "host 1 did not write the CRT to etcd"
sa_wait_for 5 in_step 1 || fail "host 1 not at etcd's revision: $(version 1) vs $(etcd_rev)"
start_host 2
start_host 3
sa_wait_for 15 eval "[ \"\$(get 3 $C.1.9.0)\" = 1 ] && [ \"\$(get 2 $C.1.9.0)\" = 1 ]" || fail "hosts 2, 3 not serving"
sa_wait_for 10 in_step 1 2 3 || fail "hosts not in step: 1 $(view 1); 2 $(view 2); 3 $(view 3); etcd $(etcd_rev)"
[ "$(walk 2 $C.3.1.3 | grep -c INTEGER)" -ge 8 ] || fail "host 2 has $(walk 2 $C.3.1.3 | grep -c INTEGER) rows"
# The membership is in etcd too (each agent writes what it knows).
curl -sf -X POST "$EURL/v3/kv/range" -d "{\"key\":\"$(printf /sanagent/cluster/c1/member/ | base64 -w0)\",\"range_end\":\"$(printf /sanagent/cluster/c1/member0 | base64 -w0)\",\"count_only\":true}" |
	grep -q '"count":"4"' || fail "members in etcd: $(curl -sf -X POST "$EURL/v3/kv/range" -d '{}' )"
echo "# three hosts in step at revision $(etcd_rev): $(view 1)"

# ---- an ownership change through host 2 appears on hosts 1 and 3 at etcd's revision ----
rev0=$(etcd_rev)
t0=$(sa_now_ms)
set_on 2 $OWN.3 i 2 $OWNER.3.1 i 4 $OWNER.3.2 i 4 \
	$OWN.4 i 2 $OWNER.4.1 i 4 $OWNER.4.2 i 4 \
	$OWN.5 i 3 $OWNER.5.1 i 4 \
	$OWN.6 i 3 $OWNER.6.2 i 4 \
	$OWN.7 i 2 $OWNER.7.1 i 4 $OWNER.7.2 i 4 \
	$OWN.8 i 2 $OWNER.8.1 i 4 $OWNER.8.2 i 4 >/dev/null || fail "the Fig. 4 SET through host 2 was refused"
sa_wait_for 5 in_step 1 2 3 || fail "change not everywhere: 1 $(view 1); 2 $(view 2); 3 $(view 3); etcd $(etcd_crt)"
echo "# Fig. 4 through host 2 everywhere in $(sa_secs_since "$t0") s"
rev1=$(etcd_rev)
[ "$rev1" -gt "$rev0" ] || fail "etcd revision $rev1 not past $rev0"
fig4=$(view 1)
case "$fig4" in "$rev1 3 3 2 2 3 3 2 2 / "*) ;; *) fail "after the Fig. 4 SET: $fig4" ;; esac
[ "$(get 3 $WRITER)" = "$(get 2 $C.1.5.0)" ] || fail "host 3 names writer $(get 3 $WRITER), not host 2"

# ---- two managers, one base, two hosts: etcd takes one, the other is refused and reported ----
# etcd is paused while both SETs land, so both transactions carry the same base revision.
c1=$(get 1 $CONFLICTS)
c3=$(get 3 $CONFLICTS)
n0=$(sa_trap_count "$N_CONFLICT")
kill -STOP "$EPID"
: >"$SA_TMP/race.log"
(set_on 1 $OWN.5 i 2 $OWNER.5.2 i 4 >/dev/null 2>"$SA_TMP/race-1.err" && echo 1 >>"$SA_TMP/race.log") &
ra=$!
(set_on 3 $OWNER.5.1 i 6 $OWNER.5.2 i 4 >/dev/null 2>"$SA_TMP/race-3.err" && echo 3 >>"$SA_TMP/race.log") &
rb=$!
wait $ra $rb
kill -CONT "$EPID"
echo "# SETs acknowledged by hosts: $(tr '\n' ' ' <"$SA_TMP/race.log")"
sa_wait_for 10 in_step 1 2 3 || fail "race: hosts not in step: 1 $(view 1); 2 $(view 2); 3 $(view 3)"
row5=$(etcd_crt | tr ' ' '\n' | grep '^5:')
case "$row5" in
5:2:1,2) winner=1 loser=3 ;;
5:3:2) winner=3 loser=1 ;;
*) fail "race: row 5 in etcd is $row5: neither change (or a mix)" ;;
esac
dc1=$(($(get 1 $CONFLICTS) - c1))
dc3=$(($(get 3 $CONFLICTS) - c3))
if [ "$winner" = 1 ] && ! { [ "$dc3" = 1 ] && [ "$dc1" = 0 ]; }; then fail "race won by 1: conflicts +$dc1 on 1, +$dc3 on 3"; fi
if [ "$winner" = 3 ] && ! { [ "$dc1" = 1 ] && [ "$dc3" = 0 ]; }; then fail "race won by 3: conflicts +$dc1 on 1, +$dc3 on 3"; fi
walk "$loser" $C.7.1.7 | grep -q "refused by etcd" || fail "host $loser's conflict table: $(walk "$loser" $C.7)"
grep -q "dropped" "$SA_TMP/a$loser/sanagentd.log" || fail "host $loser did not log the dropped change"
conflict_sent() { [ "$(sa_trap_count "$N_CONFLICT")" -gt "$n0" ]; }
sa_wait_for 5 conflict_sent || fail "no sanCluConflict reached snmptrapd for the refused change"
echo "# race: host $winner's change in etcd ($row5), host $loser's refused and reported: $(walk "$loser" $C.7.1.7 | sed 's/.*STRING: //')"

# ---- the same race as managers run it: each reads sanCluAllocLock on its host, decides, then sets with it ----
# Manager B read host 3's lock before manager A's change through host 1 reached host 3: B's SET is refused with
# inconsistentValue and changes nothing (a change adopted from etcd moves every other host's lock).
LOCK=$C.1.3.0
lock_b=$(get 3 $LOCK)
lock_a=$(get 1 $LOCK)
before_b=$(view 3)
set_on 1 $LOCK i "$lock_a" $OWN.8 i 3 $OWNER.8.2 i 6 >/dev/null || fail "manager A's SET with host 1's lock refused"
sa_wait_for 5 in_step 1 2 3 || fail "manager A's change not everywhere: 1 $(view 1); 3 $(view 3)"
[ "$(view 3)" != "$before_b" ] || fail "host 3 did not change"
# B's change (116A2 shared by both) follows the rules on either table: only the lock refuses it.
rej=$(get 3 $C.6.11.0)
out=$(set_on 3 $LOCK i "$lock_b" $OWN.6 i 2 $OWNER.6.1 i 4 2>&1) &&
	fail "manager B's SET with a lock read before A's change was accepted"
echo "$out" | grep -q inconsistentValue || fail "manager B: want inconsistentValue, got: $out"
[ "$(get 3 $C.6.11.0)" -gt "$rej" ] || fail "host 3's lock rejections did not grow"
sa_wait_for 5 in_step 1 2 3 || fail "after manager B's refusal: 1 $(view 1); 3 $(view 3)"
etcd_crt | tr ' ' '\n' | grep -qx '8:3:1' || fail "116B1 in etcd after the lock race: $(etcd_crt)"
etcd_crt | tr ' ' '\n' | grep -qx '6:3:2' || fail "116A2 changed by the refused SET: $(etcd_crt)"
echo "# lock race: A's change through host 1 in etcd, B's stale lock on host 3 got inconsistentValue"
# 116B1 back to shared, for what follows.
set_on 1 $OWN.8 i 2 $OWNER.8.2 i 4 >/dev/null || fail "116B1 back to shared refused"
sa_wait_for 5 in_step 1 2 3 || fail "116B1 back to shared: not everywhere"

# ---- a restarted host adopts the current table ----
sa_stop_pid "${APID[3]}"
set_on 1 $OWN.6 i 2 $OWNER.6.1 i 4 >/dev/null || fail "116A2 shared refused"
sa_wait_for 5 in_step 1 2 || fail "hosts 1, 2 not in step after 116A2"
start_host 3
t0=$(sa_now_ms)
sa_wait_for 15 eval "[ \"\$(get 3 $C.1.9.0)\" = 1 ]" || fail "host 3 not serving after restart"
sa_wait_for 5 in_step 1 2 3 || fail "restarted host 3: $(view 3), others $(view 1)"
echo "# host 3 restarted with a stale state file: in step $(sa_secs_since "$t0") s after it started"

# ---- kill -9 of the writer while its transaction is out ----
before=$(etcd_crt | cut -d' ' -f2-)
kill -STOP "$EPID"
set_on 2 $OWN.7 i 3 $OWNER.7.2 i 6 $OWN.8 i 3 $OWNER.8.2 i 6 >/dev/null || { kill -CONT "$EPID"; fail "114B to 108 refused"; }
kill -9 "${APID[2]}"
wait "${APID[2]}" 2>/dev/null
kill -CONT "$EPID"
sa_wait_for 10 in_step 1 3 || fail "after kill -9: hosts 1, 3 not in step: $(view 1); $(view 3)"
now=$(etcd_crt | cut -d' ' -f2-)
new=$(echo "$before" | sed 's/\b7:2:1,2\b/7:3:1/; s/\b8:2:1,2\b/8:3:1/')
if [ "$now" = "$before" ]; then echo "# kill -9: etcd kept the old table"
elif [ "$now" = "$new" ]; then echo "# kill -9: etcd has the whole new table"
else fail "kill -9: etcd holds neither the old table nor the new: $now (old $before)"; fi
start_host 2
sa_wait_for 15 eval "[ \"\$(get 2 $C.1.9.0)\" = 1 ]" || fail "host 2 not serving after kill -9"
sa_wait_for 5 in_step 1 2 3 || fail "host 2 after kill -9: $(view 2), others $(view 1)"
now=$(etcd_crt | cut -d' ' -f2-)
[ "$now" = "$new" ] || fail "host 2's change, acknowledged before the kill, is not in etcd after its restart: $now"
echo "# host 2 restarted: its change is in etcd, every host in step"

# ---- etcd away: a host boots from its state file, changes wait ----
sa_stop_pid "${APID[3]}"
kill -STOP "$EPID"
start_host 3
sa_wait_for 15 eval "[ \"\$(get 3 $C.1.9.0)\" = 1 ]" || { kill -CONT "$EPID"; fail "host 3 not serving with etcd away"; }
[ "$(view 3)" = "$(view 1)" ] || { kill -CONT "$EPID"; fail "host 3 booted without etcd: $(view 3), others $(view 1)"; }
out=$(set_on 3 $OWN.6 i 3 $OWNER.6.2 i 6 2>&1) && { kill -CONT "$EPID"; fail "a change with etcd away was accepted"; }
kill -CONT "$EPID"
echo "$out" | grep -q inconsistentValue || fail "change with etcd away: $out"
sa_wait_for 5 in_step 1 2 3 || fail "host 3 after etcd came back: $(view 3)"

# ---- etcd stops while the hosts run: changes are refused until it is back, then everyone is in step ----
sa_stop_pid "$EPID"
refused() { set_on 1 $OWN.6 i 3 $OWNER.6.2 i 6 2>&1 | grep -q inconsistentValue; }
sa_wait_for 5 refused || fail "a change with etcd stopped was not refused: $(set_on 1 $OWN.6 i 3 $OWNER.6.2 i 6 2>&1)"
start_etcd
sa_wait_for 10 eval "set_on 1 $OWN.6 i 3 $OWNER.6.2 i 6 >/dev/null 2>&1" || fail "no change accepted after etcd came back"
sa_wait_for 5 in_step 1 2 3 || fail "after etcd came back: 1 $(view 1); 2 $(view 2); 3 $(view 3)"
etcd_crt | tr ' ' '\n' | grep -qx '6:3:1' || fail "116A2 not dedicated to 108 in etcd: $(etcd_crt)"
echo PASS
