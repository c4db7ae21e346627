#!/usr/bin/env bash
# rediscover_lab_messages.sh: the rediscovery messages across the namespace lab (rediscover_lab.bash, seed 000
# Fig. 2).  Host_1 (heavy verified I/O) and Host_2 (light verified I/O) are logged in to X at interface 36; the
# name server, in act mode, moves X off 192.0.2.3 to the pool's 192.0.2.4 naming Host_1 the offender.  It sends
# sanRediscover to Host_2's agent and sanRediscoverAlternative (X at interface 38, the storage agent's other
# portal) to Host_1's agent, as SNMPv3 authPriv informs over the management net; both are acknowledged in the
# decision row.  Host_2 logs in again at 192.0.2.4, Host_1 at 198.51.100.52 and never at 192.0.2.3 for X again; both
# keep their team, and both workloads end with zero errors and zero mismatches.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

sa_init rediscover_lab_messages
sa_need_plugin

M=.1.3.6.1.4.1.32473.1.3.4
CTL=$M.1.11   # sanRediscControls
DEC=$M.1.10.1 # sanRediscDecisionEntry: new address .12, state .17, messages .19, error .21
C=$M.1.3      # sanRediscCounters: messages .11
R=$M.1.13     # sanRediscReaction: received .1, type1 .2, type2 .3, logins moved .7, avoided .8
POOL=192.0.2.4

rl_up none
# The pool's address is on the storage host's interface 36 already: what is under test here is the messages (the
# move adding it itself is rediscover_move.sh's and the lab scenario's).
rl_in "$RL_STO" ip addr add "$POOL/24" dev eth36 || sa_fail "cannot add $POOL on the storage host"
rl_agent_up ns "mode = \"act\"; hold_time = 0; target_cooldown = 300; portal_cooldown = 300;
  pool = [ \"$POOL\" ];"
# The storage agent reports sessions; it sends no request of its own (the test names the offender).
rl_agent_up sto "feedback_interval = 2; competing_min_rate = 0;"
rl_agent_up h1
rl_agent_up h2
rl_login h1 1 "$RL_X" "$RL_STO36"
rl_login h2 1 "$RL_X" "$RL_STO36"
T1=$(rl_get h1 "$RL_LOGIN.15.1")
T2=$(rl_get h2 "$RL_LOGIN.15.1")
rl_io_heavy heavy h1 1
rl_io_light light h2 1
known() { [ "$(rl_walk ns "$M.1.8.1.2" | grep -c -e "\"$RL_H1_IQN\"" -e "\"$RL_H2_IQN\"")" = 2 ]; }
sa_wait_for 30 known || sa_fail "the name server does not know both sessions: $(rl_walk ns "$M.1.8.1.2")"
sa_log "Host_1 (team $T1) heavy and Host_2 (team $T2) light I/O on X at $RL_STO36; the name server knows both"

# ---- the move, Host_1 the offender --------------------------------------------------------------------------
t0=$(sa_now_ms)
rl_set ns "$CTL.1.0" s "$RL_X" "$CTL.2.0" i 1 "$CTL.3.0" x C0000203 "$CTL.4.0" u 3260 "$CTL.5.0" s "$RL_H1_IQN" \
	"$CTL.6.0" i 2 >/dev/null || sa_fail "sanRediscTrigger refused"
done_state() { [ "$(rl_get ns "$DEC.17.1")" = 3 ]; }
sa_wait_for 60 done_state || sa_fail "decision 1: $(rl_get1 ns "$DEC.17.1" "$DEC.21.1")"
sa_log "decision 1 done $(($(sa_now_ms) - t0)) ms after the trigger: new address $(rl_get ns "$DEC.12.1")"
WANT="\"type1:$RL_H2_IQN@$RL_H2M:$RL_RX_PORT=acked type2:$RL_H1_IQN@$RL_H1M:$RL_RX_PORT=acked,alt=$RL_STO38:3260\""
acked() { [ "$(rl_get ns "$DEC.19.1")" = "$WANT" ]; }
sa_wait_for 20 acked || sa_fail "decision 1 messages: $(rl_get ns "$DEC.19.1"), want $WANT"
sa_log "decision 1 messages: $WANT ($(($(sa_now_ms) - t0)) ms after the trigger)"
[ "$(rl_get ns "$C.11.0")" = 2 ] || sa_fail "sanRediscMessagesSent $(rl_get ns "$C.11.0"), want 2"

# ---- the initiators' reaction ------------------------------------------------------------------------------------
at() { [ "$(rl_get1 "$1" "$RL_LOGIN.2.1" "$RL_LOGIN.4.1" "$RL_LOGIN.11.1" "$RL_LOGIN.15.1")" = "\"$RL_X\" \"$2\" 1 $3" ]; }
sa_wait_for 30 at h2 "C0 00 02 04 " "$T2" ||
	sa_fail "Host_2's login: $(rl_get1 h2 "$RL_LOGIN.2.1" "$RL_LOGIN.4.1" "$RL_LOGIN.11.1" "$RL_LOGIN.15.1")"
sa_log "Host_2 up at $POOL with team $T2 $(($(sa_now_ms) - t0)) ms after the trigger"
sa_wait_for 30 at h1 "C6 33 64 34 " "$T1" ||
	sa_fail "Host_1's login: $(rl_get1 h1 "$RL_LOGIN.2.1" "$RL_LOGIN.4.1" "$RL_LOGIN.11.1" "$RL_LOGIN.15.1")"
sa_log "Host_1 up at $RL_STO38 with team $T1 $(($(sa_now_ms) - t0)) ms after the trigger"
r2=$(rl_get1 h2 "$R.1.0" "$R.2.0" "$R.3.0" "$R.7.0" "$R.8.0")
r1=$(rl_get1 h1 "$R.1.0" "$R.2.0" "$R.3.0" "$R.7.0" "$R.8.0")
[ "$r2" = "1 1 0 1 0" ] || sa_fail "Host_2's sanRediscReaction: $r2"
[ "$r1" = "1 0 1 1 1" ] || sa_fail "Host_1's sanRediscReaction: $r1"
sa_log "Host_2: $(rl_get h2 "$R.9.0"); Host_1: $(rl_get h1 "$R.9.0")"
# The data planes' connections: Host_2 to the new address, Host_1 to interface 38, neither to 192.0.2.3.
conn() { rl_in "$(rl_host_ns "$1")" ss -Htn state established "dst $2 and dport = :3260" | grep -q .; }
sa_wait_for 10 conn h2 "$POOL" || sa_fail "Host_2 has no connection to $POOL"
sa_wait_for 10 conn h1 "$RL_STO38" || sa_fail "Host_1 has no connection to $RL_STO38"
for h in h1 h2; do conn "$h" "$RL_STO36" && sa_fail "$h still connected to $RL_STO36"; done
rl_io_finish heavy
rl_io_finish light
echo PASS
