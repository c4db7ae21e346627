#!/usr/bin/env bash
# cluster_host.sh: ownership takes effect on a host.  One host agent (balance data plane) whose cluster section lists
# itself, a second host that never runs, and one unit: a second agent with the storage side of a real tgtd with two
# targets.  The host's probe builds the CRT from the unit's storage tables; ownership is set by SNMP.  A login row (or
# a sanTeamTable team) to the target dedicated to the other host is refused with inconsistentValue and counted; a
# login and a team to its own target log in.  That target moved to the other host: both sessions end after the grace
# period, not before, and sanCluOwnershipLost reaches snmptrapd; moved back, both log in again.  With granularity
# device, one LUN of the shared target dedicated to the other host: a login to it is refused, the other LUN's sessions
# stay.
set -u
. "$(dirname "$0")/lib.sh"
sa_init cluster_host
sa_need_plugin

CLU=$SA_OID.3.5.1
RES=$CLU.3.1
OWN=$CLU.4.1
CTR=$CLU.6
LOGIN=$SA_OID.3.1.1.8.1
LOST_TRAP=$SA_OID.3.5.0.6
GRACE=3
SELF_GUID=00000000000000a1
H2_GUID=00000000000000a2
UNIT_GUID=00000000000000b1
SELF_IQN=iqn.2024-01.org.sanagent.test:host1
H2_IQN=iqn.2024-01.org.sanagent.test:host2

sa_start_tgtd 2
P=$SA_ISCSI_PORT
# disk0 gets a second LU: ownership below target level (one LUN of a shared target) is the hosts' to enforce.
truncate -s 32M "$SA_TMP/lun2.img" || sa_fail "cannot create the LUN 2 file"
sa_tgt_ctl --lld iscsi --op new --mode logicalunit --tid 1 --lun 2 -b "$SA_TMP/lun2.img" || sa_fail "tgtadm: no LUN 2"
MINE=$SA_IQN_PREFIX:disk0   # stays this host's until it is moved
THEIRS=$SA_IQN_PREFIX:disk1 # dedicated to host2
: "${SA_SNMP_PORT:=$(sa_free_port udp)}"
H2_PORT=$(sa_free_port udp)

# The unit: its own snmpd and agent with the storage side of tgtd.
sa_ns_snmpd
sa_ns_agent_conf <<EOF
storage = { tgt_control = $SA_TGT_CONTROL; interval = 1; };
EOF
sa_ns_start_agent

sa_start_balance_agent "" "discovery = { login_initiator_name = \"$SELF_IQN\"; };
cluster = {
  role = \"host\";
  guid = \"$SELF_GUID\";
  initiator_name = \"$SELF_IQN\";
  granularity = \"controller\";
  poll_interval = 1;
  ownership_grace = $GRACE;
  peer_user = { name = \"$SA_V3_USER\"; auth_passphrase = \"$SA_V3_AUTH\"; priv_passphrase = \"$SA_V3_PRIV\"; };
  members = (
    { type = \"host\"; guid = \"$SELF_GUID\"; address = \"udp:127.0.0.1:$SA_SNMP_PORT\"; name = \"$SELF_IQN\"; },
    { type = \"host\"; guid = \"$H2_GUID\"; address = \"udp:127.0.0.1:$H2_PORT\"; name = \"$H2_IQN\"; },
    { type = \"unit\"; guid = \"$UNIT_GUID\"; address = \"udp:127.0.0.1:$NS_PORT\"; name = \"unit1\"; }
  );
};"

# row_of TYPE NAME: the CRT index of the row of that type and name ("" when none).
row_of() {
	local idx
	for idx in $(sa_walk "$RES.9" 2>/dev/null | awk -v n="\"$2\"" '$NF == n { sub(/.*\./, "", $1); print $1 }'); do
		[ "$(sa_get "$RES.3.$idx")" = "$1" ] && { echo "$idx"; return 0; }
	done
	return 1
}
has_row() { [ -n "$(row_of "$1" "$2")" ]; }
ctr() { sa_get "$CTR.$1.0"; }

# ---- the CRT: hosts and the unit from the membership, controllers and devices from the probe --------------------
sa_wait_for 20 has_row 3 "$THEIRS" || sa_fail "the probe did not add controller $THEIRS: $(sa_walk "$RES.9")"
sa_wait_for 5 has_row 3 "$MINE" || sa_fail "no controller row for $MINE"
SELF=$(row_of 1 "$SELF_IQN") || sa_fail "no host row for $SELF_IQN"
H2=$(row_of 1 "$H2_IQN") || sa_fail "no host row for $H2_IQN"
UNIT=$(row_of 2 unit1) || sa_fail "no unit row"
C_MINE=$(row_of 3 "$MINE")
C_THEIRS=$(row_of 3 "$THEIRS")
[ "$(sa_get "$RES.6.$C_MINE")" = "$UNIT" ] || sa_fail "controller $C_MINE's parent is $(sa_get "$RES.6.$C_MINE"), want $UNIT"
sa_log "CRT: hosts $SELF (self) and $H2, unit $UNIT, controllers $C_MINE ($MINE) and $C_THEIRS ($THEIRS)"

# A login to an unallocated target is refused as well: nobody owns it yet.
sa_set_err inconsistentValue "$LOGIN.2.9" s "$MINE" "$LOGIN.10.9" i 1 "$LOGIN.18.9" i 4

# ---- ownership by SNMP, one PDU: the unit shared by both hosts, one controller each --------------------------------
sa_set "$RES.7.$UNIT" i 2 "$OWN.2.$UNIT.$SELF" i 4 "$OWN.2.$UNIT.$H2" i 4 \
	"$RES.7.$C_MINE" i 3 "$OWN.2.$C_MINE.$SELF" i 4 \
	"$RES.7.$C_THEIRS" i 3 "$OWN.2.$C_THEIRS.$H2" i 4 >/dev/null || sa_fail "cannot set the ownership"
[ "$(sa_get "$RES.7.$C_THEIRS")" = 3 ] || sa_fail "controller $C_THEIRS not dedicated"
V0=$(sa_get "$CLU.1.1.0")
sa_log "ownership set: version $V0"

# ---- a login to the other host's target: inconsistentValue, nothing created, counted ------------------------------
REFUSED0=$(ctr 13)
sa_set_err inconsistentValue "$LOGIN.2.1" s "$THEIRS" "$LOGIN.3.1" i 1 "$LOGIN.4.1" x 7F000001 "$LOGIN.5.1" u "$P" \
	"$LOGIN.8.1" u 1 "$LOGIN.10.1" i 1 "$LOGIN.18.1" i 4
[ -z "$(sa_get "$LOGIN.2.1")" ] || sa_fail "the refused login row exists: $(sa_get "$LOGIN.2.1")"
REFUSED1=$(ctr 13)
[ "$REFUSED1" -gt "$REFUSED0" ] || sa_fail "sanCluLoginsRefused did not count the refusal ($REFUSED0 -> $REFUSED1)"
sa_log "login to $THEIRS refused (inconsistentValue), sanCluLoginsRefused $REFUSED0 -> $REFUSED1"
# A team to it through sanTeamTable is refused the same way.
TEAMT=$SA_OID.3.2.1.2.1
sa_set_err inconsistentValue "$TEAMT.17.50" i 4 "$TEAMT.2.50" s theirs "$TEAMT.3.50" s "$THEIRS" "$TEAMT.4.50" u 1 \
	"$TEAMT.14.50" s "127.0.0.1:$P"
[ -z "$(sa_get "$TEAMT.2.50")" ] || sa_fail "the refused team exists"
[ "$(ctr 13)" -gt "$REFUSED1" ] || sa_fail "the refused team was not counted"

# ---- a login to its own target logs in -------------------------------------------------------------------------
sa_set "$LOGIN.2.2" s "$MINE" "$LOGIN.3.2" i 1 "$LOGIN.4.2" x 7F000001 "$LOGIN.5.2" u "$P" \
	"$LOGIN.8.2" u 1 "$LOGIN.10.2" i 1 "$LOGIN.18.2" i 4 >/dev/null || sa_fail "cannot create the login to $MINE"
up() { [ "$(sa_get "$LOGIN.11.2")" = 1 ]; }
sa_wait_for 20 up || sa_fail "login to $MINE not up: result $(sa_get "$LOGIN.12.2")"
TEAM=$(sa_get "$LOGIN.15.2")
sa_log "login to $MINE up (team $TEAM)"
# A team of its own (sanTeamTable, no login row) to the same target, over the second portal.
sa_set "$TEAMT.17.60" i 4 "$TEAMT.2.60" s mine "$TEAMT.3.60" s "$MINE" "$TEAMT.4.60" u 1 \
	"$TEAMT.14.60" s "127.0.0.2:$P" >/dev/null || sa_fail "cannot create team 60 to $MINE"
PATHS=$SA_OID.3.2.1.3.1
path_active() { [ "$(sa_get "$PATHS.7.60.1")" = 4 ]; }
sa_wait_for 20 path_active || sa_fail "team 60's path not active: state $(sa_get "$PATHS.7.60.1")"

# ---- ownership moved to host2: the session ends after the grace period, sanCluOwnershipLost ---------------------
T0=$(sa_now_ms)
sa_set "$OWN.2.$C_MINE.$SELF" i 6 "$OWN.2.$C_MINE.$H2" i 4 >/dev/null || sa_fail "cannot move $MINE to host2"
[ "$(sa_get "$CLU.1.1.0")" -gt "$V0" ] || sa_fail "sanCluVersion did not move"
# Within the grace period the sessions are still there: watched until half a second before it ends.
while [ $(($(sa_now_ms) - T0)) -lt $((GRACE * 1000 - 500)) ]; do
	up || sa_fail "the session to $MINE ended within the grace period ($(sa_secs_since "$T0") s of $GRACE)"
	path_active || sa_fail "team 60's path ended within the grace period ($(sa_secs_since "$T0") s of $GRACE)"
	sleep 0.2
done
down() { [ "$(sa_get "$LOGIN.11.2")" = 2 ] && [ "$(sa_get "$LOGIN.15.2")" = 0 ]; }
sa_wait_for $((GRACE + 10)) down || sa_fail "the session to $MINE did not end: oper $(sa_get "$LOGIN.11.2"), team $(sa_get "$LOGIN.15.2")"
ENDED=$(sa_secs_since "$T0")
path_out() { ! path_active; }
sa_wait_for 10 path_out || sa_fail "team 60's path to $MINE still active after the grace period"
awk -v e="$ENDED" -v g="$GRACE" 'BEGIN { exit !(e >= g - 0.3) }' || sa_fail "the session ended after $ENDED s, before the grace period ($GRACE s)"
sa_wait_for 10 sa_trap_seen "$LOST_TRAP" || sa_fail "no sanCluOwnershipLost at snmptrapd"
grep -A3 -- "$LOST_TRAP" "$SA_TMP/snmptrapd.log" | grep -q "$RES.*\.$C_MINE\b\|$C_MINE" ||
	sa_log "note: sanCluOwnershipLost does not name row $C_MINE: $(grep -- "$LOST_TRAP" "$SA_TMP/snmptrapd.log" | head -1)"
[ "$(ctr 14)" -ge 1 ] || sa_fail "sanCluOwnershipLost counter $(ctr 14)"
# The row stays and says why it is down; it does not log in again while it is not ours.
[ "$(sa_get "$LOGIN.12.2")" = 6 ] || sa_fail "login result $(sa_get "$LOGIN.12.2"), want authFailure(6)"
sa_log "sessions to $MINE (login 2, team 60) ended after $ENDED s (grace $GRACE s), sanCluOwnershipLost at snmptrapd"

# ---- ownership back: the row logs in again -----------------------------------------------------------------------
sa_set "$OWN.2.$C_MINE.$H2" i 6 "$OWN.2.$C_MINE.$SELF" i 4 >/dev/null || sa_fail "cannot move $MINE back"
sa_wait_for 20 up || sa_fail "login to $MINE not up again once it is ours: result $(sa_get "$LOGIN.12.2")"
sa_wait_for 20 path_active || sa_fail "team 60's path not active again: state $(sa_get "$PATHS.7.60.1")"
sa_log "ownership back: login to $MINE and team 60 up again"

# ---- one LUN of a shared target dedicated to the other host (granularity device) ---------------------------------
# dev_of LUN: the device row of that LUN of disk0.
dev_of() {
	local idx
	for idx in $(sa_walk "$RES.6" 2>/dev/null | awk -v p="$C_MINE" '$NF == p { sub(/.*\./, "", $1); print $1 }'); do
		[ "$(sa_get "$RES.3.$idx")" = 4 ] && [ "$(sa_get "$RES.5.$idx")" = "$1" ] && { echo "$idx"; return 0; }
	done
	return 1
}
D1=$(dev_of 1) || sa_fail "no device row for LUN 1 of $MINE"
D2=$(dev_of 2) || sa_fail "no device row for LUN 2 of $MINE"
sa_set "$CLU.1.4.0" i 2 >/dev/null || sa_fail "cannot set sanCluGranularity device"
# One PDU: the target shared by both hosts, its LUN 1 stays this host's, its LUN 2 goes to host2.
sa_set "$RES.7.$C_MINE" i 2 "$OWN.2.$C_MINE.$H2" i 4 "$OWN.2.$D2.$SELF" i 6 "$OWN.2.$D2.$H2" i 4 >/dev/null ||
	sa_fail "cannot dedicate LUN 2 (row $D2) of $MINE to host2"
[ "$(sa_get "$RES.7.$D1")" = 3 ] || sa_fail "LUN 1 (row $D1) ownership $(sa_get "$RES.7.$D1"), want dedicated"
sa_set_err inconsistentValue "$LOGIN.2.3" s "$MINE" "$LOGIN.3.3" i 1 "$LOGIN.4.3" x 7F000001 "$LOGIN.5.3" u "$P" \
	"$LOGIN.8.3" u 2 "$LOGIN.10.3" i 1 "$LOGIN.18.3" i 4
LOST_BEFORE=$(ctr 14)
# Watched for a grace period and a second: LUN 1's sessions stay.
T1=$(sa_now_ms)
while [ $(($(sa_now_ms) - T1)) -lt $((GRACE * 1000 + 1000)) ]; do
	up && path_active || sa_fail "LUN 1's sessions ended though LUN 1 is still this host's"
	sleep 0.2
done
[ "$(ctr 14)" = "$LOST_BEFORE" ] || sa_fail "sanCluOwnershipLost counted for LUN 1 ($LOST_BEFORE -> $(ctr 14))"
sa_log "granularity device: LUN 2 (row $D2) of $MINE dedicated to host2, a login to it refused; LUN 1 (row $D1) stays up"
exit 0
