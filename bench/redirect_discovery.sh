#!/usr/bin/env bash
# redirect_discovery.sh: SendTargets=All for 10,000 targets through the portal, against tgtd answering the same request itself.
#
# Times are from the SendTargets Text Request to the final Text Response (all continuation PDUs),
# measured with tests/integration/redir_client.py's framing, MaxRecvDataSegmentLength 65536 (iscsi-ls cannot follow multi-PDU replies).
#   anchor  tgtd with RD_ANCHOR_N targets (default 1000: tgtadm creates them one by one) answering itself;
#   portal  the redirector with the same RD_ANCHOR_N resources, then with RD_N (10,000) resources.
# Goal: RD_N targets in <= 0.5 s.  Knobs: RD_N, RD_ANCHOR_N, RD_ROUNDS (5, best kept).
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

RD_N=${RD_N:-10000}
RD_ANCHOR_N=${RD_ANCHOR_N:-1000}
RD_ROUNDS=${RD_ROUNDS:-5}
IQN=$SA_TGT_IQN

sa_init bench-redirect-discovery
[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first"
sa_need python3 python3

sa_start_tgt_servers 3 1
# The anchor: server 3 gets RD_ANCHOR_N more targets (no LUNs: SendTargets lists targets only).
for ((t = 2; t <= RD_ANCHOR_N; t++)); do
	tgtadm -C "${SA_TGT_CTL[2]}" --lld iscsi --op new --mode target --tid "$t" -T "$IQN:a$t" &&
		tgtadm -C "${SA_TGT_CTL[2]}" --lld iscsi --op bind --mode target --tid "$t" -I ALL ||
		sa_fail "tgtadm: cannot create anchor target $t"
done

RPORT=$(sa_free_port tcp)
redirect_conf() {
	local i servers="" resources="" t n=$1
	servers=$(sa_tgt_servers_conf)
	for ((t = 1; t <= n; t++)); do
		resources="$resources${resources:+,
}{ target = \"$IQN:r$t\"; server = \"s$((t % 3 + 1))\"; }"
	done
	sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; servers = ( $servers );
resources = ( $resources ); };"
}

# A timed discovery with redir_client.py's framing: best of ROUNDS sessions, microsecond clock;
# prints "N PDUS SECONDS" and checks every target is listed once.
cat >"$SA_TMP/disc.py" <<'PY'
import socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
from redir_client import INITIATOR, bhs, login, pad, parse_text, recv_pdu
host, port, want, rounds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
best = None
for _ in range(rounds):
    s = socket.create_connection((host, port), timeout=10)
    st, h, _ = login(s, [("InitiatorName", INITIATOR), ("SessionType", "Discovery"), ("HeaderDigest", "None"),
                         ("DataDigest", "None"), ("MaxRecvDataSegmentLength", "65536")])
    if st != 0:
        sys.exit(f"discovery login: status {st:#x}")
    text, ttt, itt, cmdsn, npdu, chunks = b"SendTargets=All\0", 0xFFFFFFFF, 2, 1, 0, []
    t0 = time.perf_counter()
    while True:
        s.sendall(bhs(0x04, 0x80, len(text), b"\0" * 8, itt, ttt, cmdsn, 0) + pad(text))
        cmdsn += 1
        h, d = recv_pdu(s)
        npdu += 1
        chunks.append(d)
        if h[1] & 0x80:
            break
        ttt, text = struct.unpack(">I", h[20:24])[0], b""
    took = time.perf_counter() - t0
    s.close()
    names = [v for k, v in parse_text(b"".join(chunks)) if k == "TargetName"]
    if len(names) != want or len(set(names)) != want:
        sys.exit(f"got {len(names)} targets ({len(set(names))} distinct), want {want}")
    if best is None or took < best[1]:
        best = (npdu, took)
print(want, best[0], f"{best[1]:.6f}")
PY
# best HOST PORT N: prints "SECONDS PDUS".
best() {
	local n p s
	read -r n p s < <(python3 "$SA_TMP/disc.py" "$SA_SRCDIR/tests/integration" "$1" "$2" "$3" "$RD_ROUNDS") || return 1
	[ "$n" = "$3" ] || return 1
	echo "$s $p"
}

read -r A_S A_P < <(best "${SA_TGT_ADDR[2]}" "${SA_TGT_PORT[2]}" "$RD_ANCHOR_N") || sa_fail "tgtd discovery failed"

redirect_conf "$RD_ANCHOR_N"
sa_start_snmpd
sa_start_agent
sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$RPORT" || sa_fail "portal does not listen on 127.0.0.1:$RPORT"
read -r P1_S P1_P < <(best 127.0.0.1 "$RPORT" "$RD_ANCHOR_N") || sa_fail "portal discovery ($RD_ANCHOR_N) failed"

redirect_conf "$RD_N"
kill -HUP "$SA_AGENT_PID"
sa_wait_for 30 grep -q "reloaded: 3 servers, $RD_N resources" "$SA_TMP/sanagentd.log" || sa_fail "reload with $RD_N resources"
read -r P2_S P2_P < <(best 127.0.0.1 "$RPORT" "$RD_N") || sa_fail "portal discovery ($RD_N) failed"

per_t() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", s / n * 1e6 }'; }
echo "discovery benchmark: SendTargets=All, best of $RD_ROUNDS, python client (redir_client.py framing), loopback, $(nproc) CPUs"
printf '%-30s %8s %6s %10s %12s %9s\n' "who" targets PDUs seconds "us/target" "vs tgtd"
printf '%-30s %8s %6s %10s %12s %9s\n' "tgtd itself (anchor)" "$RD_ANCHOR_N" "$A_P" "$A_S" "$(per_t "$A_S" "$RD_ANCHOR_N")" 1.000
printf '%-30s %8s %6s %10s %12s %9s\n' "sanagent portal" "$RD_ANCHOR_N" "$P1_P" "$P1_S" "$(per_t "$P1_S" "$RD_ANCHOR_N")" \
	"$(awk -v a="$P1_S" -v b="$A_S" 'BEGIN { printf "%.3f", a / b }')"
printf '%-30s %8s %6s %10s %12s %9s\n' "sanagent portal" "$RD_N" "$P2_P" "$P2_S" "$(per_t "$P2_S" "$RD_N")" \
	"$(awk -v a="$(per_t "$P2_S" "$RD_N")" -v b="$(per_t "$A_S" "$RD_ANCHOR_N")" 'BEGIN { printf "%.3f", a / b }') per target"
echo "goal: $RD_N targets in <= 0.5 s: $(awk -v s="$P2_S" 'BEGIN { print (s <= 0.5) ? "met" : "MISSED" }') ($P2_S s)"
