#!/usr/bin/env bash
# rediscover_lab_scenario.sh: seed 000's scenario end to end in the namespace lab (rediscover_lab.bash), act mode.
# Host_1 runs heavy I/O and Host_2 light verified I/O on X at interface 36 (tbf): the storage agent's feedback and
# request (or the initiators' latency) reach the name-server agent, which ends the sessions over 192.0.2.3, moves the
# portal to the pool's 192.0.2.4 (tgt and the storage host's interface 36), updates iSNS, sends type 1 to Host_2 and
# type 2 (interface 38) to Host_1; Host_2 logs in again at 192.0.2.4, Host_1 at 198.51.100.52.  Both workloads end
# with zero errors and mismatches, Host_2's latency is back under its threshold, the notifications reach the
# manager's snmptrapd, and the decision row tells the story.  SCEN_PORT_ONLY=1: the pool entry is 192.0.2.3:3261
# (the seed's port-only variant): the portal keeps its address and moves to a new port.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

PORT_ONLY=${SCEN_PORT_ONLY:-0}
sa_init "rediscover_lab_scenario$([ "$PORT_ONLY" = 1 ] && echo _port)"
sa_need_plugin

M=.1.3.6.1.4.1.32473.1.3.4
REQUEST=$M.0.2 TRIGGERED=$M.0.3 READDRESSED=$M.0.4
C=$M.1.3      # sanRediscCounters: decisions .7, moves .9, moves failed .10, messages .11
DEC=$M.1.10.1 # sanRediscDecisionEntry
LAT=30000     # us: Host_2's latency threshold
if [ "$PORT_ONLY" = 1 ]; then
	NEW_ADDR=$RL_STO36 NEW_PORT=3261 NEW_HEX="C0 00 02 03 " POOL="$RL_STO36:3261"
else
	NEW_ADDR=192.0.2.4 NEW_PORT=3260 NEW_HEX="C0 00 02 04 " POOL="192.0.2.4@eth36"
fi
ALT_HEX="C6 33 64 34 " # 198.51.100.52, interface 38

rl_up 40mbit
# Heavy I/O's own latency (256 KiB commands through the shaped link) is above Host_2's threshold too: an hour of
# hold time keeps the initiators' latency feedback from deciding by itself, so the decision is the storage agent's
# request (seed step 2), which names the offender from the bytes it sees.
rl_agent_up ns "mode = \"act\"; hold_time = 3600;
  thresholds = ( { metric = \"latency\"; value = $LAT; direction = \"above\"; } );
  pool = [ \"$POOL\" ];"
rl_agent_up sto "feedback_interval = 2; competing_share = 70; competing_min_rate = 1024; competing_holdoff = 600;"
rl_agent_up h1 "feedback_interval = 2;"
rl_agent_up h2 "feedback_interval = 2;"
rl_login h1 1 "$RL_X" "$RL_STO36"
rl_login h2 1 "$RL_X" "$RL_STO36"
# Heavy first: a window in which Host_2 alone moved bytes would make it the largest initiator.
rl_io_heavy heavy h1 1
rl_io_light light h2 1
sa_log "Host_1 heavy and Host_2 light I/O on X at $RL_STO36:3260"

# ---- the decision and the move ---------------------------------------------------------------------------------
decided() { [ -n "$(rl_get ns "$DEC.3.1")" ]; }
sa_wait_for 60 decided ||
	sa_fail "no decision at the name server: counters $(rl_get1 ns "$C.1.0" "$C.2.0" "$C.3.0" "$C.7.0" "$C.12.0")"
t_dec=$(sa_now_ms)
state() { rl_get ns "$DEC.17.1"; }
finished() { case "$(state)" in 3 | 4) return 0 ;; esac; return 1; }
sa_wait_for 60 finished || sa_fail "decision 1 still in state $(state) (1 recorded, 2 inProgress) 60 s later: the move (act mode) has not landed or hangs: $(rl_get ns "$DEC.21.1")"
[ "$(state)" = 3 ] || sa_fail "decision 1 failed: $(rl_get ns "$DEC.21.1")"
sa_log "decision 1 done in $(sa_secs_since "$t_dec") s"
row=$(rl_get1 ns "$DEC.7.1" "$DEC.9.1" "$DEC.10.1" "$DEC.12.1" "$DEC.13.1" "$DEC.15.1" "$DEC.16.1")
[ "$row" = "\"$RL_X\" \"C0 00 02 03 \" 3260 \"$NEW_HEX\" $NEW_PORT \"$RL_H1_IQN\" 3" ] ||
	sa_fail "decision 1 (target old port new port offender mode): $row"

# tgt and the storage host: the new portal, not the old one; iSNS has it.
tgt_portal() { rl_tgt --lld iscsi --op show --mode portal | grep -q "^Portal: $1:$2,"; }
tgt_portal "$NEW_ADDR" "$NEW_PORT" || sa_fail "tgt has no portal $NEW_ADDR:$NEW_PORT: $(rl_tgt --lld iscsi --op show --mode portal)"
# tgt's portals serve every target: the old one stays while Y and Z are still there (X's sessions on it ended, and
# iSNS no longer lists X there).
tgt_portal "$RL_STO36" 3260 && sa_log "tgt keeps $RL_STO36:3260 for Y and Z"
if [ "$PORT_ONLY" != 1 ]; then
	rl_in "$RL_STO" ip -o addr show dev eth36 | grep -q "$NEW_ADDR/" || sa_fail "$NEW_ADDR not on the storage host's eth36"
fi
isns_portal() {
	rl_isnsadm --list portals 2>/dev/null | awk -v a="$1" -v p="$2/tcp" '/^Object/ { ia = 0 }
		/Portal IP address/ && $NF == a { ia = 1 } /Portal TCP\/UDP port/ && $NF == p && ia { f = 1 } END { exit !f }'
}
isns_portal "$NEW_ADDR" "$NEW_PORT" || sa_fail "isnsd has no portal $NEW_ADDR:$NEW_PORT: $(rl_isnsadm --list portals 2>&1 | head -20)"
sa_log "portal moved: tgt and iSNS at $NEW_ADDR:$NEW_PORT"

# ---- the messages and the initiators' reaction -----------------------------------------------------------------
login_at() { [ "$(rl_get1 "$1" "$RL_LOGIN.4.1" "$RL_LOGIN.5.1" "$RL_LOGIN.11.1")" = "\"$2\" $3 1" ]; }
sa_wait_for 30 login_at h2 "$NEW_HEX" "$NEW_PORT" ||
	sa_fail "Host_2's login 1 (address port oper): $(rl_get1 h2 "$RL_LOGIN.4.1" "$RL_LOGIN.5.1" "$RL_LOGIN.11.1"), want $NEW_ADDR:$NEW_PORT up (type 1)"
sa_wait_for 30 login_at h1 "$ALT_HEX" 3260 ||
	sa_fail "Host_1's login 1 (address port oper): $(rl_get1 h1 "$RL_LOGIN.4.1" "$RL_LOGIN.5.1" "$RL_LOGIN.11.1"), want $RL_STO38:3260 up (type 2)"
sa_log "Host_2 logged in again at $NEW_ADDR:$NEW_PORT, Host_1 at $RL_STO38:3260 ($(sa_secs_since "$t_dec") s after the decision)"
msgs=$(rl_get ns "$DEC.19.1")
case "$msgs" in *"type1:$RL_H2_IQN@"*) ;; *) sa_fail "decision 1 messages: $msgs (no type 1 to Host_2)" ;; esac
case "$msgs" in *"type2:$RL_H1_IQN@"*) ;; *) sa_fail "decision 1 messages: $msgs (no type 2 to Host_1)" ;; esac

# ---- the workloads: on, verified, Host_2's latency back under its threshold --------------------------------------
settle=$(($(sa_now_ms) + 5000))
while [ "$(sa_now_ms)" -lt "$settle" ]; do rl_get ns "$C.9.0" >/dev/null; done
# The metric the threshold applies to is what Host_2's agent reports: its sessions' average latency.
sess=$(rl_session_latency h2 "$RL_X")
sa_log "Host_2 after the move: sessions (portal avg max, us) $sess; its workload's p99 over the last second $(rl_io_val light win_p99_us) us; threshold $LAT"
[ -n "$sess" ] || sa_fail "Host_2 has no session to X after the move"
while read -r _ avg _; do
	[ "$avg" -lt "$LAT" ] || sa_fail "Host_2's latency after the move: average $avg us, threshold $LAT"
done <<<"$sess"
rl_io_finish heavy
rl_io_finish light

# ---- every notification at the manager, and the story in the row ----------------------------------------------
for n in "$REQUEST" "$TRIGGERED" "$READDRESSED"; do
	sa_wait_for 10 rl_trap_seen "$n" || sa_fail "notification $n did not reach snmptrapd"
done
outcome_full() { local o; o=$(rl_get ns "$DEC.20.1"); case "$o" in *"$RL_H1_IQN@"*"$RL_H2_IQN@"* | *"$RL_H2_IQN@"*"$RL_H1_IQN@"*) return 0 ;; esac; return 1; }
sa_wait_for 20 outcome_full || sa_fail "decision 1 outcome: $(rl_get ns "$DEC.20.1")"
story=$(rl_get1 ns "$DEC.3.1" "$DEC.4.1" "$DEC.14.1" "$DEC.15.1" "$DEC.18.1" "$DEC.19.1" "$DEC.20.1")
sa_log "decision 1 (trigger source competing offender ended messages outcome): $story"
[ "$(rl_get ns "$DEC.18.1")" -ge 2 ] || sa_fail "decision 1 ended $(rl_get ns "$DEC.18.1") sessions, want both"
ctr=$(rl_get1 ns "$C.7.0" "$C.9.0" "$C.10.0" "$C.11.0")
[ "$ctr" = "1 1 0 2" ] || sa_fail "name server counters (decisions moves failed messages): $ctr"
echo PASS
