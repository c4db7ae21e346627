#!/usr/bin/env bash
# feedback_messages.sh: from a sanRediscoveryRequest arriving at the name-server agent to its first rediscovery
# message leaving it, over FM_N decisions in act mode, in the namespace lab (tests/integration/rediscover_lab.bash).
#
# The name server moves X each time to the pool's next portal (port-only: 192.0.2.3:3261, :3262, ...; cooldowns 0,
# cap 1000), which is a real move: the storage agent's sanStorPortalTable row (tgt), the sessions ended, iSNS updated.
# The group each decision judges is two sessions the "storage agent" reports just before (notify_flood as the
# storage user, from the storage host), of initiators whose agents are Host_1's and Host_2's trap receivers, so each
# decision sends one type 1 and one type 2 inform.  The request comes from the manager's address (notify_flood -n 1).
# Times are packet timestamps on the name server's mgmt interface (tshark): request in -> first message out.
# Anchor, same run and capture: a plain SNMPv2c inform from the name server's host to the manager's snmptrapd ->
# snmptrapd's response (delivery and acknowledgement), FM_N times.
# Goal (issue): <= 50 ms.  Knobs: FM_N (100).  Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"
# shellcheck source=../tests/integration/rediscover_lab.bash
. "$SA_SRCDIR/tests/integration/rediscover_lab.bash"

FM_N=${FM_N:-100}
FLOOD=$SA_BUILDDIR/tests/integration/notify_flood
sa_init bench-feedback-messages
[ -x "$FLOOD" ] || sa_skip "no $FLOOD: make -C build check builds it"
sa_need tshark tshark
sa_need snmp snmpinform
sa_need_plugin

M=.1.3.6.1.4.1.32473.1.3.4
DEC=$M.1.10.1
FAKE=$RL_IQN:bench
pool=""
for ((i = 1; i <= FM_N; i++)); do pool="$pool${pool:+, }\"$RL_STO36:$((3260 + i))\""; done

rl_up none
# Each portal a move lands on must be one the name server knows the storage agent serves, to move it again.
export RL_STO_MORE_PORTALS=$pool
export RL_NS_INITIATOR_AGENTS="{ initiator = \"$FAKE:s0\"; address = \"$RL_H1M:$RL_RX_PORT\"; },
                       { initiator = \"$FAKE:s1\"; address = \"$RL_H2M:$RL_RX_PORT\"; }"
rl_agent_up ns "mode = \"act\"; hold_time = 3600; target_cooldown = 0; portal_cooldown = 0; max_moves_per_hour = 1000;
  session_age_out = 3600; pool = [ $pool ];"
rl_agent_up sto
rl_agent_up h1
rl_agent_up h2

ip netns exec "$RL_NS" tshark -q -i ethm -f "udp port 162" -w "$SA_TMP/fm.pcap" >"$SA_TMP/rl-tshark.log" 2>&1 &
TSHARK=$!
SA_PIDS+=("$TSHARK")
sa_wait_for 10 grep -q "Capture started" "$SA_TMP/rl-tshark.log" || sa_fail "tshark did not start: $(cat "$SA_TMP/rl-tshark.log")"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
# ---- anchor: plain inform -> snmptrapd -> response -----------------------------------------------------------
for ((i = 0; i < FM_N; i++)); do
	rl_in "$RL_NS" snmpinform -v2c -c "$SA_TRAP_COMMUNITY" -t 2 -r 0 "$RL_MGM:162" '' .1.3.6.1.4.1.32473.1.0.3 >/dev/null 2>&1 ||
		sa_fail "plain inform $i to snmptrapd not acknowledged"
done

# ---- decisions -------------------------------------------------------------------------------------------------
state() { rl_get ns "$DEC.17.$1"; }
finished() { case "$(state "$1")" in 3 | 4) return 0 ;; esac; return 1; }
port=3260
for ((i = 1; i <= FM_N; i++)); do
	hex=$(printf 'C0000203')
	rl_in "$RL_STO" "$FLOOD" -n 2 -s 2 "$RL_NSM:$RL_RX_PORT" "$RL_STOR_USER" "$RL_STOR_AUTH" "$RL_STOR_PRIV" \
		feedback "$RL_X" "$hex" "$port" "$FAKE" >/dev/null || sa_fail "decision $i: session feedback not acknowledged"
	rl_in "$RL_MG" "$FLOOD" -n 1 -s 1 "$RL_NSM:$RL_RX_PORT" "$RL_STOR_USER" "$RL_STOR_AUTH" "$RL_STOR_PRIV" \
		request "$RL_X" "$hex" "$port" "$FAKE" "$FAKE:s0" >/dev/null || sa_fail "decision $i: request not acknowledged"
	sa_wait_for 30 finished "$i" || sa_fail "decision $i not finished: state $(state "$i"), $(rl_get ns "$DEC.21.$i")"
	[ "$(state "$i")" = 3 ] || sa_fail "decision $i failed: $(rl_get ns "$DEC.21.$i")"
	port=$(rl_get ns "$DEC.13.$i")
done
# The capture, parsed: the anchor's round trips and each request's first message to a host.
parse() {
	tshark -r "$SA_TMP/fm.pcap" -T fields -e frame.time_epoch -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
		>"$SA_TMP/fm.txt" 2>/dev/null || return 1
	awk -v ns="$RL_NSM" -v mg="$RL_MGM" -v h1="$RL_H1M" -v h2="$RL_H2M" '
		# anchor: the name server host -> snmptrapd inform, and snmptrapd -> name server host response
		$2 == ns && $4 == mg && $5 == 162 { a_out[$3] = $1 }
		$2 == mg && $3 == 162 && $4 == ns && ($5 in a_out) { printf "anchor %.3f\n", ($1 - a_out[$5]) * 1000; delete a_out[$5] }
		# a request from the manager; the first message after it to Host_1 or Host_2
		$2 == mg && $4 == ns && $5 == 162 { t_req = $1 }
		$2 == ns && ($4 == h1 || $4 == h2) && $5 == 162 && t_req { printf "decision %.3f\n", ($1 - t_req) * 1000; t_req = 0 }
	' "$SA_TMP/fm.txt" >"$SA_TMP/fm.ms"
}
captured() { parse && [ "$(grep -c "^decision " "$SA_TMP/fm.ms")" = "$FM_N" ]; }
# The last decision's two messages acknowledged: their packets have crossed the interface.  tshark (dumpcap) may
# still hold the last ones in its buffer, so the live file is read until every decision's first message is in it;
# then SIGINT, tshark's own stop.
acked() { [ "$(rl_get ns "$DEC.19.$FM_N" | grep -o '=acked' | wc -l)" = 2 ]; }
sa_wait_for 30 acked || sa_fail "decision $FM_N: messages not acknowledged: $(rl_get ns "$DEC.19.$FM_N")"
sa_wait_for 10 captured || sa_fail "the capture has $(grep -c "^decision " "$SA_TMP/fm.ms") of $FM_N decisions' first messages"
kill -INT "$TSHARK"
wait "$TSHARK" 2>/dev/null
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
parse || sa_fail "cannot read the capture"

stats() {
	grep "^$1 " "$SA_TMP/fm.ms" | cut -d' ' -f2 | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "n=%d median=%.2f ms p99=%.2f ms max=%.2f ms", NR, v[int((NR + 1) / 2)], v[(int(NR * 0.99) > 0 ? int(NR * 0.99) : 1)], v[NR] }'
}
echo "request -> first message: $(stats decision)"
echo "anchor (inform -> snmptrapd -> response): $(stats anchor)"
med() { grep "^$1 " "$SA_TMP/fm.ms" | cut -d' ' -f2 | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "ratio of medians: $(awk -v d="$(med decision)" -v a="$(med anchor)" 'BEGIN { printf "%.1f", (a > 0 ? d / a : 0) }')"
# Where the time goes: the name-server agent logs each move's steps (the storage agent's next index, the creating
# SET, the wait until the row reads active, iSNS, the sessions ended, the final write); medians over the moves.
sed -n 's/.*moved to .*(ms: \(.*\))$/\1/p' "$SA_TMP/rl-ns-sanagentd.log" | tr -d ',' |
	awk '{ for (i = 1; i < NF; i += 2) print $i, $(i + 1) }' >"$SA_TMP/fm.steps"
if [ -s "$SA_TMP/fm.steps" ]; then
	line="move steps, median/p99 ms over $(grep -c '^index ' "$SA_TMP/fm.steps") moves:"
	for k in index create wait isns sessions finish; do
		line+=" $k $(grep "^$k " "$SA_TMP/fm.steps" | cut -d' ' -f2 | sort -n |
			awk '{ v[NR] = $1 } END { p = int(NR * 0.99); print v[int((NR + 1) / 2)] "/" v[(p > 0 ? p : 1)] }')"
	done
	echo "$line"
fi
exit 0
