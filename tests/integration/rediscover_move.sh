#!/usr/bin/env bash
# rediscover_move.sh: act mode end to end on one host (127.0.0.1): a name-server agent moves target disk0 from
# portal 127.0.0.1:P to the pool's 127.0.0.5:P.  It creates the portal on the storage agent (its
# sanStorPortalTable, SNMPv3 authPriv) so tgtd listens there, moves disk0 in isnsd (portal groups) while disk1
# stays at the old portal, ends disk0's session at the old portal through the storage agent's sanStorSessionTable,
# and sends sanTargetReaddressed.  Then, the storage agent's snmpd stopped, a second move fails and leaves tgt
# and isnsd as they were; a move to an address the host lacks, a restart mid-move (undone), and the pool exhausted
# (a failed row, nothing touched).  Real tgtd, isnsd, two snmpd, two sanagentd, snmptrapd.
set -u
. "$(dirname "$0")/lib.sh"

sa_init rediscover_move
sa_need snmp snmpget
sa_need snmptrapd snmptrapd
sa_need libiscsi-bin iscsi-perf
sa_need libiscsi-bin iscsi-ls
sa_need open-isns-server isnsd
sa_need open-isns-utils isnsadm

M=.1.3.6.1.4.1.32473.1.3.4
READDRESSED=$M.0.4 # sanTargetReaddressed
SESS=$M.1.8.1      # sanRediscSessionEntry
CTL=$M.1.11        # sanRediscControls: target .1, address type .2, address .3, port .4, offender .5, trigger .6
DEC=$M.1.10.1      # sanRediscDecisionEntry: target .7, new address .12, state .17, sessions ended .18, error .21
H1=iqn.2026-12.org.sanagent:host1
NEW=127.0.0.5 NEW3=127.0.0.7 NEW2=198.18.0.77 # NEW2: a benchmarking address (RFC 2544), only ever on the test's veth
DUMMY=samv$$
# A veth pair (the dummy module may be missing); its peer stays down, nothing is sent over it.
ip link add "$DUMMY" type veth peer name "${DUMMY}p" 2>/dev/null || sa_skip "cannot create an interface (needs root)"
trap 'sa__rc=$?; ip link del "$DUMMY" 2>/dev/null; sa_stop_tgtd; (exit $sa__rc); sa_cleanup' EXIT
ip link set "$DUMMY" up

sa_start_snmptrapd
sa_start_tgtd 2
trap 'sa__rc=$?; ip link del "$DUMMY" 2>/dev/null; sa_stop_tgtd; (exit $sa__rc); sa_cleanup' EXIT
P=$SA_ISCSI_PORT
X=$SA_IQN_PREFIX:disk0 Y=$SA_IQN_PREFIX:disk1

# ---- isnsd: one entity (the storage host) with the two portals and both targets ---------------------------------
sa_start_isnsd_storage "$X" "$Y"
PGS0=$(sa_isns_pgs)
sa_log "iSNS before: $(echo "$PGS0" | tr '\n' ';')"
echo "$PGS0" | grep -qx "$X 127.0.0.1:$P" || sa_fail "iSNS does not list $X at 127.0.0.1:$P: $PGS0"

# ---- the storage agent (sa_start_snmpd: v3 user $SA_V3_USER may write) ----------------------------------------
RX=$(sa_free_port udp)
sa_start_snmpd "trapsess -Ci -v 3 -l authPriv -u $SA_V3_USER -a SHA -A $SA_V3_AUTH -x AES -X $SA_V3_PRIV -t 2 -r 2 udp:127.0.0.1:$RX"
sa_agent_conf "storage = { tgt_control = $SA_TGT_CONTROL; interval = 1; feedback_interval = 2; };"
sa_start_agent
sa_wait_agent

# ---- the name-server agent, act mode -------------------------------------------------------------------------
sa_ns_snmpd "trapsess -v 2c -c $SA_TRAP_COMMUNITY 127.0.0.1:$SA_TRAP_PORT"
sa_ns_agent_conf <<CONF
trap_receiver = {
  listen = "udp:127.0.0.1:$RX";
  users = ( { name = "$SA_V3_USER"; auth_protocol = "SHA"; auth_passphrase = "$SA_V3_AUTH";
              priv_protocol = "AES"; priv_passphrase = "$SA_V3_PRIV"; } );
};
rediscover = {
  mode = "act";
  hold_time = 0;
  target_cooldown = 0;
  portal_cooldown = 0;
  session_age_out = 600;
  storage_users = [ "$SA_V3_USER" ];
  pool = [ "$NEW", "$NEW2@$DUMMY", "$NEW3" ];
  storage_agents = ( { peer = "udp:127.0.0.1:$SA_SNMP_PORT"; user = "$SA_V3_USER";
                       auth_passphrase = "$SA_V3_AUTH"; priv_passphrase = "$SA_V3_PRIV";
                       portals = [ "127.0.0.1:$P", "127.0.0.2:$P" ]; } );
  isns_server = "127.0.0.1:$ISNS_PORT";
  isns_source = "$SA_IQN_PREFIX:nameserver";
};
CONF
sa_ns_start_agent

# ---- a session of Host_1 on disk0 at the old portal; the name server learns it from the storage agent ----------
sa_bg iscsi-perf -i "$H1" -m 1 -b 1 "iscsi://127.0.0.1:$P/$X/1" >"$SA_TMP/perf.log" 2>&1
nexus_of() { sa_tgt_ctl --op show --mode target | grep -q "Initiator: $1 "; }
sa_wait_for 10 nexus_of "$H1" || sa_fail "Host_1 did not log in: $(cat "$SA_TMP/perf.log")"
known() { ns_walk "$SESS.2" | grep -q "\"$H1\""; }
sa_wait_for 20 known || sa_fail "the name server does not know Host_1's session: $(ns_walk "$SESS")"
SID0=$(sa_tgt_ctl --op show --mode target | awk -v h="$H1" '/I_T nexus:/{s=$3} $0 ~ "Initiator: " h " "{print s; exit}')

# ---- the move -------------------------------------------------------------------------------------------------
hex() { printf '%02X %02X %02X %02X' $(echo "$1" | tr . ' '); }
trigger() { # TARGET ADDRESS
	ns_set "$CTL.1.0" s "$1" "$CTL.2.0" i 1 "$CTL.3.0" x "$(hex "$2" | tr -d ' ')" "$CTL.4.0" u "$P" \
		"$CTL.5.0" s "" "$CTL.6.0" i 2 >/dev/null || sa_fail "sanRediscTrigger refused for $1"
}
t0=$(date +%s%N)
trigger "$X" 127.0.0.1
ended_state() { s=$(ns_get "$DEC.17.$1"); [ "$s" = 3 ] || [ "$s" = 4 ]; }
sa_wait_for 30 ended_state 1 || sa_fail "decision 1 still $(ns_get1 "$DEC.17.1" "$DEC.21.1")"
t1=$(date +%s%N)
row=$(ns_get1 "$DEC.7.1" "$DEC.12.1" "$DEC.13.1" "$DEC.17.1" "$DEC.18.1" "$DEC.21.1")
[ "$row" = "\"$X\" \"$(hex $NEW) \" $P 3 1 \"\"" ] || sa_fail "decision 1: $row ($(tail -5 "$SA_TMP/ns-sanagentd.log"))"
sa_log "decision 1 done in $(((t1 - t0) / 1000000)) ms: $row"
# tgt listens at the new portal, through the storage agent's row; the old one stays (disk1 is served there).
sa_tgt_ctl --op show --mode portal | grep -q "Portal: $NEW:$P," || sa_fail "tgt has no portal $NEW:$P"
sa_tcp_listening "$NEW" "$P" || sa_fail "tgtd does not listen on $NEW:$P"
iscsi-ls -s "iscsi://$NEW:$P" 2>&1 | grep -q "$X" || sa_fail "iscsi-ls finds no $X at $NEW:$P"
# iSNS: disk0 at the new portal and no longer at the old one, still at 127.0.0.2; disk1 where it was.
PGS1=$(sa_isns_pgs)
sa_log "iSNS after: $(echo "$PGS1" | tr '\n' ';')"
want=$(printf '%s\n' "$X $NEW:$P" "$X 127.0.0.2:$P" "$Y 127.0.0.1:$P" "$Y 127.0.0.2:$P" | sort)
[ "$PGS1" = "$want" ] || sa_fail "iSNS portal groups: $PGS1"
# Host_1's session at the old portal was ended (libiscsi may log in again: a new nexus, not the old one).
gone() { ! sa_tgt_ctl --op show --mode target | grep -q "I_T nexus: $SID0\$"; }
sa_wait_for 10 gone || sa_fail "session $SID0 of Host_1 not ended"
sa_wait_for 5 sa_trap_seen "$READDRESSED" || sa_fail "sanTargetReaddressed did not reach snmptrapd"
grep -A10 "$READDRESSED" "$SA_TMP/snmptrapd.log" | grep -q "$DEC.7.1 = STRING: \"$X\"" ||
	sa_fail "sanTargetReaddressed does not name $X: $(grep -A10 "$READDRESSED" "$SA_TMP/snmptrapd.log")"

# ---- the storage agent unreachable: the second move fails, nothing changes ---------------------------------------
PORTALS0=$(sa_tgt_ctl --op show --mode portal | sort)
sa_stop_pid "$SA_SNMPD_PID"
trigger "$Y" 127.0.0.1
sa_wait_for 30 ended_state 2 || sa_fail "decision 2 still $(ns_get1 "$DEC.17.2" "$DEC.21.2")"
row=$(ns_get1 "$DEC.7.2" "$DEC.17.2" "$DEC.18.2" "$DEC.21.2")
case "$row" in "\"$Y\" 4 0 \"sanStorPortalNextIndex: storage agent unreachable"*) ;; *) sa_fail "decision 2: $row" ;; esac
sa_log "decision 2: $row"
[ "$(sa_tgt_ctl --op show --mode portal | sort)" = "$PORTALS0" ] || sa_fail "tgt's portals changed"
[ "$(sa_isns_pgs)" = "$PGS1" ] || sa_fail "iSNS changed: $(sa_isns_pgs)"
ip -o addr show dev "$DUMMY" | grep -q "$NEW2" && sa_fail "$NEW2 on $DUMMY after a failed move"

# ---- a new address: the storage agent adds it on the pool entry's interface ---------------------------------------
sa_start_snmpd "trapsess -Ci -v 3 -l authPriv -u $SA_V3_USER -a SHA -A $SA_V3_AUTH -x AES -X $SA_V3_PRIV -t 2 -r 2 udp:127.0.0.1:$RX"
sa_wait_agent
trigger "$Y" 127.0.0.1
sa_wait_for 30 ended_state 3 || sa_fail "decision 3 still $(ns_get1 "$DEC.17.3" "$DEC.21.3")"
row=$(ns_get1 "$DEC.7.3" "$DEC.12.3" "$DEC.17.3" "$DEC.21.3")
[ "$row" = "\"$Y\" \"$(hex $NEW2) \" 3 \"\"" ] || sa_fail "decision 3: $row ($(tail -5 "$SA_TMP/ns-sanagentd.log"))"
sa_log "decision 3: $row"
ip -o addr show dev "$DUMMY" | grep -q "inet $NEW2/32" || sa_fail "$NEW2 not on $DUMMY: $(ip -o addr show dev "$DUMMY")"
sa_tcp_listening "$NEW2" "$P" || sa_fail "tgtd does not listen on $NEW2:$P"
sa_isns_pgs | grep -qx "$Y $NEW2:$P" || sa_fail "iSNS does not list $Y at $NEW2:$P: $(sa_isns_pgs)"
sa_isns_pgs | grep -qx "$Y 127.0.0.1:$P" && sa_fail "iSNS still lists $Y at 127.0.0.1:$P"
# The row the move created (sanStorPortalIfName) and its removal: the address goes with it.
SPOR=$SA_OID.3.1.1.12.1
r=$(sa_walk "$SPOR.8" | grep "\"$DUMMY\"" | sed -n "s/^$SPOR\.8\.\([0-9]*\) .*/\1/p")
[ -n "$r" ] || sa_fail "no portal row names $DUMMY: $(sa_walk "$SPOR")"
sa_set "$SPOR.7.$r" i 6 >/dev/null || sa_fail "cannot destroy portal row $r"
addr_gone() { ! ip -o addr show dev "$DUMMY" | grep -q "$NEW2"; }
sa_wait_for 10 addr_gone || sa_fail "$NEW2 still on $DUMMY after the row went"
sa_log "portal row $r destroyed: $NEW2 off $DUMMY"
# ---- the name-server agent killed mid-move: at its next start the move is undone ---------------------------------
PGS3=$(sa_isns_pgs)
ISNSD_PID=$(cat "$SA_TMP/isnsd.pid")
kill -STOP "$ISNSD_PID" # the iSNS step waits: the portal is created, iSNS not answered yet
trigger "$X" 127.0.0.2
listening3() { sa_tgt_ctl --op show --mode portal | grep -q "Portal: $NEW3:$P,"; }
sa_wait_for 15 listening3 || { kill -CONT "$ISNSD_PID"; sa_fail "no portal $NEW3:$P before the kill"; }
state4=$(ns_get1 "$DEC.17.4")
kill -9 "$NS_PID"
kill -CONT "$ISNSD_PID"
[ "$state4" = 2 ] || sa_fail "decision 4 was $state4 at the kill, want inProgress(2)"
sa_ns_start_agent
sa_wait_for 30 ended_state 4 || sa_fail "decision 4 still $(ns_get1 "$DEC.17.4" "$DEC.21.4")"
row=$(ns_get1 "$DEC.7.4" "$DEC.17.4" "$DEC.18.4" "$DEC.21.4")
[ "$row" = "\"$X\" 4 0 \"agent restarted during the move; undone\"" ] || sa_fail "decision 4: $row"
sa_log "decision 4 after the restart: $row"
gone3() { ! listening3; }
sa_wait_for 10 gone3 || sa_fail "portal $NEW3:$P still in tgt"
[ "$(sa_isns_pgs)" = "$PGS3" ] || sa_fail "iSNS after the undo: $(sa_isns_pgs | tr '\n' ';'), before: $(echo "$PGS3" | tr '\n' ';')"
# Earlier decisions are as they were.
[ "$(ns_get1 "$DEC.17.1" "$DEC.17.2" "$DEC.17.3")" = "3 4 3" ] || sa_fail "decisions 1-3: $(ns_get1 "$DEC.17.1" "$DEC.17.2" "$DEC.17.3")"

# ---- the pool exhausted: the last free address goes to decision 5, decision 6 fails and touches nothing ----------
trigger "$X" 127.0.0.2
sa_wait_for 30 ended_state 5 || sa_fail "decision 5 still $(ns_get1 "$DEC.17.5" "$DEC.21.5")"
[ "$(ns_get1 "$DEC.12.5" "$DEC.17.5")" = "\"$(hex $NEW3) \" 3" ] || sa_fail "decision 5: $(ns_get1 "$DEC.12.5" "$DEC.17.5" "$DEC.21.5")"
PORTALS5=$(sa_tgt_ctl --op show --mode portal | sort) PGS5=$(sa_isns_pgs)
trigger "$Y" 127.0.0.2
sa_wait_for 30 ended_state 6 || sa_fail "decision 6 still $(ns_get1 "$DEC.17.6" "$DEC.21.6")"
row=$(ns_get1 "$DEC.7.6" "$DEC.17.6" "$DEC.18.6" "$DEC.21.6")
[ "$row" = "\"$Y\" 4 0 \"address pool exhausted\"" ] || sa_fail "decision 6: $row"
[ "$(sa_tgt_ctl --op show --mode portal | sort)" = "$PORTALS5" ] || sa_fail "tgt's portals changed with the pool exhausted"
[ "$(sa_isns_pgs)" = "$PGS5" ] || sa_fail "iSNS changed with the pool exhausted: $(sa_isns_pgs)"
sa_log "decision 6: $row; tgt and iSNS unchanged"
grep -q -e "$SA_V3_AUTH" -e "$SA_V3_PRIV" "$SA_TMP/ns-sanagentd.log" && sa_fail "a secret is in the log"
echo PASS
