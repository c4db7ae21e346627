#!/usr/bin/env bash
# rediscover_relogin.sh: from a rediscovery message to the initiator logged in at the new address, against the same
# initiator's plain login time, measured in the same lab (tests/integration/rediscover_lab.bash, seed 000's Fig. 2).
#
# Anchor: Host_2's agent creates a login row to X at interface 38 (createAndGo, one SET) and logs in; RR_ANCHORS
# times, the row destroyed in between; from the SET's first packet in (udp 161) to the final Login Response.  Measured: the seed's scenario in act mode, port-only pool (192.0.2.3:3261):
# Host_1 heavy and Host_2 light I/O on X at interface 36, the storage agent's request, the move, the type-1 message to
# Host_2.  Times are packet times in Host_2's namespace (tshark): from the first packet of the message to its trap
# receiver (udp 162) to the final Login Response (status 0) from the new port.  One decision per lab (the
# cooldowns), so RR_ROUNDS labs.
# Goal: <= 1 s.  Prints each round, the median and the ratio to the anchor's median.
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"
# shellcheck source=../tests/integration/rediscover_lab.bash
. "$SA_SRCDIR/tests/integration/rediscover_lab.bash"

RR_ROUNDS=${RR_ROUNDS:-3}
RR_ANCHORS=${RR_ANCHORS:-5}
NEW_PORT=3261

sa_init bench-rediscover-relogin
sa_need_plugin

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# Packet times on Host_2's interfaces (tshark in its namespace): SNMP to its agent (161, 162) and iSCSI logins
# (3260, 3261, dissected as iSCSI).  "EPOCH KIND" lines: v3 (an SNMPv3 packet to udp 161), inform (any packet to
# udp 162), both to Host_2's mgmt address (its own notifications go out to 162 too), login3260 / login3261 (a final
# Login Response, status 0, from that port).
cap_start() {
	ip netns exec "$RL_H2" tshark -q -i any -f "udp dst port 161 or udp dst port 162 or tcp src port 3260 or tcp src port 3261" \
		-w "$SA_TMP/$1.pcap" >"$SA_TMP/$1.tshark.log" 2>&1 &
	CAP_PID=$!
	SA_PIDS+=("$CAP_PID")
	sa_wait_for 10 grep -q "Capturing on" "$SA_TMP/$1.tshark.log" || sa_fail "tshark did not start: $(cat "$SA_TMP/$1.tshark.log")"
}
# Not in a command substitution: wait needs the capture to be a child of this shell.
cap_stop() {
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
}
cap_events() {
	tshark -r "$SA_TMP/$1.pcap" -d tcp.port==3261,iscsi -T fields -E separator='|' -e frame.time_epoch -e ip.dst -e udp.dstport \
		-e snmp.msgVersion -e tcp.srcport -e iscsi.opcode -e iscsi.login.T -e iscsi.login.nsg -e iscsi.login.status 2>/dev/null |
		awk -F'|' -v me="$RL_H2M" '$2 == me && $3 == 161 && $4 == 3 { print $1, "v3" } $2 == me && $3 == 162 { print $1, "inform" }
			$5 != "" && $6 == "0x23" && $7 == 1 && ($8 == 3 || $8 == "0x03") && $9 == "0x0000" { print $1, "login" $5 }'
}
# ms between the first EVENT-A line after epoch-ms T and the first EVENT-B line after that.
span() {
	awk -v t="$1" -v a="$2" -v b="$3" '$1 * 1000 > t && $2 == a && !s { s = $1 } s && $1 >= s && $2 == b { printf "%d\n", ($1 - s) * 1000; exit }'
}

# One lab: the anchors, then the scenario; prints "anchor MS" lines and one "relogin MS" line.
round() {
	local i t v ev
	rl_up 40mbit
	sa_need tshark tshark
	rl_agent_up ns "mode = \"act\"; hold_time = 3600; pool = [ \"$RL_STO36:$NEW_PORT\" ];
	  thresholds = ( { metric = \"latency\"; value = 30000; direction = \"above\"; } );"
	rl_agent_up sto "feedback_interval = 2; competing_share = 70; competing_min_rate = 1024; competing_holdoff = 600;"
	rl_agent_up h1 "feedback_interval = 2;"
	rl_agent_up h2 "feedback_interval = 2;"
	# The anchor: the SET that creates the login row (its first SNMPv3 packet in) to the final Login Response.
	ROUND=$((${ROUND:-0} + 1))
	cap_start anchor$ROUND
	local starts=()
	for i in $(seq "$RR_ANCHORS"); do
		starts+=("$(sa_now_ms)")
		rl_login h2 9 "$RL_X" "$RL_STO38"
		rl_set h2 "$RL_LOGIN.18.9" i 6 >/dev/null || sa_fail "cannot destroy Host_2's login 9"
		gone() { [ -z "$(rl_get h2 "$RL_LOGIN.11.9")" ]; }
		sa_wait_for 20 gone || sa_fail "Host_2's login 9 still there"
	done
	cap_stop
	ev=$(cap_events anchor$ROUND)
	for t in "${starts[@]}"; do
		v=$(span "$t" v3 login3260 <<<"$ev")
		[ -n "$v" ] || sa_fail "anchor login after $t not in the capture: $ev"
		echo "anchor $v"
	done
	rl_login h1 1 "$RL_X" "$RL_STO36"
	rl_login h2 1 "$RL_X" "$RL_STO36"
	cap_start move$ROUND
	t=$(sa_now_ms)
	rl_io_heavy heavy h1 1
	rl_io_light light h2 1
	# The row takes the new port before its session moves: wait for the data plane's session there too.
	at_new() {
		[ "$(rl_get1 h2 "$RL_LOGIN.5.1" "$RL_LOGIN.11.1")" = "$NEW_PORT 1" ] &&
			rl_walk h2 "$RL_SESS.6" | grep -q ": $NEW_PORT$"
	}
	sa_wait_for 120 at_new || sa_fail "Host_2 never logged in at port $NEW_PORT: $(rl_get1 h2 "$RL_LOGIN.5.1" "$RL_LOGIN.11.1")"
	cap_stop
	ev=$(cap_events move$ROUND)
	v=$(span "$t" inform login$NEW_PORT <<<"$ev")
	[ -n "$v" ] || sa_fail "no message and login at $NEW_PORT in the capture: $ev"
	echo "relogin $v"
	rl_io_finish heavy
	rl_io_finish light
	rl_down
	trap 'sa_cleanup' EXIT
	# The next lab starts from nothing: the agents' state files would carry this round's decision over.
	rm -rf "$SA_TMP"/rl-*
}

out=$SA_TMP/rounds
: >"$out"
for r in $(seq "$RR_ROUNDS"); do
	round >>"$out" || exit 1
	sa_log "round $r: relogin $(grep '^relogin' "$out" | tail -n 1 | cut -d' ' -f2) ms, anchors $(grep '^anchor' "$out" | tail -n "$RR_ANCHORS" | cut -d' ' -f2 | tr '\n' ' ')ms"
done
a=$(grep '^anchor' "$out" | cut -d' ' -f2 | median)
m=$(grep '^relogin' "$out" | cut -d' ' -f2 | median)
echo "rediscover relogin benchmark: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  message -> logged in at the new address: $(grep '^relogin' "$out" | cut -d' ' -f2 | tr '\n' ' ')ms (median $m ms; goal <= 1000 ms)"
echo "  anchor, plain login of the same initiator: median $a ms over $(grep -c '^anchor' "$out") logins"
echo "  ratio relogin / plain login: $(awk -v m="$m" -v a="$a" 'BEGIN { printf "%.2f", (a > 0 ? m / a : 0) }')"
