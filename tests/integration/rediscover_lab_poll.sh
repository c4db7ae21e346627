#!/usr/bin/env bash
# rediscover_lab_poll.sh: seed 000's "the name server sees it by polling", across the namespace lab
# (rediscover_lab.bash).  The storage host's snmpd forwards nothing to the name server; the name-server agent polls
# the storage agent's sanStorSessionTable every second over SNMPv3 authPriv on the management net.  Host_1's heavy
# and Host_2's light I/O on X at interface 36: the name server knows both sessions from the polls alone (its
# feedback counters stay 0), Host_2's average rate falls under its threshold, and it decides (dry run, trigger
# poll; the rate must stay under it 4 s: a heavy workload's first window is slow too) naming Host_1, the largest
# share of the portal's bytes, the offender.  Both workloads end clean.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

sa_init rediscover_lab_poll
sa_need_plugin

M=.1.3.6.1.4.1.32473.1.3.4
C=$M.1.3      # sanRediscCounters: received .1, decisions .7, polls .13, poll failures .14
SESS=$M.1.8.1 # sanRediscSessionEntry
DEC=$M.1.10.1 # sanRediscDecisionEntry

rl_up 40mbit
RL_POLL_INTERVAL=1
RL_STO_PUSH=0
rl_agent_up ns "mode = \"dry-run\"; hold_time = 4;
  thresholds = ( { metric = \"tx_rate_avg\"; value = 400; direction = \"below\"; } );
  pool = [ \"192.0.2.4@eth36\" ];"
rl_agent_up sto "feedback_interval = 2;"
rl_agent_up h1
rl_agent_up h2
rl_login h1 1 "$RL_X" "$RL_STO36"
rl_login h2 1 "$RL_X" "$RL_STO36"
rl_io_heavy heavy h1 1
rl_io_light light h2 1
sa_log "Host_1 heavy and Host_2 light I/O on X at $RL_STO36; the name server polls $RL_STOM:161"

decided() { [ -n "$(rl_get ns "$DEC.3.1")" ]; }
sa_wait_for 60 decided ||
	sa_fail "no decision: counters $(rl_get1 ns "$C.1.0" "$C.7.0" "$C.13.0" "$C.14.0"); sessions $(rl_walk ns "$SESS.2")"
row=$(rl_get1 ns "$DEC.3.1" "$DEC.4.1" "$DEC.5.1" "$DEC.7.1" "$DEC.9.1" "$DEC.15.1" "$DEC.16.1")
sa_log "decision 1 (trigger source metric target old offender mode): $row"
case "$row" in
"3 \"poll@udp:$RL_STOM:161\" 3 \"$RL_X\" \"C0 00 02 03 \" \"$RL_H1_IQN\" 2") ;;
*) sa_fail "decision 1: $row" ;;
esac
for i in $(rl_walk ns "$SESS.2" | sed -n "s/^$SESS\.2\.\([0-9]*\) .*/\1/p"); do
	s=$(rl_get1 ns "$SESS.2.$i" "$SESS.5.$i" "$SESS.9.$i" "$SESS.12.$i" "$SESS.15.$i")
	sa_log "polled session $i (initiator portal avg-KiB/s bytes source): $s"
	case "$s" in *"\"C0 00 02 03 \""*"\"udp:$RL_STOM:161\"") ;; *) sa_fail "session $i: $s" ;; esac
done
# The name server starts first: its polls before the storage host's snmpd answered may have failed; from the
# decision on none does, and the polls go on.
read -r _ p0 f0 <<<"$(rl_get1 ns "$C.1.0" "$C.13.0" "$C.14.0")"
more_polls() { [ "$(rl_get ns "$C.13.0")" -ge $((p0 + 3)) ]; }
sa_wait_for 10 more_polls || sa_fail "polls stopped at $(rl_get ns "$C.13.0")"
ctr=$(rl_get1 ns "$C.1.0" "$C.13.0" "$C.14.0")
read -r received polls failures <<<"$ctr"
[ "$received" = 0 ] && [ "$failures" = "$f0" ] || sa_fail "name server counters: $ctr (failures before: $f0)"
sa_log "name server: $received feedback notifications, $polls polls, $failures failures (before the storage host was up)"
rl_io_finish heavy
rl_io_finish light
echo PASS
