#!/usr/bin/env bash
# rediscover_burst.sh: a burst of 1,000 sanRediscoveryRequest informs (100 senders, v3 authPriv) about one portal
# makes one decision per cooldown, and with the cooldowns off the hourly cap holds the rest back: every request is
# counted once (engine and receiver), every suppressed one is counted as suppressed, and snmptrapd gets exactly one
# sanRediscoveryTriggered per decision.  Dry-run: the decisions are recorded, nothing moves.  Counters are read in
# one PDU.
set -u
. "$(dirname "$0")/lib.sh"

sa_init rediscover_burst
sa_need snmptrapd snmptrapd
FLOOD=$SA_BUILDDIR/tests/integration/notify_flood
sa_built "$FLOOD" "tests/integration/notify_flood (make check builds it)"

M=.1.3.6.1.4.1.32473.1.3.4
TRIGGERED=$M.0.3
P=$M.1.1               # sanRediscPolicy: mode .1, cooldowns .3 .4, cap .5
C=$M.1.3               # sanRediscCounters
DEC=$M.1.10.1          # sanRediscDecisionEntry
RECV=$SA_OID.1.3       # sanTrapRecv: Received .1, Accepted .2
STOR_USER=storagent STOR_AUTH=stor-auth-secret STOR_PRIV=stor-priv-secret
HOST_USER=hostagent HOST_AUTH=host-auth-secret HOST_PRIV=host-priv-secret
X=iqn.2026-12.org.sanagent:x
INI=iqn.2026-12.org.sanagent:host
CAP=3

sa_start_snmptrapd
sa_start_snmpd
RX=$(sa_free_port udp)
user() { echo "{ name = \"$1\"; auth_protocol = \"SHA\"; auth_passphrase = \"$2\"; priv_protocol = \"AES\"; priv_passphrase = \"$3\"; }"; }
sa_agent_conf "trap_receiver = {
  listen = \"udp:127.0.0.1:$RX\";
  users = ( $(user $STOR_USER $STOR_AUTH $STOR_PRIV), $(user $HOST_USER $HOST_AUTH $HOST_PRIV) );
};" "rediscover = {
  mode = \"dry-run\";
  hold_time = 0;
  target_cooldown = 300;
  portal_cooldown = 300;
  max_moves_per_hour = $CAP;
  feedback_users = [ \"$HOST_USER\" ];
  storage_users = [ \"$STOR_USER\" ];
  thresholds = ( { metric = \"latency\"; value = 20000; direction = \"above\"; } );
  pool = [ \"10.1.0.4\", \"10.1.0.5\", \"10.1.0.6\", \"10.1.0.7\" ];
};"
sa_start_agent
sa_wait_agent
sa_wait_for 5 sa_udp_listening "$RX" || sa_fail "trap receiver not listening on $RX"

# Engine: received accepted decisions suppressed requests moves; receiver: accepted.
counters() { sa_get1 "$C.1.0" "$C.2.0" "$C.7.0" "$C.8.0" "$C.12.0" "$C.9.0" "$RECV.2.0"; }
counters_are() { [ "$(counters)" = "$1" ]; }
expect() { sa_wait_for 10 counters_are "$2" || sa_fail "$1: counters $(counters), want $2"; sa_log "$1: $2"; }
triggered_are() { [ "$(sa_trap_count "$TRIGGERED")" = "$1" ]; }
# flood USER AUTH PRIV 'OPTIONS' KIND ARGS...: notify_flood against the receiver; every inform must be acknowledged.
flood() {
	local out
	# shellcheck disable=SC2086
	out=$("$FLOOD" $4 "127.0.0.1:$RX" "$1" "$2" "$3" "${@:5}" 2>&1) || sa_fail "notify_flood: $out"
	sa_log "$out"
}

# The storage agent reports two sessions on X at 10.1.0.3:3260 (INI:s0, INI:s1): the group the requests name.
flood $STOR_USER $STOR_AUTH $STOR_PRIV "-n 2 -s 2" feedback "$X" 0A010003 3260 "$INI"
expect "sessions" "2 2 0 0 0 0 2"

# ---- 1,000 requests in a burst: one decision, the rest inside the cooldown ---------------------------------
flood $HOST_USER $HOST_AUTH $HOST_PRIV "-n 1000 -s 100 -w 4 -t 10000" request "$X" 0A010003 3260 "$INI" "$INI:s0"
expect "1,000 requests, cooldown 300 s" "1002 1002 1 999 1000 0 1002"
sa_wait_for 5 triggered_are 1 || sa_fail "$(sa_trap_count "$TRIGGERED") sanRediscoveryTriggered at snmptrapd, want 1"
row=$(sa_get1 "$DEC.3.1" "$DEC.7.1" "$DEC.15.1" "$DEC.16.1" "$DEC.17.1")
[ "$row" = "2 \"$X\" \"$INI:s0\" 2 1" ] || sa_fail "decision 1 (trigger target offender mode state): $row"
[ -z "$(sa_get "$DEC.3.2")" ] || sa_fail "a second decision row inside the cooldown"

# ---- cooldowns off: the hourly cap ($CAP) holds -------------------------------------------------------------
sa_set "$P.3.0" u 0 "$P.4.0" u 0 >/dev/null || sa_fail "SET cooldowns 0 refused"
flood $HOST_USER $HOST_AUTH $HOST_PRIV "-n 1000 -s 100 -w 4 -t 10000" request "$X" 0A010003 3260 "$INI" "$INI:s0"
expect "1,000 more, no cooldown, cap $CAP per hour" "2002 2002 $CAP $((1999 - CAP + 1)) 2000 0 2002"
sa_wait_for 5 triggered_are $CAP || sa_fail "$(sa_trap_count "$TRIGGERED") sanRediscoveryTriggered at snmptrapd, want $CAP"
[ -n "$(sa_get "$DEC.3.$CAP")" ] && [ -z "$(sa_get "$DEC.3.$((CAP + 1))")" ] ||
	sa_fail "decision rows: want exactly $CAP"
sa_log "decisions recorded: $(sa_walk "$DEC.17" | grep -c INTEGER), moves $(sa_get "$C.9.0") (dry run)"
grep -q -e "$HOST_AUTH" -e "$STOR_PRIV" "$SA_TMP/sanagentd.log" && sa_fail "a secret is in the log"
echo PASS
