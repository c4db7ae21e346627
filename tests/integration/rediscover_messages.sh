#!/usr/bin/env bash
# rediscover_messages.sh: the seed's steps 62-88 on one host (127.0.0.1), every part real: a name-server agent in
# act mode moves target disk0 from 127.0.0.1:P to the pool's 127.0.0.5:P (tgt through the storage agent, isnsd),
# then sends sanRediscover to the initiator agent of the other competing initiator (an SNMPv3 authPriv inform to
# its trap receiver, configured in initiator_agents) and records the acknowledgement in the decision row; that
# agent moves its login to the new address and logs in there.  The offender (Host_1, iscsi-perf, no agent) gets
# nothing from us (its type 2 is recorded as no-agent with the alternative, the other portal): iSNS tells it.
# tgtd, isnsd, two snmpd, two sanagentd (the storage agent is also the initiator agent), snmptrapd.
set -u
. "$(dirname "$0")/lib.sh"

sa_init rediscover_messages
sa_need_plugin
sa_need snmp snmpget
sa_need snmptrapd snmptrapd
sa_need libiscsi-bin iscsi-perf
sa_need open-isns-server isnsd
sa_need open-isns-utils isnsadm

M=.1.3.6.1.4.1.32473.1.3.4
SESS=$M.1.8.1      # sanRediscSessionEntry
CTL=$M.1.11        # sanRediscControls
DEC=$M.1.10.1      # sanRediscDecisionEntry: target .7, new address .12, state .17, messages .19, error .21
R=$M.1.13          # sanRediscReaction (the initiator agent)
LOGIN=$SA_OID.3.1.1.8.1
H1=iqn.2026-12.org.sanagent:host1
INI=iqn.2026-01.org.sanagent:initiator # the initiator agent's login InitiatorName (the default)
MSG_USER=nsmsg MSG_AUTH=ns-msg-auth-secret MSG_PRIV=ns-msg-priv-secret
NEW=127.0.0.5 NEW2=127.0.0.6

sa_start_snmptrapd
sa_start_tgtd 2
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
# The same agent is the initiator agent: a login to X (balance engine, data plane) and a trap receiver that takes
# the name server's messages as user $MSG_USER.
RX2=$(sa_free_port udp)
RUN=$SA_TMP/run
# (competing_min_rate 0: it sends no request of its own, the test triggers the decision naming the offender)
sa_agent_conf "storage = { tgt_control = $SA_TGT_CONTROL; interval = 1; feedback_interval = 2; competing_min_rate = 0; };
balance = { run_dir = \"$RUN\"; plugin = \"$PLUGIN\"; plugin_args = [ \"report_ms=200\" ]; poll_interval_ms = 100; };
discovery = { rediscover_users = [ \"$MSG_USER\" ]; };
trap_receiver = {
  listen = \"udp:127.0.0.1:$RX2\";
  users = ( { name = \"$MSG_USER\"; auth_protocol = \"SHA\"; auth_passphrase = \"$MSG_AUTH\";
              priv_protocol = \"AES\"; priv_passphrase = \"$MSG_PRIV\"; } );
};"
sa_start_agent
sa_wait_agent
sa_wait_for 5 sa_udp_listening "$RX2" || sa_fail "the initiator agent's receiver does not listen on $RX2"

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
  target_cooldown = 300;
  portal_cooldown = 300;
  session_age_out = 600;
  storage_users = [ "$SA_V3_USER" ];
  pool = [ "$NEW", "$NEW2" ];
  storage_agents = ( { peer = "udp:127.0.0.1:$SA_SNMP_PORT"; user = "$SA_V3_USER";
                       auth_passphrase = "$SA_V3_AUTH"; priv_passphrase = "$SA_V3_PRIV";
                       portals = [ "127.0.0.1:$P", "127.0.0.2:$P" ]; } );
  isns_server = "127.0.0.1:$ISNS_PORT";
  isns_source = "$SA_IQN_PREFIX:nameserver";
  initiator_agents = ( { initiator = "$INI"; address = "127.0.0.1:$RX2"; } );
  message_user = { name = "$MSG_USER"; auth_passphrase = "$MSG_AUTH"; priv_passphrase = "$MSG_PRIV"; };
};
CONF
sa_ns_start_agent

# ---- the competing group on X at 127.0.0.1: the initiator agent's login and Host_1 ------------------------------
sa_set "$LOGIN.2.1" s "$X" "$LOGIN.3.1" i 1 "$LOGIN.4.1" x 7F000001 "$LOGIN.5.1" u "$P" "$LOGIN.8.1" u 1 \
	"$LOGIN.10.1" i 1 "$LOGIN.18.1" i 4 >/dev/null || sa_fail "cannot create the login to $X"
is() { [ "$(sa_get "$1")" = "$2" ]; }
sa_wait_for 20 is "$LOGIN.11.1" 1 || sa_fail "login 1 not up: $(sa_get "$LOGIN.12.1")"
TEAM=$(sa_get "$LOGIN.15.1")
sa_bg iscsi-perf -i "$H1" -m 1 -b 1 "iscsi://127.0.0.1:$P/$X/1" >"$SA_TMP/perf.log" 2>&1
known() { [ "$(ns_walk "$SESS.2" | grep -c -e "\"$H1\"" -e "\"$INI\"")" = 2 ]; }
sa_wait_for 20 known || sa_fail "the name server does not know both sessions: $(ns_walk "$SESS.2")"

# ---- the move, Host_1 the offender; then the messages ------------------------------------------------------------
hex() { printf '%02X %02X %02X %02X' $(echo "$1" | tr . ' '); }
t0=$(sa_now_ms)
ns_set "$CTL.1.0" s "$X" "$CTL.2.0" i 1 "$CTL.3.0" x 7F000001 "$CTL.4.0" u "$P" "$CTL.5.0" s "$H1" "$CTL.6.0" i 2 \
	>/dev/null || sa_fail "sanRediscTrigger refused"
done_state() { [ "$(ns_get "$DEC.17.1")" = 3 ]; }
sa_wait_for 30 done_state || sa_fail "decision 1: $(ns_get1 "$DEC.17.1" "$DEC.21.1")"
WANT="\"type1:$INI@127.0.0.1:$RX2=acked type2:$H1@iSNS=no-agent,alt=127.0.0.2:$P\""
acked() { [ "$(ns_get "$DEC.19.1")" = "$WANT" ]; }
sa_wait_for 15 acked || sa_fail "decision 1 messages: $(ns_get "$DEC.19.1"), want $WANT"
t1=$(sa_now_ms)
sa_log "decision 1 messages: $(ns_get "$DEC.19.1") ($((t1 - t0)) ms after the trigger)"
# The initiator agent moved its login and logs in at the new address with the same team.
moved() { [ "$(sa_get "$LOGIN.4.1")" = "\"$(hex $NEW) \"" ]; }
sa_wait_for 10 moved || sa_fail "login 1 address $(sa_get "$LOGIN.4.1"), want $NEW"
conn_to() { ss -Htn state established "dst $1 and dport = :$P" | grep -q .; }
up_there() { is "$LOGIN.11.1" 1 && conn_to "$NEW"; }
sa_wait_for 20 up_there || sa_fail "login 1 not up at $NEW: $(sa_get "$LOGIN.11.1" "$LOGIN.12.1")"
t2=$(sa_now_ms)
[ "$(sa_get "$LOGIN.15.1")" = "$TEAM" ] || sa_fail "login 1 has team $(sa_get "$LOGIN.15.1"), want $TEAM kept"
r=$(sa_get1 "$R.1.0" "$R.2.0" "$R.4.0" "$R.7.0")
[ "$r" = "1 1 0 1" ] || sa_fail "sanRediscReaction: $r, want 1 received, 1 type 1, 0 dropped, 1 login moved"
sa_log "login 1 up at $NEW:$P with team $TEAM $((t2 - t0)) ms after the trigger ($((t2 - t1)) ms after the ack was recorded)"
[ "$(ns_get "$M.1.3.11.0")" = 1 ] || sa_fail "sanRediscMessagesSent $(ns_get "$M.1.3.11.0"), want 1"
grep -q -e "$MSG_AUTH" -e "$MSG_PRIV" "$SA_TMP/ns-sanagentd.log" "$SA_TMP/sanagentd.log" && sa_fail "a secret is in a log"
exit 0
