#!/usr/bin/env bash
# agent_state_sigkill.sh: SIGKILL the agent while operators SET persistent values; every restart shows the last commit.
. "$(dirname "$0")/lib.sh"
sa_init agentkill
sa_start_snmpd
sa_start_agent
sa_wait_agent
OIDA=$SA_OID.1.2.1.3.4 # rediscover engine admin status: persisted as a nonVolatile override
rounds=${SA_KILL_ROUNDS:-15}
expect=""
for round in $(seq 1 "$rounds"); do
	: >"$SA_TMP/setter.log"
	(
		v=1
		while :; do
			echo "sending $v" >>"$SA_TMP/setter.log"
			sa_set "$OIDA" i "$v" >/dev/null 2>&1 && echo "acked $v" >>"$SA_TMP/setter.log"
			v=$((3 - v))
		done
	) &
	setter=$!
	# Wait until writes are flowing, then kill at a random point among them.
	sa_wait_for 10 grep -q acked "$SA_TMP/setter.log" || sa_fail "round $round: no SET acknowledged"
	sleep "0.0$((RANDOM % 10))"
	kill -9 "$SA_AGENT_PID"
	wait "$SA_AGENT_PID" 2>/dev/null
	kill "$setter"; wait "$setter" 2>/dev/null
	acked=$(grep acked "$SA_TMP/setter.log" | tail -n1 | awk '{print $2}')
	# In flight at the kill: the first SET sent after the last acknowledged one.  The setter goes
	# on sending (and failing) until it is stopped, so the last "sending" line can be a later one.
	sent=$(awk '/^acked/ { s = "" } /^sending/ && s == "" { s = $2 } END { print s }' "$SA_TMP/setter.log")
	sa_start_agent
	sa_wait_agent
	got=$(sa_get "$OIDA")
	# The last acknowledged SET was committed; one in flight when killed may or may not be.
	[ "$got" = "$acked" ] || [ "$got" = "$sent" ] || sa_fail "round $round: read $got, last acked $acked, in flight $sent"
	echo "round $round: acked=$acked in-flight=$sent after-restart=$got"
done
ls "$SA_TMP/state" | grep -q corrupt && sa_fail "state file was found corrupt: $(ls "$SA_TMP/state")"
echo PASS
