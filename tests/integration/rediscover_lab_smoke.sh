#!/usr/bin/env bash
# rediscover_lab_smoke.sh: the forced-rediscovery lab (rediscover_lab.bash, seed 000 Fig. 2) comes up and goes away:
# both initiator hosts discover X, Y and Z through both storage interfaces, the storage host's registrations are at
# isnsd on the name-server host, interface 36 is shaped, no lab address leaks into the root namespace.  The four
# agents answer through their own snmpd from the manager: the storage agent lists X, Y, Z; the initiator agents find
# them through iSNS and log in to X at interface 36, where Host_2's light and Host_1's heavy verified I/O run with
# zero errors and mismatches; an inform from Host_2's snmpd is counted by the name-server
# agent's trap receiver, and the manager's snmptrapd sees every agent's start.  After rl_down no namespace, daemon
# or agent of the lab is left.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

sa_init rediscover_lab_smoke
sa_need libiscsi-bin iscsi-ls
sa_need_plugin

rl_up 40mbit
targets() { rl_in "$1" iscsi-ls -i "$RL_IQN:$2" "iscsi://$3:3260" 2>/dev/null | sed -n 's/^Target:\([^ ]*\).*/\1/p' | sort | tr '\n' ' '; }
want="$RL_X $RL_Y $RL_Z "
for h in 1 2; do
	ns=RL_H$h
	for a in "$RL_STO36" "$RL_STO38"; do
		got=$(targets "${!ns}" "host$h" "$a")
		[ "$got" = "$want" ] || sa_fail "Host_$h via $a: targets '$got', want '$want'"
	done
done
sa_log "Host_1 and Host_2 discover X, Y, Z at $RL_STO36 (interface 36) and $RL_STO38 (interface 38)"

nodes=$(rl_isnsadm --list nodes 2>/dev/null | grep -c -e "$RL_X" -e "$RL_Y" -e "$RL_Z")
[ "$nodes" -ge 3 ] || sa_fail "isnsd lists $nodes of X, Y, Z"
rl_in "$RL_STO" tc qdisc show dev eth36 | grep -q tbf || sa_fail "no tbf on interface 36"
rl_in "$RL_STO" tc qdisc show dev eth38 | grep -q tbf && sa_fail "interface 38 is shaped too"
ip -o addr show | grep -q -e "$RL_STO36/" -e "$RL_NSM/" -e "$RL_H1M/" && sa_fail "a lab address is in the root namespace"
sa_log "isnsd has X, Y, Z; tbf on interface 36 only; no lab address outside the namespaces"

# ---- the agents --------------------------------------------------------------------------------------------
STOR_TGT=$SA_OID.3.1.1.13.1.2 # sanStorTargetName
DISC_TGT=$SA_OID.3.1.1.3.1.2  # sanDiscTargetName
RECV=$SA_OID.1.3              # sanTrapRecv: Received .1, Accepted .2, DroppedUnauth .3
START=$SA_OID.0.1             # sanAgentStart
RELOADED=$SA_OID.0.3          # sanAgentConfigReloaded
names_in() { rl_walk "$1" "$2" | sed -n 's/.*STRING: "\(.*\)"$/\1/p' | sort | tr '\n' ' '; }
has_xyz() { [ "$(names_in "$1" "$2")" = "$want" ]; }

rl_agents_up
for h in ns sto h1 h2; do
	[ "$(rl_get "$h" "$SA_OID.1.1.1.0")" != "" ] || sa_fail "agent of $h does not answer"
done
sa_log "4 agents answer through their snmpd at $RL_NSM, $RL_STOM, $RL_H1M, $RL_H2M"
sa_wait_for 10 has_xyz sto "$STOR_TGT" || sa_fail "storage agent's sanStorTargetTable: '$(names_in sto "$STOR_TGT")'"
for h in h1 h2; do
	sa_wait_for 20 has_xyz "$h" "$DISC_TGT" || sa_fail "$h discovered '$(names_in "$h" "$DISC_TGT")' through iSNS"
	rl_login "$h" 1 "$RL_X" "$RL_STO36"
done
sa_log "storage agent lists X, Y, Z; Host_1 and Host_2 discover them through iSNS and log in to X at $RL_STO36"
# tgt sees both initiators' sessions on X over interface 36.
for iqn in "$RL_H1_IQN" "$RL_H2_IQN"; do
	rl_tgt --op show --mode target | grep -q "Initiator: $iqn" || sa_fail "tgtd has no session of $iqn"
done
# The seed's workloads on X at interface 36: Host_2's light verified I/O alone, then with Host_1's heavy I/O
# competing for the shaped interface.  Their latencies are logged (figures, not thresholds); both end with every
# block verified.
rl_io_light light h2 1
sa_wait_for 20 eval '[ "$(rl_io_val light t | cut -d. -f1)" -ge 3 ]' || sa_fail "light workload stalled"
alone=$(rl_io_val light win_p99_us)
rl_io_heavy heavy h1 1
sa_wait_for 20 eval '[ "$(rl_io_val heavy t | cut -d. -f1)" -ge 4 ]' || sa_fail "heavy workload stalled"
sa_log "Host_2's light I/O p99 over 1 s: ${alone} us alone, $(rl_io_val light win_p99_us) us beside Host_1's heavy I/O ($(rl_io_val heavy bytes) bytes in $(rl_io_val heavy t) s)"
sa_log "sanSessionTable latency (portal avg max, us): Host_1 $(rl_session_latency h1 "$RL_X"); Host_2 $(rl_session_latency h2 "$RL_X")"
rl_io_finish heavy
rl_io_finish light

# Every agent's sanAgentStart reached the manager, from its host's snmpd.
for a in "$RL_NSM" "$RL_STOM" "$RL_H1M" "$RL_H2M"; do
	sa_wait_for 10 eval "grep -A3 '\[$a\]' '$SA_TMP/rl-snmptrapd.log' | grep -q '$START'" ||
		sa_fail "no sanAgentStart from $a at snmptrapd"
done
# An inform from Host_2's snmpd (its agent's sanAgentConfigReloaded) is acknowledged and counted by the
# name-server agent's receiver, in one PDU before and after.
recv() { rl_get1 ns "$RECV.1.0" "$RECV.2.0" "$RECV.3.0"; }
before=$(recv)
read -r r0 a0 u0 <<<"$before"
kill -HUP "$(rl_agent_pid h2)"
counted() { [ "$(recv)" = "$((r0 + 1)) $((a0 + 1)) $u0" ]; }
sa_wait_for 10 counted || sa_fail "name-server receiver counters $(recv), want one more received and accepted than $before"
sa_wait_for 10 eval "grep -A3 '\[$RL_H2M\]' '$SA_TMP/rl-snmptrapd.log' | grep -q '$RELOADED'" ||
	sa_fail "Host_2's sanAgentConfigReloaded not at snmptrapd"
sa_log "inform from Host_2's snmpd counted at the name server: $before -> $(recv)"
grep -q -e "$RL_HOST_AUTH" -e "$RL_STOR_PRIV" -e "$RL_MSG_AUTH" "$SA_TMP"/rl-*-sanagentd.log && sa_fail "a secret is in a log"

tgtd_pid=$RL_TGTD_PID isnsd_pid=$RL_ISNSD_PID
pids="${RL_AGENT_PIDS[*]} ${RL_SNMPD_PIDS[*]} $RL_TRAPD_PID"
names="$RL_SW $RL_STO $RL_NS $RL_H1 $RL_H2 $RL_MG"
nbdkits=$(pgrep -f -- "$SA_TMP/rl-h" | tr '\n' ' ')
rl_down
for n in $names; do
	ip netns list | grep -qw "$n" && sa_fail "namespace $n left after rl_down"
done
sa_pid_gone "$tgtd_pid" || sa_fail "tgtd left after rl_down"
sa_pid_gone "$isnsd_pid" || sa_fail "isnsd left after rl_down"
# By what they run, not only by the pid the lab kept: a daemon started through a shell function is a grandchild.
pgrep -f -- "$SA_TMP/rl-isnsd.conf" >/dev/null && sa_fail "an isnsd of the lab is still running: $(pgrep -af -- "$SA_TMP/rl-isnsd.conf")"
pgrep -f -- "tgtd -f -C $RL_CTL " >/dev/null && sa_fail "a tgtd of the lab is still running"
# A process that has exited but whose parent has not reaped it yet (an orphaned data plane waiting for init) is gone.
ended() { sa_pid_gone "$1" || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
for p in $pids $nbdkits; do
	sa_wait_for 10 ended "$p" || sa_fail "process $p ($(tr '\0' ' ' </proc/"$p"/cmdline)) left after rl_down"
done
sa_log "rl_down: 6 namespaces, tgtd, isnsd, 4 agents, 4 snmpd, snmptrapd, the data planes ($nbdkits) gone"
echo PASS
