#!/usr/bin/env bash
# agent_reconnect.sh: the agent starts before the master, and re-registers after a master restart, within 5 s.
. "$(dirname "$0")/lib.sh"
sa_init reconnect
SA_SNMP_PORT=$(sa_free_port udp)
SA_TRAP_PORT=$(sa_free_port udp)
sa_start_agent
sa_wait_for 5 grep -q . "$SA_TMP/sanagentd.log" || true
kill -0 "$SA_AGENT_PID" || sa_fail "agent exited without a master"
sa_start_snmpd
t0=$(date +%s.%N)
sa_wait_for 5 sa_agent_serving || sa_fail "not served within 5 s of the master starting"
echo "served $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN{printf "%.2f", a-b}') s after the master answered"
for round in 1 2 3; do
	sa_stop_pid "$SA_SNMPD_PID"
	sa_start_snmpd
	t0=$(date +%s.%N)
	sa_wait_for 5 sa_agent_serving || sa_fail "round $round: not served again within 5 s of the master restart"
	echo "round $round: served again $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN{printf "%.2f", a-b}') s after the master answered"
done
kill -0 "$SA_AGENT_PID" || sa_fail "agent died"
echo PASS
