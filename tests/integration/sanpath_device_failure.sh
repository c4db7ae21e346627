#!/bin/bash
# sanpath_device_failure.sh: a path whose target reports a device failure is failed over, not returned to the
# application (seed 002): two tgt boxes export one LU (one image, the same scsi_id, so VPD 0x83 matches), one path
# each, behind the nbdkit plug-in.
#   LOGICAL UNIT NOT READY: the second box's LU taken offline under verified read/write I/O: its path fails
#   over, the workload sees no error, the path returns when the LU is back online.
#   MEDIUM ERROR: the second box's copy of the image made unreadable (truncated under tgt): reads it fails go
#   to the other path, the copy read out is intact and that path is failed over; with every copy unreadable the
#   error recurs on every path and is returned to the application.
. "$(dirname "$0")/lib.sh"
sa_init sanpath-devfail
sa_need_plugin nbdcopy nbdinfo
sa_need python3 python3
SANPATH=$SA_BUILDDIR/sanpath
sa_built "$SANPATH" sanpath

# Two storage boxes, tgtd A on 127.0.0.1 and tgtd B on 127.0.0.2, export the same targets (same name, tid and
# LUN) over the same images with the same scsi_id: tgt builds VPD 0x83 from the scsi_id (T10 and NAA 6) and from
# tid and LUN (NAA 3), so both reach one LU as far as the identity check can tell.
sa_need tgt tgtd tgtadm
P=$(sa_free_port tcp)
CTL_A=$(sa_tgt_free_control)
CTL_B=$(sa_tgt_free_control)
sa_bg tgtd -f -C "$CTL_A" --iscsi "portal=127.0.0.1:$P" >"$SA_TMP/tgtd-a.log" 2>&1
PID_A=$SA_LASTPID
sa_bg tgtd -f -C "$CTL_B" --iscsi "portal=127.0.0.2:$P" >"$SA_TMP/tgtd-b.log" 2>&1
PID_B=$SA_LASTPID
trap 'sa__rc=$?; sa_tgtd_stop "$PID_A" "$CTL_A"; sa_tgtd_stop "$PID_B" "$CTL_B"; (exit $sa__rc); sa_cleanup' EXIT
box() { local c=CTL_$1; shift; tgtadm -C "${!c}" "$@"; }
sa_wait_for 10 box A --op show --mode sys || sa_fail "tgtd A did not start"
sa_wait_for 10 box B --op show --mode sys || sa_fail "tgtd B did not start"
sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$P" || sa_fail "tgtd A does not listen"
sa_wait_for 10 sa_tcp_listening 127.0.0.2 "$P" || sa_fail "tgtd B does not listen"
ID=5001405aa0c0ffee
# lu BOX TID NAME IMAGE: target NAME (tid TID) with LUN 1 on IMAGE, scsi_id $ID.  Removable, because tgt answers
# media access with NOT READY / MEDIUM NOT PRESENT (02/3a/00) only for a removable LU taken offline (online=0).
lu() {
	box "$1" --lld iscsi --op new --mode target --tid "$2" -T "$SA_IQN_PREFIX:$3" &&
		box "$1" --lld iscsi --op new --mode logicalunit --tid "$2" --lun 1 -b "$4" &&
		box "$1" --lld iscsi --op update --mode logicalunit --tid "$2" --lun 1 --params "scsi_id=$ID,removable=1" &&
		box "$1" --lld iscsi --op bind --mode target --tid "$2" -I ALL || sa_fail "cannot create target $3 on $1"
}
# team NAME: nbdkit serving a team of target NAME over A (127.0.0.1) and B (127.0.0.2).
team() {
	sa_bg nbdkit --foreground --unix "$SA_TMP/$1.sock" "$PLUGIN" name="$1" target="$SA_IQN_PREFIX:$1" lun=1 \
		portal="127.0.0.1:$P" portal="127.0.0.2:$P" shm_dir="$SA_TMP" report_ms=100 >"$SA_TMP/$1.log" 2>&1
	ready() { nbdinfo --size "nbd+unix:///?socket=$SA_TMP/$1.sock" >/dev/null 2>&1; }
	sa_wait_for 15 ready "$1" || sa_fail "nbdkit did not serve team $1: $(tail -3 "$SA_TMP/$1.log")"
}
status() { "$SANPATH" status --shm-dir "$SA_TMP" --name "$1"; }
path_field() { status "$1" | sed -n "s/^  path $2: .* $3=\([^ ]*\).*/\1/p"; }
path_error() { status "$1" | sed -n "s/^  path $2: .* last_error=//p"; }
path_bytes() { status "$1" | sed -n "s/^  path $2: .* read_bytes=\([0-9]*\) write_bytes=\([0-9]*\).*/\1 \2/p" | awk '{ print $1 + $2 }'; }
app_errors() { status "$1" | sed -n 's/.* app_errors=\([0-9]*\).*/\1/p'; }
is_state() { [ "$(path_field "$1" "$2" state)" = "$3" ]; }

# ---- LOGICAL UNIT NOT READY under verified read/write I/O ---------------------------------------------
truncate -s 64M "$SA_TMP/shared.img"
lu A 1 nr "$SA_TMP/shared.img"
lu B 1 nr "$SA_TMP/shared.img"
team nr
sa_wait_for 10 is_state nr 2 active || sa_fail "path 2 (box B) not active: $(path_error nr 2)"
STOP=$SA_TMP/io.stop
python3 "$SA_SRCDIR/tests/integration/rl_nbd_io.py" "$SA_TMP/nr.sock" --size $((16 << 20)) --bs 65536 \
	--read-every 1 --stop-file "$STOP" >"$SA_TMP/io.log" 2>&1 &
IO_PID=$!
SA_PIDS+=("$IO_PID")
grows() { local a b; a=$(path_bytes "$1" "$2"); sleep 0.3; b=$(path_bytes "$1" "$2"); [ "$b" -gt "$a" ]; }
sa_wait_for 10 grows nr 2 || sa_fail "path 2 carries no I/O"
box B --lld iscsi --op update --mode logicalunit --tid 1 --lun 1 --params online=0 || sa_fail "cannot take B's LU offline"
device_failed() { case $(path_error nr 2) in *"device failure: sense key NOT READY"*) return 0 ;; esac; return 1; }
sa_wait_for 10 device_failed || sa_fail "path 2 not failed for its device: $(path_field nr 2 state) $(path_error nr 2)"
grep -q "path 2 (127.0.0.2:$P) down: device failure: sense key NOT READY" "$SA_TMP/nr.log" ||
	sa_fail "no device-failure failover in the log"
sa_wait_for 10 grows nr 1 || sa_fail "path 1 does not carry the I/O"
sa_log "B's LU offline: $(grep -o "path 2 (127.0.0.2:$P) down: device failure.*" "$SA_TMP/nr.log" | head -1); path 1 carries the I/O"
box B --lld iscsi --op update --mode logicalunit --tid 1 --lun 1 --params online=1 || sa_fail "cannot bring B's LU back"
sa_wait_for 20 is_state nr 2 active || sa_fail "path 2 not back with its LU online: $(path_field nr 2 state)"
sa_wait_for 10 grows nr 2 || sa_fail "path 2 carries no I/O after its LU came back"
touch "$STOP"
wait "$IO_PID"
rc=$?
done_line=$(grep '^rlio done' "$SA_TMP/io.log")
[ "$rc" = 0 ] || sa_fail "workload exit $rc: $done_line"
case $done_line in *" errors=0 mismatches=0 "*) ;; *) sa_fail "workload: $done_line" ;; esac
[ "$(app_errors nr)" = 0 ] || sa_fail "the team returned $(app_errors nr) errors"
sa_log "B's LU back: path 2 active again; workload: $done_line"

# The same team changed with `sanpath set` (no agent): path 2 removed, the same portal added as path 3.
"$SANPATH" set --shm-dir "$SA_TMP" --name nr --remove-path 2 --shares-read 100,0 --shares-write 100,0 ||
	sa_fail "sanpath set --remove-path failed"
sa_wait_for 10 is_state nr 2 removed || sa_fail "path 2 not removed: $(path_field nr 2 state)"
"$SANPATH" set --shm-dir "$SA_TMP" --name nr --portal "127.0.0.2:$P" --shares-read 50,0,50 \
	--shares-write 50,0,50 --failback manual || sa_fail "sanpath set --portal failed"
sa_wait_for 10 is_state nr 3 active || sa_fail "path 3 not active: $(path_field nr 3 state) $(path_error nr 3)"
sa_nbd_roundtrip "nbd+unix:///?socket=$SA_TMP/nr.sock" 8 "team nr with paths 1 and 3"
[ "$(path_bytes nr 3)" -gt 0 ] || sa_wait_for 5 grows nr 3 || sa_fail "path 3 carried nothing"
sa_log "sanpath set: path 2 removed, path 3 added at the same portal, I/O verified over paths 1 and 3"

# ---- MEDIUM ERROR: one copy unreadable, then every copy ----------------------------------------------------
SIZE=$((16 << 20))
head -c "$SIZE" /dev/urandom >"$SA_TMP/data"
cp "$SA_TMP/data" "$SA_TMP/copya.img"
cp "$SA_TMP/data" "$SA_TMP/copyb.img"
lu A 2 me "$SA_TMP/copya.img"
lu B 2 me "$SA_TMP/copyb.img"
team me
sa_wait_for 10 is_state me 2 active || sa_fail "team me: path 2 not active: $(path_error me 2)"
URI="nbd+unix:///?socket=$SA_TMP/me.sock"
nbdcopy "$URI" "$SA_TMP/out0" || sa_fail "reading the intact copies failed"
cmp "$SA_TMP/data" "$SA_TMP/out0" || sa_fail "the intact copies read back wrong"
p2_read() { [ "$(path_bytes me 2)" -gt 0 ]; } # published every report_ms
sa_wait_for 5 p2_read || sa_fail "path 2 read nothing of the intact copies"
# The second target's copy becomes unreadable: tgt's reads past its end fail with MEDIUM ERROR (03/11/00).
truncate -s 0 "$SA_TMP/copyb.img"
nbdcopy "$URI" "$SA_TMP/out1" 2>"$SA_TMP/out1.err" || sa_fail "a medium error of one copy reached the application: $(cat "$SA_TMP/out1.err")"
cmp "$SA_TMP/data" "$SA_TMP/out1" || sa_fail "data read around the unreadable copy differs"
[ "$(app_errors me)" = 0 ] || sa_fail "the team returned $(app_errors me) errors for one bad copy"
grep -q "path 2 (127.0.0.2:$P): lba [0-9]*: MEDIUM ERROR error (asc/ascq 0x1100): trying another path" "$SA_TMP/me.log" ||
	sa_fail "no medium error retried on the other path: $(grep -i medium "$SA_TMP/me.log" | head -3)"
grep -q "path 2 (127.0.0.2:$P) down: device failure: medium error at lba [0-9]*, which path 1 read" "$SA_TMP/me.log" ||
	sa_fail "path 2 not failed over for its unreadable copy"
sa_log "copy 2 unreadable: 16 MiB read intact, path 2 failed over: $(grep -c 'trying another path' "$SA_TMP/me.log") reads retried"
# Every copy unreadable: the error is the data's, not a path's: returned, and no path is failed for it.
sa_wait_for 20 is_state me 2 active || sa_fail "path 2 not logged in again: $(path_field me 2 state)"
e1=$(path_field me 1 errors)
truncate -s 0 "$SA_TMP/copya.img"
nbdcopy "$URI" "$SA_TMP/out2" 2>"$SA_TMP/out2.err" && sa_fail "reading unreadable data succeeded"
has_app_errors() { n=$(app_errors me); [ "${n:-0}" -gt 0 ]; }
sa_wait_for 5 has_app_errors || sa_fail "the team reports no application error"
[ "$(path_field me 1 errors)" = "$e1" ] || sa_fail "path 1 was failed for an error every path gives"
grep -q "path 1 (127.0.0.1:$P): lba [0-9]*: check condition: MEDIUM ERROR (0x3) asc/ascq 0x1100\|path 2 (127.0.0.2:$P): lba [0-9]*: check condition: MEDIUM ERROR (0x3) asc/ascq 0x1100" "$SA_TMP/me.log" ||
	sa_fail "the returned medium error is not logged"
sa_log "every copy unreadable: nbdcopy failed as it must ($n errors returned), path 1 not failed for it"
echo "PASS: sanpath device failure"
