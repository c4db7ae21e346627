#!/usr/bin/env bash
# cluster_lab_kill.sh: kill -9 of a host during a push, in the cluster lab (cluster_lab.bash), three hosts.  h1
# gets an ownership SET and is killed -9 right after it answered, at a different moment each round (0 to 250 ms: its
# informs in flight, or h2 and h3 in the middle of pulling from it).  Then, with h1 dead, each of h2 and h3 holds a
# whole table: the one before the change or the one after it, rows and owners exactly (a pull cut short by the
# death is not adopted: the walk's closing version check fails), never a mix.  h1 restarts from its state file
# (committed atomically before the SET answered: it holds its change) and all three converge on one table.
# With CL_ETCD=1 (cluster_lab_kill_etcd.sh) the same in etcd mode, h1 being the etcd-connected writer: the kill
# comes while its transaction is on its way or out, plus two rounds that pin the moment: "paused", etcd stopped
# (SIGSTOP) from before the SET until after the kill, so the transaction is out and unanswered; "frozen", h1
# stopped after the SET while etcd resumes and commits, then killed, so etcd has the change and h1 never read the
# answer.  Survivors hold etcd's table at its revision, the old or the whole new; h1 restarts, writes its change to
# etcd if etcd does not have it (its state file says the change was made on an older revision), and all converge.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lab.bash"

sa_init cluster_lab_kill${CL_ETCD:+_etcd}
CL_HOSTS=(h1 h2 h3) CL_UNITS=(u)
CL_SYNC_INTERVAL=2
cl_one_target_up 1 2 3 4
mapfile -t args < <(cl_own_args "$U" 2 "$H1" "$H2" "$H3"; cl_own_args "$C" 2 "$H1" "$H2" "$H3"
	for d in "${D[@]}"; do cl_own_args "$d" 3 "$H1"; done)
cl_set h1 "${args[@]}" >/dev/null || sa_fail "first allocation refused: $(cl_set h1 "${args[@]}" 2>&1)"
sa_wait_for 5 cl_converged h1 h2 h3 || sa_fail "not all on h1's version"

owner=$H1
kept=0 took=0
rounds=(0 0.01 0.03 0.06 0.1 0.15 0.25)
if cl_etcd; then rounds+=(paused frozen); fi
for delay in "${rounds[@]}"; do
	sa_wait_for 5 cl_converged h1 h2 h3 || sa_fail "not converged before the round"
	old=$(cl_crt h1) || sa_fail "no consistent copy of h1's table"
	# All four devices move to the next host in one SET: a change of many rows, so a torn copy would show.
	case $owner in "$H1") next=$H2 ;; "$H2") next=$H3 ;; *) next=$H1 ;; esac
	mapfile -t args < <(for d in "${D[@]}"; do cl_own_args "$d" 3 "$next"; cl_unown_args "$d" "$owner"; done)
	case $delay in paused | frozen) when=$delay rev0=$(cl_etcd_rev) && cl_etcd_pause ;; *) when="after ${delay}s" ;; esac
	cl_set h1 "${args[@]}" >/dev/null || sa_fail "h1: devices to $next refused: $(cl_set h1 "${args[@]}" 2>&1)"
	case $delay in
	paused) sa_wait_for 5 cl_etcd_unread h1 || sa_fail "h1's transaction never reached the paused etcd" ;;
	frozen)
		sa_wait_for 5 cl_etcd_unread h1 || sa_fail "h1's transaction never reached the paused etcd"
		kill -STOP "$(cl_agent_pid h1)"
		cl_etcd_resume
		committed() { [ "$(cl_etcd_rev)" -gt "$rev0" ]; }
		sa_wait_for 5 committed || sa_fail "etcd did not commit h1's transaction once resumed"
		;;
	*) [ "$delay" = 0 ] || sleep "$delay" ;; # the moment of the kill, not a wait
	esac
	cl_agent_kill h1
	[ "$delay" != paused ] || cl_etcd_resume
	owner=$next
	# With h1 dead nothing changes any more: each survivor's table is settled once two reads agree.
	for m in h2 h3; do
		a=$(cl_crt "$m") || sa_fail "$m: no consistent copy"
		settled() { b=$(cl_crt "$1") && [ "$b" = "$a" ] || { a=$b; return 1; }; }
		sa_wait_for 5 settled "$m" || sa_fail "$m's table keeps changing with h1 dead"
		sa_wait_for 5 cl_settled "$m" || sa_fail "$m at $(cl_version "$m"), etcd's CRT at revision $(cl_etcd_rev)"
		if [ "$a" = "$old" ]; then
			sa_log "kill $when: $m kept the table before the change"
			kept=$((kept + 1))
		else
			# the new table: every device owned by $next only, and nothing else differs from the old one
			for d in "${D[@]}"; do
				[ "$(cl_owners "$m" "$d")" = "$next" ] || sa_fail "kill $when: $m holds a torn table: device $d owned by $(cl_owners "$m" "$d"), version $(cl_version "$m")"
			done
			sa_log "kill $when: $m took the whole new table ($(cl_version "$m"))"
			took=$((took + 1))
		fi
	done
	cl_agent_start h1
	cl_wait_agent h1
	sa_wait_for 8 cl_converged h1 h2 h3 || sa_fail "after h1's restart: h1 $(cl_version h1), h2 $(cl_version h2), h3 $(cl_version h3)"
	cl_same_crt h1 h2 h3 || sa_fail "tables differ after h1's restart"
	for d in "${D[@]}"; do
		[ "$(cl_owners h2 "$d")" = "$next" ] || sa_fail "after the restart device $d is owned by $(cl_owners h2 "$d"), want $next: h1's change was lost"
	done
done
# How many pulls the kills cut short (their walk's version check failed, nothing adopted): evidence, not a condition.
if cl_etcd; then
	# What h1 found on restart: its change in etcd already, or put there by h1 after the restart.
	resent=$(grep -c "re-applied\|still to write" "$SA_TMP/cl-h1-sanagentd.log")
	sa_log "${#rounds[@]} kills of the etcd writer: survivors kept the old table $kept times, took the whole new one $took times; h1 put its change to etcd after $resent restarts; no torn table; h1's change kept, all three converged"
else
	cut=$(cat "$SA_TMP/cl-h2-sanagentd.log" "$SA_TMP/cl-h3-sanagentd.log" | grep -c -e "moved during the walk" -e "pull from member .* given up")
	sa_log "7 kills during a push: survivors kept the old table $kept times, took the whole new one $took times, $cut pulls cut short and not adopted; no torn table; h1 restarted each time, its change kept, all three converged"
fi
echo "PASS: cluster_lab_kill ($(cl_mode) mode)"
