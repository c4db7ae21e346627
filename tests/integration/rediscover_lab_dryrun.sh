#!/usr/bin/env bash
# rediscover_lab_dryrun.sh: seed 000's scenario in the namespace lab (rediscover_lab.bash) with the name server in
# dry-run: Host_1's heavy I/O and Host_2's light verified I/O compete on X at interface 36; the storage agent's and
# the initiators' feedback reach the name-server agent over v3 authPriv informs, which decides (a decision row naming
# the competing group, Host_1 as the offender, the pool's address as the new one) and says so (sanRediscoveryTriggered
# at the manager's snmptrapd, from the name server's snmpd), and nothing moves: tgt keeps the portal, no address is
# added, both logins stay up at interface 36, no message is sent, both workloads end with zero errors and mismatches.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

sa_init rediscover_lab_dryrun
sa_need_plugin

M=.1.3.6.1.4.1.32473.1.3.4
TRIGGERED=$M.0.3
C=$M.1.3      # sanRediscCounters: decisions .7, moves .9, messages .11
DEC=$M.1.10.1 # sanRediscDecisionEntry
POOL=192.0.2.4

rl_up 40mbit
# Heavy I/O's own latency (256 KiB commands through the shaped link) is above Host_2's threshold too: an hour of
# hold time keeps the initiators' latency feedback from deciding by itself, so the decision is the storage agent's
# request (seed step 2), which names the offender from the bytes it sees.
rl_agent_up ns "mode = \"dry-run\"; hold_time = 3600;
  thresholds = ( { metric = \"latency\"; value = 30000; direction = \"above\"; } );
  pool = [ \"$POOL@eth36\" ];"
rl_agent_up sto "feedback_interval = 2; competing_share = 70; competing_min_rate = 1024; competing_holdoff = 600;"
rl_agent_up h1 "feedback_interval = 2;"
rl_agent_up h2 "feedback_interval = 2;"
rl_login h1 1 "$RL_X" "$RL_STO36"
rl_login h2 1 "$RL_X" "$RL_STO36"
# Heavy first: a window in which Host_2 alone moved bytes would make it the largest initiator.
rl_io_heavy heavy h1 1
rl_io_light light h2 1
sa_log "Host_1 heavy and Host_2 light I/O on X at $RL_STO36"

decided() { [ -n "$(rl_get ns "$DEC.3.1")" ]; }
sa_wait_for 60 decided ||
	sa_fail "no decision at the name server: counters $(rl_get1 ns "$C.1.0" "$C.2.0" "$C.3.0" "$C.7.0" "$C.12.0"); sessions $(rl_walk ns "$M.1.8.1.2")"
row=$(rl_get1 ns "$DEC.3.1" "$DEC.7.1" "$DEC.9.1" "$DEC.10.1" "$DEC.12.1" "$DEC.15.1" "$DEC.16.1" "$DEC.17.1")
sa_log "decision 1 (trigger target old port new offender mode state): $row"
case "$row" in
[12]" \"$RL_X\" \"C0 00 02 03 \" 3260 \"C0 00 02 04 \" \"$RL_H1_IQN\" 2 1") ;;
*) sa_fail "decision 1: $row" ;;
esac
competing=$(rl_get ns "$DEC.14.1")
case "$competing" in *"$RL_H1_IQN"*"$RL_H2_IQN"* | *"$RL_H2_IQN"*"$RL_H1_IQN"*) ;;
*) sa_fail "decision 1 competing: $competing" ;; esac
sa_log "decision 1: competing $competing; messages planned $(rl_get ns "$DEC.19.1")"
from_ns() { grep -A2 "\[$RL_NSM\]" "$SA_TMP/rl-snmptrapd.log" | grep -q "$TRIGGERED"; }
sa_wait_for 10 from_ns || sa_fail "sanRediscoveryTriggered from the name server's snmpd not at snmptrapd"

# ---- nothing moved ---------------------------------------------------------------------------------------------
# The workloads run on for a few seconds after the decision: a move would show in them and in tgt.
t_end=$(($(sa_now_ms) + 4000))
while [ "$(sa_now_ms)" -lt "$t_end" ]; do rl_get ns "$C.9.0" >/dev/null; done
rl_tgt --lld iscsi --op show --mode portal | grep -q "^Portal: $RL_STO36:3260," || sa_fail "tgt lost portal $RL_STO36:3260"
rl_tgt --lld iscsi --op show --mode portal | grep -q "$POOL" && sa_fail "tgt has the pool's $POOL in dry-run"
rl_in "$RL_STO" ip -o addr show | grep -q "$POOL/" && sa_fail "$POOL was added on the storage host in dry-run"
for h in h1 h2; do
	st=$(rl_get1 "$h" "$RL_LOGIN.4.1" "$RL_LOGIN.11.1")
	[ "$st" = '"C0 00 02 03 " 1' ] || sa_fail "$h's login 1 (address, oper) after the dry-run decision: $st"
done
ctr=$(rl_get1 ns "$C.7.0" "$C.9.0" "$C.11.0")
case "$ctr" in "1 0 0" | [1-9]" 0 0") ;; *) sa_fail "name server counters (decisions moves messages): $ctr" ;; esac
sa_log "nothing moved: tgt portal, storage addresses and both logins unchanged; decisions/moves/messages $ctr"
rl_io_finish heavy
rl_io_finish light
echo PASS
