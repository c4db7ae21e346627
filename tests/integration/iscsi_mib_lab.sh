#!/usr/bin/env bash
# iscsi_mib_lab.sh: the RFC 7147 ISCSI-MIB on two hosts of the forced-rediscovery lab (rediscover_lab.bash): Host_1's
# initiator agent logs in to target X at the storage host's interface 36, and snmptable of
# iscsiSessionAttributesTable, run from the manager through each host's own snmpd, shows that one session from both
# ends: outbound to X on Host_1, inbound from Host_1's initiator name on the storage host.  The values of each row
# equal the SANAGENT rows they come from (one PDU each), and each end names the other's address.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

sa_init iscsi_mib_lab
sa_need_plugin
sa_need_std_mibs

I=.1.3.6.1.2.1.142.1
NODE=$I.5.1.1
SSN=$I.10.1.1
STATS=$I.10.2.1
CXN=$I.11.1.1
S=$SA_OID.3.1.1.10.1 # sanSessionEntry
SSES=$SA_OID.3.1.1.15.1
DISC_TGT=$SA_OID.3.1.1.3.1.2
# tbl HOST: snmptable of iscsiSessionAttributesTable from the manager, names from the shipped MIB.
tbl() {
	rl_in "$RL_MG" snmptable -v2c -c "$SA_RO_COMMUNITY" -t 2 -r 1 -M "+$SA_MIBDIRS" -m +ISCSI-MIB -Cf '|' -Ci \
		"$(rl_host_addr "$1"):161" ISCSI-MIB::iscsiSessionAttributesTable 2>&1
}

rl_up none
rl_agents_up
has_x() { rl_walk h1 "$DISC_TGT" | grep -q "\"$RL_X\""; }
sa_wait_for 20 has_x || sa_fail "Host_1 did not discover $RL_X"
rl_login h1 1 "$RL_X" "$RL_STO36"
sa_log "Host_1 logged in to $RL_X at $RL_STO36"

# ---- Host_1: the login's session is an outbound row ---------------------------------------------------------
sid_h1() { rl_walk h1 "$S.27" | sed -n "s/^$S\.27\.\([0-9]*\) = [A-Za-z0-9]*: 1$/\1/p" | head -1; }
sa_wait_for 10 eval '[ -n "$(sid_h1)" ]' || sa_fail "Host_1 has no sanSessionTable row of login 1: $(rl_walk h1 "$S.27")"
id=$(sid_h1)
row=$(rl_walk h1 "$SSN.3.1" | sed -n "s/^$SSN\.3\.\(1\.[0-9]*\.$id\) = .*/\1/p")
[ -n "$row" ] || sa_fail "Host_1: no iscsiSessionAttributesTable row for sanSession $id: $(rl_walk h1 "$SSN.3")"
node=$(echo "$row" | cut -d. -f2)
got=$(rl_get1 h1 "$S.2.$id" "$NODE.2.1.$node" "$S.3.$id" "$SSN.5.$row" "$S.15.$id" "$STATS.3.$row" "$S.16.$id" \
	"$STATS.4.$row" "$S.5.$id" "$CXN.8.$row.1" "$SSN.3.$row")
eval "set -- $got"
[ $# = 11 ] || sa_fail "Host_1: want 11 values in one GET, got $#: $got"
[ "$1" = "$2" ] && [ "$2" = "$RL_H1_IQN" ] || sa_fail "Host_1: iscsiNodeName '$2', sanSessionInitiatorName '$1'"
[ "$3" = "$4" ] && [ "$4" = "$RL_X" ] || sa_fail "Host_1: iscsiSsnTargetName '$4', sanSessionTargetName '$3'"
[ "$5" = "$6" ] && [ "$7" = "$8" ] || sa_fail "Host_1: octets tx/rx $6/$8, sanSession tx/rx $5/$7"
[ "$9" = "${10}" ] && [ "$(echo "${10}" | tr -d ' ')" = "$(rl__hex4 "$RL_STO36")" ] ||
	sa_fail "Host_1: iscsiCxnRemoteAddr '${10}', sanSessionPortalAddress '$9', want $RL_STO36"
[ "${11}" = 2 ] || sa_fail "Host_1: iscsiSsnDirection ${11}, want outboundSession(2)"
sa_log "Host_1: outbound $row = sanSession $id, $2 -> $4 at ${10}"

# ---- the storage host: the same session is an inbound row from Host_1 ----------------------------------------
ts_sto() { rl_walk sto "$SSES.2" | sed -n "s/^$SSES\.2\.\([0-9]*\.[0-9]*\) = STRING: \"$RL_H1_IQN\"$/\1/p" | head -1; }
sa_wait_for 10 eval '[ -n "$(ts_sto)" ]' || sa_fail "storage host: no sanStorSessionTable row of $RL_H1_IQN"
ts=$(ts_sto)
tid=${ts%%.*}
got=$(rl_get1 sto "$SSES.2.$ts" "$SSN.4.2.$ts" "$SSES.5.$ts" "$NODE.2.2.$tid" "$SSES.6.$ts" "$STATS.3.2.$ts" \
	"$SSES.7.$ts" "$STATS.4.2.$ts" "$SSES.4.$ts" "$CXN.8.2.$ts.1" "$SSN.3.2.$ts")
eval "set -- $got"
[ $# = 11 ] || sa_fail "storage host: want 11 values in one GET, got $#: $got"
[ "$1" = "$2" ] && [ "$2" = "$RL_H1_IQN" ] || sa_fail "storage host: iscsiSsnInitiatorName '$2', sanStor '$1'"
[ "$3" = "$4" ] && [ "$4" = "$RL_X" ] || sa_fail "storage host: iscsiNodeName.2.$tid '$4', sanStorSessionTarget '$3'"
[ "$5" = "$6" ] && [ "$7" = "$8" ] || sa_fail "storage host: octets tx/rx $6/$8, sanStorSession read/write $5/$7"
[ "$9" = "${10}" ] && [ "$(echo "${10}" | tr -d ' ')" = "$(rl__hex4 "$RL_H1_36")" ] ||
	sa_fail "storage host: iscsiCxnRemoteAddr '${10}', sanStorSessionAddress '$9', want Host_1's $RL_H1_36"
[ "${11}" = 1 ] || sa_fail "storage host: iscsiSsnDirection ${11}, want inboundSession(1)"
sa_log "storage host: inbound 2.$ts = sanStorSession $ts, $2 -> $4 from ${10}"

# ---- snmptable on both agents ---------------------------------------------------------------------------------
t1=$(tbl h1)
echo "$t1" | grep -q "^$row|outboundSession||$RL_X|" || sa_fail "snmptable on Host_1 lacks outbound $row to $RL_X: $t1"
t2=$(tbl sto)
echo "$t2" | grep -q "^2\.$ts|inboundSession|$RL_H1_IQN||" ||
	sa_fail "snmptable on the storage host lacks inbound 2.$ts from $RL_H1_IQN: $t2"
sa_log "snmptable iscsiSessionAttributesTable, Host_1 ($RL_H1M):"
echo "$t1" | sed 's/^/    /'
sa_log "snmptable iscsiSessionAttributesTable, storage host ($RL_STOM):"
echo "$t2" | sed 's/^/    /'
echo "PASS: ISCSI-MIB on an initiator agent and a storage agent"
exit 0
