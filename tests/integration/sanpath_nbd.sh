#!/bin/bash
# sanpath_nbd.sh: a team exported by the nbdkit plugin: nbdcopy 32 MiB in and back out, also across path failures.
. "$(dirname "$0")/lib.sh"
sa_init sanpath-nbd
PLUGIN=$SA_BUILDDIR/.libs/nbdkit-sanpath-plugin.so
SANPATH=$SA_BUILDDIR/sanpath
sa_need nbdkit nbdkit
sa_need libnbd-bin nbdcopy nbdinfo
sa_built "$PLUGIN" "nbdkit-sanpath-plugin (needs nbdkit-plugin-dev)"
sa_built "$SANPATH" sanpath
sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
SOCK=$SA_TMP/nbd.sock
URI="nbd+unix:///?socket=$SOCK"
SIZE=$((32 << 20))

DROP_RULE=(INPUT -d 127.0.0.2 -p tcp --dport "$P" -j DROP)
undrop() { [ -n "${DROPPED:-}" ] && iptables -D "${DROP_RULE[@]}" 2>/dev/null; DROPPED=; return 0; }
trap 'sa__rc=$?; undrop; sa_stop_tgtd; (exit $sa__rc); sa_cleanup' EXIT

# Short keepalive so the silent case is caught well inside the copy.
sa_bg nbdkit --foreground --unix "$SOCK" "$PLUGIN" name=nbd target="$IQN" lun=1 \
	portal="127.0.0.1:$P" portal="127.0.0.2:$P" shm_dir="$SA_TMP" report_ms=100 \
	nop_interval=200 nop_timeout=600 cmd_timeout=800 >"$SA_TMP/nbdkit.log" 2>&1
NBDKIT_PID=$SA_LASTPID
ready() { nbdinfo --size "$URI"; }
sa_wait_for 15 ready || sa_fail "nbdkit did not serve $SOCK"
[ "$(nbdinfo --size "$URI")" = $((64 << 20)) ] || sa_fail "export size $(nbdinfo --size "$URI"), want 64 MiB"
sa_log "export up: $(nbdinfo --size "$URI") bytes"

# path_bytes N: read+write bytes path N carried, from the team's segment.
path_bytes() {
	"$SANPATH" status --shm-dir "$SA_TMP" --name nbd |
		sed -n "s/^  path $1: .* read_bytes=\([0-9]*\) write_bytes=\([0-9]*\).*/\1 \2/p" | awk '{ print $1 + $2 }'
}
path_state() { "$SANPATH" status --shm-dir "$SA_TMP" --name nbd | sed -n "s/^  path $1: .* state=\([a-z]*\).*/\1/p"; }
app_errors() { "$SANPATH" status --shm-dir "$SA_TMP" --name nbd | sed -n 's/.* app_errors=\([0-9]*\).*/\1/p'; }

# roundtrip NAME [NBDCOPY OPTIONS]: random data in, back out, compared.
roundtrip_in() {
	head -c "$SIZE" /dev/urandom >"$SA_TMP/$1.in" || sa_fail "no random data"
	nbdcopy "${@:2}" "$SA_TMP/$1.in" "$URI" 2>"$SA_TMP/$1-in.log" || sa_fail "$1: nbdcopy into the export failed"
}
roundtrip_out() {
	nbdcopy "${@:2}" "$URI" "$SA_TMP/$1.out" 2>"$SA_TMP/$1-out.log" || sa_fail "$1: nbdcopy out of the export failed"
	cmp -n "$SIZE" "$SA_TMP/$1.in" "$SA_TMP/$1.out" || sa_fail "$1: data read back differs"
	rm -f "$SA_TMP/$1.out"
}

# ---- plain round trip: both paths carry the copy ---------------------------------
b1=$(path_bytes 1) b2=$(path_bytes 2)
roundtrip_in plain
roundtrip_out plain
d1=$(($(path_bytes 1) - b1)) d2=$(($(path_bytes 2) - b2))
[ "$d1" -gt 0 ] && [ "$d2" -gt 0 ] || sa_fail "plain: both paths should carry I/O (path 1 $d1, path 2 $d2 bytes)"
sa_log "plain: 32 MiB in and out, identical; path 1 carried $d1 bytes, path 2 $d2"

# Small serial requests make the copy last long enough to fail a path inside it.
SLOW=(--connections=1 --requests=2 --request-size=4096)

# ---- hard failure mid-write: tgt drops path 2's connection and portal ------------
head -c "$SIZE" /dev/urandom >"$SA_TMP/hard.in"
b2=$(path_bytes 2)
nbdcopy "${SLOW[@]}" "$SA_TMP/hard.in" "$URI" 2>"$SA_TMP/hard-in.log" &
COPY=$!
SA_PIDS+=("$COPY")
p2_busy() { [ $(($(path_bytes 2) - b2)) -ge $((2 << 20)) ]; }
sa_wait_for 10 p2_busy || sa_fail "hard: path 2 carried no I/O"
kill -0 "$COPY" 2>/dev/null || sa_fail "hard: copy finished before the failure (too fast to test)"
sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot delete portal"
sid=$(sa_tgt_sid 1 sanpath-nbd-p2)
[ -n "$sid" ] || sa_fail "no tgt session for path 2"
sa_tgt_ctl --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || sa_fail "cannot delete the connection"
p2_down() { [ "$(path_state 2)" != active ]; }
sa_wait_for 5 p2_down || sa_fail "hard: path 2 never left service"
still=0
kill -0 "$COPY" 2>/dev/null && still=1
wait "$COPY" || sa_fail "hard: nbdcopy failed: $(tail -3 "$SA_TMP/hard-in.log")"
[ $still = 1 ] || sa_log "hard: note: the copy ended just as the path went down"
sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=127.0.0.2:$P" || sa_fail "cannot re-add portal"
roundtrip_out hard
[ "$(app_errors)" = 0 ] || sa_fail "hard: the team reports $(app_errors) application errors"
sa_log "hard: path 2 failed mid-write ($(grep -c 'path 2 .* down' "$SA_TMP/nbdkit.log") down event), copy completed, data identical"
p2_back() { [ "$(path_state 2)" = active ]; }
sa_wait_for 10 p2_back || sa_fail "hard: path 2 did not come back"

# ---- silent loss mid-read: packets to path 2's portal dropped --------------------
sa_need iptables iptables
if iptables -L INPUT -n >/dev/null 2>&1; then
	roundtrip_in silent
	b2=$(path_bytes 2)
	nbdcopy "${SLOW[@]}" "$URI" "$SA_TMP/silent.out" 2>"$SA_TMP/silent-out.log" &
	COPY=$!
	SA_PIDS+=("$COPY")
	sa_wait_for 10 p2_busy || sa_fail "silent: path 2 carried no I/O"
	kill -0 "$COPY" 2>/dev/null || sa_fail "silent: copy finished before the failure (too fast to test)"
	iptables -I "${DROP_RULE[@]}" || sa_fail "iptables DROP failed"
	DROPPED=1
	sa_wait_for 5 p2_down || sa_fail "silent: loss not detected within 5 s"
	wait "$COPY" || sa_fail "silent: nbdcopy failed: $(tail -3 "$SA_TMP/silent-out.log")"
	undrop
	cmp -n "$SIZE" "$SA_TMP/silent.in" "$SA_TMP/silent.out" || sa_fail "silent: data read back differs"
	[ "$(app_errors)" = 0 ] || sa_fail "silent: the team reports $(app_errors) application errors"
	grep -q 'path 2 .* down: \(NOP-Out unanswered\|command outstanding\)' "$SA_TMP/nbdkit.log" ||
		sa_fail "silent: not caught by the keepalive or command timeout"
	sa_log "silent: path 2 lost mid-read, copy completed, data identical"
else
	sa_log "iptables not permitted here: silent-loss case skipped"
fi

kill "$NBDKIT_PID"
sa_wait_for 10 sa_pid_gone "$NBDKIT_PID" || sa_fail "nbdkit did not exit on SIGTERM"
echo "PASS: sanpath nbd"
exit 0
