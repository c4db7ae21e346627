#!/usr/bin/env bash
# redirect_tshark.sh: tshark decodes a capture of iscsi-ls discovery and an iscsi-inq login through the redirector with no malformed PDUs.
. "$(dirname "$0")/lib.sh"
sa_init redir-tshark
sa_need libiscsi-bin iscsi-ls iscsi-inq
sa_need tshark tshark
IQN=$SA_TGT_IQN

sa_start_tgt_servers 3 3
RPORT=$(sa_free_port tcp)
servers=$(sa_tgt_servers_conf)
sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_interval_ms = 200; servers = ( $servers );
resources = ( { target = \"$IQN:r1\"; server = \"s1\"; }, { target = \"$IQN:r2\"; server = \"s2\"; },
{ target = \"$IQN:r3\"; server = \"s3\"; } ); };"
sa_start_snmpd
sa_start_agent
sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$RPORT" || sa_fail "portal does not listen on 127.0.0.1:$RPORT"

# tshark knows iSCSI on 3260 only: decode the portal's and the servers' ports as iSCSI too.
PORTS=("$RPORT" "${SA_TGT_PORT[@]}")
DECODE=() FILTER=""
for p in "${PORTS[@]}"; do
	DECODE+=(-d "tcp.port==$p,iscsi")
	FILTER="$FILTER${FILTER:+ or }tcp port $p"
done
# A sentinel port nobody listens on: once a refused connect to it shows in the live output, every
# packet before it has left the capture buffer (stopping earlier can lose the last block).
SENT=$(sa_free_port tcp)
FILTER="$FILTER or tcp port $SENT"
CAP=$SA_TMP/redir.pcapng
# The health checker's probes cross the servers' ports every 200 ms: the first one seen (-P prints a
# line per packet) says the capture is really running ("Capturing on" comes before the filter is live).
# The probes are iSCSI logins too, and must decode as cleanly.
sa_bg tshark -i lo -f "$FILTER" -w "$CAP" -P -l >"$SA_TMP/tshark-live.txt" 2>"$SA_TMP/tshark-capture.log"
TSHARK=$SA_LASTPID
sa_wait_for 15 grep -q . "$SA_TMP/tshark-live.txt" || sa_fail "tshark captures nothing on lo"

out=$(iscsi-ls -i "$IQN:tshark-ls" "iscsi://127.0.0.1:$RPORT") || sa_fail "iscsi-ls through the redirector: $out"
[ "$(echo "$out" | grep -c "Target:$IQN:r[1-3] Portal:127.0.0.1:$RPORT,1")" = 3 ] || sa_fail "iscsi-ls listed: $out"
iscsi-inq -i "$IQN:tshark-inq" "iscsi://127.0.0.1:$RPORT/$IQN:r2/1" | grep -q DIRECT_ACCESS ||
	sa_fail "iscsi-inq of r2 through the redirector failed"

sentinel_seen() {
	(exec 3<>"/dev/tcp/127.0.0.1/$SENT") 2>/dev/null
	grep -q "[^0-9]$SENT[^0-9]" "$SA_TMP/tshark-live.txt"
}
sa_wait_for 15 sentinel_seen || sa_fail "the sentinel connect never showed in the capture"
# Stop the capture cleanly (SIGINT flushes and closes the file), then read it.
kill -INT "$TSHARK"
sa_wait_for 15 sa_pid_gone "$TSHARK" || sa_fail "tshark did not stop"
[ -s "$CAP" ] || sa_fail "empty capture"

# opcode, login status, source port and key=values, one line per iSCSI PDU.
tshark -r "$CAP" "${DECODE[@]}" -Y iscsi -T fields -E separator='|' -E occurrence=a -E aggregator=';' \
	-e tcp.srcport -e tcp.dstport -e iscsi.opcode -e iscsi.login.status -e iscsi.keyvalue >"$SA_TMP/pdus.txt" ||
	sa_fail "tshark cannot read the capture"
echo "$(wc -l <"$SA_TMP/pdus.txt") iSCSI PDUs decoded"
from_portal() { awk -F'|' -v p="$RPORT" '$1 == p' "$SA_TMP/pdus.txt"; }
to_portal() { awk -F'|' -v p="$RPORT" '$2 == p' "$SA_TMP/pdus.txt"; }
# Discovery: Login and Text requests to the portal, Login and Text responses from it, every target listed.
to_portal | grep -q "^[^|]*|[^|]*|0x03|" || sa_fail "no Login Request to the portal decoded"
to_portal | grep -q "^[^|]*|[^|]*|0x04|.*SendTargets=All" || sa_fail "no SendTargets Text Request decoded"
from_portal | grep -q "^[^|]*|[^|]*|0x24|.*TargetName=$IQN:r3" || sa_fail "no Text Response listing r3 decoded"
# The login of r2: a redirect (status 0x0101) naming s2, then a successful login at s2.
from_portal | grep -q "^[^|]*|[^|]*|0x23|0x0101|.*TargetAddress=${SA_TGT_ADDR[1]}:${SA_TGT_PORT[1]}" ||
	sa_fail "no Login Response 0x0101 with s2's TargetAddress decoded: $(from_portal | grep '|0x23|')"
awk -F'|' -v p="${SA_TGT_PORT[1]}" '$1 == p && $3 == "0x23" && $4 == "0x0000"' "$SA_TMP/pdus.txt" | grep -q . ||
	sa_fail "no successful Login Response from s2 decoded"

# No malformed packets and no expert errors anywhere in the capture.
tshark -r "$CAP" "${DECODE[@]}" -V >"$SA_TMP/decoded.txt" 2>&1 || sa_fail "tshark -V failed"
grep -i -m3 "malformed" "$SA_TMP/decoded.txt" && sa_fail "tshark reports malformed packets"
tshark -r "$CAP" "${DECODE[@]}" -q -z expert,error >"$SA_TMP/expert.txt" 2>&1 || sa_fail "tshark -z expert failed"
if grep -q "^Errors (" "$SA_TMP/expert.txt"; then
	cat "$SA_TMP/expert.txt"
	sa_fail "tshark reports expert errors"
fi
# Warnings from the iSCSI dissector itself (TCP resets of the refused sentinel are not ours).
tshark -r "$CAP" "${DECODE[@]}" -q -z expert,warn 2>/dev/null | awk '$3 == "iSCSI" || $4 == "iSCSI"' | grep . &&
	sa_fail "tshark's iSCSI dissector warns about the capture"
grep -q -i "invalid key/value\|invalid opcode" "$SA_TMP/decoded.txt" && sa_fail "tshark flags an invalid iSCSI field"
echo "PASS"
