#!/usr/bin/env bash
# datapath.sh: sanpath data-plane throughput against its anchors, measured in the same run.
#
#  1. Single path on loopback: `sanpath run` (one portal, 4 KiB random reads, 32 in flight) against iscsi-perf
#     (libiscsi's own tool, same LU, same size and depth).  Goal: >= 0.95x iscsi-perf's IOPS.
#  2. Two tc-tbf limited paths in network namespaces (DP_RATE1 40mbit, DP_RATE2 120mbit): iscsi-perf alone on each
#     path gives the anchor (the sum of the paths); then a sanpath team of both paths with static shares matched to
#     the bandwidths (25/75), 64 KiB random reads, 32 in flight.  Goal: >= 0.95x the sum.  The other selectors
#     (dynamic from 50/50, round-robin, queue-length, service-time) run on the same lab for comparison.
# Knobs: DP_TIME (5 s per run), DP_ROUNDS (3, loopback, best kept), DP_RATE1/DP_RATE2.
# Exit: 0 measured, 1 failed, 77 skipped (not root, not built, no iscsi-perf).
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"
# shellcheck source=../tests/integration/netns_lab.bash
. "$SA_SRCDIR/tests/integration/netns_lab.bash"

DP_TIME=${DP_TIME:-5}
DP_ROUNDS=${DP_ROUNDS:-3}
DP_RATE1=${DP_RATE1:-40mbit}
DP_RATE2=${DP_RATE2:-120mbit}
SANPATH=$SA_BUILDDIR/sanpath
INIT=iqn.2024-01.org.sanagent:bench

sa_init bench-datapath
[ -x "$SANPATH" ] || sa_skip "no $SANPATH: build first"
sa_need libiscsi-bin iscsi-perf

# perf_iops [NETNS-PREFIX...] -- URL BLOCKS: iscsi-perf's average IOPS over DP_TIME seconds.
perf_iops() {
	local pre=() url blocks
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	url=$2 blocks=$3
	"${pre[@]}" timeout $((DP_TIME + 10)) iscsi-perf -i "$INIT" -m 32 -b "$blocks" -t "$DP_TIME" -r "$url" 2>&1 |
		tr '\r' '\n' | sed -n 's/^iops average \([0-9]*\).*/\1/p' | tail -1
}
# sp_iops [NETNS-PREFIX...] -- SANPATH-RUN-ARGS: sanpath's IOPS (the result line).
sp_iops() {
	local pre=()
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	shift
	"${pre[@]}" "$SANPATH" run --initiator "$INIT" --time "$DP_TIME" --report-ms 0 "$@" 2>>"$SA_TMP/sanpath.log" |
		tee -a "$SA_TMP/sanpath.out" | sed -n 's/^result: .* iops=\([0-9]*\) .* errors=0$/\1/p'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", ((b > 0) ? a / b : 0) }'; }
max() { [ "$1" -ge "$2" ] && echo "$1" || echo "$2"; }

echo "datapath benchmark: $(nproc) CPUs, $(uname -r), tgt $(tgtd --version 2>/dev/null | head -1),"
echo "  libiscsi $(pkg-config --modversion libiscsi 2>/dev/null), ${DP_TIME} s per run"

# ---- 1. single path on loopback ------------------------------------------------------
sa_start_tgtd 1
URL="iscsi://127.0.0.1:$SA_ISCSI_PORT/$SA_IQN_PREFIX:disk0/1"
best_perf=0 best_sp=0 tot_perf=0 tot_sp=0
echo
echo "== single path, loopback, 4 KiB random reads, 32 in flight (best of $DP_ROUNDS, alternating)"
printf "%-6s %12s %12s\n" round iscsi-perf sanpath
for ((r = 1; r <= DP_ROUNDS; r++)); do
	a=$(perf_iops -- "$URL" 8)
	b=$(sp_iops -- --target "$SA_IQN_PREFIX:disk0" --lun 1 --portal "127.0.0.1:$SA_ISCSI_PORT" --rw read \
		--pattern rand --bs 4k --qd 32)
	[ -n "$a" ] && [ -n "$b" ] || sa_fail "a run failed (iscsi-perf '$a', sanpath '$b'): $(tail -3 "$SA_TMP/sanpath.log")"
	printf "%-6s %12s %12s\n" "$r" "$a" "$b"
	best_perf=$(max "$best_perf" "$a")
	best_sp=$(max "$best_sp" "$b")
	tot_perf=$((tot_perf + a)) tot_sp=$((tot_sp + b))
done
echo "best: iscsi-perf $best_perf IOPS, sanpath $best_sp IOPS, ratio $(ratio "$best_sp" "$best_perf") (goal >= 0.95)"
echo "mean: iscsi-perf $((tot_perf / DP_ROUNDS)) IOPS, sanpath $((tot_sp / DP_ROUNDS)) IOPS, ratio $(ratio "$tot_sp" "$tot_perf")"
sa_stop_tgtd

# ---- 2. two shaped paths --------------------------------------------------------------
lab_up "$DP_RATE1" "$DP_RATE2"
echo
echo "== two paths in namespaces, tbf $DP_RATE1 and $DP_RATE2, 64 KiB random reads, 32 in flight"
a=$(perf_iops ip netns exec "$LAB_INI" -- "iscsi://$LAB_P1/$LAB_IQN/1" 128)
b=$(perf_iops ip netns exec "$LAB_INI" -- "iscsi://$LAB_P2/$LAB_IQN/1" 128)
[ -n "$a" ] && [ -n "$b" ] || sa_fail "iscsi-perf on the paths failed ('$a', '$b')"
sum=$((a + b))
mbs() { awk -v i="$1" 'BEGIN { printf "%.2f", i * 65536 / 1e6 }'; }
printf "%-40s %8s %9s %8s\n" run IOPS MB/s "vs sum"
printf "%-40s %8s %9s %8s\n" "iscsi-perf path 1 alone" "$a" "$(mbs "$a")" "-"
printf "%-40s %8s %9s %8s\n" "iscsi-perf path 2 alone" "$b" "$(mbs "$b")" "-"
printf "%-40s %8s %9s %8s\n" "anchor: sum of the paths" "$sum" "$(mbs "$sum")" "1.000"
team() {
	sp_iops ip netns exec "$LAB_INI" -- --target "$LAB_IQN" --lun 1 --portal "$LAB_P1" --portal "$LAB_P2" \
		--rw read --pattern rand --bs 64k --qd 32 "$@"
}
for run in "static 25/75 (matched)|--algo static --shares-read 25,75" \
	"static 50/50 (unmatched)|--algo static --shares-read 50,50" \
	"dynamic from 50/50 (converging)|--algo dynamic --dyn-interval 500 --dyn-change 2" \
	"round-robin|--algo rr" "queue-length|--algo ql" "service-time|--algo st"; do
	label=${run%%|*}
	# shellcheck disable=SC2086
	t=$(team ${run#*|})
	[ -n "$t" ] || sa_fail "sanpath $label failed: $(tail -3 "$SA_TMP/sanpath.log")"
	printf "%-40s %8s %9s %8s\n" "sanpath $label" "$t" "$(mbs "$t")" "$(ratio "$t" "$sum")"
	[ "$label" = "static 25/75 (matched)" ] && matched=$t
done
echo "shares matched to bandwidth: $(ratio "$matched" "$sum") x the sum of the paths (goal >= 0.95)"
exit 0
