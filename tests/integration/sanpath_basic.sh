#!/bin/bash
# sanpath_basic.sh: two real paths (127.0.0.1, 127.0.0.2) to one tgt LU: byte splits, read/write shares, verify, refusal, shm.
. "$(dirname "$0")/lib.sh"
sa_init sanpath-basic
SANPATH=$SA_BUILDDIR/sanpath
sa_built "$SANPATH" sanpath
sa_start_tgtd 2
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
PATHS=(--portal "127.0.0.1:$P" --portal "127.0.0.2:$P")

# field FILE PATH KEY: KEY=value of the "path N:" summary line.
field() { sed -n "s/^path $2: .* $3=\([^ ]*\).*/\1/p" "$1"; }
result() { sed -n "s/^result: .* $2=\([^ ]*\).*/\1/p" "$1"; }
# within VALUE EXPECTED TOLERANCE
within() { awk -v v="$1" -v e="$2" -v t="$3" 'BEGIN { d = v - e; if (d < 0) d = -d; exit !(d <= t) }'; }

run() {
	local out=$1
	shift
	timeout 60 "$SANPATH" run --target "$IQN" --lun 1 "${PATHS[@]}" "$@" >"$SA_TMP/$out.out" 2>"$SA_TMP/$out.log"
}

check_split() {
	local out=$1 r1=$2 w1=$3 rp wp
	rp=$(field "$SA_TMP/$out.out" 1 read_pct)
	wp=$(field "$SA_TMP/$out.out" 1 write_pct)
	[ -n "$rp" ] && [ -n "$wp" ] || sa_fail "$out: no per-path summary: $(cat "$SA_TMP/$out.out")"
	within "$rp" "$r1" 2 || sa_fail "$out: path 1 carried ${rp}% of the read bytes, want ${r1}±2"
	within "$wp" "$w1" 2 || sa_fail "$out: path 1 carried ${wp}% of the write bytes, want ${w1}±2"
	[ "$(result "$SA_TMP/$out.out" errors)" = 0 ] || sa_fail "$out: application errors"
	sa_log "$out: path 1 read ${rp}% write ${wp}% (want $r1/$w1)"
}

# 50/50 by default, mixed reads and writes.
run s5050 --rw mix --time 2 || sa_fail "50/50 run failed: $(cat "$SA_TMP/s5050.log")"
check_split s5050 50 50
# Both paths really carried I/O: a split of commands, not just of counters.
[ "$(field "$SA_TMP/s5050.out" 2 read_cmds)" -gt 100 ] || sa_fail "path 2 carried no reads"

# 70/30 on both directions.
run s7030 --rw mix --time 2 --shares-read 70,30 --shares-write 70,30 || sa_fail "70/30 run failed"
check_split s7030 70 70

# Separate read and write shares, random pattern, 8 KiB.
run sep --rw mix --pattern rand --bs 8k --time 2 --shares-read 70,30 --shares-write 20,80 || sa_fail "split run failed"
check_split sep 70 20

# Stamped writes read back through both paths: no mismatch.
run ver --rw mix --pattern rand --time 2 --verify || sa_fail "verify run failed: $(tail -5 "$SA_TMP/ver.log")"
grep -q '^verify: .* mismatches=0$' "$SA_TMP/ver.out" || sa_fail "verify: $(grep ^verify "$SA_TMP/ver.out")"
checked=$(sed -n 's/^verify: .*checked=\([0-9]*\).*/\1/p' "$SA_TMP/ver.out")
[ "${checked:-0}" -gt 1000 ] || sa_fail "verify checked only ${checked:-0} blocks"
sa_log "verify: $(grep ^verify "$SA_TMP/ver.out")"

# A path that reaches another LU (disk1 behind portal 2) is refused before it carries any I/O.
PATHS=(--portal "127.0.0.1:$P" --portal "127.0.0.2:$P,target=$SA_IQN_PREFIX:disk1")
run refused --time 1 && sa_fail "a path to another LU was accepted"
rc=$?
[ $rc = 2 ] || sa_fail "refusal: exit status $rc, want 2"
grep -q 'path 2 .*refused: reaches a different LU' "$SA_TMP/refused.log" ||
	sa_fail "refusal message missing: $(cat "$SA_TMP/refused.log")"
sa_log "refused: $(grep -m1 'sanpath: path 2' "$SA_TMP/refused.log")"
PATHS=(--portal "127.0.0.1:$P" --portal "127.0.0.2:$P")

# Shared memory: a live segment, a control change applied within a second, a stale one after SIGKILL.
mkdir -p "$SA_TMP/run"
"$SANPATH" run --target "$IQN" --lun 1 "${PATHS[@]}" --rw read --time 30 --report-ms 250 --name live \
	--shm-dir "$SA_TMP/run" >"$SA_TMP/live.out" 2>"$SA_TMP/live.log" &
LIVE=$!
SA_PIDS+=("$LIVE")
live_ready() { "$SANPATH" status --shm-dir "$SA_TMP/run" --name live | grep -q 'live .*state=optimal'; }
sa_wait_for 10 live_ready || sa_fail "no live optimal segment: $("$SANPATH" status --shm-dir "$SA_TMP/run" 2>&1)"
"$SANPATH" set --shm-dir "$SA_TMP/run" --name live --shares-read 20,80 >"$SA_TMP/set.out" 2>&1 ||
	sa_fail "set: $(cat "$SA_TMP/set.out")"
# Shares not summing to 100 are rejected by the data plane, and nothing changes.
"$SANPATH" set --shm-dir "$SA_TMP/run" --name live --shares-read 50,60 >"$SA_TMP/set2.out" 2>&1 &&
	sa_fail "shares 50,60 accepted"
grep -q rejected "$SA_TMP/set2.out" || sa_fail "bad shares: $(cat "$SA_TMP/set2.out")"
# The new split is seen in the next full quarter-second ticks (well within a second).
n0=$(grep -c '^tick' "$SA_TMP/live.out")
ticks_after() { [ "$(grep -c '^tick' "$SA_TMP/live.out")" -ge $((n0 + 3)) ]; }
sa_wait_for 5 ticks_after || sa_fail "no ticks"
last=$(grep '^tick' "$SA_TMP/live.out" | tail -1)
p1=$(sed -n 's/.* p1=[a-z]*:\([0-9]*\):.*/\1/p' <<<"$last")
p2=$(sed -n 's/.* p2=[a-z]*:\([0-9]*\):.*/\1/p' <<<"$last")
pct=$(awk -v a="$p1" -v b="$p2" 'BEGIN { if (a + b) printf "%.1f", 100 * a / (a + b); else print 0 }')
within "$pct" 20 3 || sa_fail "after set 20,80 path 1 carried $pct% ($last)"
sa_log "shm control: read split now $pct/$(awk -v p="$pct" 'BEGIN { print 100 - p }')"
"$SANPATH" status --shm-dir "$SA_TMP/run" --name live | grep -q 'path 1: .*share=20/50' ||
	sa_fail "segment does not show the new shares"
kill -9 "$LIVE"
wait "$LIVE" 2>/dev/null
"$SANPATH" status --shm-dir "$SA_TMP/run" --name live | grep -q '^team live: STALE' ||
	sa_fail "a dead data plane's segment is not shown stale: $("$SANPATH" status --shm-dir "$SA_TMP/run")"
"$SANPATH" set --shm-dir "$SA_TMP/run" --name live --shares-read 50,50 >/dev/null 2>&1 &&
	sa_fail "a stale segment accepted a control change"
sa_log "stale segment detected after SIGKILL"
echo "PASS: sanpath basic"
exit 0
