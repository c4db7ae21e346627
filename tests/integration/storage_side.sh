#!/bin/bash
# storage_side.sh: the storage-side tables through snmpd against a real tgtd: targets, LUNs, portals created and
# destroyed with RowStatus (tgt changes, persisted portals re-applied), target-side sessions listed and ended.
. "$(dirname "$0")/lib.sh"
sa_init storage_side
sa_need libiscsi-bin iscsi-perf iscsi-ls

S=$SA_OID.3.1.1 # sanSessionObjects
NEXT=$S.11.0
POR=$S.12.1
TGT=$S.13.1
LUN=$S.14.1
SES=$S.15.1

sa_start_snmpd
sa_start_tgtd 2
# Target 2 gets a second, smaller LU.
truncate -s 32M "$SA_TMP/small.img"
sa_tgt_ctl --lld iscsi --op new --mode logicalunit --tid 2 --lun 2 -b "$SA_TMP/small.img" || sa_fail "tgtadm: no LUN 2"
sa_agent_conf "storage = { tgt_control = $SA_TGT_CONTROL; interval = 1; probe_initiator = \"$SA_IQN_PREFIX:storprobe\"; };"
sa_start_agent
sa_wait_agent

# ---- targets and LUNs ----------------------------------------------------------
name_is() { [ "$(sa_get "$TGT.2.$1")" = "\"$2\"" ]; }
sa_wait_for 10 name_is 2 "$SA_IQN_PREFIX:disk1" || sa_fail "sanStorTargetName.2 is not $SA_IQN_PREFIX:disk1"
name_is 1 "$SA_IQN_PREFIX:disk0" || sa_fail "sanStorTargetName.1: $(sa_get "$TGT.2.1")"
# tgt counts its controller LU 0 too.
[ "$(sa_get "$TGT.3.1")" = 2 ] || sa_fail "sanStorTargetLuns.1 = $(sa_get "$TGT.3.1"), want 2"
[ "$(sa_get "$TGT.3.2")" = 3 ] || sa_fail "sanStorTargetLuns.2 = $(sa_get "$TGT.3.2"), want 3"
[ "$(sa_get "$LUN.3.2.2")" = 32 ] || sa_fail "sanStorLunSize.2.2 = $(sa_get "$LUN.3.2.2") MiB, want 32"
[ "$(sa_get "$LUN.3.2.1")" = 64 ] || sa_fail "sanStorLunSize.2.1 = $(sa_get "$LUN.3.2.1") MiB, want 64"
[ "$(sa_get "$LUN.4.2.2")" = "\"$SA_TMP/small.img\"" ] || sa_fail "sanStorLunBackingStore.2.2: $(sa_get "$LUN.4.2.2")"
[ "$(sa_get "$LUN.2.1.1")" = '"disk"' ] || sa_fail "sanStorLunType.1.1: $(sa_get "$LUN.2.1.1")"
[ "$(sa_get "$LUN.2.1.0")" = '"controller"' ] || sa_fail "sanStorLunType.1.0: $(sa_get "$LUN.2.1.0")"
nluns=$(sa_walk "$LUN.2" | grep -c STRING)
[ "$nluns" = 5 ] || sa_fail "sanStorLunTable walk: $nluns LUN rows, want 5"
sa_log "targets and LUNs: OK ($nluns LUN rows)"

# ---- LUN identities: INQUIRY through the local portal as probe_initiator -----------
# Designator (VPD 0x83, tgt's 16-octet NAA), vendor, model, capacity of LUN 1 of target 2 in one GET.
has_identity() { sa_get "$LUN.6.2.1" | grep -q '^"\?[0-9A-F][0-9A-F] '; }
sa_wait_for 10 has_identity || sa_fail "sanStorLunDesignator.2.1 not read: '$(sa_get "$LUN.6.2.1")'"
ident=$(sa_get1 "$LUN.7.2.1" "$LUN.8.2.1" "$LUN.9.2.1" "$LUN.9.2.2" "$LUN.9.2.0" "$LUN.10.2.1")
[ "$ident" = "\"IET\" \"VIRTUAL-DISK\" $((64 << 20)) $((32 << 20)) 0 3" ] ||
	sa_fail "vendor, model, capacities of 2.1, 2.2, 2.0, identity status of 2.1 (read(3)): $ident"
d21=$(sa_get "$LUN.6.2.1")
d22=$(sa_get "$LUN.6.2.2")
[ "$(echo "$d21" | tr -d '"' | wc -w)" = 16 ] || sa_fail "sanStorLunDesignator.2.1: want 16 octets: $d21"
[ "$d21" != "$d22" ] || sa_fail "two LUs with one designator: $d21"
# A new SCSI ID is a new identity: read again.
sa_tgt_ctl --lld iscsi --op update --mode logicalunit --tid 2 --lun 1 --params scsi_id=5001405ab0c0ffee ||
	sa_fail "tgtadm: scsi_id of 2.1"
new_designator() { [ "$(sa_get "$LUN.6.2.1")" != "$d21" ] && has_identity; }
sa_wait_for 10 new_designator || sa_fail "sanStorLunDesignator.2.1 not read again after a new scsi_id: $(sa_get "$LUN.6.2.1")"
sa_get "$LUN.6.2.1" | grep -q '50 01 40 5A B0 C0 FF EE' || sa_fail "designator of scsi_id 5001405ab0c0ffee: $(sa_get "$LUN.6.2.1")"
# A LUN added with tgtadm gets its identity without a restart.
sa_tgt_ctl --lld iscsi --op new --mode logicalunit --tid 1 --lun 3 -b "$SA_TMP/small.img" || sa_fail "tgtadm: no LUN 1.3"
new_identity() { [ "$(sa_get "$LUN.9.1.3")" = $((32 << 20)) ]; }
sa_wait_for 10 new_identity || sa_fail "sanStorLunCapacity.1.3 of a new LUN: '$(sa_get "$LUN.9.1.3")'"
# A deleted LUN goes (its identity with it).
sa_tgt_ctl --lld iscsi --op delete --mode logicalunit --tid 1 --lun 3 || sa_fail "tgtadm: delete LUN 1.3"
sa_wait_for 10 sh -c "! snmpget -v2c -c $SA_RO_COMMUNITY -On 127.0.0.1:$SA_SNMP_PORT $LUN.2.1.3 | grep -q STRING" ||
	sa_fail "LUN 1.3 still listed"
sa_log "LUN identities: OK (2.1 $d21)"

# ---- portals ---------------------------------------------------------------------
portal_rows() { sa_walk "$POR.4" | grep -c ": $SA_ISCSI_PORT$"; }
two_portals() { [ "$(portal_rows)" = 2 ]; }
sa_wait_for 10 two_portals || sa_fail "portal table: want tgt's 2 portals: $(sa_walk "$POR")"
sa_walk "$POR.3" | grep -q '7F 00 00 02' || sa_fail "portal 127.0.0.2 missing: $(sa_walk "$POR.3")"
sa_walk "$POR.6" | grep -q 'INTEGER: 1' || sa_fail "tgt's own portals should have StorageType other(1)"

idx=$(sa_get "$NEXT")
[ -n "$idx" ] && [ "$idx" -ge 1 ] || sa_fail "sanStorPortalNextIndex: '$idx'"
P3=$(sa_free_port tcp)
# Bad SETs are refused with the right errors and change nothing.
out=$(sa_set "$POR.2.$idx" i 1 "$POR.3.$idx" x 7F0000 "$POR.4.$idx" u "$P3" "$POR.7.$idx" i 4 2>&1)
echo "$out" | grep -qi wrongLength || sa_fail "3-octet address: $out"
out=$(sa_set "$POR.2.$idx" i 1 "$POR.3.$idx" x 7F000002 "$POR.4.$idx" u "$SA_ISCSI_PORT" "$POR.7.$idx" i 4 2>&1)
echo "$out" | grep -qi inconsistentValue || sa_fail "duplicate portal: $out"
out=$(sa_set "$POR.2.$idx" i 1 "$POR.3.$idx" x 7F000003 "$POR.4.$idx" u 0 "$POR.7.$idx" i 4 2>&1)
echo "$out" | grep -qi wrongValue || sa_fail "port 0: $out"

sa_set "$POR.2.$idx" i 1 "$POR.3.$idx" x 7F000003 "$POR.4.$idx" u "$P3" "$POR.7.$idx" i 4 >/dev/null ||
	sa_fail "createAndGo of portal 127.0.0.3:$P3 refused"
tgt_lists() { sa_tgt_ctl --lld iscsi --op show --mode portal | grep -q "^Portal: $1:$2,"; }
sa_wait_for 10 tgt_lists 127.0.0.3 "$P3" || sa_fail "tgtadm does not list portal 127.0.0.3:$P3"
row_active() { [ "$(sa_get "$POR.7.$1")" = 1 ]; }
sa_wait_for 10 row_active "$idx" || sa_fail "portal row $idx not active: $(sa_get "$POR.7.$idx")"
[ "$(sa_get "$POR.6.$idx")" = 3 ] || sa_fail "new portal should be nonVolatile(3): $(sa_get "$POR.6.$idx")"
[ "$(sa_get "$POR.5.$idx")" = 1 ] || sa_fail "sanStorPortalTpgt.$idx: $(sa_get "$POR.5.$idx")"
sa_state_dump | grep -q "^stor.portal.$idx" || sa_fail "portal $idx not persisted"
iscsi-ls "iscsi://127.0.0.3:$P3" 2>&1 | grep -q "$SA_IQN_PREFIX:disk1" || sa_fail "iscsi-ls through 127.0.0.3:$P3"
sa_log "portal $idx 127.0.0.3:$P3 created through SNMP, iscsi-ls works through it"

# tgt keeps no config: a portal that vanishes from tgt is added again, also after an agent restart.
sa_stop_pid "$SA_AGENT_PID"
sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=127.0.0.3:$P3" || sa_fail "tgtadm delete portal"
sa_start_agent
sa_wait_agent
sa_wait_for 15 tgt_lists 127.0.0.3 "$P3" || sa_fail "persisted portal 127.0.0.3:$P3 not re-applied after restart"
sa_wait_for 10 row_active "$idx" || sa_fail "restored portal row $idx not active"
sa_log "persisted portal re-applied after an agent restart, same index $idx"

sa_set "$POR.7.$idx" i 6 >/dev/null || sa_fail "destroy of portal $idx refused"
tgt_lacks() { ! tgt_lists "$@"; }
sa_wait_for 10 tgt_lacks 127.0.0.3 "$P3" || sa_fail "tgtadm still lists 127.0.0.3:$P3 after destroy"
[ -z "$(sa_get "$POR.7.$idx")" ] || sa_fail "portal row $idx still there after destroy"
sa_state_dump | grep -q "^stor.portal.$idx" && sa_fail "portal $idx still persisted"
# The rounds that follow must not bring it back as one of tgt's own rows.
sleep_rounds() { local n=$(($(date +%s) + 2)); while [ "$(date +%s)" -lt $n ]; do sa_get "$NEXT" >/dev/null; done; }
sleep_rounds
sa_walk "$POR.4" | grep -q ": $P3$" && sa_fail "destroyed portal came back: $(sa_walk "$POR")"
sa_log "portal destroyed: gone from tgt and from the table"

# ---- target-side sessions ---------------------------------------------------------
INAME=iqn.2024-01.org.sanagent.test:storclient
sa_bg iscsi-perf -i "$INAME" -x 0 -m 8 "iscsi://127.0.0.1:$SA_ISCSI_PORT/$SA_IQN_PREFIX:disk0/1" >"$SA_TMP/perf.log" 2>&1
PERF=$SA_LASTPID
ses_row() { sa_walk "$SES.2.1" | grep "\"$INAME\"" | sed -n 's/^[.0-9]*\.2\.1\.\([0-9]*\) = .*/\1/p' | head -1; }
has_ses() { [ -n "$(ses_row)" ]; }
sa_wait_for 10 has_ses || sa_fail "no sanStorSessionTable row for $INAME: $(sa_walk "$SES.2")"
sid=$(ses_row)
sa_get "$SES.4.1.$sid" | grep -q '7F 00 00 01' || sa_fail "session address: $(sa_get "$SES.4.1.$sid")"
[ "$(sa_get "$SES.3.1.$sid")" = 1 ] || sa_fail "session address type: $(sa_get "$SES.3.1.$sid")"
[ "$(sa_get "$SES.5.1.$sid")" = "\"$SA_IQN_PREFIX:disk0\"" ] || sa_fail "session target: $(sa_get "$SES.5.1.$sid")"
[ "$(sa_get "$SES.10.1.$sid")" = 1 ] || sa_fail "session connections: $(sa_get "$SES.10.1.$sid")"
r1=$(sa_get "$SES.6.1.$sid")
grew() { local v; v=$(sa_get "$SES.6.1.$sid"); [ -n "$v" ] && [ "$v" -gt "$1" ]; }
sa_wait_for 10 grew "${r1:-0}" || sa_fail "sanStorSessionReadBytes did not grow from $r1"
r2=$(sa_get "$SES.6.1.$sid")
c2=$(sa_get "$SES.8.1.$sid")
[ "${c2:-0}" -gt 0 ] || sa_fail "sanStorSessionReadCommands: $c2"
t2=$(sa_get "$TGT.5.1")
[ "${t2:-0}" -ge "$r2" ] || sa_fail "sanStorTargetReadBytes.1 $t2 < session's $r2"
[ "$(sa_get "$TGT.4.1")" = 1 ] || sa_fail "sanStorTargetSessions.1: $(sa_get "$TGT.4.1")"
sa_log "session $sid of $INAME: read bytes $r1 -> $r2, $c2 commands; target read bytes $t2"

# Read-only columns and absent sessions refuse SETs.
out=$(sa_set "$SES.2.1.$sid" s x 2>&1)
echo "$out" | grep -qi notWritable || sa_fail "SET of the initiator name: $out"
out=$(sa_set "$SES.11.1.999999" i 2 2>&1)
echo "$out" | grep -qi noCreation || sa_fail "SET End of an absent session: $out"
out=$(sa_set "$SES.11.1.$sid" i 3 2>&1)
echo "$out" | grep -qi wrongValue || sa_fail "SET End 3: $out"

[ "$(sa_get "$SES.11.1.$sid")" = 1 ] || sa_fail "sanStorSessionEnd reads $(sa_get "$SES.11.1.$sid"), want none(1)"
sa_set "$SES.11.1.$sid" i 2 >/dev/null || sa_fail "SET sanStorSessionEnd.1.$sid = end(2) refused"
nexus_gone() { ! sa_tgt_ctl --op show --mode target | grep -q "I_T nexus: $sid$"; }
sa_wait_for 10 nexus_gone || sa_fail "tgtadm still shows I_T nexus $sid"
row_gone() { [ -z "$(sa_get "$SES.2.1.$sid")" ]; }
sa_wait_for 10 row_gone || sa_fail "session row 1.$sid still there"
# The initiator saw its connection dropped: libiscsi logs in again, as a new session (a new row).
new_ses() { local n; n=$(ses_row); [ -n "$n" ] && [ "$n" != "$sid" ]; }
sa_wait_for 20 new_ses || sa_fail "iscsi-perf did not log in again after its session was ended"
sa_log "iscsi-perf reconnected as session $(ses_row)"
t3=$(sa_get "$TGT.5.1")
[ "${t3:-0}" -ge "$t2" ] || sa_fail "sanStorTargetReadBytes.1 went back from $t2 to $t3 when the session ended"
sa_log "session ended through SNMP: gone from tgt, iscsi-perf saw it drop; target read bytes kept ($t2 -> $t3)"

echo "PASS: storage side"
exit 0
