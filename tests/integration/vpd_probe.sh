#!/bin/bash
# vpd_probe.sh: iscsi/vpd.c against a real tgtd, run from a poll() loop of the test's own (vpd_probe.c): standard
# INQUIRY, the VPD 0x83 designator (the same LU exported through two targets is one designator), READ CAPACITY(16),
# a missing LUN, a login the target's ACL refuses, a refused connection, and a silent portal that times out while
# the loop keeps turning.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
sa_init vpd_probe
PROBE=$SA_BUILDDIR/tests/integration/vpd_probe
sa_built "$PROBE" "vpd_probe"
sa_need python3 python3

sa_start_tgtd 2
PORTAL=127.0.0.1:$SA_ISCSI_PORT
T0=$SA_IQN_PREFIX:disk0
T1=$SA_IQN_PREFIX:disk1
INIT=iqn.2024-01.org.sanagent.test:prober

probe() { "$PROBE" "$@" >"$SA_TMP/probe.out" 2>&1; }
lun_line() { grep "^lun $1 " "$SA_TMP/probe.out"; }
field() { lun_line "$1" | sed -n "s/.* $2 \([^ ]*\).*/\1/p"; }

# ---- one target: the controller LU, the disk, a LUN that is not there ----
probe "$PORTAL" "$T0" "$INIT" 0 1 7 || sa_fail "vpd_probe: $(cat "$SA_TMP/probe.out")"
grep -q '^job rc=0$' "$SA_TMP/probe.out" || sa_fail "probe of $T0: $(cat "$SA_TMP/probe.out")"
lun_line 1 | grep -q "status 0 type 0 vendor 'IET' product 'VIRTUAL-DISK'" || sa_fail "LUN 1: $(lun_line 1)"
[ "$(field 1 size)" = $((64 << 20)) ] || sa_fail "LUN 1 size $(field 1 size), want 64 MiB"
[ "$(field 1 block)" = 512 ] || sa_fail "LUN 1 block size $(field 1 block)"
[ "$(field 1 dtype)" = 3 ] || sa_fail "LUN 1: no NAA designator: $(lun_line 1)"
d1=$(field 1 designator)
[ ${#d1} = 32 ] || sa_fail "LUN 1: want tgt's 16-octet NAA (registered extended), got '$d1'"
lun_line 0 | grep -q 'status 0 type 12 ' || sa_fail "LUN 0 (tgt's controller): $(lun_line 0)"
[ "$(field 0 size)" = 0 ] || sa_fail "the controller LU has no capacity: $(lun_line 0)"
[ "$(field 7 status)" = -2 ] || sa_fail "LUN 7 (none): want status -ENOENT: $(lun_line 7)"
sa_log "INQUIRY, VPD 0x83, READ CAPACITY(16): OK (designator $d1)"

# ---- the same LU through two targets: one designator; another LU: another ----
sa_tgt_ctl --lld iscsi --op new --mode logicalunit --tid 2 --lun 2 -b "$SA_TMP/disk0.img" ||
	sa_fail "tgtadm: cannot export disk0.img as LUN 2 of $T1"
for tl in 1:1 2:2; do
	sa_tgt_ctl --lld iscsi --op update --mode logicalunit --tid "${tl%:*}" --lun "${tl#*:}" \
		--params scsi_id=5001405aa0c0ffee || sa_fail "tgtadm: scsi_id of $tl"
done
sa_tgt_ctl --lld iscsi --op update --mode logicalunit --tid 2 --lun 1 --params scsi_id=5001405bb0d00d ||
	sa_fail "tgtadm: scsi_id of 2:1"
probe "$PORTAL" "$T0" "$INIT" 1 && grep -q '^job rc=0$' "$SA_TMP/probe.out" || sa_fail "$(cat "$SA_TMP/probe.out")"
a=$(field 1 designator)
probe "$PORTAL" "$T1" "$INIT" 1 2 && grep -q '^job rc=0$' "$SA_TMP/probe.out" || sa_fail "$(cat "$SA_TMP/probe.out")"
b=$(field 2 designator)
other=$(field 1 designator)
[ -n "$a" ] && [ "$a" = "$b" ] || sa_fail "the same LU through $T0 and $T1: designators $a and $b differ"
[ "$other" != "$a" ] && [ "$other" != - ] || sa_fail "another LU has the same designator $a"
sa_log "same LU through two targets: one designator ($a); another LU: $other"

# ---- ACL: tgt refuses an initiator it does not name ----
sa_tgt_ctl --lld iscsi --op unbind --mode target --tid 2 -I ALL || sa_fail "tgtadm: unbind ALL"
sa_tgt_ctl --lld iscsi --op bind --mode target --tid 2 --initiator-name "$INIT" || sa_fail "tgtadm: bind $INIT"
probe "$PORTAL" "$T1" "$INIT:other" 1
grep -q '^job rc=-13$' "$SA_TMP/probe.out" || sa_fail "an initiator outside the ACL: want -EACCES: $(cat "$SA_TMP/probe.out")"
probe "$PORTAL" "$T1" "$INIT" 1 && grep -q '^job rc=0$' "$SA_TMP/probe.out" ||
	sa_fail "the bound initiator: $(cat "$SA_TMP/probe.out")"
sa_log "ACL: refused as another initiator (-EACCES), answered as the bound one"

# ---- nobody listening; a portal that accepts and never answers ----
DEAD=$(sa_free_port tcp)
probe "127.0.0.1:$DEAD" "$T0" "$INIT" 1
grep -Eq '^(start|job) rc=-111$' "$SA_TMP/probe.out" || sa_fail "closed port: want -ECONNREFUSED: $(cat "$SA_TMP/probe.out")"
SILENT=$(sa_free_port tcp)
sa_bg python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $SILENT)); s.listen(4)
c = s.accept()
time.sleep(60)"
sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$SILENT" || sa_fail "silent listener did not start"
t0=$(sa_now_ms)
probe "127.0.0.1:$SILENT" "$T0" "$INIT" 1
el=$(($(sa_now_ms) - t0))
grep -q '^job rc=-110$' "$SA_TMP/probe.out" || sa_fail "silent portal: want -ETIMEDOUT: $(cat "$SA_TMP/probe.out")"
[ "$el" -ge 4500 ] && [ "$el" -lt 9000 ] || sa_fail "silent portal: ended after $el ms, want the 5 s job timeout"
ticks=$(sed -n 's/^ticks \([0-9]*\).*/\1/p' "$SA_TMP/probe.out")
# The loop's poll() waits at most 50 ms: a probe that blocked it would leave far fewer turns than 5 s / 50 ms.
[ "$ticks" -ge 60 ] || sa_fail "the loop turned $ticks times in $el ms: the probe blocked it"
sa_log "closed port: -ECONNREFUSED; silent portal: -ETIMEDOUT after $el ms, loop turned $ticks times"
echo "vpd_probe: OK"
