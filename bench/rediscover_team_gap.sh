#!/usr/bin/env bash
# rediscover_team_gap.sh: the longest I/O gap of a team with another path while its target moves, against the same
# team's stall when one of its paths is killed, measured in the same lab (tests/integration/rediscover_lab.bash).
#
# Seed 000's lab, act mode, port-only pool (192.0.2.3:3261), as rediscover_lab_team.sh: Host_2 runs light verified
# I/O (4 KiB every 20 ms, each read back: rl_nbd_io.py) on a two-path team to X (interfaces 36 and 38), Host_1 heavy
# I/O on a login to X at interface 36.  Measured: the workload's longest gap between two completed operations
# (gap_max_ms) over the whole move, from before the decision to 3 s after Host_2's path reads the new port.
# Anchor: after the move, a new light workload on the same team while tgt resets the connection of the team's
# interface-38 path (tgtadm --op delete --mode conn: the target side kills it, as bench/failover_stall.sh's "hard"
# case); its gap_max_ms is the stall of a killed path.  Both workloads must end with zero errors and mismatches.
# Goal: 0 application errors and a longest gap <= 100 ms.  TG_ROUNDS labs (one decision per lab: the cooldowns).
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"
# shellcheck source=../tests/integration/rediscover_lab.bash
. "$SA_SRCDIR/tests/integration/rediscover_lab.bash"

TG_ROUNDS=${TG_ROUNDS:-3}
NEW_PORT=3261
DEC=.1.3.6.1.4.1.32473.1.3.4.1.10.1

sa_init bench-rediscover-team-gap
sa_need_plugin

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# tgt's connections of Host_2 from its interface-38 address to X: "SID CID" lines.
h2_conns_38() {
	rl_tgt --lld iscsi --op show --mode conn --tid 1 | awk -v ip="$RL_H2_38" '
		/^Session:/ { sid = $2 } /Connection:/ { cid = $2 } /IP Address:/ && $3 == ip { print sid, cid }'
}

round() {
	local sid cid
	rl_up 40mbit
	export RL_BALANCE_h2="teams = ( { name = \"x2\"; target = \"$RL_X\"; lun = 1;
	    paths = ( { portal = \"$RL_STO36:3260\"; }, { portal = \"$RL_STO38:3260\"; } ); } );"
	rl_agent_up ns "mode = \"act\"; hold_time = 3600; pool = [ \"$RL_STO36:$NEW_PORT\" ];
	  thresholds = ( { metric = \"latency\"; value = 30000; direction = \"above\"; } );"
	rl_agent_up sto "feedback_interval = 2; competing_share = 70; competing_min_rate = 1024; competing_holdoff = 600;"
	rl_agent_up h1 "feedback_interval = 2;"
	rl_agent_up h2 "feedback_interval = 2;"
	rl_login h1 1 "$RL_X" "$RL_STO36"
	sa_wait_for 30 test -S "$SA_TMP/rl-h2-run/x2.sock" || sa_fail "Host_2's team x2 exports nothing"
	two_paths() { [ "$(rl_session_latency h2 "$RL_X" | wc -l)" = 2 ]; }
	sa_wait_for 30 two_paths || sa_fail "Host_2's team x2 has not both paths up"
	rl_io_heavy heavy h1 1
	rl_io_light light h2 team:x2
	finished() { case "$(rl_get ns "$DEC.17.1")" in 3 | 4) return 0 ;; esac; return 1; }
	sa_wait_for 120 finished || sa_fail "no finished decision"
	[ "$(rl_get ns "$DEC.17.1")" = 3 ] || sa_fail "decision 1 failed: $(rl_get ns "$DEC.21.1")"
	moved() { [ "$(rl_walk h2 "$RL_SESS.6" | grep -c ": $NEW_PORT$")" -ge 1 ]; }
	sa_wait_for 30 moved || sa_fail "Host_2's team path did not move to port $NEW_PORT"
	local settle=$(($(sa_now_ms) + 3000))
	while [ "$(sa_now_ms)" -lt "$settle" ]; do rl_get ns "$DEC.17.1" >/dev/null; done
	rl_io_finish light
	echo "move $(rl_io_val light gap_max_ms) $(rl_io_val light errors)"
	# The anchor: the same team, the same workload, a path killed by the target.
	rl_io_light killed h2 team:x2
	settle=$(($(sa_now_ms) + 2000))
	while [ "$(sa_now_ms)" -lt "$settle" ]; do rl_get ns "$DEC.17.1" >/dev/null; done
	read -r sid cid < <(h2_conns_38)
	[ -n "${sid:-}" ] || sa_fail "no connection of Host_2 from $RL_H2_38 in tgt: $(rl_tgt --lld iscsi --op show --mode conn --tid 1)"
	rl_tgt --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid "$cid" || sa_fail "tgtadm could not reset Host_2's connection"
	settle=$(($(sa_now_ms) + 4000))
	while [ "$(sa_now_ms)" -lt "$settle" ]; do rl_get ns "$DEC.17.1" >/dev/null; done
	rl_io_finish killed
	echo "kill $(rl_io_val killed gap_max_ms) $(rl_io_val killed errors)"
	rl_io_finish heavy
	rl_down
	trap 'sa_cleanup' EXIT
	# The next lab starts from nothing: the agents' state files would carry this round's decision over.
	rm -rf "$SA_TMP"/rl-*
}

out=$SA_TMP/rounds
: >"$out"
for r in $(seq "$TG_ROUNDS"); do
	round >>"$out" || exit 1
	sa_log "round $r: $(grep -E '^(move|kill) ' "$out" | tail -n 2 | tr '\n' ' ')"
done
m=$(grep '^move ' "$out" | cut -d' ' -f2 | median)
k=$(grep '^kill ' "$out" | cut -d' ' -f2 | median)
echo "rediscover team gap benchmark: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  longest I/O gap of Host_2's two-path team during the move: $(grep '^move ' "$out" | cut -d' ' -f2 | tr '\n' ' ')ms (median $m ms; goal <= 100 ms), application errors $(grep '^move ' "$out" | awk '{ s += $3 } END { print s + 0 }')"
echo "  anchor, the same team with a path killed by the target: $(grep '^kill ' "$out" | cut -d' ' -f2 | tr '\n' ' ')ms (median $k ms)"
echo "  ratio move / killed path: $(awk -v m="$m" -v k="$k" 'BEGIN { printf "%.2f", (k > 0 ? m / k : 0) }')"
