#!/usr/bin/env bash
# table_cross_pdu.sh: one SET PDU through snmpd that creates rows in two tables validates them together: a
# redirector server and a resource mapped to it are created at once; a PDU whose last varbind fails leaves none of
# its rows behind (the earlier creations are undone), and the state file has none of them either.
. "$(dirname "$0")/lib.sh"
sa_init table_cross_pdu
M=SANAGENT-REDIRECTOR-MIB
IQN=iqn.2026-11.org.sanagent.cross
RPORT=$(sa_free_port tcp)

sa_start_snmpd
sa_start_tgtd 1
sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_interval_ms = 500; };"
sa_start_agent
sa_wait_agent
# mk_pdu SERVER RESOURCE MAPPED_TO: server SERVER on tgtd's portal and resource RESOURCE mapped to MAPPED_TO, one PDU.
mk_pdu() {
	sa_set "$M::sanRedirServerName.$1" s "srv$1" "$M::sanRedirServerAddressType.$1" i 1 \
		"$M::sanRedirServerAddress.$1" x 7f000001 "$M::sanRedirServerPort.$1" u "$SA_ISCSI_PORT" \
		"$M::sanRedirServerRowStatus.$1" i 4 \
		"$M::sanRedirResourceTarget.$2" s "$IQN:res$2" "$M::sanRedirResourceServer.$2" u "$3" \
		"$M::sanRedirResourceRowStatus.$2" i 4
}
# Related values in one GET: server row status, resource row status, resource's server.
rows() {
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqve "127.0.0.1:$SA_SNMP_PORT" \
		"$M::sanRedirServerRowStatus.$1" "$M::sanRedirResourceRowStatus.$2" "$M::sanRedirResourceServer.$2" 2>&1 |
		sed 's/No Such Instance.*/none/' | tr '\n' ' ' | sed 's/ $//'
}

S=$(sa_get "$SA_OID.3.3.1.3.0")
R=$(sa_get "$SA_OID.3.3.1.5.0")
out=$(mk_pdu "$S" "$R" "$S" 2>&1) || sa_fail "server $S and resource $R mapped to it, one PDU: $out"
got=$(rows "$S" "$R")
echo "created in one PDU: server $S, resource $R: $got"
[ "$got" = "1 1 $S" ] || sa_fail "after the PDU: $got, want '1 1 $S' (both active, the resource on server $S)"
sa_state_dump | grep -qF "redir.map.$IQN:res$R" || sa_fail "the mapping of resource $R is not in the state file"

# The resource names a server that neither exists nor is created in the PDU: the PDU fails on that varbind, and
# the server it created first is gone again.
S2=$(sa_get "$SA_OID.3.3.1.3.0")
R2=$(sa_get "$SA_OID.3.3.1.5.0")
BAD=$((S2 + 1000))
out=$(mk_pdu "$S2" "$R2" "$BAD" 2>&1) && sa_fail "a resource mapped to missing server $BAD was accepted: $out"
echo "mapped to missing server $BAD: $(echo "$out" | head -2 | tr '\n' ' ')"
echo "$out" | grep -qi "inconsistentValue" || sa_fail "want inconsistentValue: $out"
# The row's check fails as a whole; the error index points into the resource row (its RowStatus varbind).
echo "$out" | grep -q "Failed object: .*sanRedirResource[A-Za-z]*\.$R2\$" || sa_fail "the error is not on resource $R2: $out"
got=$(rows "$S2" "$R2")
[ "$got" = "none none none" ] || sa_fail "rows left by the failed PDU: $got"
dump=$(sa_state_dump)
grep -qF "srv$S2" <<<"$dump" && sa_fail "the failed PDU's server reached the state file"
grep -qF "$IQN:res$R2" <<<"$dump" && sa_fail "the failed PDU's resource reached the state file"
echo PASS
