#!/usr/bin/env bash
# cluster_probe.sh: the host's probe of a unit (seed Fig. 5 block 520) in the cluster lab (cluster_lab.bash): host
# 108 and unit 112 (a real tgtd with its storage agent).  The unit's targets and LUNs become controller and device
# rows, unallocated, with sanCluNewDevice at the manager's snmptrapd; the same LU exported through two targets (the
# same scsi_id, so the same VPD 0x83 NAA) is one device row with two paths; a LUN added with tgtadm appears within
# one poll interval of its designator being readable; a LUN removed is kept, invalid, with sanCluDeviceGone; a unit
# that does not answer counts probe failures, shows in the peer table and marks nothing gone.  A second host, 110,
# probes the unit too: the added LUN appears on both hosts as the same unallocated row, the removed one is invalid
# on both.  With CL_ETCD=1 (cluster_probe_etcd.sh) the same steps in etcd mode: the hosts' probes write the CRT to
# etcd by transaction and each host takes the other's finds from its watch.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/cluster_lab.bash
. "$(dirname "$0")/cluster_lab.bash"

sa_init cluster_probe${CL_ETCD:+_etcd}
POLL=3
CL_POLL_INTERVAL=$POLL
CL_HOSTS=(108 110) CL_UNITS=(112)
cl_up
CA=$CL_IQN:ca CB=$CL_IQN:cb
cl_target 112 1 "$CA" 1
cl_target 112 2 "$CB" 1
# LUN 2 of CB is CA's LUN 1 again (one LU, two targets): tgt builds its NAA from the scsi_id.
cl_tgt 112 --lld iscsi --op new --mode logicalunit --tid 2 --lun 2 -b "$SA_TMP/cl-112-1-1.img" ||
	sa_fail "cannot export CA's LU through CB"
for tl in 1:1 2:2; do
	cl_tgt 112 --lld iscsi --op update --mode logicalunit --tid "${tl%:*}" --lun "${tl#*:}" \
		--params scsi_id=5001405aa0c0ffee || sa_fail "scsi_id of $tl"
done
cl_tgt 112 --lld iscsi --op update --mode logicalunit --tid 2 --lun 1 --params scsi_id=5001405bb0d00d ||
	sa_fail "scsi_id of 2:1"
cl_agents_up

STOR_LUN=$SA_OID.3.1.1.14.1 # the unit's sanStorLunTable
# Column 14 paths, 13 valid, 12 size, 11 model, 10 vendor, 7 ownership, 2 guid (designator).
have_rows() {
	RCA=$(cl_row_by_name 108 "$CA") RCB=$(cl_row_by_name 108 "$CB")
	[ -n "$RCA" ] && [ -n "$RCB" ] && [ "$(cl_row_of 108 4 | wc -l)" -ge 2 ]
}
sa_wait_for $((POLL * 4)) have_rows || sa_fail "host 108's CRT lacks the unit's targets and LUNs: $(cl_walk 108 "$CL_RES.9")"
D1=$(cl_device_row 108 "$RCA" 1) D2=$(cl_device_row 108 "$RCB" 1)
[ -n "$D1" ] && [ -n "$D2" ] || sa_fail "device rows: CA/1 '$D1', CB/1 '$D2'"
[ "$(cl_row_of 108 4 | wc -l)" = 2 ] || sa_fail "want 2 device rows (CA/1 = CB/2 is one LU): $(cl_row_of 108 4 | tr '\n' ' ')"
[ -z "$(cl_device_row 108 "$RCB" 2)" ] || sa_fail "CB/2 has a row of its own: the same LU twice"
got=$(cl_get1 108 "$CL_RES.7.$D1" "$CL_RES.13.$D1" "$CL_RES.14.$D1" "$CL_RES.10.$D1" "$CL_RES.11.$D1" "$CL_RES.12.$D1")
[ "$got" = "1 1 2 \"IET\" \"VIRTUAL-DISK\" $((16 << 20))" ] ||
	sa_fail "device CA/1: ownership valid paths vendor model size = '$got', want unallocated, valid, 2 paths"
[ "$(cl_get 108 "$CL_RES.14.$D2")" = 1 ] || sa_fail "device CB/1: paths $(cl_get 108 "$CL_RES.14.$D2")"
# The device's GUID is the unit's designator of the LU, as its storage agent serves it.
g1=$(cl_get 108 "$CL_RES.2.$D1" | tr -d '" ')
d11=$(cl_get 112 "$STOR_LUN.6.1.1" | tr -d '" ')
[ -n "$d11" ] && [ "$g1" = "$d11" ] || sa_fail "device CA/1 GUID $g1, the unit's designator of 1/1 $d11"
case $g1 in *5001405AA0C0FFEE) ;; *) sa_fail "GUID $g1 is not the NAA of scsi_id 5001405aa0c0ffee" ;; esac
for r in "$RCA" "$RCB"; do [ "$(cl_get 108 "$CL_RES.7.$r")" = 1 ] || sa_fail "controller $r not unallocated"; done
new_traps() { [ "$(cl_trap_count "$CL_T_NEW")" -ge "$1" ]; }
sa_wait_for 5 new_traps 2 || sa_fail "sanCluNewDevice: $(cl_trap_count "$CL_T_NEW") at snmptrapd, want one per device"
sa_log "probe: controllers $RCA $RCB, devices $D1 (2 paths, GUID $g1) $D2, $(cl_trap_count "$CL_T_NEW") sanCluNewDevice"

# Probes that find nothing new change nothing: the version stays while two more probes run.
v0=$(cl_version 108)
p0=$(cl_get 108 "$CL_CTR.7.0")
two_probes() { [ "$(cl_get 108 "$CL_CTR.7.0")" -ge $((p0 + 2)) ]; }
sa_wait_for $((POLL * 3 + 2)) two_probes || sa_fail "sanCluProbes stays at $(cl_get 108 "$CL_CTR.7.0") (was $p0)"
[ "$(cl_version 108)" = "$v0" ] || sa_fail "version moved from $v0 to $(cl_version 108) with nothing changed on the unit"
settled() { cl_settled 108 && cl_settled 110 && [ "$(cl_version 110)" = "$v0" ]; }
sa_wait_for 5 settled || sa_fail "108 at $(cl_version 108), 110 at $(cl_version 110), etcd at $(cl_etcd_rev)"
sa_log "steady: version $v0 over two probes"

# ---- a LUN added with tgtadm: a new unallocated device row within one poll interval ----
ntrap=$(cl_trap_count "$CL_T_NEW")
truncate -s 16M "$SA_TMP/cl-112-1-3.img"
cl_tgt 112 --lld iscsi --op new --mode logicalunit --tid 1 --lun 3 -b "$SA_TMP/cl-112-1-3.img" || sa_fail "tgtadm: LUN 3"
readable() { cl_get 112 "$STOR_LUN.6.1.3" | grep -q '[0-9A-F][0-9A-F] '; }
sa_wait_for 10 readable || sa_fail "the unit never read LUN 1/3's designator"
t0=$(sa_now_ms)
new_row() { D3=$(cl_device_row 108 "$RCA" 3) && [ -n "$D3" ]; }
sa_wait_for $((POLL * 3)) new_row || sa_fail "LUN 1/3 never appeared on 108"
el=$(($(sa_now_ms) - t0))
[ "$el" -le $((POLL * 1000 + 1000)) ] || sa_fail "LUN 1/3 appeared $el ms after the unit served it: more than one poll interval ($POLL s)"
[ "$(cl_get1 108 "$CL_RES.7.$D3" "$CL_RES.13.$D3")" = "1 1" ] || sa_fail "new device $D3 not unallocated and valid"
# The same row on the other host: the same index, device GUID, unallocated and valid.
g3=$(cl_get 108 "$CL_RES.2.$D3")
on_110() { [ "$(cl_get1 110 "$CL_RES.2.$D3" "$CL_RES.6.$D3" "$CL_RES.7.$D3" "$CL_RES.13.$D3")" = "$g3 $RCA 1 1" ]; }
sa_wait_for 5 on_110 || sa_fail "110's row $D3: $(cl_get1 110 "$CL_RES.2.$D3" "$CL_RES.6.$D3" "$CL_RES.7.$D3" "$CL_RES.13.$D3"), 108's: $g3 $RCA 1 1"
sa_wait_for 5 new_traps $((ntrap + 1)) || sa_fail "no sanCluNewDevice for the new LUN"
grep -A8 -- "$CL_T_NEW" "$SA_TMP/cl-snmptrapd.log" | grep -q "\.$D3 = " ||
	sa_fail "no sanCluNewDevice names row $D3: $(grep -A8 -- "$CL_T_NEW" "$SA_TMP/cl-snmptrapd.log" | tail -12)"
sa_log "LUN added: row $D3 after $el ms (poll interval $POLL s), on 110 too, sanCluNewDevice"

# ---- the LUN removed: kept, invalid, sanCluDeviceGone ----
cl_tgt 112 --lld iscsi --op delete --mode logicalunit --tid 1 --lun 3 || sa_fail "tgtadm: delete LUN 3"
invalid() { [ "$(cl_get 108 "$CL_RES.13.$D3")" = 2 ] && [ "$(cl_get 110 "$CL_RES.13.$D3")" = 2 ]; }
sa_wait_for $((POLL * 3)) invalid || sa_fail "device $D3 still valid: on 108 $(cl_get 108 "$CL_RES.13.$D3"), on 110 $(cl_get 110 "$CL_RES.13.$D3")"
gone_trap() { cl_trap_seen "$CL_T_GONE"; }
sa_wait_for 5 gone_trap || sa_fail "no sanCluDeviceGone at snmptrapd"
[ "$(cl_get 108 "$CL_RES.13.$D1")" = 1 ] || sa_fail "device $D1 lost its validity with LUN 3"
sa_log "LUN removed: row $D3 kept, invalid on both hosts, sanCluDeviceGone"

# ---- a unit that does not answer: failures counted, peer unreachable, nothing marked gone ----
fails0=$(cl_get 108 "$CL_CTR.8.0")
cl_snmpd_stop 112
more_fails() { [ "$(cl_get 108 "$CL_CTR.8.0")" -ge $((fails0 + 2)) ]; }
sa_wait_for $((POLL * 4 + 6)) more_fails || sa_fail "sanCluProbeFailures $(cl_get 108 "$CL_CTR.8.0"), was $fails0"
U=$(cl_member_index 108 112)
[ "$(cl_peer 108 "$U" 1)" = 3 ] || sa_fail "peer row of unit 112: state $(cl_peer 108 "$U" 1), want unreachable(3)"
[ "$(cl_get1 108 "$CL_RES.13.$D1" "$CL_RES.13.$D2" "$CL_RES.13.$RCA")" = "1 1 1" ] ||
	sa_fail "a silent unit's rows were marked invalid"
cl_snmpd_start 112
cl_wait_agent 112
back() { [ "$(cl_peer 108 "$U" 1)" = 2 ]; }
sa_wait_for $((POLL * 3)) back || sa_fail "unit 112 answers again but its peer row says $(cl_peer 108 "$U" 1)"
sa_log "silent unit: $(cl_get 108 "$CL_CTR.8.0") probe failures, peer unreachable then reachable, rows kept valid"
echo "cluster_probe: OK ($(cl_mode) mode)"
