#!/usr/bin/env bash
# cluster_lab_conflict.sh: the seed's "one allocation application at a time" across hosts: two hosts change the
# same base version at once.  h1 and h2 of the cluster lab (cluster_lab.bash) are cut from each other (a blackhole
# route each way; the manager still reaches both), each gets an ownership SET on the same base, then the cut is
# healed and the periodic re-check (sync_interval 2 s) brings them together.  The model's rule picks the winner
# (higher counter, then writer GUID: h2's); the loser reports sanCluConflict (at the manager's snmptrapd and in its
# sanCluConflictTable) and its change is re-applied on top of the winner, so both end on one version, identical
# tables, and both changes are in it: nothing is lost.
# With CL_ETCD=1 (cluster_lab_conflict_etcd.sh) in etcd mode: the hosts do not talk to each other, etcd is paused
# (SIGSTOP) while both SETs land so both transactions carry the same base; etcd takes one, the other fails its
# revision compare, and its writer re-applies its change on etcd's table (the rows it changed are as it found
# them): one revision, identical tables, both changes in it.  There is no conflict to report (nothing was refused).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lab.bash"

sa_init cluster_lab_conflict${CL_ETCD:+_etcd}
CL_HOSTS=(h1 h2) CL_UNITS=(u)
CL_SYNC_INTERVAL=2
cl_one_target_up 1 2
D1=${D[0]} D2=${D[1]}
converged() { local v; v=$(cl_version h1) && [ "$(cl_version h2)" = "$v" ]; }

mapfile -t args < <(cl_own_args "$U" 2 "$H1" "$H2"; cl_own_args "$C" 2 "$H1" "$H2"
	cl_own_args "$D1" 3 "$H1"; cl_own_args "$D2" 3 "$H2")
cl_set h1 "${args[@]}" >/dev/null || sa_fail "first allocation refused: $(cl_set h1 "${args[@]}" 2>&1)"
sa_wait_for 5 cl_settled h1 || sa_fail "h1 at $(cl_version h1), etcd at $(cl_etcd_rev)"
sa_wait_for 5 converged || sa_fail "h2 did not follow: h1 $(cl_version h1), h2 $(cl_version h2)"
base=$(cl_version h1)
conflicts0=$(cl_trap_count_from h1 "$CL_T_CONFLICT")
sa_log "base $base: D1 dedicated to h1, D2 to h2"

# The cut: neither reaches the other, the manager reaches both.  In etcd mode: etcd holds both transactions unread.
cut() {
	if cl_etcd; then
		if [ "$1" = add ]; then cl_etcd_pause; return; fi
		sa_wait_for 5 eval "cl_etcd_unread h1 && cl_etcd_unread h2" || sa_fail "both transactions did not reach etcd"
		cl_etcd_resume
		return
	fi
	cl_in "$(cl_ns h1)" ip route "$1" blackhole "$(cl_addr h2)/32" &&
		cl_in "$(cl_ns h2)" ip route "$1" blackhole "$(cl_addr h1)/32" || sa_fail "ip route $1 blackhole failed"
}
cut add
# Each shares its own device with the other, both on the same base.
mapfile -t a1 < <(cl_own_args "$D1" 2 "$H2")
mapfile -t a2 < <(cl_own_args "$D2" 2 "$H1")
cl_set h1 "${a1[@]}" >/dev/null || sa_fail "h1's change refused: $(cl_set h1 "${a1[@]}" 2>&1)"
cl_set h2 "${a2[@]}" >/dev/null || sa_fail "h2's change refused: $(cl_set h2 "${a2[@]}" 2>&1)"
v1=$(cl_version h1) v2=$(cl_version h2)
[ "${v1%% *}" = "${v2%% *}" ] && [ "$v1" != "$v2" ] || sa_fail "not a concurrent change: h1 $v1, h2 $v2 (base $base)"
sa_log "concurrent changes on base $base: h1 $v1, h2 $v2"
cut del

sa_wait_for 10 converged || sa_fail "no convergence: h1 $(cl_version h1), h2 $(cl_version h2)"
sa_wait_for 5 cl_settled h1 || sa_fail "h1 at $(cl_version h1), etcd at $(cl_etcd_rev)"
sa_wait_for 5 converged || sa_fail "no convergence at etcd's revision: h1 $(cl_version h1), h2 $(cl_version h2)"
sa_wait_for 5 cl_same_crt h1 h2 || sa_fail "tables differ: $(diff <(cl_crt h1) <(cl_crt h2))"
final=$(cl_version h1)
sa_log "converged on $final"
# Nothing lost: both changes are in the table.
for d in "$D1" "$D2"; do
	got="$(cl_get h2 "$CL_RES.7.$d") $(cl_owners h2 "$d")"
	[ "$got" = "2 $H1 $H2" ] || sa_fail "row $d: '$got', want shared by $H1 $H2: a change was lost"
done
if cl_etcd; then
	reapplied=$(grep -l "local change re-applied on etcd's revision" "$SA_TMP/cl-h1-sanagentd.log" "$SA_TMP/cl-h2-sanagentd.log")
	[ -n "$reapplied" ] || sa_fail "neither host re-applied its change on etcd's table"
	sa_log "etcd took one transaction, the other writer ($(echo "$reapplied" | sed 's/.*cl-\(h[12]\)-.*/\1/' | tr '\n' ' ')) re-applied its change: both in $final"
	echo "PASS: cluster_lab_conflict (etcd mode)"
	exit 0
fi
# Reported: sanCluConflict at the manager, and a row in the loser's (h1's) conflict table naming its version.
reported() { [ "$(cl_trap_count_from h1 "$CL_T_CONFLICT")" -gt "$conflicts0" ]; }
sa_wait_for 5 reported || sa_fail "no sanCluConflict from h1 at snmptrapd"
lost=$(cl_walk h1 "$CL_CONFLICT.3" | sed -n 's/.* = Gauge32: //p' | tail -n 1)
[ "$lost" = "${v1%% *}" ] || sa_fail "h1's sanCluConflictTable: lost version '$lost', want ${v1%% *}: $(cl_walk h1 "$CL_CONFLICT")"
sa_log "the loser (h1, $v1) reported sanCluConflict and re-applied its change: both changes in $final"
echo "PASS: cluster_lab_conflict (embedded mode)"
