#!/usr/bin/env bash
# snmpc_engine_cache.sh: the agent's SNMP client learns a peer's SNMPv3 engine ID once and skips the discovery probe
# for the next requests to it; a peer that comes back with another engine ID is probed again and answered.
# One client process (tests/integration/snmpc_walk: the agent's sa_snmpc_walk) walks a real snmpd three times; the
# probes are counted by the peer itself (usmStatsUnknownEngineIDs: each probe is one unknownEngineID REPORT).
set -u
. "$(dirname "$0")/lib.sh"

sa_init snmpc_engine_cache
WALK=$SA_BUILDDIR/tests/integration/snmpc_walk
[ -x "$WALK" ] || sa_fail "no $WALK"
UNKNOWN=.1.3.6.1.6.3.15.1.1.4.0 # usmStatsUnknownEngineIDs
SYSTEM=.1.3.6.1.2.1.1

sa_start_snmpd "engineID sanagent-test-engine-1" "view all included .1" "rocommunity $SA_RO_COMMUNITY 127.0.0.1 -V all"
unknown() { snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -Oqv "127.0.0.1:$SA_SNMP_PORT" "$UNKNOWN"; }
u0=$(unknown)
[ -n "$u0" ] || sa_fail "usmStatsUnknownEngineIDs not readable"

mkfifo "$SA_TMP/in"
"$WALK" "udp:127.0.0.1:$SA_SNMP_PORT" "$SA_V3_USER" "$SA_V3_AUTH" "$SA_V3_PRIV" "$SYSTEM" <"$SA_TMP/in" >"$SA_TMP/out" 2>&1 &
SA_PIDS+=("$!")
exec 3>"$SA_TMP/in"
walked() { [ "$(grep -c '^walk ' "$SA_TMP/out")" -ge "$1" ]; }
walk() {
	echo go >&3
	sa_wait_for 20 walked "$1" || sa_fail "walk $1 did not end: $(cat "$SA_TMP/out")"
	grep -q "^walk $1: rc 0, [1-9]" "$SA_TMP/out" || sa_fail "walk $1: $(grep "^walk $1" "$SA_TMP/out"); $(cat "$SA_TMP/out")"
}

walk 1
u1=$(unknown)
[ "$u1" = $((u0 + 1)) ] || sa_fail "first walk: $((u1 - u0)) probes, want 1"
walk 2
u2=$(unknown)
[ "$u2" = "$u1" ] || sa_fail "second walk to the same engine probed again ($((u2 - u1)) probes)"
sa_log "walks 1 and 2: one probe between them"

# The peer comes back with another engine ID (a reinstalled agent): the cached one is refused, one probe follows.
sa_stop_pid "$SA_SNMPD_PID"
sed -i 's/^engineID .*/engineID sanagent-test-engine-2/' "$SA_TMP/snmpd.conf"
rm -rf "$SA_TMP/snmpd-persist"
mkdir -p "$SA_TMP/snmpd-persist"
SNMP_PERSISTENT_DIR="$SA_TMP/snmpd-persist" sa_bg snmpd -f -I -smux -Lf "$SA_TMP/snmpd.log" -C \
	-c "$SA_TMP/snmpd.conf" -p "$SA_TMP/snmpd.pid"
SA_SNMPD_PID=$SA_LASTPID
sa_wait_for 10 sa_snmp_alive || sa_fail "snmpd did not come back"
walk 3
sa_log "walk 3 after the engine ID changed: $(grep '^walk 3' "$SA_TMP/out"); probes counted by the new engine: $(unknown)"
exec 3>&-
echo PASS
