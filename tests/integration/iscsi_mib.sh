#!/bin/bash
# iscsi_mib.sh: the RFC 7147 ISCSI-MIB through snmpd, both sides in one lab: an agent whose team lab0 logs in to
# disk0 over two paths (initiator side, instance 1) and whose storage side watches the tgtd serving them (target
# side, instance 2).  Every value checked is read in one PDU with the SANAGENT row it comes from and must equal it;
# snmptable shows the lab's sessions in iscsiSessionAttributesTable from both ends; nothing in it is writable.
. "$(dirname "$0")/lib.sh"
sa_init iscsi-mib
sa_need_plugin nbdcopy
sa_need_std_mibs

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
sa_start_balance_agent "$(sa_lab0_teams)" "storage = { tgt_control = $SA_TGT_CONTROL; interval = 1; };"

I=.1.3.6.1.2.1.142.1
INST=$I.1.1.1
PORTAL=$I.2.1.1
TPORTAL=$I.3.1.1
NODE=$I.5.1.1
TLOGIN=$I.6.2.1
TLOGOUT=$I.6.3.1
IATTR=$I.8.1.1
ILOGIN=$I.8.2.1
ILOGOUT=$I.8.3.1
SSN=$I.10.1.1
STATS=$I.10.2.1
ERRS=$I.10.3.1
CXN=$I.11.1.1
S=$SA_OID.3.1.1.10.1 # sanSessionEntry
SPOR=$SA_OID.3.1.1.12.1
STGT=$SA_OID.3.1.1.13.1
SSES=$SA_OID.3.1.1.15.1
TEAM=$SA_OID.3.2.1.2.1
MIBARGS=(-M "+$SA_MIBDIRS" -m +ISCSI-MIB)

is() { [ "$(sa_get "$1")" = "$2" ]; }
sa_wait_for 15 is "$TEAM.10.1" 1 || sa_fail "lab0 never optimal: $(sa_get "$TEAM.10.1"); $(tail -5 "$RUN/lab0.log" 2>&1)"
# Both paths logged in (sanSessionState loggedIn) and tgt lists both nexuses of disk0 (tid 1).
logged_in() { [ "$(sa_walk "$S.13" | grep -c 'INTEGER: 2$')" = 2 ]; }
sa_wait_for 10 logged_in || sa_fail "want two logged-in sessions: $(sa_walk "$S.13")"
two_nexus() { [ "$(sa_get "$STGT.4.1")" = 2 ]; }
sa_wait_for 10 two_nexus || sa_fail "sanStorTargetSessions.1 = $(sa_get "$STGT.4.1"), want lab0's 2"

# ---- instances ---------------------------------------------------------------------------------------------
read -r n1 s1 s2 < <(sa_get1 "$INST.8.1" "$INST.9.1" "$INST.9.2")
nsess=$(sa_walk "$S.13" | grep -c "^$S\.13\.")
[ "$s1" = "$nsess" ] || sa_fail "iscsiInstSessionNumber.1 = $s1, sanSessionTable has $nsess rows"
[ "${n1:-0}" -ge 1 ] || sa_fail "iscsiInstNodeNumber.1 = $n1"
[ "$s2" = 2 ] || sa_fail "iscsiInstSessionNumber.2 = $s2, want tgt's 2"
ntgt=$(sa_walk "$STGT.2" | grep -c "^$STGT\.2\.")
[ "$(sa_get "$INST.8.2")" = "$ntgt" ] || sa_fail "iscsiInstNodeNumber.2 = $(sa_get "$INST.8.2"), tgt has $ntgt targets"
sa_log "instances: initiator $s1 sessions on $n1 node(s); target $s2 sessions on $ntgt target(s)"

# ---- initiator side: each sanSessionTable row is an outbound iscsiSessionAttributesTable row --------------------
ids=$(sa_walk "$S.13" | sed -n "s/^$S\.13\.\([0-9]*\) = .*/\1/p")
for id in $ids; do
	row=$(sa_walk "$SSN.3.1" | sed -n "s/^$SSN\.3\.\(1\.[0-9]*\.$id\) = .*/\1/p")
	[ -n "$row" ] || sa_fail "no iscsiSessionAttributesTable row 1.*.$id for sanSession $id: $(sa_walk "$SSN.3")"
	node=$(echo "$row" | cut -d. -f2)
	mine=$(sa_get1 "$S.2.$id" "$NODE.2.1.$node" "$S.3.$id" "$SSN.5.$row" "$S.9.$id" "$SSN.7.$row" \
		"$S.15.$id" "$STATS.3.$row" "$S.16.$id" "$STATS.4.$row" "$S.18.$id" "$ERRS.1.$row" "$S.19.$id" "$ERRS.2.$row" \
		"$S.5.$id" "$CXN.8.$row.1" "$S.6.$id" "$CXN.9.$row.1" "$SSN.3.$row" "$SSN.4.$row")
	eval "set -- $mine"
	[ $# = 20 ] || sa_fail "session $id: want 20 values in one GET, got $#: $mine"
	[ "$1" = "$2" ] || sa_fail "iscsiNodeName.1.$node '$2' != sanSessionInitiatorName.$id '$1'"
	[ "$3" = "$4" ] && [ "$4" = "$IQN" ] || sa_fail "iscsiSsnTargetName.$row '$4' != sanSessionTargetName.$id '$3'"
	[ "$5" = "$6" ] || sa_fail "iscsiSsnISID.$row '$6' != sanSessionIsid.$id '$5'"
	[ "$7" = "$8" ] || sa_fail "iscsiSsnTxDataOctets.$row $8 != sanSessionTxBytes.$id $7"
	[ "$9" = "${10}" ] || sa_fail "iscsiSsnRxDataOctets.$row ${10} != sanSessionRxBytes.$id $9"
	[ "${11}" = "${12}" ] && [ "${13}" = "${14}" ] || sa_fail "digest/timeout errors of $row: ${12}/${14}, want ${11}/${13}"
	[ "${15}" = "${16}" ] || sa_fail "iscsiCxnRemoteAddr.$row.1 '${16}' != sanSessionPortalAddress.$id '${15}'"
	[ "${17}" = "${18}" ] && [ "${18}" = "$P" ] || sa_fail "iscsiCxnRemotePort.$row.1 ${18} != sanSessionPortalPort.$id ${17}"
	[ "${19}" = 2 ] || sa_fail "iscsiSsnDirection.$row = ${19}, want outboundSession(2)"
	[ "${20}" = "" ] || sa_fail "iscsiSsnInitiatorName.$row = '${20}': the MIB wants it empty on an outbound session"
	sa_log "outbound $row = sanSession $id: $4, isid $6, tx $8 rx ${10}, portal ${16}:${18}"
	INODE=$node
done

# Data through the team moves both ends' counters; the values stay equal in one PDU.
URI="nbd+unix:///?socket=$RUN/lab0.sock"
head -c 8M /dev/urandom >"$SA_TMP/in.img"
nbdcopy "$SA_TMP/in.img" "$URI" || sa_fail "nbdcopy to lab0"
id=$(echo "$ids" | head -1)
row=$(sa_walk "$SSN.3.1" | sed -n "s/^$SSN\.3\.\(1\.[0-9]*\.$id\) = .*/\1/p")
tx_moved() { read -r a b < <(sa_get1 "$S.15.$id" "$STATS.3.$row"); [ "${a:-0}" -gt 0 ] && [ "$a" = "$b" ]; }
sa_wait_for 10 tx_moved || sa_fail "after 8 MiB written: sanSessionTxBytes/iscsiSsnTxDataOctets $(sa_get1 "$S.15.$id" "$STATS.3.$row")"

# ---- target side: each sanStorSessionTable row is an inbound row {2, tid, sid} ------------------------------
srows=$(sa_walk "$SSES.2" | sed -n "s/^$SSES\.2\.\([0-9]*\.[0-9]*\) = .*/\1/p")
[ "$(echo "$srows" | wc -w)" = 2 ] || sa_fail "sanStorSessionTable: want 2 rows: $srows"
for ts in $srows; do
	tid=${ts%%.*}
	got=$(sa_get1 "$SSES.2.$ts" "$SSN.4.2.$ts" "$STGT.2.$tid" "$NODE.2.2.$tid" "$SSES.6.$ts" "$STATS.3.2.$ts" \
		"$SSES.7.$ts" "$STATS.4.2.$ts" "$SSES.10.$ts" "$SSN.16.2.$ts" "$SSES.4.$ts" "$CXN.8.2.$ts.1" "$SSN.3.2.$ts" \
		"$SSN.5.2.$ts")
	eval "set -- $got"
	[ $# = 14 ] || sa_fail "nexus $ts: want 14 values in one GET, got $#: $got"
	[ "$1" = "$2" ] || sa_fail "iscsiSsnInitiatorName.2.$ts '$2' != sanStorSessionInitiatorName.$ts '$1'"
	[ "$3" = "$4" ] && [ "$4" = "$IQN" ] || sa_fail "iscsiNodeName.2.$tid '$4' != sanStorTargetName.$tid '$3'"
	[ "$5" = "$6" ] || sa_fail "iscsiSsnTxDataOctets.2.$ts $6 != sanStorSessionReadBytes.$ts $5"
	[ "$7" = "$8" ] || sa_fail "iscsiSsnRxDataOctets.2.$ts $8 != sanStorSessionWriteBytes.$ts $7"
	[ "$9" = "${10}" ] && [ "${10}" = 1 ] || sa_fail "iscsiSsnConnectionNumber.2.$ts ${10} != sanStorSessionConnections ${9}"
	[ "${11}" = "${12}" ] || sa_fail "iscsiCxnRemoteAddr.2.$ts.1 '${12}' != sanStorSessionAddress.$ts '${11}'"
	[ "${13}" = 1 ] || sa_fail "iscsiSsnDirection.2.$ts = ${13}, want inboundSession(1)"
	[ "${14}" = "" ] || sa_fail "iscsiSsnTargetName.2.$ts = '${14}': the MIB wants it empty on an inbound session"
	sa_log "inbound 2.$ts = sanStorSession $ts: $2 -> $4, tx $6 rx $8"
done
wrote() { local w; w=$(sa_walk "$STATS.4.2" | awk '{ s += $NF } END { print s + 0 }'); [ "$w" -ge $((8 << 20)) ]; }
sa_wait_for 10 wrote || sa_fail "the target received less than the 8 MiB written: $(sa_walk "$STATS.4.2")"

# ---- portals: sanStorPortalTable's rows, same index --------------------------------------------------------
pidx=$(sa_walk "$SPOR.4" | sed -n "s/^$SPOR\.4\.\([0-9]*\) = .*: $P$/\1/p")
[ "$(echo "$pidx" | wc -w)" = 2 ] || sa_fail "want tgt's two portals: $(sa_walk "$SPOR")"
for p in $pidx; do
	got=$(sa_get1 "$SPOR.3.$p" "$PORTAL.5.2.$p" "$SPOR.4.$p" "$TPORTAL.2.2.$p.0" "$SPOR.5.$p" "$TPORTAL.3.2.$p.0" \
		"$PORTAL.3.2.$p" "$PORTAL.6.2.$p")
	eval "set -- $got"
	[ $# = 8 ] && [ "$1" = "$2" ] && [ "$3" = "$4" ] && [ "$5" = "$6" ] ||
		sa_fail "portal $p: address/port/tag $2/$4/$6, sanStorPortal says $1/$3/$5"
	[ "${7// /}" = "80" ] && [ "$8" = 6 ] || sa_fail "portal $p: roles '$7' (want targetTypePortal), protocol $8 (want TCP)"
done
[ "$(sa_get "$INST.7.2")" = 2 ] || sa_fail "iscsiInstPortalNumber.2 = $(sa_get "$INST.7.2")"
# The initiator side's portals are the source addresses of its sessions (sanSessionSourceAddress).
srcs=$(for id in $ids; do sa_get "$S.8.$id"; done | sort -u)
iports=$(sa_walk "$PORTAL.5.1" | sed -n "s/^$PORTAL\.5\.1\.[0-9]* = Hex-STRING: \(.*\)$/\"\1\"/p" | sort -u)
[ -n "$srcs" ] && [ "$srcs" = "$iports" ] || sa_fail "initiator portals '$iports', want the sessions' sources '$srcs'"
for ip in $(sa_walk "$PORTAL.5.1" | sed -n "s/^$PORTAL\.5\.1\.\([0-9]*\) = .*/\1/p"); do
	# initiatorTypePortal: the octet 0x40, which net-snmp prints as "@"
	roles=$(sa_get "$PORTAL.3.1.$ip" | tr -d ' "')
	[ "$roles" = 40 ] || [ "$roles" = @ ] || sa_fail "initiator portal $ip: roles $(sa_get "$PORTAL.3.1.$ip")"
done
[ "$(sa_get "$INST.7.1")" = "$(echo "$iports" | wc -l)" ] || sa_fail "iscsiInstPortalNumber.1 = $(sa_get "$INST.7.1")"
sa_log "initiator portals: $(echo "$iports" | tr '\n' ' ')"

# ---- login and logout statistics ---------------------------------------------------------------------------
read -r acc fail out < <(sa_get1 "$ILOGIN.1.1.$INODE" "$IATTR.1.1.$INODE" "$ILOGOUT.1.1.$INODE")
[ "${acc:-0}" -ge 2 ] || sa_fail "iscsiIntrLoginAcceptRsps.1.$INODE = $acc, want lab0's 2 logins"
tacc=$(sa_get "$TLOGIN.1.2.1")
[ "${tacc:-0}" -ge 2 ] || sa_fail "iscsiTgtLoginAccepts.2.1 = $tacc, want lab0's 2 logins"
tout0=$(sa_get "$TLOGOUT.1.2.1")
# Ending one nexus at tgt: the target side counts a logout, the path logs in again (a new accepted login).
ts=$(echo "$srows" | head -1)
sa_set "$SSES.11.$ts" i 2 >/dev/null || sa_fail "sanStorSessionEnd.$ts refused"
logged_out() { local v; v=$(sa_get "$TLOGOUT.1.2.1"); [ "${v:-0}" -gt "${tout0:-0}" ]; }
sa_wait_for 10 logged_out || sa_fail "iscsiTgtLogoutNormals.2.1 stays $(sa_get "$TLOGOUT.1.2.1") after nexus $ts ended"
relogin() { local v; v=$(sa_get "$TLOGIN.1.2.1"); [ "${v:-0}" -gt "$tacc" ]; }
sa_wait_for 20 relogin || sa_fail "iscsiTgtLoginAccepts.2.1 stays $tacc after the path's new login"
sa_log "logins: initiator accepts $acc, failures $fail, logouts $out; target accepts $tacc -> $(sa_get "$TLOGIN.1.2.1"), logouts $tout0 -> $(sa_get "$TLOGOUT.1.2.1")"

# A login row to a target tgtd does not have: its failure (0x0203, not found) is a failed login of the initiator
# name login rows use (discovery.login_initiator_name), counted under that name's node.
L=$SA_OID.3.1.1.8.1 # sanLoginEntry
BOGUS=$SA_IQN_PREFIX:nosuch
sa_set "$L.2.7" s "$BOGUS" "$L.3.7" i 1 "$L.4.7" x 7F000001 "$L.5.7" u "$P" "$L.8.7" u 1 "$L.10.7" i 1 \
	"$L.17.7" i 2 "$L.18.7" i 4 >/dev/null || sa_fail "cannot create login row 7 to $BOGUS"
fnode() { sa_walk "$IATTR.4.1" | sed -n "s/^$IATTR\.4\.1\.\([0-9]*\) = STRING: \"$BOGUS\"$/\1/p" | head -1; }
sa_wait_for 30 eval '[ -n "$(fnode)" ]' || sa_fail "no initiator node names $BOGUS as its last failed target: $(sa_walk "$IATTR.4")"
LN=$(fnode)
got=$(sa_get1 "$L.13.7" "$IATTR.1.1.$LN" "$ILOGIN.2.1.$LN" "$ILOGIN.4.1.$LN" "$IATTR.6.1.$LN" "$IATTR.7.1.$LN" \
	"$IATTR.3.1.$LN" "$NODE.2.1.$LN")
eval "set -- $got"
[ $# = 8 ] || sa_fail "login failure: want 8 values in one GET, got $#: $got"
[ "$1" = 515 ] || sa_fail "sanLoginLastStatusCode.7 = $1, want 0x0203 (515)"
[ "${2:-0}" -ge 1 ] && [ "$2" = "$3" ] && [ "$4" = 0 ] || sa_fail "failures $2, other $3, authentication $4: want them all other"
[ "$(echo "$5" | tr -d ' ')" = 7F000001 ] && [ "$6" = "$P" ] || sa_fail "last failure at '$5':$6, want 127.0.0.1:$P"
[ "$7" = "$ILOGIN.2" ] || sa_fail "iscsiIntrLastFailureType = $7, want iscsiIntrLoginOtherFailRsps ($ILOGIN.2)"
sa_log "failed login of $8 to $BOGUS: iscsiIntrLoginFailures.1.$LN = $2, last type $7"
sa_set "$L.18.7" i 6 >/dev/null || sa_fail "cannot destroy login row 7"

# ---- snmptable: the lab's sessions from both ends, names resolved through the shipped MIB ------------------
sa_wait_for 15 two_nexus || sa_fail "tgt lists $(sa_get "$STGT.4.1") nexuses after the new login"
sa_wait_for 10 logged_in || sa_fail "lab0's paths not both logged in again: $(sa_walk "$S.13")"
tbl=$(snmptable -v2c -c "$SA_RO_COMMUNITY" "${MIBARGS[@]}" -Cf '|' -Ci "127.0.0.1:$SA_SNMP_PORT" \
	ISCSI-MIB::iscsiSessionAttributesTable 2>&1) || sa_fail "snmptable failed: $tbl"
echo "$tbl" >"$SA_TMP/snmptable.txt"
out_rows=$(echo "$tbl" | grep -c "|outboundSession|.*|$IQN|")
in_rows=$(echo "$tbl" | grep -c "|inboundSession|")
[ "$out_rows" = 2 ] || sa_fail "snmptable: want lab0's 2 outbound sessions to $IQN, got $out_rows: $tbl"
[ "$in_rows" = 2 ] || sa_fail "snmptable: want tgt's 2 inbound sessions, got $in_rows: $tbl"
init=$(sa_get "$NODE.2.1.$INODE" | tr -d '"')
[ "$(echo "$tbl" | grep "|inboundSession|" | grep -c "|$init|")" = 2 ] ||
	sa_fail "snmptable: the inbound sessions do not name lab0's initiator $init: $tbl"
sa_log "snmptable iscsiSessionAttributesTable:"
echo "$tbl" | sed 's/^/    /'

# ---- read-only: every SET is refused and changes nothing ---------------------------------------------------
row=$(sa_walk "$SSN.3.1" | sed -n "s/^$SSN\.3\.\(1\.[0-9]*\.[0-9]*\) = .*/\1/p" | head -1)
sa_set_err notWritable "$SSN.5.$row" s "$IQN"
sa_set_err notWritable "$PORTAL.2.2.$(echo "$pidx" | head -1)" i 6
sa_set_err notWritable "$TPORTAL.2.2.$(echo "$pidx" | head -1).0" u 3261
# A new row, and a column the agent does not serve, are refused the same way.
sa_set_err notWritable "$PORTAL.2.2.4242" i 4
sa_set_err notWritable "$SSN.9.$row" s alias
[ "$(sa_walk "$SPOR.4" | grep -c ": $P$")" = 2 ] || sa_fail "a refused SET changed the portals: $(sa_walk "$SPOR")"

# The whole module walks through snmpd and net-snmp names every object from the shipped MIB.
n=$(snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" "${MIBARGS[@]}" "127.0.0.1:$SA_SNMP_PORT" ISCSI-MIB::iscsiMibModule 2>&1)
echo "$n" | grep -q -e 'No Such' -e '^ISCSI-MIB::iscsiMibModule\.' -e '^\.1\.3\.6' &&
	sa_fail "ISCSI-MIB walk has unnamed or missing objects: $(echo "$n" | grep -e 'No Such' -e 'iscsiMibModule\.' -e '^\.1' | head)"
sa_log "ISCSI-MIB walk: $(echo "$n" | wc -l) values"
echo "PASS: ISCSI-MIB"
exit 0
