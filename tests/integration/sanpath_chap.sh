#!/bin/bash
# sanpath_chap.sh: CHAP and mutual CHAP logins of the data plane against tgt accounts (sanpath and the nbdkit
# plug-in), login results of refused logins (0x0201), session details in the segment, and a path logged out and
# back in through the shm control block while I/O runs on the other path.
. "$(dirname "$0")/lib.sh"
sa_init sanpath-chap
SANPATH=$SA_BUILDDIR/sanpath
PLUGIN=$SA_BUILDDIR/.libs/nbdkit-sanpath-plugin.so
sa_built "$SANPATH" sanpath
sa_need nbdkit nbdkit
sa_need libnbd-bin nbdcopy nbdinfo
sa_built "$PLUGIN" "nbdkit-sanpath-plugin (needs nbdkit-plugin-dev)"
sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
PATHS=(--portal "127.0.0.1:$P" --portal "127.0.0.2:$P")
USER=chap-user
SECRET=chap-secret-0123
TUSER=chap-target
TSECRET=target-secret-4567

# field FILE PATH KEY: KEY=value of the "path N:" summary line.
field() { sed -n "s/^path $2: .* $3=\([^ ]*\).*/\1/p" "$1"; }
run() {
	local out=$1
	shift
	timeout 60 "$SANPATH" run --target "$IQN" --lun 1 "${PATHS[@]}" --login-timeout 2000 --settle-ms 4000 "$@" \
		>"$SA_TMP/$out.out" 2>"$SA_TMP/$out.log"
}
# chapfile NAME LINES...: a credentials file, 0600.
chapfile() {
	local f=$SA_TMP/$1.chap
	shift
	(umask 077 && printf '%s\n' "$@" >"$f")
	echo "$f"
}

# The account guards target 1: from now on a login without CHAP is refused.
sa_tgt_ctl --lld iscsi --mode account --op new --user "$USER" --password "$SECRET" || sa_fail "cannot create account"
sa_tgt_ctl --lld iscsi --mode account --op bind --tid 1 --user "$USER" || sa_fail "cannot bind the account"

# ---- refused logins: the result and the target's status per path ------------------------------------------------
run nochap --time 1 && sa_fail "a login without CHAP was accepted"
grep -q 'path 1 .*login=authenticationFailure(6) status=0x0201' "$SA_TMP/nochap.log" ||
	sa_fail "no CHAP: $(cat "$SA_TMP/nochap.log")"
sa_log "no CHAP: $(grep -m1 'sanpath: path 1 ' "$SA_TMP/nochap.log")"
WRONG=$(chapfile wrong "user=$USER" "secret=wrong-secret-999")
run wrong --time 1 --chap-file "$WRONG" && sa_fail "a wrong secret was accepted"
grep -q 'path 2 .*login=authenticationFailure(6) status=0x0201' "$SA_TMP/wrong.log" ||
	sa_fail "wrong secret: $(cat "$SA_TMP/wrong.log")"
sa_log "wrong secret: $(grep -m1 'sanpath: path 2 ' "$SA_TMP/wrong.log")"

# A target that is not there: targetNotFound (0x0203), not an authentication failure.
timeout 30 "$SANPATH" run --target "$SA_IQN_PREFIX:nosuch" --lun 1 --portal "127.0.0.1:$P" --time 1 \
	--login-timeout 2000 --settle-ms 3000 >/dev/null 2>"$SA_TMP/nosuch.log" && sa_fail "a missing target was accepted"
grep -q 'login=targetNotFound(5) status=0x0203' "$SA_TMP/nosuch.log" ||
	sa_fail "missing target: $(cat "$SA_TMP/nosuch.log")"
# Nothing listens: connectionFailed, no status.
DEAD=$(sa_free_port tcp)
timeout 30 "$SANPATH" run --target "$IQN" --lun 1 --portal "127.0.0.1:$DEAD" --time 1 --login-timeout 2000 \
	--settle-ms 3000 >/dev/null 2>"$SA_TMP/dead.log" && sa_fail "a dead portal was accepted"
grep -q 'login=connectionFailed(3) status=0x0000' "$SA_TMP/dead.log" || sa_fail "dead portal: $(cat "$SA_TMP/dead.log")"
sa_log "missing target and dead portal: targetNotFound(5) 0x0203, connectionFailed(3)"

# A credentials file others may read is refused before anything connects.
LOOSE=$(chapfile loose "user=$USER" "secret=$SECRET")
chmod 0644 "$LOOSE"
run loose --time 1 --chap-file "$LOOSE" && sa_fail "a world-readable CHAP file was used"
grep -q 'only its owner may read' "$SA_TMP/loose.log" || sa_fail "loose file: $(cat "$SA_TMP/loose.log")"

# ---- CHAP: both paths log in, stamped data written and read back ------------------------------------------------
GOOD=$(chapfile good "user=$USER" "secret=$SECRET")
run chap --rw mix --pattern rand --time 2 --verify --chap-file "$GOOD" ||
	sa_fail "CHAP run failed: $(tail -5 "$SA_TMP/chap.log")"
grep -q '^verify: .* mismatches=0$' "$SA_TMP/chap.out" || sa_fail "CHAP verify: $(grep ^verify "$SA_TMP/chap.out")"
for i in 1 2; do
	[ "$(field "$SA_TMP/chap.out" $i login)" = success ] || sa_fail "CHAP path $i: $(grep "^path $i:" "$SA_TMP/chap.out")"
	[ "$(field "$SA_TMP/chap.out" $i read_cmds)" -gt 0 ] || sa_fail "CHAP path $i carried no reads"
done
sa_log "CHAP: $(grep ^verify "$SA_TMP/chap.out")"
# The user on the command line, the secret from the environment.
SANPATH_CHAP_SECRET=$SECRET run chapenv --rw read --time 1 --chap-user "$USER" ||
	sa_fail "CHAP with the secret from the environment failed: $(tail -3 "$SA_TMP/chapenv.log")"

# ---- mutual CHAP: the target proves itself with its outgoing account --------------------------------------------
sa_tgt_ctl --lld iscsi --mode account --op new --user "$TUSER" --password "$TSECRET" || sa_fail "cannot create account"
sa_tgt_ctl --lld iscsi --mode account --op bind --tid 1 --user "$TUSER" --outgoing || sa_fail "cannot bind outgoing"
MUTUAL=$(chapfile mutual "user=$USER" "secret=$SECRET" "target_user=$TUSER" "target_secret=$TSECRET")
run mutual --rw mix --time 2 --verify --chap-file "$MUTUAL" ||
	sa_fail "mutual CHAP run failed: $(tail -5 "$SA_TMP/mutual.log")"
grep -q '^verify: .* mismatches=0$' "$SA_TMP/mutual.out" || sa_fail "mutual verify: $(grep ^verify "$SA_TMP/mutual.out")"
sa_log "mutual CHAP: $(grep ^verify "$SA_TMP/mutual.out")"
# The target answers our challenge with another secret: we refuse it (no status: the target accepted us).
BADT=$(chapfile badt "user=$USER" "secret=$SECRET" "target_user=$TUSER" "target_secret=not-the-target-1")
run badt --time 1 --chap-file "$BADT" && sa_fail "a target failing mutual CHAP was accepted"
grep -q 'path 1 .*login=authenticationFailure(6) status=0x0000' "$SA_TMP/badt.log" ||
	sa_fail "target failing mutual CHAP: $(cat "$SA_TMP/badt.log")"
sa_log "bad target secret: $(grep -m1 'sanpath: path 1 ' "$SA_TMP/badt.log")"

# ---- the nbdkit plug-in: credentials from chap_file=, bytes through NBD intact -----------------------------------
{
	SOCK=$SA_TMP/nbd.sock
	URI="nbd+unix:///?socket=$SOCK"
	sa_bg nbdkit --foreground --unix "$SOCK" "$PLUGIN" name=nbdchap target="$IQN" lun=1 \
		portal="127.0.0.1:$P" portal="127.0.0.2:$P" shm_dir="$SA_TMP" chap_file="$MUTUAL" >"$SA_TMP/nbdkit.log" 2>&1
	NBDKIT_PID=$SA_LASTPID
	ready() { nbdinfo --size "$URI"; }
	sa_wait_for 15 ready || sa_fail "nbdkit with CHAP did not serve: $(cat "$SA_TMP/nbdkit.log")"
	sa_nbd_roundtrip "$URI" 8 "the CHAP export"
	# The secrets are in neither the process's command line nor its log.
	tr '\0' ' ' <"/proc/$NBDKIT_PID/cmdline" | grep -qF -e "$SECRET" -e "$TSECRET" && sa_fail "a secret is on nbdkit's command line"
	"$SANPATH" status --shm-dir "$SA_TMP" --name nbdchap | grep -c 'login=success(2)' | grep -q '^2$' ||
		sa_fail "nbdkit paths: $("$SANPATH" status --shm-dir "$SA_TMP" --name nbdchap)"
	sa_stop_pid "$NBDKIT_PID"
	sa_log "nbdkit plug-in with mutual CHAP: 8 MiB in and out, identical"
}

# ---- session details and path logout through the control block ---------------------------------------------------
mkdir -p "$SA_TMP/run"
"$SANPATH" run --target "$IQN" --lun 1 "${PATHS[@]}" --chap-file "$MUTUAL" --rw mix --verify --time 30 \
	--report-ms 250 --name lo --shm-dir "$SA_TMP/run" >"$SA_TMP/lo.out" 2>"$SA_TMP/lo.log" &
LO=$!
SA_PIDS+=("$LO")
status() { "$SANPATH" status --shm-dir "$SA_TMP/run" --name lo; }
pline() { status | grep "^  path $1:"; }
pfield() { pline "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
pbytes() { pline "$1" | sed -n 's/.* read_bytes=\([0-9]*\) write_bytes=\([0-9]*\).*/\1 \2/p' | awk '{ print $1 + $2 }'; }
optimal() { status | grep -q 'live .*state=optimal'; }
sa_wait_for 10 optimal || sa_fail "no optimal team: $(status 2>&1) $(cat "$SA_TMP/lo.log")"
# Each path has its own session: ISID of type random with the path number as qualifier, a local address and
# port that the kernel shows connected to the portal, a login time.
i1=$(pfield 1 isid) i2=$(pfield 2 isid)
[[ $i1 == 80??????0001 ]] && [[ $i2 == 80??????0002 ]] && [ "${i1:2:6}" = "${i2:2:6}" ] ||
	sa_fail "ISIDs: path 1 $i1, path 2 $i2"
src=$(pfield 2 src)
ss -Htn state established "src ${src%:*} and sport = :${src##*:} and dport = :$P" | grep -q . ||
	sa_fail "path 2's source $src is not a connection to port $P: $(ss -Htn "dport = :$P")"
[ "$(pfield 1 login_time)" -gt 0 ] || sa_fail "no login time: $(pline 1)"
sa_log "sessions: path 1 isid $i1, path 2 isid $i2 from $src"
[ "$(sa_tgt_sid 1 sanpath-lo-p1)" ] || sa_fail "no tgt session for path 1"

"$SANPATH" set --shm-dir "$SA_TMP/run" --name lo --logout-path 1 >"$SA_TMP/set.out" 2>&1 || sa_fail "logout: $(cat "$SA_TMP/set.out")"
out1() { [ "$(pfield 1 state)" = idle ] && [ "$(pfield 1 admin_down)" = 1 ]; }
sa_wait_for 5 out1 || sa_fail "path 1 not logged out: $(pline 1)"
# The target ended the session (a Logout, not a dropped connection).
no_sess() { [ -z "$(sa_tgt_sid 1 sanpath-lo-p1)" ]; }
sa_wait_for 5 no_sess || sa_fail "tgt still has path 1's session: $(sa_tgt_ctl --op show --mode target)"
a1=$(pbytes 1) a2=$(pbytes 2)
moved2() { [ "$(pbytes 2)" -gt $((a2 + 1048576)) ]; }
sa_wait_for 10 moved2 || sa_fail "path 2 carries no I/O while path 1 is out"
[ "$(pbytes 1)" = "$a1" ] || sa_fail "path 1 carried I/O while logged out ($a1 -> $(pbytes 1))"
# It stays out: not reconnected after the reconnect backoff (200 ms) either; four report ticks are a second.
n0=$(grep -c '^tick' "$SA_TMP/lo.out")
ticks_after() { [ "$(grep -c '^tick' "$SA_TMP/lo.out")" -ge $((n0 + 4)) ]; }
sa_wait_for 5 ticks_after || sa_fail "no ticks"
[ "$(pfield 1 state)" = idle ] && [ -z "$(sa_tgt_sid 1 sanpath-lo-p1)" ] || sa_fail "path 1 came back by itself: $(pline 1)"
status | grep -q 'live .*state=optimal' || sa_fail "a logged-out path should not degrade the team: $(status | head -1)"
sa_log "path 1 logged out: no tgt session, path 2 carries the I/O"

"$SANPATH" set --shm-dir "$SA_TMP/run" --name lo --login-path 1 >"$SA_TMP/set2.out" 2>&1 || sa_fail "login: $(cat "$SA_TMP/set2.out")"
back1() { [ "$(pfield 1 state)" = active ] && [ "$(pfield 1 admin_down)" = 0 ] && [ "$(pbytes 1)" -gt "$a1" ]; }
sa_wait_for 10 back1 || sa_fail "path 1 not back in service: $(pline 1)"
sa_log "path 1 logged in again and carries I/O"
kill -INT "$LO"
wait "$LO"
rc=$?
[ $rc = 0 ] || sa_fail "the run across logout/login failed (rc $rc): $(tail -5 "$SA_TMP/lo.log")"
grep -q '^result: .* errors=0$' "$SA_TMP/lo.out" || sa_fail "application errors: $(grep ^result "$SA_TMP/lo.out")"
grep -q '^verify: .* mismatches=0$' "$SA_TMP/lo.out" || sa_fail "verify: $(grep ^verify "$SA_TMP/lo.out")"
sa_log "run across logout/login: $(grep ^verify "$SA_TMP/lo.out")"

# Secrets never reach a log or an output of ours.
if grep -rlF -e "$SECRET" -e "$TSECRET" "$SA_TMP"/*.out "$SA_TMP"/*.log 2>/dev/null; then
	sa_fail "a CHAP secret appears in the output above"
fi
echo "PASS: sanpath CHAP, login results, path logout"
exit 0
