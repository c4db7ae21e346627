#!/usr/bin/env bash
# rediscover_lab_smoke.sh: the forced-rediscovery lab (rediscover_lab.bash, seed 000 Fig. 2) comes up and goes away:
# both initiator hosts discover X, Y and Z through both storage interfaces, the storage host's registrations are at
# isnsd on the name-server host, interface 36 is shaped, no lab address leaks into the root namespace, and after
# rl_down no namespace, tgtd or isnsd of the lab is left.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

sa_init rediscover_lab_smoke
sa_need libiscsi-bin iscsi-ls

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

tgtd_pid=$RL_TGTD_PID isnsd_pid=$RL_ISNSD_PID
names="$RL_SW $RL_STO $RL_NS $RL_H1 $RL_H2"
rl_down
for n in $names; do
	ip netns list | grep -qw "$n" && sa_fail "namespace $n left after rl_down"
done
sa_pid_gone "$tgtd_pid" || sa_fail "tgtd left after rl_down"
sa_pid_gone "$isnsd_pid" || sa_fail "isnsd left after rl_down"
sa_log "rl_down: 5 namespaces, tgtd and isnsd gone"
echo PASS
