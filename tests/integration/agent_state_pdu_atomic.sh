#!/usr/bin/env bash
# agent_state_pdu_atomic.sh: SIGKILL the agent during a stream of 10-row create and destroy PDUs; each PDU's rows are all there or all gone.
. "$(dirname "$0")/lib.sh"
sa_init pduatomic
sa_start_snmpd
sa_start_agent
sa_wait_agent
CRED=$SA_OID.3.1.1.6.1 # sanCredEntry: user .2, secret .3, row status .8; one state key per row
SECRET=Chap-Secret-42
rounds=${SA_PDU_KILL_ROUNDS:-8}
rows=10

# PDU number n works on batch b = n/2 (rows 10b+1 .. 10b+10): even n creates them (30 varbinds), odd n destroys them
# (10 varbinds).  Batches never repeat, so the state on disk tells which PDUs were applied.
create_args() {
	local b=$1 i
	for i in $(seq $((b * rows + 1)) $((b * rows + rows))); do
		printf '%s ' "$CRED.2.$i" s "user$i" "$CRED.3.$i" s "$SECRET" "$CRED.8.$i" i 4
	done
}
destroy_args() {
	local b=$1 i
	for i in $(seq $((b * rows + 1)) $((b * rows + rows))); do printf '%s ' "$CRED.8.$i" i 6; done
}
# Rows of batch b in the state on disk (the agent is dead when this runs).
on_disk() { sa_state_dump | grep -cE "^login\.cred\.($(seq -s '|' $(($1 * rows + 1)) $(($1 * rows + rows))))	" || true; }

# setter N: sends PDUs N, N+1, ... until one fails (the agent was killed).
setter() {
	local n=$1 args
	while :; do
		if [ $((n % 2)) = 0 ]; then args=$(create_args $((n / 2))); else args=$(destroy_args $((n / 2))); fi
		echo "sending $n" >>"$SA_TMP/setter.log"
		# shellcheck disable=SC2086
		sa_set $args >/dev/null 2>&1 || return 0
		echo "acked $n" >>"$SA_TMP/setter.log"
		n=$((n + 1))
	done
}

n=0
for round in $(seq 1 "$rounds"); do
	: >"$SA_TMP/setter.log"
	setter "$n" &
	setter_pid=$!
	sa_wait_for 20 grep -q acked "$SA_TMP/setter.log" || sa_fail "round $round: no SET acknowledged"
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 "$SA_AGENT_PID"
	wait "$SA_AGENT_PID" 2>/dev/null
	wait "$setter_pid" 2>/dev/null # its SET in flight fails now that the agent is gone
	first=$n
	last_acked=$(grep acked "$SA_TMP/setter.log" | tail -n1 | awk '{print $2}')
	[ -n "$last_acked" ] || sa_fail "round $round: nothing acknowledged"
	inflight=$((last_acked + 1))
	# Every batch touched this round: all rows or none, and what was acknowledged is there.
	for k in $(seq $((first / 2)) $((inflight / 2))); do
		got=$(on_disk "$k")
		[ "$got" = 0 ] || [ "$got" = "$rows" ] || sa_fail "round $round: batch $k torn: $got of $rows rows on disk"
		create=$((2 * k)) destroy=$((2 * k + 1))
		if [ "$destroy" -le "$last_acked" ]; then
			want=0
		elif [ "$create" -le "$last_acked" ]; then
			want=$rows
			# The destroy in flight may or may not have been committed.
			[ "$destroy" = "$inflight" ] && [ "$got" = 0 ] && want=0
		else
			want=0
			[ "$create" = "$inflight" ] && [ "$got" = "$rows" ] && want=$rows
		fi
		[ "$got" = "$want" ] || sa_fail "round $round: batch $k has $got rows on disk, want $want (last acked PDU $last_acked)"
	done
	echo "round $round: PDUs $first..$last_acked acknowledged, PDU $inflight in flight; batches $((first / 2))..$((inflight / 2)) whole"
	# Go on after what is on disk: a destroy of rows that are gone would be refused.
	k=$((inflight / 2))
	if [ "$(on_disk "$k")" = "$rows" ]; then n=$((2 * k + 1)); else n=$((2 * k + 2)); fi
	sa_start_agent
	sa_wait_agent
	# The restarted agent serves what is on disk.
	st=$(sa_get "$CRED.8.$((k * rows + 1))")
	if [ $((n % 2)) = 1 ]; then
		[ "$st" = 1 ] || sa_fail "round $round: row $((k * rows + 1)) is on disk but the agent says \"$st\""
	fi
done
ls "$SA_TMP/state" | grep -q corrupt && sa_fail "state was found corrupt: $(ls "$SA_TMP/state")"
echo PASS
