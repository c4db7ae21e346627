#!/usr/bin/env bash
# cluster_snmp.sh: one host agent of the seed's Fig. 4 under a real snmpd.  Membership from the config; the CRT's
# controllers and devices from the state an earlier run left (the probes are another test's); the Fig. 4 ownership
# set with one snmpset as the v3 authPriv user; every rule broken once -> inconsistentValue and the table read back
# unchanged in one PDU; two managers racing on sanCluAllocLock: exactly one wins; restart and kill -9 keep the table.
. "$(dirname "$0")/lib.sh"
sa_init clusnmp
sa_start_snmptrapd
sa_start_snmpd

C=$SA_OID.3.5.1
VERSION=$C.1.1.0
WRITER=$C.1.2.0
LOCK=$C.1.3.0
GRAN=$C.1.4.0
OWN=$C.3.1.7    # sanCluResOwnership.ROW
OWNER=$C.4.1.2  # sanCluOwnerRowStatus.ROW.HOST
MEMBER=$C.2.1   # sanCluMemberEntry
N_CHANGED=.1.3.6.1.4.1.32473.1.3.5.0.3
I108=iqn.2026-01.org.sanagent:host108
I110=iqn.2026-01.org.sanagent:host110

# Rows as Fig. 4 numbers them: hosts 108 (1) and 110 (2), unit 112 (3) with controllers 114A (4: devices 116A1 5,
# 116A2 6) and 114B (7: device 116B1 8), unit 118 (9) with controller 120 (10: device 122A 11).  All unallocated,
# as a probe leaves new rows; version 3 written by 108.
row() { # INDEX TYPE GUID ADDRESS NUMBER PARENT OWNERSHIP OWNERS NAME
	printf 'cluster.res.%s\t1\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t3\t%s\t%s\t%s\t%s\t1\t1\n' "$1" "$2" "$3" "$4" "$5" "$6" \
		"$7" "$8" "$9" "$([ "$2" = 4 ] && echo IET)" "$([ "$2" = 4 ] && echo VIRTUAL-DISK)" "$([ "$2" = 4 ] && echo 1048576 || echo 0)"
}
mkdir -p "$SA_TMP/state"
{
	row 1 1 0000000000000108 udp:198.18.0.108:161 0 0 3 1 $I108
	row 2 1 0000000000000110 udp:198.18.0.110:161 0 0 3 2 $I110
	row 3 2 0000000000000112 udp:198.18.0.112:161 0 0 1 "" unit112
	row 4 3 6a1f000000000001 198.18.0.112:3260 1 3 1 "" iqn.2026-01.org.sanagent:unit112.114a
	row 5 4 600140500000000000000000000000a1 "" 1 4 1 "" ""
	row 6 4 600140500000000000000000000000a2 "" 2 4 1 "" ""
	row 7 3 6a1f000000000002 198.18.0.112:3260 2 3 1 "" iqn.2026-01.org.sanagent:unit112.114b
	row 8 4 600140500000000000000000000000b1 "" 1 7 1 "" ""
	row 9 2 0000000000000118 udp:198.18.0.118:161 0 0 1 "" unit118
	row 10 3 6a1f000000000003 198.18.0.118:3260 1 9 1 "" iqn.2026-01.org.sanagent:unit118.120
	row 11 4 600140500000000000000000000000c1 "" 1 10 1 "" ""
	printf 'cluster.version\t3 0000000000000108 2\n'
} | "$SA_BUILDDIR/tests/integration/state_writer" load "$SA_TMP/state/sanagent.state" || sa_fail "cannot seed the state"

sa_agent_conf "cluster = {
  role = \"host\";
  guid = \"0000000000000108\";
  initiator_name = \"$I108\";
  granularity = \"device\";
  poll_interval = 0;
  sync_interval = 0;
  members = (
    { type = \"host\"; guid = \"0000000000000108\"; address = \"udp:198.18.0.108:161\"; name = \"$I108\"; },
    { type = \"host\"; guid = \"0000000000000110\"; address = \"udp:198.18.0.110:161\"; name = \"$I110\"; },
    { type = \"unit\"; guid = \"0000000000000112\"; address = \"udp:198.18.0.112:161\"; name = \"unit112\"; },
    { type = \"unit\"; guid = \"0000000000000118\"; address = \"udp:198.18.0.118:161\"; name = \"unit118\"; }
  );
};"
sa_start_agent
sa_wait_agent
cluster_up() { [ "$(sa_get $C.1.9.0)" = 1 ]; }
sa_wait_for 10 cluster_up || sa_fail "cluster objects not served"

# ---- membership by config, the table as the state left it ----
members=$(sa_walk $MEMBER.2 | sed 's/.*INTEGER: //' | tr '\n' ' ')
[ "$members" = "1 1 2 2 " ] || sa_fail "member types: $members"
sa_walk $MEMBER.5 | grep -q "$I110" || sa_fail "member 110's name"
[ "$(sa_walk $C.3.1.3 | grep -c INTEGER)" = 11 ] || sa_fail "CRT rows: $(sa_walk $C.3.1.3)"
[ "$(sa_get $VERSION)" = 3 ] || sa_fail "version $(sa_get $VERSION), want 3 (membership matched the state's rows)"
[ "$(sa_get $GRAN)" = 2 ] || sa_fail "granularity $(sa_get $GRAN)"
sa_get $C.1.5.0 | grep -q "00 00 00 00 00 00 01 08" || sa_fail "sanCluSelfGuid reads $(sa_get $C.1.5.0)"
# A config member cannot be destroyed over SNMP.
sa_set_err inconsistentValue $MEMBER.6.1 i 6

# ---- the Fig. 4 ownership: one PDU, with the lock ----
lock=$(sa_get $LOCK)
[ "$lock" = 0 ] || sa_fail "lock starts at $lock"
sa_set $LOCK i "$lock" \
	$OWN.3 i 2 $OWNER.3.1 i 4 $OWNER.3.2 i 4 \
	$OWN.4 i 2 $OWNER.4.1 i 4 $OWNER.4.2 i 4 \
	$OWN.5 i 3 $OWNER.5.1 i 4 \
	$OWN.6 i 3 $OWNER.6.2 i 4 \
	$OWN.7 i 2 $OWNER.7.1 i 4 $OWNER.7.2 i 4 \
	$OWN.8 i 2 $OWNER.8.1 i 4 $OWNER.8.2 i 4 \
	$OWN.9 i 3 $OWNER.9.2 i 4 \
	$OWN.10 i 3 $OWNER.10.2 i 4 \
	$OWN.11 i 3 $OWNER.11.2 i 4 >/dev/null || sa_fail "the Fig. 4 SET was refused: $(sa_set $LOCK i 1 2>&1)"
# Everything that tells the ownership, in one PDU.
table() { sa_get1 $VERSION $LOCK $OWN.1 $OWN.2 $OWN.3 $OWN.4 $OWN.5 $OWN.6 $OWN.7 $OWN.8 $OWN.9 $OWN.10 $OWN.11; }
owners() { sa_walk $C.4.1.2 | sed "s/^$C.4.1.2.//; s/ = .*//" | tr '\n' ' '; }
fig4=$(table)
[ "$fig4" = "4 1 3 3 2 2 3 3 2 2 3 3 3" ] || sa_fail "after the Fig. 4 SET: $fig4"
fig4_owners=$(owners)
[ "$fig4_owners" = "1.1 2.2 3.1 3.2 4.1 4.2 5.1 6.2 7.1 7.2 8.1 8.2 9.2 10.2 11.2 " ] ||
	sa_fail "owner rows: $fig4_owners"
[ "$(sa_get $C.3.1.8.11)" = 4 ] || sa_fail "row version of 122A: $(sa_get $C.3.1.8.11)"
[ "$(sa_get $WRITER)" = "$(sa_get $C.1.5.0)" ] || sa_fail "writer $(sa_get $WRITER) is not this agent"
sa_wait_for 5 sa_trap_seen "$N_CHANGED" || sa_fail "no sanCluCrtChanged at snmptrapd"

# ---- every rule broken once: inconsistentValue, nothing changes ----
violate() { # WHAT VARBINDS...
	local what=$1
	shift
	sa_set_err inconsistentValue "$@"
	[ "$(table)" = "$fig4" ] || sa_fail "$what changed the table: $(table)"
	[ "$(owners)" = "$fig4_owners" ] || sa_fail "$what changed the owners: $(owners)"
	echo "refused: $what"
}
violate "114B shared by 108 alone while 116B1 is shared by both" $OWNER.7.2 i 6
violate "122A dedicated to 108 under 120 dedicated to 110" $OWNER.11.2 i 6 $OWNER.11.1 i 4
violate "122A shared under a dedicated parent" $OWN.11 i 2
violate "116B1 dedicated to 110 under 114B shared by 108 only" $OWNER.7.2 i 6 $OWN.8 i 3 $OWNER.8.1 i 6
violate "unit 118 unallocated over its dedicated controller" $OWN.9 i 1
violate "116B1 dedicated to two hosts" $OWN.8 i 3
violate "unit 112 as an owner" $OWNER.8.3 i 4
violate "host 108 given to 110" $OWNER.1.2 i 4
violate "a stale lock" $LOCK i 0 $OWN.5 i 2 $OWNER.5.2 i 4
sa_set_err wrongValue $OWNER.5.2 i 5
[ "$(table)" = "$fig4" ] || sa_fail "createAndWait changed the table"
[ "$(sa_get $C.6.12.0)" -ge 8 ] || sa_fail "consistency rejections: $(sa_get $C.6.12.0)"
[ "$(sa_get $C.6.11.0)" -ge 1 ] || sa_fail "lock rejections: $(sa_get $C.6.11.0)"

# ---- two managers, one lock value: exactly one wins ----
lock=$(sa_get $LOCK)
: >"$SA_TMP/race.log"
(sa_set $LOCK i "$lock" $OWN.5 i 2 $OWNER.5.2 i 4 >/dev/null 2>"$SA_TMP/race-a.err" && echo A >>"$SA_TMP/race.log") &
a=$!
(sa_set $LOCK i "$lock" $OWN.6 i 2 $OWNER.6.1 i 4 >/dev/null 2>"$SA_TMP/race-b.err" && echo B >>"$SA_TMP/race.log") &
b=$!
wait $a $b
winners=$(wc -l <"$SA_TMP/race.log")
[ "$winners" = 1 ] || sa_fail "$winners managers won the lock: $(cat "$SA_TMP/race.log")"
cat "$SA_TMP"/race-?.err | grep -q inconsistentValue || sa_fail "the loser did not get inconsistentValue: $(cat "$SA_TMP"/race-?.err)"
after=$(table)
read -r -a t <<<"$after"
set -- "${t[@]}"
[ "$1" = 5 ] && [ "$2" = $((lock + 1)) ] || sa_fail "after the race: version $1 lock $2 (want 5, $((lock + 1)))"
# 116A1 (row 5) shared when A won, 116A2 (row 6) when B did; the loser's change is nowhere.
if [ "$(cat "$SA_TMP/race.log")" = A ]; then want="3 3 2 2 2 3 2 2 3 3 3"; else want="3 3 2 2 3 2 2 2 3 3 3"; fi
[ "$(echo "$after" | cut -d' ' -f3-)" = "$want" ] || sa_fail "after the race ($(cat "$SA_TMP/race.log") won): $after"
echo "race: $(cat "$SA_TMP/race.log") won, $after"

# ---- restart, then kill -9 right after an acknowledged change: the table stays ----
# The lock is not part of the table (it starts at 0 with the agent): compare the rest.
crt() { table | cut -d' ' -f1,3-; }
before=$(crt)
before_owners=$(owners)
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent
sa_wait_for 10 cluster_up || sa_fail "cluster objects not served after the restart"
[ "$(crt)" = "$before" ] || sa_fail "restart: $(crt), was $before"
[ "$(owners)" = "$before_owners" ] || sa_fail "restart: owners $(owners), were $before_owners"
[ "$(sa_get $LOCK)" = 0 ] || echo "# the lock restarts at $(sa_get $LOCK)"
# 116B1 to 108 alone: acknowledged, then the agent is killed at once.
sa_set $OWN.8 i 3 $OWNER.8.2 i 6 >/dev/null || sa_fail "116B1 to 108 refused"
kill -9 "$SA_AGENT_PID"
wait "$SA_AGENT_PID" 2>/dev/null
sa_start_agent
sa_wait_agent
sa_wait_for 10 cluster_up || sa_fail "cluster objects not served after kill -9"
read -r -a t <<<"$(table)"
set -- "${t[@]}"
[ "$1" = 6 ] || sa_fail "after kill -9: version $1, want 6"
[ "${10}" = 3 ] || sa_fail "after kill -9: 116B1 ownership ${10}, want dedicated(3)"
owners | grep -q " 8.1 9.2 " || sa_fail "after kill -9: owners $(owners)"
owners | grep -q " 8.2 " && sa_fail "after kill -9: 110 still owns 116B1"
compgen -G "$SA_TMP/state/*corrupt*" >/dev/null && sa_fail "state file found corrupt"

# ---- a member over SNMP: createAndGo, a unit row in the CRT; persisted ----
next=$(sa_get $C.1.7.0)
[ "$next" = 5 ] || sa_fail "sanCluMemberNextIndex $next"
sa_set $MEMBER.2.5 i 2 $MEMBER.3.5 x 0000000000000119 $MEMBER.4.5 s udp:198.18.0.119:161 $MEMBER.5.5 s unit119 \
	$MEMBER.6.5 i 4 >/dev/null || sa_fail "member createAndGo refused"
sa_walk $C.3.1.9 | grep -q unit119 || sa_fail "no CRT row for unit 119"
[ "$(sa_get $C.3.1.3.12)" = 2 ] || sa_fail "row 12 is not a unit"
sa_set $MEMBER.6.5 i 6 >/dev/null || sa_fail "member destroy refused"
[ "$(sa_get $C.3.1.13.12)" = 2 ] || sa_fail "unit 119's row is not invalid after its member went"
# ---- granularity controller: devices follow their controller ----
v=$(sa_get $VERSION)
sa_set $GRAN i 1 >/dev/null || sa_fail "granularity controller refused"
[ "$(sa_get1 $GRAN $VERSION)" = "1 $((v + 1))" ] || sa_fail "granularity: $(sa_get1 $GRAN $VERSION)"
sa_set_err inconsistentValue $OWN.5 i 3 $OWNER.5.2 i 6 $OWNER.5.1 i 4
# 114A to 110 alone: 116A1 and 116A2 go with it, in the same version.
sa_set $OWN.4 i 3 $OWNER.4.1 i 6 >/dev/null || sa_fail "114A to 110 refused"
[ "$(sa_get1 $VERSION $OWN.4 $OWN.5 $OWN.6)" = "$((v + 2)) 3 3 3" ] ||
	sa_fail "devices did not follow 114A: $(sa_get1 $VERSION $OWN.4 $OWN.5 $OWN.6)"
owners | grep -q " 4.2 5.2 6.2 7.1 " || sa_fail "owners after 114A moved: $(owners)"
echo PASS
