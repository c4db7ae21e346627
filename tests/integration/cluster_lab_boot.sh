#!/usr/bin/env bash
# cluster_lab_boot.sh: boot-time sync of the CRT between three hosts (seed Fig. 5, blocks 505-515) in the cluster
# lab (cluster_lab.bash), one unit with one target of two LUNs.  No periodic re-check (sync_interval 0): only the
# boot round and the pushes move tables.
#  1. h3 is stopped; h1 and h2 each change ownership (two versions on); h3 restarts with its stale state file and
#     holds the newest table, identical to h1's, within 2 s of its start (measured).
#  2. A host with a newer table pushes it: h2 and h3 stopped, h1 changes (its informs go nowhere), h1 stopped; h2 and
#     h3 start (h1 silent: they keep what they have); h1 starts: its boot round finds them older and tells them, they
#     pull: all three on h1's version, each of h2 and h3 having received a push.
#  3. An inform sanCluCrtChanged from a v3 user the receiver knows but that is not in sync_users is dropped.
# With CL_ETCD=1 (cluster_lab_boot_etcd.sh) in etcd mode: 1 the same (h3 adopts etcd's table within 2 s of its
# start); 2 becomes its etcd counterpart: h1's change with h2 and h3 stopped is in etcd, so h2 and h3 start with
# h1 still stopped and hold it at once (the database has the table, not a peer), and h1 joins them at its start;
# 3 does not apply (no peer sync).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lab.bash"

sa_init cluster_lab_boot${CL_ETCD:+_etcd}
CL_HOSTS=(h1 h2 h3) CL_UNITS=(u)
CL_SYNC_INTERVAL=0
cl_one_target_up 1 2
D1=${D[0]} D2=${D[1]}
# The starting point: the unit and its target shared by all, D1 dedicated to h1, D2 to h2.
mapfile -t args < <(cl_own_args "$U" 2 "$H1" "$H2" "$H3"; cl_own_args "$C" 2 "$H1" "$H2" "$H3"
	cl_own_args "$D1" 3 "$H1"; cl_own_args "$D2" 3 "$H2")
cl_set h1 "${args[@]}" >/dev/null || sa_fail "first allocation on h1 refused: $(cl_set h1 "${args[@]}" 2>&1)"
sa_wait_for 5 cl_converged h1 h2 h3 || sa_fail "versions after the first allocation: h1 $(cl_version h1), h2 $(cl_version h2), h3 $(cl_version h3)"
sa_wait_for 5 cl_settled h1 || sa_fail "h1 at $(cl_version h1), etcd at $(cl_etcd_rev)"
sa_wait_for 5 cl_converged h1 h2 h3 || sa_fail "versions at etcd's revision: h1 $(cl_version h1), h2 $(cl_version h2), h3 $(cl_version h3)"
sa_log "all three on $(cl_version h1)"

# ---- 1. a stopped host adopts the newest at its restart ----------------------------------------------------
cl_agent_stop h3
stale=$(cl_version h1)
mapfile -t args < <(cl_own_args "$D1" 3 "$H2"; cl_unown_args "$D1" "$H1")
cl_set h1 "${args[@]}" >/dev/null || sa_fail "h1: D1 to h2 refused: $(cl_set h1 "${args[@]}" 2>&1)"
sa_wait_for 5 cl_settled h1 || sa_fail "h1 at $(cl_version h1), etcd at $(cl_etcd_rev)"
sa_wait_for 5 cl_converged h1 h2 || sa_fail "h2 did not follow h1's change"
mapfile -t args < <(cl_own_args "$D2" 3 "$H1"; cl_unown_args "$D2" "$H2")
cl_set h2 "${args[@]}" >/dev/null || sa_fail "h2: D2 to h1 refused: $(cl_set h2 "${args[@]}" 2>&1)"
sa_wait_for 5 cl_settled h2 || sa_fail "h2 at $(cl_version h2), etcd at $(cl_etcd_rev)"
sa_wait_for 5 cl_converged h2 h1 || sa_fail "h1 did not follow h2's change"
newest=$(cl_version h1)
[ "$newest" != "$stale" ] || sa_fail "no change made while h3 was down"
sa_log "h3 down at $stale; h1 and h2 changed ownership twice: now $newest"

t0=$(sa_now_ms)
cl_agent_start h3
at_newest() { [ "$(cl_version h3)" = "$newest" ]; }
sa_wait_for 10 at_newest || sa_fail "h3 restarted with $(cl_version h3), want $newest: $(tail -n 5 "$SA_TMP/cl-h3-sanagentd.log")"
took=$(sa_secs_since "$t0")
sa_log "h3 restarted with its stale state and holds $newest after ${took} s (from its start)"
[ "${took%%.*}" -lt 2 ] || sa_fail "h3 took ${took} s to adopt the newest table, want < 2 s"
cl_same_crt h1 h3 || sa_fail "h3's CRT differs from h1's: $(diff <(cl_crt h1) <(cl_crt h3))"
[ "$(cl_owners h3 "$D1") $(cl_owners h3 "$D2")" = "$H2 $H1" ] || sa_fail "h3: D1 owned by $(cl_owners h3 "$D1"), D2 by $(cl_owners h3 "$D2")"

# ---- 2. a host with a newer table pushes it at its start ---------------------------------------------------
pushes() { cl_get "$1" "$CL_CTR.4.0"; }
cl_agent_stop h2
cl_agent_stop h3
mapfile -t args < <(cl_own_args "$D1" 3 "$H3"; cl_unown_args "$D1" "$H2")
cl_set h1 "${args[@]}" >/dev/null || sa_fail "h1: D1 to h3 refused: $(cl_set h1 "${args[@]}" 2>&1)"
sa_wait_for 5 cl_settled h1 || sa_fail "h1 at $(cl_version h1), etcd at $(cl_etcd_rev)"
pushed=$(cl_version h1)
cl_agent_stop h1
cl_agent_start h2
cl_agent_start h3
cl_wait_agent h2
cl_wait_agent h3
if cl_etcd; then
	# etcd has h1's change: h2 and h3 take it from there, h1 stopped.
	at_pushed() { [ "$(cl_version h2)" = "$pushed" ] && [ "$(cl_version h3)" = "$pushed" ]; }
	sa_wait_for 5 at_pushed || sa_fail "with h1 stopped: h2 $(cl_version h2), h3 $(cl_version h3), want h1's $pushed from etcd"
	[ "$(cl_owners h2 "$D1") $(cl_owners h3 "$D1")" = "$H3 $H3" ] || sa_fail "D1 owned by $(cl_owners h2 "$D1") on h2, $(cl_owners h3 "$D1") on h3, want h3"
	cl_agent_start h1
	cl_wait_agent h1
	sa_wait_for 5 cl_converged h1 h2 h3 || sa_fail "after h1's start: h1 $(cl_version h1), h2 $(cl_version h2), h3 $(cl_version h3)"
	cl_same_crt h1 h2 h3 || sa_fail "CRTs differ after h1's start"
	sa_log "h1's change made with h2 and h3 stopped: they started with h1 stopped and took $pushed from etcd; h1 joined them"
	echo "PASS: cluster_lab_boot (etcd mode)"
	exit 0
fi
sa_wait_for 5 cl_converged h2 h3 || sa_fail "h2 and h3 disagree before h1 is back"
[ "$(cl_version h2)" = "$newest" ] || sa_fail "h2 has $(cl_version h2) with h1 stopped, want $newest"
p2=$(pushes h2) p3=$(pushes h3)
cl_agent_start h1
cl_wait_agent h1
sa_wait_for 5 cl_converged h1 h2 h3 || sa_fail "after h1's start: h1 $(cl_version h1), h2 $(cl_version h2), h3 $(cl_version h3)"
[ "$(cl_version h2)" = "$pushed" ] || sa_fail "h2 converged on $(cl_version h2), want h1's $pushed"
[ "$(pushes h2)" -gt "$p2" ] && [ "$(pushes h3)" -gt "$p3" ] ||
	sa_fail "pushes received: h2 $p2 -> $(pushes h2), h3 $p3 -> $(pushes h3): h1 did not push"
cl_same_crt h1 h2 h3 || sa_fail "CRTs differ after h1's push"
sa_log "h1 came back with $pushed, newer than h2's and h3's: it pushed, they pulled"

# ---- 3. a push from a user that is not a sync user is dropped ----------------------------------------------
# The receiver knows $CL_ROGUE_USER (the inform is acknowledged), the cluster does not take it from them.
cl_in "$CL_MG" snmpinform -v3 -l authPriv -u "$CL_ROGUE_USER" -a SHA -A "$CL_ROGUE_AUTH" -x AES -X "$CL_ROGUE_PRIV" \
	-t 2 -r 1 "$(cl_addr h2):$CL_RX_PORT" 0 "$CL_T_CHANGED" "$CL_VERSION.0" u 999 "$CL_WRITER.0" x "$(cl_guid h1)" \
	>/dev/null 2>&1 || sa_fail "h2's trap receiver did not acknowledge the rogue inform"
sa_wait_for 3 grep -q "sanCluCrtChanged from $CL_ROGUE_USER@.* dropped: not a sync user" "$SA_TMP/cl-h2-sanagentd.log" ||
	sa_fail "h2 did not drop the rogue push"
[ "$(cl_version h2)" = "$pushed" ] || sa_fail "h2 moved to $(cl_version h2) after the rogue push"
sa_log "a push as $CL_ROGUE_USER (not a sync user) dropped and counted; h2 stays on $pushed"
echo "PASS: cluster_lab_boot (embedded mode)"
