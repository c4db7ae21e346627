#!/usr/bin/env bash
# rediscover_storage_push.sh: a storage agent next to tgtd pushes its sessions' feedback and, for a competing
# group (seed 000 Fig. 2), a sanRediscoveryRequest; its snmpd forwards both as SNMPv3 authPriv informs
# (trapsess -Ci) to a name-server agent's trap receiver, whose sanRediscSessionTable, counters and decision row
# show them (read through the name server's own snmpd, related values in one PDU).  Two initiators on one target
# portal: Host_1 reads as fast as it can (16 requests of 32 KiB in flight), Host_2 one 512-byte read at a time, far
# under competing_min_rate (50 MiB/s here: loopback is fast).  All on 127.0.0.1: two snmpd, two sanagentd, one tgtd.
set -u
. "$(dirname "$0")/lib.sh"

sa_init rediscover_storage_push
sa_need snmp snmpget
sa_need snmptrapd snmptrapd
sa_need libiscsi-bin iscsi-perf
sa_built "$SA_BUILDDIR/.libs/sanpath-bind.so" "sanpath-bind.so (needs nbdkit-plugin-dev)"

M=.1.3.6.1.4.1.32473.1.3.4
REQUEST=$M.0.2 # sanRediscoveryRequest
C=$M.1.3       # sanRediscCounters: received .1, accepted .2, dropped .3, decisions .7, requests .12
SESS=$M.1.8.1  # sanRediscSessionEntry
DEC=$M.1.10.1  # sanRediscDecisionEntry
SSES=$SA_OID.3.1.1.15.1 # sanStorSessionEntry
SFB=$SA_OID.3.1.1.16    # sanStorFeedback: sent .1, requests .2, held .3, portal unknown .4
H1=iqn.2026-12.org.sanagent:host1
H2=iqn.2026-12.org.sanagent:host2
SRC1=127.0.0.11 SRC2=127.0.0.12
STOR_USER=storagent STOR_AUTH=stor-auth-secret STOR_PRIV=stor-priv-secret

sa_start_snmptrapd
sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0

# ---- the name-server agent: its own snmpd and sanagentd, trap receiver on RX ----------------------------------
RX=$(sa_free_port udp)
sa_ns_snmpd
sa_ns_agent_conf <<CONF
trap_receiver = {
  listen = "udp:127.0.0.1:$RX";
  users = ( { name = "$STOR_USER"; auth_protocol = "SHA"; auth_passphrase = "$STOR_AUTH";
              priv_protocol = "AES"; priv_passphrase = "$STOR_PRIV"; } );
};
rediscover = {
  mode = "dry-run";
  hold_time = 0;
  session_age_out = 600;
  storage_users = [ "$STOR_USER" ];
  pool = [ "127.0.0.21" ];
};
CONF
sa_ns_start_agent
sa_wait_for 5 sa_udp_listening "$RX" || sa_fail "name-server trap receiver not listening on $RX"

# ---- the storage agent: snmpd forwards its notifications as v3 authPriv informs to RX -------------------------
sa_start_snmpd "trapsess -Ci -v 3 -l authPriv -u $STOR_USER -a SHA -A $STOR_AUTH -x AES -X $STOR_PRIV -t 2 -r 2 udp:127.0.0.1:$RX"
sa_agent_conf "storage = { tgt_control = $SA_TGT_CONTROL; interval = 1; feedback_interval = 3;
  competing_share = 70; competing_min_rate = 51200; competing_holdoff = 600; };"
sa_start_agent
sa_wait_agent

# ---- two initiators on one portal, each from its own source address --------------------------------------------
bind_perf() { # SRC INITIATOR ARGS...
	local src=$1 ini=$2
	shift 2
	LD_PRELOAD="$SA_BUILDDIR/.libs/sanpath-bind.so" SANPATH_BIND="127.0.0.1:$P=$src" \
		iscsi-perf -i "$ini" "$@" "iscsi://127.0.0.1:$P/$IQN/1"
}
nexus_of() { sa_tgt_ctl --op show --mode target | grep -q "Initiator: $1 "; }
# Heavy first: a window in which Host_2 alone moved bytes would make it the largest initiator.
sa_bg bind_perf $SRC1 $H1 -m 16 -b 64 >"$SA_TMP/perf1.log" 2>&1
sa_wait_for 10 nexus_of $H1 || sa_fail "Host_1 did not log in: $(cat "$SA_TMP/perf1.log")"
sa_bg bind_perf $SRC2 $H2 -m 1 -b 1 >"$SA_TMP/perf2.log" 2>&1
sa_wait_for 10 nexus_of $H2 || sa_fail "Host_2 did not log in: $(cat "$SA_TMP/perf2.log")"

# The storage agent knows which portal each session came in on (tgt does not say; the socket table does).
portals() { sa_walk "$SSES.13" | grep -c '7F 00 00 01'; }
two_portals() { [ "$(portals)" = 2 ]; }
sa_wait_for 15 two_portals || sa_fail "sanStorSessionPortalAddress: $(sa_walk "$SSES.13")"
sa_walk "$SSES.14" | grep -q "Gauge32: $P\|INTEGER: $P\|: $P$" || sa_fail "sanStorSessionPortalPort: $(sa_walk "$SSES.14")"
sa_log "storage agent: both sessions on 127.0.0.1:$P"

# ---- the name server learns both sessions from the storage agent's feedback ---------------------------------
ns_sessions() { ns_walk "$SESS.2" | grep -c STRING; }
two_sessions() { [ "$(ns_sessions)" = 2 ]; }
sa_wait_for 20 two_sessions || sa_fail "sanRediscSessionTable at the name server: $(ns_walk "$SESS")"
for i in $(ns_walk "$SESS.2" | sed -n "s/^$SESS\.2\.\([0-9]*\) .*/\1/p"); do
	row=$(ns_get1 "$SESS.2.$i" "$SESS.3.$i" "$SESS.5.$i" "$SESS.6.$i" "$SESS.15.$i")
	case "$row" in
	"\"$H1\" \"$IQN\" \"7F 00 00 01 \" $P \"127.0.0.1:"* | "\"$H2\" \"$IQN\" \"7F 00 00 01 \" $P \"127.0.0.1:"*) ;;
	*) sa_fail "name server's session $i: $row" ;;
	esac
	sa_log "name server's session $i: $row"
done

# ---- the competing group: one request naming Host_1, then the hold-off ------------------------------------------
requested() { [ "$(ns_get "$C.12.0")" -ge 1 ]; }
sa_wait_for 30 requested || sa_fail "no sanRediscoveryRequest reached the name server: counters $(ns_get1 "$C.1.0" "$C.2.0" "$C.3.0" "$C.12.0"), storage $(sa_get1 "$SFB.1.0" "$SFB.2.0" "$SFB.3.0" "$SFB.4.0")"
sa_wait_for 5 sa_trap_seen "$REQUEST" || sa_fail "sanRediscoveryRequest did not reach snmptrapd"
grep -A12 "$REQUEST" "$SA_TMP/snmptrapd.log" | grep -q "$M.1.12.13.0 = STRING: \"$H1\"" ||
	sa_fail "the request does not name Host_1: $(grep -A12 "$REQUEST" "$SA_TMP/snmptrapd.log")"
# The decision (dry run) it led to: trigger request(2), the group, the offender.
row=$(ns_get1 "$DEC.3.1" "$DEC.7.1" "$DEC.14.1" "$DEC.15.1")
[ "$row" = "2 \"$IQN\" \"$H1 $H2\" \"$H1\"" ] || sa_fail "decision row: $row"
sa_log "decision 1: $row"
# Windows go on: feedback keeps coming, the group stays flagged but is held (one PDU on each side).
held() { [ "$(sa_get "$SFB.3.0")" -ge 2 ]; }
sa_wait_for 15 held || sa_fail "no held request: $(sa_get1 "$SFB.1.0" "$SFB.2.0" "$SFB.3.0" "$SFB.4.0")"
st=$(sa_get1 "$SFB.1.0" "$SFB.2.0" "$SFB.3.0" "$SFB.4.0")
read -r sent reqs held unknown <<<"$st"
[ "$reqs" = 1 ] && [ "$unknown" = 0 ] && [ "$sent" -ge 4 ] || sa_fail "storage feedback counters: $st"
ns=$(ns_get1 "$C.1.0" "$C.2.0" "$C.3.0" "$C.12.0")
read -r rcvd acc drop nreq <<<"$ns"
[ "$drop" = 0 ] && [ "$nreq" = 1 ] && [ "$rcvd" = "$acc" ] || sa_fail "name server counters: $ns"
sa_log "storage agent sent $sent feedback, $reqs request, $held held; name server received $rcvd, accepted $acc"
# The window rates (max min avg KiB/s) of each session as the storage agent measured them: Host_2 under the
# threshold but moving, Host_1 above it.
for i in $(sa_walk "$SSES.2" | sed -n "s/^$SSES\.2\.\([0-9.]*\) .*/\1/p"); do
	r=$(sa_get1 "$SSES.2.$i" "$SSES.15.$i" "$SSES.16.$i" "$SSES.17.$i")
	sa_log "storage session $i: $r"
	case "$r" in "\"$H2\" "*) [ "${r##* }" -gt 0 ] && [ "${r##* }" -lt 51200 ] || sa_fail "Host_2's average: $r" ;;
	"\"$H1\" "*) [ "${r##* }" -gt 51200 ] || sa_fail "Host_1's average: $r" ;;
	*) sa_fail "storage session $i: $r" ;; esac
done
grep -q -e "$STOR_AUTH" -e "$STOR_PRIV" "$SA_TMP/sanagentd.log" "$SA_TMP/ns-sanagentd.log" && sa_fail "a secret is in a log"
echo PASS
