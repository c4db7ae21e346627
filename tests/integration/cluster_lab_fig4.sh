#!/usr/bin/env bash
# cluster_lab_fig4.sh: the seed's Fig. 4 built for real in the cluster lab (cluster_lab.bash): hosts 108 and 110;
# unit 112 (a tgtd) with controllers 114A (devices 116A1, 116A2) and 114B (116B1); unit 118 with 120 (122A).  The
# controllers and devices are the units' targets and LUNs, found by the hosts' probe of the units' storage agents.
# Ownership is set by one SNMP SET on host 108's agent, as in the figure: 112 and its controllers shared by both
# hosts, 116A1 dedicated to 108, 116A2 to 110, 116B1 shared, 118 with everything under it dedicated to 110.  Host 110
# gets it by the push and pull of the sync: both CRTs (rows and owners) are identical, 110's version is 108's, and
# the devices host 108 may use are 116A1 and 116B1 and nothing else: its agent refuses a login to 122A (and to
# 116A2) with inconsistentValue; iscsi-ls from 108's initiator name is refused
# 120 by unit 118's tgtd (the unit applies the CRT as target ACLs), from 110's it is admitted.
# With CL_ETCD=1 (cluster_lab_fig4_etcd.sh) the same steps in etcd mode: 108's SET is an etcd transaction, 110 and
# the units take the table from their watch, and the version both hold is etcd's revision of the CRT.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lab.bash"

sa_init cluster_lab_fig4${CL_ETCD:+_etcd}
sa_need libiscsi-bin iscsi-ls
CL_HOSTS=(108 110) CL_UNITS=(112 118)
CL_LOGINS=1
cl_up
C114A=$CL_IQN:c114a C114B=$CL_IQN:c114b C120=$CL_IQN:c120
cl_target 112 1 "$C114A" 1 2
cl_target 112 2 "$C114B" 1
cl_target 118 1 "$C120" 1
cl_agents_up

# The probe: every controller and device in 108's table.
have_rows() {
	local c
	for c in "$C114A" "$C114B" "$C120"; do [ -n "$(cl_row_by_name 108 "$c")" ] || return 1; done
	[ "$(cl_row_of 108 4 | wc -l)" -ge 4 ]
}
sa_wait_for 20 have_rows || sa_fail "host 108's CRT lacks the units' targets and LUNs: $(cl_walk 108 "$CL_RES.9")"
H108=$(cl_row_by_name 108 "$(cl_iqn 108)") H110=$(cl_row_by_name 108 "$(cl_iqn 110)")
U112=$(cl_unit_row 108 112) U118=$(cl_unit_row 108 118)
R114A=$(cl_row_by_name 108 "$C114A") R114B=$(cl_row_by_name 108 "$C114B") R120=$(cl_row_by_name 108 "$C120")
D116A1=$(cl_device_row 108 "$R114A" 1) D116A2=$(cl_device_row 108 "$R114A" 2)
D116B1=$(cl_device_row 108 "$R114B" 1) D122A=$(cl_device_row 108 "$R120" 1)
for v in H108 H110 U112 U118 R114A R114B R120 D116A1 D116A2 D116B1 D122A; do
	[ -n "${!v}" ] || sa_fail "row $v not found in host 108's CRT"
done
sa_log "rows on 108: hosts $H108 $H110, unit 112 $U112 (114A $R114A: $D116A1 $D116A2; 114B $R114B: $D116B1), unit 118 $U118 (120 $R120: $D122A)"

# Fig. 4 in one SET on 108 (granularity device: every row its own ownership).
mapfile -t args < <(
	cl_own_args "$U112" 2 "$H108" "$H110"
	cl_own_args "$R114A" 2 "$H108" "$H110"
	cl_own_args "$D116A1" 3 "$H108"
	cl_own_args "$D116A2" 3 "$H110"
	cl_own_args "$R114B" 2 "$H108" "$H110"
	cl_own_args "$D116B1" 2 "$H108" "$H110"
	cl_own_args "$U118" 3 "$H110"
	cl_own_args "$R120" 3 "$H110"
	cl_own_args "$D122A" 3 "$H110"
)
cl_set 108 "${args[@]}" >/dev/null || sa_fail "the Fig. 4 SET on 108 failed: $(cl_set 108 "${args[@]}" 2>&1)"
sa_wait_for 5 cl_settled 108 || sa_fail "108's change not in etcd: 108 at $(cl_version 108), etcd at $(cl_etcd_rev)"
v108=$(cl_version 108)
sa_log "Fig. 4 set on 108 ($(cl_mode) mode): version $v108"

same_version() { [ "$(cl_version 110)" = "$v108" ]; }
sa_wait_for 5 same_version || sa_fail "110 has version $(cl_version 110), 108 has $v108"
cl_same_crt 108 110 || {
	diff <(cl_crt 108) <(cl_crt 110) >&2
	sa_fail "the CRTs of 108 and 110 differ"
}
sa_log "110 holds 108's table: version $v108, rows and owners identical"

# What the figure says, read on 110.
want() {
	local row=$1 own=$2 owners=$3 got
	got="$(cl_get 110 "$CL_RES.7.$row") $(cl_owners 110 "$row")"
	[ "$got" = "$own $owners" ] || sa_fail "row $row on 110: ownership/owners '$got', want '$own $owners'"
}
want "$U112" 2 "$H108 $H110"
want "$R114A" 2 "$H108 $H110"
want "$D116A1" 3 "$H108"
want "$D116A2" 3 "$H110"
want "$R114B" 2 "$H108 $H110"
want "$D116B1" 2 "$H108 $H110"
want "$U118" 3 "$H110"
want "$R120" 3 "$H110"
want "$D122A" 3 "$H110"

# The devices host 108 may use: those whose owners include 108.
mine=""
for d in $(cl_row_of 110 4); do
	case " $(cl_owners 110 "$d") " in *" $H108 "*) mine="$mine $d" ;; esac
done
[ "$mine" = " $D116A1 $D116B1" ] || [ "$mine" = " $D116B1 $D116A1" ] ||
	sa_fail "108 may use devices$mine, want 116A1 ($D116A1) and 116B1 ($D116B1) only"
sa_log "108 may use 116A1 and 116B1 and nothing else; 110 holds the same table"

# 108's agent says so at login time: a login to 122A (120 LUN 1) or to 116A2 (114A LUN 2, a LUN of a target it
# shares, dedicated to 110) is refused with inconsistentValue and counted in sanCluLoginsRefused.
refused0=$(cl_get 108 "$CL_CTR.13.0")
cl_login_err 108 1 118 "$C120" 1
cl_login_err 108 2 112 "$C114A" 2
[ "$(cl_get 108 "$CL_CTR.13.0")" -ge $((refused0 + 2)) ] ||
	sa_fail "sanCluLoginsRefused on 108: $refused0 -> $(cl_get 108 "$CL_CTR.13.0"), want 2 more"
sa_log "108's agent refuses logins to 122A and 116A2 (inconsistentValue), sanCluLoginsRefused $(cl_get 108 "$CL_CTR.13.0")"

# And tgt says the same (unit 118 applies the CRT it got from the hosts as target ACLs): 108's initiator name is
# refused 120, 110's is admitted.
targets_of() {
	cl_in "$(cl_ns "$1")" iscsi-ls -i "$(cl_iqn "$1")" "iscsi://$(cl_addr "$2"):3260" 2>/dev/null |
		sed -n 's/^Target:\([^ ]*\).*/\1/p' | sort | tr '\n' ' '
}
acl_applied() { [ "$(targets_of 110 118)" = "$C120 " ] && [ "$(targets_of 108 118)" = "" ]; }
sa_wait_for 10 acl_applied || sa_fail "iscsi-ls at unit 118: 108 sees '$(targets_of 108 118)', 110 sees '$(targets_of 110 118)'"
sa_log "iscsi-ls as 108 at unit 118: 120 refused by tgt; as 110: '$(targets_of 110 118)'"
echo "PASS: cluster_lab_fig4 ($(cl_mode) mode)"
