#!/usr/bin/env bash
# cluster_acl.sh: ownership takes effect in the unit's tgt (cluster_lab.bash: hosts 108 and 110, unit 112 with
# targets CA and CB, enforce_acl).  An unallocated target admits only the unit's own probe name; a target dedicated
# to 108 by an snmpset on 108 admits 108 and refuses 110, checked with iscsi-ls and iscsi-inq from each host's
# namespace as its initiator name; ownership moved to 110 by another snmpset: the bindings follow; shared: both.
# tgt's ACL is the target's (no per-initiator LUN masking): below target level the hosts enforce ownership.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/cluster_lab.bash
. "$(dirname "$0")/cluster_lab.bash"
sa_need libiscsi-bin iscsi-ls iscsi-inq

sa_init cluster_acl
CL_POLL_INTERVAL=2
CL_HOSTS=(108 110) CL_UNITS=(112)
cl_up
CA=$CL_IQN:ca CB=$CL_IQN:cb
cl_target 112 1 "$CA" 1
cl_target 112 2 "$CB" 1
cl_agents_up
PORTAL=$(cl_addr 112):3260

# The rules tgt holds for a target (one a line, sorted).
acl_of() {
	cl_tgt 112 --op show --mode target | awk -v tid="$1" '
		/^Target [0-9]+:/ { t = $2; sub(":", "", t); on = 0 }
		t == tid && /ACL information:/ { on = 1; next }
		t == tid && on && NF { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//'
}
acl_is() { [ "$(acl_of "$1")" = "$2" ]; }
# Whether host H's initiator name gets into target IQN: iscsi-ls sees it (with its LUN) and iscsi-inq logs in.
admitted() {
	local h=$1 iqn=$2
	cl_in "$(cl_ns "$h")" iscsi-ls -i "$(cl_iqn "$h")" -s "iscsi://$PORTAL" 2>/dev/null | grep -q "^Target:$iqn " &&
		cl_in "$(cl_ns "$h")" iscsi-inq -i "$(cl_iqn "$h")" "iscsi://$PORTAL/$iqn/1" >/dev/null 2>&1
}
refused() {
	local h=$1 iqn=$2
	! cl_in "$(cl_ns "$h")" iscsi-ls -i "$(cl_iqn "$h")" -s "iscsi://$PORTAL" 2>/dev/null | grep -q "^Target:$iqn " &&
		! cl_in "$(cl_ns "$h")" iscsi-inq -i "$(cl_iqn "$h")" "iscsi://$PORTAL/$iqn/1" >/dev/null 2>&1
}

# ---- unallocated: the unit's own probe only (ALL is gone) ----
sa_wait_for 10 acl_is 1 "$CL_PROBE_IQN" || sa_fail "target CA's ACL: '$(acl_of 1)', want only $CL_PROBE_IQN"
acl_is 2 "$CL_PROBE_IQN" || sa_fail "target CB's ACL: '$(acl_of 2)'"
refused 108 "$CA" || sa_fail "108 gets into unallocated CA"
refused 110 "$CA" || sa_fail "110 gets into unallocated CA"
sa_log "unallocated: tgt admits only $CL_PROBE_IQN; iscsi-ls and iscsi-inq of 108 and 110 refused"

# ---- CA dedicated to 108 on 108's agent; the unit gets the table by the sync and binds 108 ----
have_rows() { RCA=$(cl_row_by_name 108 "$CA") && [ -n "$RCA" ] && H108=$(cl_row_by_name 108 "$(cl_iqn 108)") &&
	[ -n "$H108" ] && H110=$(cl_row_by_name 108 "$(cl_iqn 110)") && [ -n "$H110" ]; }
sa_wait_for 15 have_rows || sa_fail "108's CRT lacks CA or the host rows: $(cl_walk 108 "$CL_RES.9")"
# The unit is shared by both hosts (a child's owners are among its parent's), CA dedicated to 108, in one SET.
U112=$(cl_unit_row 108 112)
[ -n "$U112" ] || sa_fail "no row for unit 112 on 108"
mapfile -t args < <(cl_own_args "$U112" 2 "$H108" "$H110"; cl_own_args "$RCA" 3 "$H108")
cl_set 108 "${args[@]}" >/dev/null || sa_fail "dedicating CA to 108: $(cl_set 108 "${args[@]}" 2>&1)"
t0=$(sa_now_ms)
want108=$(printf '%s\n' "$(cl_iqn 108)" "$CL_PROBE_IQN" | sort | tr '\n' ' ' | sed 's/ $//')
sa_wait_for 10 acl_is 1 "$want108" || sa_fail "CA's ACL after the SET: '$(acl_of 1)', want '$want108'"
el=$(($(sa_now_ms) - t0))
acl_is 2 "$CL_PROBE_IQN" || sa_fail "CB's ACL changed with CA's ownership: '$(acl_of 2)'"
admitted 108 "$CA" || sa_fail "108 owns CA but tgt refuses it"
refused 110 "$CA" || sa_fail "110 does not own CA but tgt admits it"
refused 108 "$CB" || sa_fail "108 gets into unallocated CB"
sa_log "CA dedicated to 108: bound after $el ms; 108 admitted (iscsi-ls, iscsi-inq), 110 refused"

# ---- ownership moved to 110: the bindings follow ----
mapfile -t args < <(cl_own_args "$RCA" 3 "$H110"; cl_unown_args "$RCA" "$H108")
cl_set 108 "${args[@]}" >/dev/null || sa_fail "moving CA to 110: $(cl_set 108 "${args[@]}" 2>&1)"
want110=$(printf '%s\n' "$(cl_iqn 110)" "$CL_PROBE_IQN" | sort | tr '\n' ' ' | sed 's/ $//')
sa_wait_for 10 acl_is 1 "$want110" || sa_fail "CA's ACL after the move: '$(acl_of 1)', want '$want110'"
admitted 110 "$CA" || sa_fail "110 owns CA now but tgt refuses it"
refused 108 "$CA" || sa_fail "108 lost CA but tgt still admits it"
sa_log "CA moved to 110: 110 admitted, 108 refused"

# ---- shared by both ----
mapfile -t args < <(cl_own_args "$RCA" 2 "$H108")
cl_set 108 "${args[@]}" >/dev/null || sa_fail "sharing CA: $(cl_set 108 "${args[@]}" 2>&1)"
wantboth=$(printf '%s\n' "$(cl_iqn 108)" "$(cl_iqn 110)" "$CL_PROBE_IQN" | sort | tr '\n' ' ' | sed 's/ $//')
sa_wait_for 10 acl_is 1 "$wantboth" || sa_fail "CA's ACL when shared: '$(acl_of 1)', want '$wantboth'"
admitted 108 "$CA" && admitted 110 "$CA" || sa_fail "CA shared, but a host is refused"
sa_log "CA shared: both admitted"

# ---- tgt forgets (an administrator's bind ALL): the unit takes it back on its next round ----
cl_tgt 112 --lld iscsi --op bind --mode target --tid 2 -I ALL || sa_fail "tgtadm bind ALL"
sa_wait_for 10 acl_is 2 "$CL_PROBE_IQN" || sa_fail "CB's ALL not taken back: '$(acl_of 2)'"
sa_log "a stray ALL on CB undone"
echo "cluster_acl: OK"
