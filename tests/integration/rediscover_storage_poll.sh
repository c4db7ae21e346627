#!/usr/bin/env bash
# rediscover_storage_poll.sh: the pull side of session feedback.  A name-server agent polls a storage agent's
# sanStorSessionTable over SNMPv3 authPriv every second (rediscover.storage_agents poll_interval) and knows its
# sessions without any notification reaching it (its feedback counters stay 0).  The storage agent's snmpd
# stops: the polls fail, counted, logged once, the sessions age out; it comes back: logged once, sessions back.
# All on 127.0.0.1: two snmpd, two sanagentd, one tgtd, two initiators (iscsi-perf from 127.0.0.11 and .12).
set -u
. "$(dirname "$0")/lib.sh"

sa_init rediscover_storage_poll
sa_need snmp snmpget
sa_need libiscsi-bin iscsi-perf
sa_built "$SA_BUILDDIR/.libs/sanpath-bind.so" "sanpath-bind.so (needs nbdkit-plugin-dev)"

M=.1.3.6.1.4.1.32473.1.3.4
C=$M.1.3      # sanRediscCounters: received .1, polls .13, poll failures .14
SESS=$M.1.8.1 # sanRediscSessionEntry
H1=iqn.2026-12.org.sanagent:host1
H2=iqn.2026-12.org.sanagent:host2

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
# The storage agent: its snmpd forwards nothing to the name server.
sa_start_snmpd
sa_agent_conf "storage = { tgt_control = $SA_TGT_CONTROL; interval = 1; feedback_interval = 2; };"
sa_start_agent
sa_wait_agent

# ---- the name-server agent, polling the storage agent's snmpd as the v3 user of lib.sh ------------------------
sa_ns_snmpd
sa_ns_agent_conf <<CONF
rediscover = {
  mode = "dry-run";
  session_age_out = 5;
  storage_agents = ( { peer = "udp:127.0.0.1:$SA_SNMP_PORT"; user = "$SA_V3_USER";
                       auth_passphrase = "$SA_V3_AUTH"; priv_passphrase = "$SA_V3_PRIV";
                       portals = [ "127.0.0.1:$P" ]; poll_interval = 1; } );
  pool = [ "127.0.0.21" ];
};
CONF
sa_ns_start_agent

# ---- two initiators on one portal ------------------------------------------------------------------------------
bind_perf() { # SRC INITIATOR ARGS...
	local src=$1 ini=$2
	shift 2
	LD_PRELOAD="$SA_BUILDDIR/.libs/sanpath-bind.so" SANPATH_BIND="127.0.0.1:$P=$src" \
		iscsi-perf -i "$ini" "$@" "iscsi://127.0.0.1:$P/$IQN/1"
}
nexus_of() { sa_tgt_ctl --op show --mode target | grep -q "Initiator: $1 "; }
sa_bg bind_perf 127.0.0.11 $H1 -m 4 -b 16 >"$SA_TMP/perf1.log" 2>&1
sa_bg bind_perf 127.0.0.12 $H2 -m 1 -b 1 >"$SA_TMP/perf2.log" 2>&1
sa_wait_for 10 nexus_of $H1 || sa_fail "Host_1 did not log in: $(cat "$SA_TMP/perf1.log")"
sa_wait_for 10 nexus_of $H2 || sa_fail "Host_2 did not log in: $(cat "$SA_TMP/perf2.log")"

# ---- polled, not pushed ------------------------------------------------------------------------------------------
ns_sessions() { ns_walk "$SESS.2" 2>/dev/null | grep -c STRING; }
sessions_are() { [ "$(ns_sessions)" = "$1" ]; }
t0=$(sa_now_ms)
sa_wait_for 20 sessions_are 2 || sa_fail "polled sessions at the name server: $(ns_walk "$SESS")"
sa_log "both sessions known by polling after $(sa_secs_since "$t0") s"
rates() { # the polled window average of each session, once the storage agent's first window closed
	local i out=
	for i in $(ns_walk "$SESS.2" | sed -n "s/^$SESS\.2\.\([0-9]*\) .*/\1/p"); do out="$out $(ns_get "$SESS.9.$i")"; done
	echo "$out"
}
rated() { case "$(rates)" in *" 0"*) return 1 ;; esac; }
sa_wait_for 15 rated || sa_fail "polled rates: $(rates)"
for i in $(ns_walk "$SESS.2" | sed -n "s/^$SESS\.2\.\([0-9]*\) .*/\1/p"); do
	row=$(ns_get1 "$SESS.2.$i" "$SESS.3.$i" "$SESS.5.$i" "$SESS.6.$i" "$SESS.9.$i" "$SESS.12.$i" "$SESS.15.$i")
	sa_log "polled session $i: $row"
	case "$row" in
	"\"$H1\" \"$IQN\" \"7F 00 00 01 \" $P "* | "\"$H2\" \"$IQN\" \"7F 00 00 01 \" $P "*) ;;
	*) sa_fail "polled session $i: $row" ;;
	esac
	case "$row" in *"\"udp:127.0.0.1:$SA_SNMP_PORT\"") ;; *) sa_fail "session $i's source: $row" ;; esac
done
ctr=$(ns_get1 "$C.1.0" "$C.13.0" "$C.14.0")
read -r received polls failures <<<"$ctr"
[ "$received" = 0 ] && [ "$failures" = 0 ] && [ "$polls" -ge 2 ] || sa_fail "name server counters: $ctr"
sa_log "received 0 notifications, $polls polls, $failures failures"

# ---- the storage agent's snmpd goes away: counted, logged once, sessions age out ---------------------------------
sa_stop_pid "$SA_SNMPD_PID"
failing() { [ "$(ns_get "$C.14.0")" -ge 3 ]; }
sa_wait_for 20 failing || sa_fail "poll failures: $(ns_get "$C.14.0")"
sa_wait_for 15 sessions_are 0 || sa_fail "sessions of an unreachable storage agent did not age out: $(ns_sessions)"
n=$(grep -c "storage agent udp:127.0.0.1:$SA_SNMP_PORT does not answer" "$SA_TMP/ns-sanagentd.log")
[ "$n" = 1 ] || sa_fail "'does not answer' logged $n times, want once"
sa_log "unreachable: $(ns_get "$C.14.0") failures, logged once, sessions aged out"
# ---- back: logged once, sessions known again ---------------------------------------------------------------------
SNMP_PERSISTENT_DIR="$SA_TMP/snmpd-persist" sa_bg snmpd -f -I -smux -Lf "$SA_TMP/snmpd.log" -C \
	-c "$SA_TMP/snmpd.conf" -p "$SA_TMP/snmpd.pid"
SA_SNMPD_PID=$SA_LASTPID
sa_wait_for 30 sessions_are 2 || sa_fail "sessions not back after the storage agent returned: $(ns_sessions)"
n=$(grep -c "storage agent udp:127.0.0.1:$SA_SNMP_PORT answers" "$SA_TMP/ns-sanagentd.log")
[ "$n" = 2 ] || sa_fail "'answers' logged $n times, want twice (first poll, and back)"
grep -q -e "$SA_V3_AUTH" -e "$SA_V3_PRIV" "$SA_TMP/ns-sanagentd.log" && sa_fail "a secret is in the log"
echo PASS
