#!/usr/bin/env bash
# pending_rows_restart.sh: one behaviour for rows that were never active, in every table: they are volatile whatever
# their StorageType says (nothing reaches the state file, a restart drops them), while active nonVolatile rows are
# kept; a destroyed resource leaves no key behind.  Credentials and logins (whose engine holds rows in every state)
# behave as the framework's tables: redirector servers and resources, storage portals.
. "$(dirname "$0")/lib.sh"
sa_init pending_rows_restart
M=SANAGENT-REDIRECTOR-MIB
IQN=iqn.2026-11.org.sanagent.pending
S=$SA_OID.3.1.1
CRED=$S.6.1
LOGIN=$S.8.1
POR=$S.12.1
SRV_ST=$SA_OID.3.3.1.4.1.17 # sanRedirServerRowStatus
RES_ST=$SA_OID.3.3.1.6.1.11 # sanRedirResourceRowStatus
RPORT=$(sa_free_port tcp)

sa_start_snmpd
sa_start_tgtd 1
sa_agent_conf "storage = { tgt_control = $SA_TGT_CONTROL; interval = 1; };" \
	"discovery = { initiator_name = \"$IQN:initiator\"; interval = 60; };" \
	"redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_interval_ms = 1000;
servers = ( { name = \"s1\"; address = \"127.0.0.1\"; port = $SA_ISCSI_PORT; } ); };"
sa_start_agent
sa_wait_agent
rset() { sa_set "$@" >/dev/null 2>"$SA_TMP/set.err" || sa_fail "SET $* failed: $(cat "$SA_TMP/set.err")"; }
status() { sa_get1 "$@"; }

# ---- rows that never became active, one per table ----
rset "$CRED.2.1" s alice "$CRED.8.1" i 5 # createAndWait without a secret: notReady
rset "$LOGIN.2.1" s "$IQN:disk0" "$LOGIN.18.1" i 5
SP=$(sa_get "$SA_OID.3.3.1.3.0")
rset "$M::sanRedirServerName.$SP" s pend "$M::sanRedirServerRowStatus.$SP" i 5
RP=$(sa_get "$SA_OID.3.3.1.5.0")
rset "$M::sanRedirResourceTarget.$RP" s "$IQN:pend" "$M::sanRedirResourceRowStatus.$RP" i 5
PP=$(sa_get "$S.11.0")
rset "$POR.2.$PP" i 1 "$POR.7.$PP" i 5
# ---- and active ones beside them ----
rset "$CRED.2.2" s bob "$CRED.3.2" s Pending-Sec-02 "$CRED.8.2" i 4
rset "$LOGIN.2.2" s "$IQN:disk0" "$LOGIN.3.2" i 1 "$LOGIN.4.2" x 7F000001 "$LOGIN.5.2" u "$SA_ISCSI_PORT" \
	"$LOGIN.10.2" i 2 "$LOGIN.18.2" i 4
RA=$(sa_get "$SA_OID.3.3.1.5.0")
rset "$M::sanRedirResourceTarget.$RA" s "$IQN:active" "$M::sanRedirResourceRowStatus.$RA" i 4
RD=$(sa_get "$SA_OID.3.3.1.5.0")
rset "$M::sanRedirResourceTarget.$RD" s "$IQN:gone" "$M::sanRedirResourceRowStatus.$RD" i 4
# A resource is mapped to a server (redir.map.TARGET) once the server is up: wait for that, then destroy it.
mapped() { sa_state_dump | grep -qF "redir.map.$IQN:gone"; }
sa_wait_for 15 mapped || sa_fail "resource $RD was never mapped: $(sa_state_dump | grep redir.map)"
rset "$M::sanRedirResourceRowStatus.$RD" i 6

got=$(status "$CRED.8.1" "$LOGIN.18.1" "$SRV_ST.$SP" "$RES_ST.$RP" "$POR.7.$PP" "$CRED.8.2" "$LOGIN.18.2" "$RES_ST.$RA")
echo "before: $got"
# The five never-active rows: notReady(3), or notInService(2) where the columns set are all the row needs (a login's
# target, a resource's target); active(1) for the others.  One PDU.
[ "$got" = "3 2 3 2 3 1 1 1" ] || sa_fail "row statuses before the restart: $got"

# Nothing of the pending rows or the destroyed resource is in the state file; the active rows are.
dump=$(sa_state_dump) || sa_fail "cannot read the state file"
for k in login.cred.1 login.row.1 "redir.resource.$RP." "redir.map.$IQN:pend" "stor.portal.$PP" \
	"redir.resource.$RD." "redir.map.$IQN:gone"; do
	grep -qF "$k" <<<"$dump" && sa_fail "state file has $k: $(grep -F "$k" <<<"$dump" | cut -c1-80)"
done
for k in login.cred.2 login.row.2 "redir.resource.$RA." "redir.map.$IQN:active"; do
	grep -qF "$k" <<<"$dump" || sa_fail "state file lacks $k"
done

# ---- SIGKILL and restart: the pending rows are gone, the active ones back, in every table ----
kill -9 "$SA_AGENT_PID"
wait "$SA_AGENT_PID" 2>/dev/null
sa_start_agent
sa_wait_agent 15
active() { status "$CRED.8.2" "$LOGIN.18.2" "$RES_ST.$RA"; }
sa_wait_for 15 eval '[ "$(active)" = "1 1 1" ]' || sa_fail "active rows after the restart: $(active)"
# sa_get leaves out missing instances: this GET shows them (one PDU).
got=$(snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv "127.0.0.1:$SA_SNMP_PORT" "$CRED.8.1" "$LOGIN.18.1" \
	"$SRV_ST.$SP" "$RES_ST.$RP" "$POR.7.$PP" "$RES_ST.$RD" 2>&1)
echo "after: $got"
n=$(grep -c "No Such Instance" <<<"$got")
[ "$n" = 6 ] || sa_fail "after the restart, $n of the 6 rows that were never active (or destroyed) are gone: $got"
echo PASS
