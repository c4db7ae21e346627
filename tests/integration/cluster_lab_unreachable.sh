#!/usr/bin/env bash
# cluster_lab_unreachable.sh: a peer that does not answer (seed Fig. 5, block 530) in the cluster lab
# (cluster_lab.bash): h3's link to the switch goes down (its processes keep running).  h1 changes ownership: h2
# follows at once, h3's inform times out: h1 shows h3 unreachable in sanCluPeerTable (failures, last error, the
# version it last had) and sends sanCluPeerUnreachable once, however often h3 fails.  A second change still reaches
# h2.  When h3's link comes back, its periodic re-check pulls the newest table and h1 sees it reachable again.
# With CL_ETCD=1 (cluster_lab_unreachable_etcd.sh) the same cut in etcd mode, etcd staying reachable for the
# others: there is no peer sync, so no peer row nor notification (etcd is the fabric database, not the hosts);
# h1's two changes are etcd transactions that h2 takes from its watch, h3 keeps the table it had; h3's agent notices
# its watch is dead (TCP keepalive), and when the link comes back it reads etcd again and holds the newest table.
# Then etcd itself is cut off (its link down, no FIN): a SET on h1 before h1 can know is acknowledged; once h1's
# watch has ended a SET is refused with inconsistentValue; when etcd is back the acknowledged change is in etcd
# and on every host, the refused one nowhere.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lab.bash"

sa_init cluster_lab_unreachable${CL_ETCD:+_etcd}
CL_HOSTS=(h1 h2 h3) CL_UNITS=(u)
CL_SYNC_INTERVAL=2
cl_one_target_up 1 2
D1=${D[0]} D2=${D[1]}
mapfile -t args < <(cl_own_args "$U" 2 "$H1" "$H2" "$H3"; cl_own_args "$C" 2 "$H1" "$H2" "$H3"
	cl_own_args "$D1" 3 "$H1"; cl_own_args "$D2" 3 "$H2")
cl_set h1 "${args[@]}" >/dev/null || sa_fail "first allocation refused: $(cl_set h1 "${args[@]}" 2>&1)"
sa_wait_for 5 cl_converged h1 h2 h3 || sa_fail "not all on h1's version"
sa_wait_for 5 cl_settled h1 || sa_fail "h1 at $(cl_version h1), etcd at $(cl_etcd_rev)"
before=$(cl_version h3)
M3=$(cl_member_index h1 h3)
[ -n "$M3" ] || sa_fail "h3 not in h1's sanCluMemberTable"
if ! cl_etcd; then
	# h1 learns h3's version from its periodic re-check (a push's acknowledgement does not say what the peer holds).
	seen() { [ "$(cl_peer h1 "$M3" 1) $(cl_peer h1 "$M3" 3)" = "2 ${before%% *}" ]; }
	sa_wait_for 5 seen || sa_fail "h1 sees h3 in state/version $(cl_peer h1 "$M3" 1)/$(cl_peer h1 "$M3" 3), want 2/${before%% *}"
	unreach0=$(cl_trap_count_from h1 "$CL_T_UNREACH")
fi
old3=$(cl_crt h3) || sa_fail "no consistent copy of h3's table"

cl_link h3 down
mapfile -t args < <(cl_own_args "$D1" 3 "$H2"; cl_unown_args "$D1" "$H1")
cl_set h1 "${args[@]}" >/dev/null || sa_fail "h1: D1 to h2 refused: $(cl_set h1 "${args[@]}" 2>&1)"
sa_wait_for 3 cl_converged h1 h2 || sa_fail "h2 did not follow with h3 down"
sa_wait_for 5 cl_settled h2 || sa_fail "h2 at $(cl_version h2), etcd at $(cl_etcd_rev)"
sa_log "h3 cut off; h1's change reached h2: $(cl_version h1)"
if cl_etcd; then
	# Nothing for h1 to report (it does not talk to h3); a second change still reaches h2.
	mapfile -t args < <(cl_own_args "$D2" 3 "$H1"; cl_unown_args "$D2" "$H2")
	cl_set h1 "${args[@]}" >/dev/null || sa_fail "h1: D2 to h1 refused: $(cl_set h1 "${args[@]}" 2>&1)"
	sa_wait_for 3 cl_converged h1 h2 || sa_fail "h2 did not follow the second change with h3 down"
	sa_wait_for 5 cl_settled h2 || sa_fail "h2 at $(cl_version h2), etcd at $(cl_etcd_rev)"
	sa_log "second change with h3 cut off: h1 and h2 at etcd's revision $(cl_etcd_rev)"
	# h3's watch is dead, its agent says so (a host cut off from etcd knows it is not in step).
	dead() { grep -q "watch ended" "$SA_TMP/cl-h3-sanagentd.log"; }
	sa_wait_for 10 dead || sa_fail "h3's agent did not notice its etcd watch is gone"
	sa_log "h3's agent: $(grep "watch ended" "$SA_TMP/cl-h3-sanagentd.log" | tail -n 1 | cut -c1-120)"
	cl_link h3 up
	t0=$(sa_now_ms)
	sa_wait_for 8 cl_converged h1 h2 h3 || sa_fail "h3 did not catch up: h1 $(cl_version h1), h3 $(cl_version h3)"
	el=$(($(sa_now_ms) - t0))
	cl_same_crt h1 h3 || sa_fail "h3's table differs from h1's"
	[ "$(cl_crt h3)" != "$old3" ] || sa_fail "h3 still holds the table from before the cut"
	for d in "$D1:$H2" "$D2:$H1"; do
		[ "$(cl_owners h3 "${d%:*}")" = "${d#*:}" ] || sa_fail "h3: device ${d%:*} owned by $(cl_owners h3 "${d%:*}"), want ${d#*:}"
	done
	sa_log "h3 back: at etcd's revision $(cl_version h3) ${el} ms after its link came up, both changes in"

	# ---- etcd cut off from everybody ----
	ended0=$(grep -c "watch ended" "$SA_TMP/cl-h1-sanagentd.log")
	cl_link etcd down
	mapfile -t args < <(cl_own_args "$D1" 3 "$H1"; cl_unown_args "$D1" "$H2")
	cl_set h1 "${args[@]}" >/dev/null || sa_fail "h1: D1 back to h1 refused right after etcd's cut: $(cl_set h1 "${args[@]}" 2>&1)"
	ended() { [ "$(grep -c "watch ended" "$SA_TMP/cl-h1-sanagentd.log")" -gt "$ended0" ]; }
	sa_wait_for 10 ended || sa_fail "h1's agent did not notice etcd is gone"
	mapfile -t args < <(cl_own_args "$D2" 3 "$H2"; cl_unown_args "$D2" "$H1")
	cl_set_err inconsistentValue h1 "${args[@]}"
	sa_log "etcd cut off: h1 acknowledged D1 before it knew, refused D2 once its watch ended"
	cl_link etcd up
	back() { cl_settled h1 && cl_converged h1 h2 h3 && [ "$(cl_owners h2 "$D1")" = "$H1" ]; }
	sa_wait_for 10 back || sa_fail "after etcd came back: h1 $(cl_version h1), h2 $(cl_version h2), h3 $(cl_version h3), etcd $(cl_etcd_rev); D1 on h2 owned by $(cl_owners h2 "$D1")"
	cl_same_crt h1 h2 h3 || sa_fail "tables differ after etcd came back"
	[ "$(cl_owners h3 "$D1") $(cl_owners h3 "$D2")" = "$H1 $H1" ] ||
		sa_fail "h3: D1 owned by $(cl_owners h3 "$D1") (want the acknowledged $H1), D2 by $(cl_owners h3 "$D2") (want $H1, the refused change not made)"
	sa_log "etcd back: the acknowledged change on every host at revision $(cl_version h1), the refused one nowhere"
	echo "PASS: cluster_lab_unreachable (etcd mode)"
	exit 0
fi
unreachable() { [ "$(cl_peer h1 "$M3" 1)" = 3 ]; }
sa_wait_for 5 unreachable || sa_fail "h1 sees h3 in state $(cl_peer h1 "$M3" 1), want unreachable(3)"
reported() { [ "$(cl_trap_count_from h1 "$CL_T_UNREACH")" -gt "$unreach0" ]; }
sa_wait_for 5 reported || sa_fail "no sanCluPeerUnreachable from h1 at snmptrapd"
[ "$(cl_peer h1 "$M3" 5)" -ge 1 ] || sa_fail "h3's failures on h1: $(cl_peer h1 "$M3" 5)"
[ "$(cl_peer h1 "$M3" 3)" = "${before%% *}" ] || sa_fail "h1 shows h3 at version $(cl_peer h1 "$M3" 3), want ${before%% *} (the last it had)"
sa_log "h1: h3 unreachable, failures $(cl_peer h1 "$M3" 5), last error $(cl_peer h1 "$M3" 6), last version $(cl_peer h1 "$M3" 3)"

# More failures (a second change, re-checks) do not repeat the notification; h2 still follows.
mapfile -t args < <(cl_own_args "$D2" 3 "$H1"; cl_unown_args "$D2" "$H2")
cl_set h1 "${args[@]}" >/dev/null || sa_fail "h1: D2 to h1 refused: $(cl_set h1 "${args[@]}" 2>&1)"
sa_wait_for 3 cl_converged h1 h2 || sa_fail "h2 did not follow the second change with h3 down"
n=$(cl_trap_count_from h1 "$CL_T_UNREACH") f=$(cl_peer h1 "$M3" 5)
# Two more failures (the push of that change, the next re-checks), then no second notification.
failed_more() { [ "$(cl_peer h1 "$M3" 5)" -ge $((f + 2)) ]; }
sa_wait_for 8 failed_more || sa_fail "h3's failures on h1 did not grow: $f -> $(cl_peer h1 "$M3" 5)"
[ "$(cl_trap_count_from h1 "$CL_T_UNREACH")" = "$n" ] || sa_fail "h1 repeated sanCluPeerUnreachable while h3 stayed down"

cl_link h3 up
sa_wait_for 8 cl_converged h1 h2 h3 || sa_fail "h3 did not catch up: h1 $(cl_version h1), h3 $(cl_version h3)"
cl_same_crt h1 h3 || sa_fail "h3's table differs from h1's"
reach() { [ "$(cl_peer h1 "$M3" 1)" = 2 ]; }
sa_wait_for 5 reach || sa_fail "h1 still sees h3 in state $(cl_peer h1 "$M3" 1)"
sa_log "h3 back: on $(cl_version h3), reachable again on h1"
echo "PASS: cluster_lab_unreachable (embedded mode)"
