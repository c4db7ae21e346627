# team_lib.bash: sourced by the team tests (after lib.sh and sa_init; not run by itself): the path manager's tables
# and the verified workload those tests run through a team's NBD export while they change it.

PM=$SA_OID.3.2    # the path manager's MIB
TEAM=$PM.1.2.1    # sanTeamEntry
PATHS=$PM.1.3.1   # sanPathEntry
col() { sa_get "$1"; }
is() { [ "$(col "$1")" = "$2" ]; }

# team_io_start SOCKET: verified I/O (rl_nbd_io.py, every block read back) on a team's NBD socket until
# team_io_stop; returns once it writes.
team_io_start() {
	STOP=$SA_TMP/io.stop
	python3 "$SA_SRCDIR/tests/integration/rl_nbd_io.py" "$1" --size $((32 << 20)) --bs 65536 \
		--read-every 1 --stop-file "$STOP" >"$SA_TMP/io.log" 2>&1 &
	IO_PID=$!
	SA_PIDS+=("$IO_PID")
	sa_wait_for 10 team_io_moving || sa_fail "the workload does not run: $(tail -3 "$SA_TMP/io.log")"
}
team_io_moving() { grep -q '^rlio .*writes=[1-9]' "$SA_TMP/io.log"; }
# team_io_stop: stops the workload; it must end well, with no I/O error and every byte read back intact.
team_io_stop() {
	local rc done_line
	touch "$STOP"
	wait "$IO_PID"
	rc=$?
	done_line=$(grep '^rlio done' "$SA_TMP/io.log")
	[ "$rc" = 0 ] || sa_fail "workload exit $rc: $done_line"
	case $done_line in *" errors=0 mismatches=0 "*) ;; *) sa_fail "workload: $done_line" ;; esac
	sa_log "workload: $done_line"
}
