#!/usr/bin/env bash
# rediscover_lab_team.sh: Host_2's I/O never stops during the move when its team has another path.  Seed 000's lab,
# act mode, port-only pool (192.0.2.3:3261): Host_2 runs light verified I/O on a two-path team to X (interface 36
# and interface 38), Host_1 heavy I/O on a login to X at interface 36.  After the storage agent's request the name
# server moves X's portal; Host_2's type 1 moves its team's path to the new port while the interface-38 path carries
# the I/O: its sessions to X end up at 192.0.2.3:3261 and 198.51.100.52:3260, its workload ends with zero errors,
# mismatches and reconnects (the longest gap between two completed operations is logged, not judged).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

sa_init rediscover_lab_team
sa_need_plugin

M=.1.3.6.1.4.1.32473.1.3.4
DEC=$M.1.10.1
NEW_PORT=3261

rl_up 40mbit
export RL_BALANCE_h2="teams = ( { name = \"x2\"; target = \"$RL_X\"; lun = 1;
    paths = ( { portal = \"$RL_STO36:3260\"; }, { portal = \"$RL_STO38:3260\"; } ); } );"
# An hour of hold time: the decision is the storage agent's request (see rediscover_lab_dryrun.sh).
rl_agent_up ns "mode = \"act\"; hold_time = 3600; pool = [ \"$RL_STO36:$NEW_PORT\" ];
  thresholds = ( { metric = \"latency\"; value = 30000; direction = \"above\"; } );"
rl_agent_up sto "feedback_interval = 2; competing_share = 70; competing_min_rate = 1024; competing_holdoff = 600;"
rl_agent_up h1 "feedback_interval = 2;"
rl_agent_up h2 "feedback_interval = 2;"
rl_login h1 1 "$RL_X" "$RL_STO36"
sa_wait_for 30 test -S "$SA_TMP/rl-h2-run/x2.sock" || sa_fail "Host_2's team x2 exports nothing: $(ls "$SA_TMP/rl-h2-run")"
two_paths() { [ "$(rl_session_latency h2 "$RL_X" | wc -l)" = 2 ]; }
sa_wait_for 30 two_paths || sa_fail "Host_2's team x2 has not both paths up: $(rl_session_latency h2 "$RL_X")"
sa_log "Host_2's team x2 on X: $(rl_session_latency h2 "$RL_X" | cut -d' ' -f1 | tr '\n' ' ')"
rl_io_heavy heavy h1 1
rl_io_light light h2 team:x2

finished() { case "$(rl_get ns "$DEC.17.1")" in 3 | 4) return 0 ;; esac; return 1; }
sa_wait_for 90 finished || sa_fail "no finished decision: state '$(rl_get ns "$DEC.17.1")'"
[ "$(rl_get ns "$DEC.17.1")" = 3 ] || sa_fail "decision 1 failed: $(rl_get ns "$DEC.21.1")"
sa_log "decision 1 done: offender $(rl_get ns "$DEC.15.1"), messages $(rl_get ns "$DEC.19.1")"
moved() { [ "$(rl_walk h2 "$RL_SESS.6" | grep -c ": $NEW_PORT$")" -ge 1 ]; }
sa_wait_for 30 moved || sa_fail "Host_2's team path did not move to port $NEW_PORT: $(rl_walk h2 "$RL_SESS.6")"
sa_log "Host_2's sessions to X after the move: $(rl_walk h2 "$RL_SESS.6" | sed 's/.* //' | tr '\n' ' ')"
settle=$(($(sa_now_ms) + 3000))
while [ "$(sa_now_ms)" -lt "$settle" ]; do rl_get ns "$DEC.17.1" >/dev/null; done
rl_io_finish heavy
rl_io_finish light
[ "$(rl_io_val light reconnects)" = 0 ] || sa_fail "Host_2's workload lost its export $(rl_io_val light reconnects) times"
sa_log "Host_2's longest gap between two completed operations: $(rl_io_val light gap_max_ms) ms"
echo PASS
