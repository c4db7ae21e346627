#!/usr/bin/env bash
# trap_drop_log.sh: 2,000 forged and broken datagrams make a few summary log lines whose counts match the drop counters.
. "$(dirname "$0")/lib.sh"
sa_init trapdrop
sa_need python3 python3
sa_start_snmpd
RX=$(sa_free_port udp)
sa_agent_conf "trap_receiver = {
  listen = \"udp:127.0.0.1:$RX\";
  communities = ( { community = \"feeder\"; sources = [ \"127.0.0.1/32\" ]; } );
};"
sa_start_agent
sa_wait_agent
sa_wait_for 5 sa_udp_listening "$RX" || sa_fail "receiver not listening on $RX"
# received accepted unauth malformed, in one PDU
counters() { sa_get $SA_OID.1.3.1.0 $SA_OID.1.3.2.0 $SA_OID.1.3.3.0 $SA_OID.1.3.4.0 | tr '\n' ' '; }
read -r r0 a0 u0 m0 <<<"$(counters)"

# 1,000 real snmptrap datagrams with a forged community (captured once, sent again) and 1,000 of garbage,
# interleaved, paced so the receive buffer never overflows.
python3 - "$RX" <<'EOF' || sa_fail "cannot send the datagrams"
import socket, subprocess, sys, time
rx = int(sys.argv[1])
cap = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
cap.bind(("127.0.0.1", 0))
cap.settimeout(5)
subprocess.run(["snmptrap", "-v2c", "-c", "forged", "127.0.0.1:%d" % cap.getsockname()[1], "",
                ".1.3.6.1.4.1.32473.99.1"], check=True)
forged = cap.recv(65535)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(forged if i % 2 == 0 else b"not snmp at all %d" % i, ("127.0.0.1", rx))
    if i % 50 == 49:
        time.sleep(0.01)
EOF
sa_wait_for 10 eval '[ "$(counters | cut -d" " -f1)" -ge $((r0 + 2000)) ]' ||
	sa_fail "received did not grow by 2000: $(counters)"
read -r r1 a1 u1 m1 <<<"$(counters)"
du=$((u1 - u0)) dm=$((m1 - m0))
echo "counters: received +$((r1 - r0)) accepted +$((a1 - a0)) unauth +$du malformed +$dm"
[ "$du" = 1000 ] && [ "$dm" = 1000 ] || sa_fail "want 1000 unauthenticated and 1000 malformed drops"

# The log: single lines for the first drop of a burst, then summaries.  Sums per class match the counters.
log_sums() {
	local f=$SA_TMP/sanagentd.log n1 u1 s
	n1=$(grep -c "\[trapd\] dropped a datagram from" "$f")
	u1=$(grep "\[trapd\] dropped a datagram from" "$f" | grep -c "community\|v3 user\|authentication refused")
	s=$(sed -n 's/.*\[trapd\] dropped [0-9]* datagrams (\([0-9]*\) unauthenticated, \([0-9]*\) malformed).*/\1 \2/p' "$f" |
		awk '{ n++; u += $1; m += $2 } END { print n + 0, u + 0, m + 0 }')
	read -r ns us ms <<<"$s"
	echo "$((n1 + ns)) $((u1 + us)) $((n1 - u1 + ms))"
}
sa_wait_for 5 eval '[ "$(log_sums | cut -d" " -f2-)" = "$du $dm" ]' ||
	sa_fail "log sums (lines unauth malformed) $(log_sums), want unauth $du malformed $dm"
read -r lines lu lm <<<"$(log_sums)"
echo "drop log: $lines lines for $((du + dm)) drops ($lu unauthenticated, $lm malformed)"
grep "\[trapd\] dropped" "$SA_TMP/sanagentd.log" | sed 's/^/  /'
[ "$lines" -le 8 ] || sa_fail "$lines drop log lines for one burst of 2000 datagrams"
grep -q forged "$SA_TMP/sanagentd.log" && sa_fail "community value logged"
echo PASS
