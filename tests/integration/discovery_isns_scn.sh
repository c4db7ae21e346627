#!/usr/bin/env bash
# discovery_isns_scn.sh: the iSNS SCN listener binds the address towards the server (not 0.0.0.0), refuses peers that
# are not a configured iSNS server (their SCNs trigger no query), rate-limits the queries SCNs trigger, and closes
# idle connections.  Against a real isnsd.
set -u
. "$(dirname "$0")/lib.sh"

sa_init discovery_isns_scn
sa_need open-isns-server isnsd
sa_need open-isns-utils isnsadm
sa_need python3 python3

SRC=.1.3.6.1.4.1.32473.1.3.1.1.2.1 # sanDiscSourceEntry
IQN=iqn.2026-11.org.sanagent.isns
ME=iqn.2026-11.org.sanagent:scntest
ISNS_PORT=$(sa_free_port tcp)
cat >"$SA_TMP/isnsd.conf" <<EOF
SourceName = $IQN:server
BindAddress = 127.0.0.1:$ISNS_PORT
PIDFile = $SA_TMP/isnsd.pid
ControlSocket = $SA_TMP/isnsctl
Security = 0
DefaultDiscoveryDomain = 1
EOF
sa_bg isnsd -f -4 -c "$SA_TMP/isnsd.conf" >"$SA_TMP/isnsd.log" 2>&1
sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$ISNS_PORT" || sa_fail "isnsd does not listen on 127.0.0.1:$ISNS_PORT"

sa_start_snmpd
sa_agent_conf "discovery = {
  initiator_name = \"$ME\";
  isns = [ \"127.0.0.1:$ISNS_PORT\" ];
  interval = 3600;
  isns_scn_idle = 2;
};"
sa_start_agent
sa_wait_agent
sa_wait_for 10 grep -q "state change notifications on" "$SA_TMP/sanagentd.log" || sa_fail "no SCN listener logged"
line=$(grep "state change notifications on" "$SA_TMP/sanagentd.log")
SCN_ADDR=$(sed -n 's/.*notifications on \([0-9.]*\) TCP port \([0-9]*\).*/\1/p' <<<"$line")
SCN_PORT=$(sed -n 's/.*notifications on \([0-9.]*\) TCP port \([0-9]*\).*/\2/p' <<<"$line")
echo "SCN listener: $SCN_ADDR:$SCN_PORT"
[ "$SCN_ADDR" = 127.0.0.1 ] || sa_fail "SCN listener on '$SCN_ADDR', want 127.0.0.1 (the address towards isnsd): $line"
listeners=$(ss -Hltn "sport = :$SCN_PORT" | awk '{print $4}')
echo "ss -ltn: $listeners"
[ "$listeners" = "127.0.0.1:$SCN_PORT" ] || sa_fail "listeners on port $SCN_PORT: $listeners"

attempts() { sa_get "$SRC.10.1"; }
# The first query (with the registration) is done.
sa_wait_for 10 eval '[ "$(sa_get "$SRC.6.1")" = 2 ]' || sa_fail "source 1 not ok: $(sa_walk "$SRC")"

# scn FROM N GAP_MS WAIT_EOF: N SCN PDUs over one connection from address FROM, GAP_MS apart; prints
# "sent=K eof_after_ms=T" (T: from the last SCN to the agent's close, -1 if not closed within WAIT_EOF s).
scn() {
	python3 - "$1" "$SCN_PORT" "$2" "$3" "$4" <<'EOF'
import socket, struct, sys, time
src, port, n, gap, wait = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
s = socket.socket()
s.bind((src, 0))
s.connect(("127.0.0.1", port))
sent = 0
for i in range(n):
    # iSNSP header (RFC 4171 5.1): version 1, SCN (0x0008), no payload, first and last PDU, transaction i
    try:
        s.sendall(struct.pack(">HHHHHH", 1, 0x0008, 0, 0x0c00, i + 1, 0))
        sent += 1
    except OSError:
        break
    time.sleep(gap / 1000.0)
t = time.monotonic()
s.settimeout(0.2)
eof = -1
while time.monotonic() - t < wait:
    try:
        d = s.recv(4096)
    except socket.timeout:
        continue
    except OSError:
        d = b""
    if not d:
        eof = (time.monotonic() - t) * 1000
        break
print("sent=%d eof_after_ms=%.0f" % (sent, eof))
EOF
}

# ---- SCNs from an address that is not the iSNS server: refused, no query ----
a0=$(attempts)
out=$(scn 127.0.0.7 20 20 3)
echo "from 127.0.0.7: $out"
sa_wait_for 5 grep -q "SCN connection from 127.0.0.7 refused" "$SA_TMP/sanagentd.log" || sa_fail "refusal not logged"
sleep 1 # no event to wait for: a query that must NOT happen would show within the 400 ms SCN window
a1=$(attempts)
[ "$a1" = "$a0" ] || sa_fail "SCNs from 127.0.0.7 caused $((a1 - a0)) queries"
case "$out" in *"eof_after_ms=-1") sa_fail "the refused connection stayed open: $out" ;; esac

# ---- 20 SCNs in 1 s from the server's address: a bounded number of query rounds ----
out=$(scn 127.0.0.1 20 50 6)
echo "from 127.0.0.1: $out"
sa_wait_for 5 eval '[ "$(attempts)" -gt "$a1" ]' || sa_fail "SCNs from the server's address caused no query"
sleep 1 # the scn client waited 6 s for its EOF: the windows and both follow-ups (400 ms, 2 s) are over
a2=$(attempts)
echo "queries: $((a2 - a1)) for 20 SCNs in about 1 s"
# One at once, one per 400 ms window after it (4 in about 1 s), two follow-up rounds after the last: at most 6
# (7 with a reply that raced an SCN), not one per SCN.
[ $((a2 - a1)) -le 7 ] || sa_fail "20 SCNs caused $((a2 - a1)) queries"
# The silent connection was closed after isns_scn_idle (2 s), well before the 6 s the client waited.
eof=$(sed -n 's/.*eof_after_ms=\([-0-9]*\).*/\1/p' <<<"$out")
[ "$eof" -ge 1000 ] && [ "$eof" -lt 4500 ] || sa_fail "idle SCN connection closed after $eof ms, want about 2000"
kill -0 "$SA_AGENT_PID" || sa_fail "sanagentd died"
# The test's snmpd (lib.sh, as the lab's) has no SMUX listener.
ss -Hltnp "sport = :199" | grep -q "pid=$SA_SNMPD_PID," && sa_fail "snmpd listens on port 199 (SMUX)"
echo PASS
