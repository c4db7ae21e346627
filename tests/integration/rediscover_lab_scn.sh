#!/usr/bin/env bash
# rediscover_lab_scn.sh: an initiator the name server has no agent for learns of a move through iSNS alone.  Seed
# 000's lab, act mode, with Host_2 missing from the name server's initiator_agents and both initiators' discovery
# interval an hour, so only isnsd's State Change Notification can make Host_2 query again: Host_1's heavy I/O on X at
# interface 36 beside Host_2's idle login makes the storage agent name Host_1; after the move the decision row says
# Host_2 is reached "@iSNS", Host_2's discovery ran again (SCN) within seconds and lists X at the new portal and not at
# the old one; Host_1 (type 2, through its agent) ends its workload with zero errors and mismatches.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

sa_init rediscover_lab_scn
sa_need_plugin

M=.1.3.6.1.4.1.32473.1.3.4
DEC=$M.1.10.1                 # sanRediscDecisionEntry
SRC=$SA_OID.3.1.1.2.1         # sanDiscSourceEntry: attempts .10
DPORT=$SA_OID.3.1.1.4.1       # sanDiscPortalEntry: address .3, port .4
# Port-only (the seed allows it): the portal keeps its address and gets a new TCP port.
NEW_PORT=3261

rl_up 40mbit
export RL_DISC_INTERVAL=3600
export RL_NS_INITIATOR_AGENTS="{ initiator = \"$RL_H1_IQN\"; address = \"$RL_H1M:$RL_RX_PORT\"; }"
rl_agent_up ns "mode = \"act\"; hold_time = 3600; pool = [ \"$RL_STO36:$NEW_PORT\" ];
  thresholds = ( { metric = \"latency\"; value = 30000; direction = \"above\"; } );"
rl_agent_up sto "feedback_interval = 2; competing_share = 70; competing_min_rate = 1024; competing_holdoff = 600;"
rl_agent_up h1 "feedback_interval = 2;"
rl_agent_up h2
rl_login h1 1 "$RL_X" "$RL_STO36"
rl_login h2 1 "$RL_X" "$RL_STO36"
# Host_2's discovered portals of X (sanDiscPortalTable is indexed by target, then portal) as ADDRESS_HEX:PORT.
portals_h2() {
	local x i v a
	x=$(rl_walk h2 "$SA_OID.3.1.1.3.1.2" | grep "\"$RL_X\"" | sed -n 's/^[.0-9]*\.\([0-9]*\) = .*/\1/p')
	[ -n "$x" ] || return 0
	for i in $(rl_walk h2 "$DPORT.3.$x" | sed -n "s/^$DPORT\.3\.$x\.\([0-9]*\) = .*/\1/p"); do
		v=$(rl_get1 h2 "$DPORT.3.$x.$i" "$DPORT.4.$x.$i")
		a=${v%\"*}
		a=${a#\"}
		echo "${a// /}:${v##* }"
	done | sort -u | tr '\n' ' '
}
sa_log "Host_2 discovered portals: $(portals_h2)"
attempts0=$(rl_get h2 "$SRC.10.1")
rl_io_heavy heavy h1 1

finished() { case "$(rl_get ns "$DEC.17.1")" in 3 | 4) return 0 ;; esac; return 1; }
sa_wait_for 90 finished ||
	sa_fail "no finished decision: state '$(rl_get ns "$DEC.17.1")' (1 recorded, 2 inProgress); the move (act mode) has not landed or hangs"
[ "$(rl_get ns "$DEC.17.1")" = 3 ] || sa_fail "decision 1 failed: $(rl_get ns "$DEC.21.1")"
t_moved=$(sa_now_ms)
msgs=$(rl_get ns "$DEC.19.1")
case "$msgs" in *"$RL_H2_IQN@iSNS"*) ;; *) sa_fail "decision 1 messages: $msgs (want Host_2 @iSNS)" ;; esac
sa_log "decision 1 done: messages $msgs"

has_new() { portals_h2 | grep -q "C0000203:$NEW_PORT "; }
sa_wait_for 20 has_new || sa_fail "Host_2's discovery does not list $RL_STO36:$NEW_PORT after the move: $(portals_h2)"
sa_log "Host_2 lists X at $RL_STO36:$NEW_PORT $(sa_secs_since "$t_moved") s after the move (discovery interval 3600 s)"
gone_old() { ! portals_h2 | grep -q "C0000203:3260 "; }
sa_wait_for 20 gone_old || sa_fail "Host_2's discovery still lists $RL_STO36:3260: $(portals_h2)"
attempts1=$(rl_get h2 "$SRC.10.1")
[ "$attempts1" -gt "$attempts0" ] || sa_fail "Host_2's iSNS source made no query since the move ($attempts0 -> $attempts1)"
sa_log "Host_2's iSNS queries: $attempts0 -> $attempts1 (SCN-driven)"
rl_io_finish heavy
echo PASS
