#!/bin/bash
# trap_receiver.sh: the trap receiver accepts authenticated v2c/v3 notifications and informs and drops the rest, counting each.
#
# Runs tests/integration/trap_dispatch (the receiver in-process, one callback
# registered on $NOTIF) on a free loopback UDP port and fires real net-snmp
# tools (snmptrap, snmpinform, snmpget) and raw datagrams at it.  After every
# step it waits (polling) for the receiver's COUNTERS line and asserts the
# exact counters and the number of callbacks.
# Exit: 0 pass, 1 fail, 77 skip.

# make check may run us with /bin/sh; /dev/udp and (( )) need bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

BUILDDIR=${SA_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=$BUILDDIR/tests/integration/trap_dispatch

# ./sanlab deps installs all of these: a missing one is a broken setup, not a skip.
for tool in snmptrap:snmp snmpinform:snmp snmpget:snmp python3:python3; do
	command -v "${tool%%:*}" >/dev/null 2>&1 || { echo "FAIL: ${tool%%:*} not found: install ${tool#*:} (./sanlab deps installs it)"; exit 1; }
done
[ -x "$BIN" ] || { echo "FAIL: $BIN not built (make check builds it)"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sa-trap-receiver.XXXXXX") || exit 1
RX_PID=
cleanup() {
	if [ -n "$RX_PID" ]; then
		kill "$RX_PID" 2>/dev/null
		wait "$RX_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

FAILS=0
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

dump_logs() {
	echo "---- receiver stdout"; cat "$TMP/rx.out"
	echo "---- receiver stderr"; cat "$TMP/rx.err"
	echo "---- tools"; cat "$TMP/tools.log"
}

NOTIF=1.3.6.1.4.1.32473.99.0.1
OTHER=1.3.6.1.4.1.32473.99.0.2
V=1.3.6.1.4.1.32473.99.1
COMMUNITY=labtrap
TRAP_ENGINE=0x80001f88805361546573740001
TRAP_USER=trapuser
TRAP_AUTH=trap-auth-secret
TRAP_PRIV=trap-priv-secret
INFORM_USER=informuser
INFORM_AUTH=inform-auth-secret

# Keep the receiver and the tools away from the host's snmp.conf, MIBs and
# persistent state.
mkdir -p "$TMP/rx-conf" "$TMP/rx-persist" "$TMP/tools-conf" "$TMP/tools-persist"
: >"$TMP/tools.log"
export MIBS=

# Free port: probe random ports below the ephemeral range with a real bind,
# and retry the start if we still lose a race for it.
free_port() {
	python3 - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randint(20000, 32000)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOF
}

write_config() {
	cat >"$TMP/sanagent.conf" <<EOF
trap_receiver = {
  listen = "udp:127.0.0.1:$PORT";
  communities = ( { community = "$COMMUNITY"; sources = [ "127.0.0.1/32", "::1/128" ]; } );
  users = (
    { name = "$TRAP_USER"; auth_protocol = "SHA"; auth_passphrase = "$TRAP_AUTH";
      priv_protocol = "AES"; priv_passphrase = "$TRAP_PRIV"; engine_id = "$TRAP_ENGINE"; },
    { name = "$INFORM_USER"; auth_protocol = "SHA"; auth_passphrase = "$INFORM_AUTH"; }
  );
};
EOF
}

# Polls (never a fixed sleep) until the receiver printed $1 or exited.
wait_for_line() {
	local pattern=$1 i
	for ((i = 0; i < 100; i++)); do
		grep -q -- "$pattern" "$TMP/rx.out" 2>/dev/null && return 0
		kill -0 "$RX_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

tool() {
	echo "+ $*" >>"$TMP/tools.log"
	SNMPCONFPATH=$TMP/tools-conf SNMP_PERSISTENT_DIR=$TMP/tools-persist "$@" >>"$TMP/tools.log" 2>&1
}

callbacks() {
	grep -c '^CALLBACK ' "$TMP/rx.out"
}

# expect NAME RECEIVED ACCEPTED UNAUTH MALFORMED CALLBACKS
expect() {
	local name=$1 want="COUNTERS received=$2 accepted=$3 unauth=$4 malformed=$5" cb=$6 got i
	for ((i = 0; i < 100; i++)); do
		got=$(grep '^COUNTERS ' "$TMP/rx.out" | tail -n 1)
		# Counters only grow: stop waiting once received is reached.
		case "$got" in *"received=$2 "*) break ;; esac
		sleep 0.1
	done
	if [ "$got" != "$want" ]; then
		fail "$name: got '$got', want '$want'"
	elif [ "$(callbacks)" != "$cb" ]; then
		fail "$name: $(callbacks) callbacks, want $cb"
	else
		echo "ok: $name ($want, $cb callbacks)"
	fi
}

v3trap() { # USER AUTHPASS [LEVEL PRIVPROTO PRIVPASS] -- OID
	tool snmptrap -v3 -e "$TRAP_ENGINE" "$@"
}

# One full run against a fresh receiver.  MODE "early" starts the receiver
# before init_snmp(), as sanagentd does, when the local engine ID (which
# the v3 inform user's keys depend on) is not known yet.
run_suite() {
	MODE=$1
	COMMUNITY=labtrap
	rm -rf "$TMP/rx-persist" "$TMP/tools-persist"
	mkdir -p "$TMP/rx-persist" "$TMP/tools-persist"
	: >"$TMP/rx.out"
	started=0
	for attempt in 1 2 3 4 5; do
		PORT=$(free_port)
		[ -n "$PORT" ] || continue
		write_config
		SNMPCONFPATH=$TMP/rx-conf SNMP_PERSISTENT_DIR=$TMP/rx-persist \
			"$BIN" "$TMP/sanagent.conf" "$NOTIF" >"$TMP/rx.out" 2>"$TMP/rx.err" &
		RX_PID=$!
		if wait_for_line '^READY$'; then
			started=1
			break
		fi
		kill "$RX_PID" 2>/dev/null
		wait "$RX_PID" 2>/dev/null
		RX_PID=
	done
	if [ "$started" != 1 ]; then
		echo "FAIL: trap_dispatch did not become ready"
		cat "$TMP/rx.err" 2>/dev/null
		exit 1
	fi
	TARGET=127.0.0.1:$PORT
	echo "== $MODE: receiver on $TARGET (pid $RX_PID)"

	# 1. A good v2c trap with every varbind type reaches the callback.
	tool snmptrap -v 2c -c "$COMMUNITY" "$TARGET" '' "$NOTIF" \
		"$V.1.0" s "hello world" "$V.2.0" i -5 "$V.3.0" u 4000000000 "$V.4.0" c 7 \
		"$V.5.0" C 12345678901234 "$V.6.0" a 192.0.2.7 "$V.7.0" o 1.3.6.1.2.1 "$V.8.0" t 4242 ||
		fail "snmptrap v2c exited $?"
	expect "v2c trap, right community" 1 1 0 0 1
	grep -qx "CALLBACK $NOTIF v2" "$TMP/rx.out" || fail "v2c CALLBACK line missing"
	for line in "VAR $V.1.0 STRING hello world" "VAR $V.2.0 INTEGER -5" "VAR $V.3.0 UNSIGNED 4000000000" \
		"VAR $V.4.0 UNSIGNED 7" "VAR $V.5.0 COUNTER64 12345678901234" "VAR $V.6.0 IPADDR 192.0.2.7" \
		"VAR $V.7.0 OID 1.3.6.1.2.1" "VAR $V.8.0 TIMETICKS 4242"; do
		grep -qxF "$line" "$TMP/rx.out" || fail "varbind not delivered as '$line'"
	done

	# 2. A good v2c inform is acknowledged (snmpinform exits 0) and dispatched.
	tool snmpinform -t 5 -r 0 -v 2c -c "$COMMUNITY" "$TARGET" '' "$NOTIF" || fail "v2c inform not acknowledged"
	expect "v2c inform" 2 2 0 0 2
	grep -qx "CALLBACK $NOTIF v2 inform" "$TMP/rx.out" || fail "v2c inform CALLBACK line missing"

	# 3. Wrong community: dropped as unauthenticated.
	tool snmptrap -v 2c -c wrongcommunity "$TARGET" '' "$NOTIF"
	expect "v2c wrong community" 3 2 1 0 2

	# 4. Right community from a source outside its CIDR list.
	tool snmptrap -v 2c -c "$COMMUNITY" --clientaddr=127.0.0.2 "$TARGET" '' "$NOTIF"
	expect "v2c right community from 127.0.0.2" 4 2 2 0 2

	# 5. v3 authPriv trap from the configured sender engine.
	v3trap -u "$TRAP_USER" -l authPriv -a SHA -A "$TRAP_AUTH" -x AES -X "$TRAP_PRIV" "$TARGET" '' "$NOTIF" ||
		fail "snmptrap v3 exited $?"
	expect "v3 authPriv trap" 5 3 2 0 3
	grep -qx "CALLBACK $NOTIF v3 $TRAP_USER" "$TMP/rx.out" || fail "v3 trap CALLBACK line missing"

	# 6. v3 authNoPriv inform to our own engine: an engine-ID discovery probe
	#    (counted in received only) then the inform, acknowledged.
	tool snmpinform -t 5 -r 0 -v3 -u "$INFORM_USER" -l authNoPriv -a SHA -A "$INFORM_AUTH" "$TARGET" '' "$NOTIF" ||
		fail "v3 inform not acknowledged"
	expect "v3 inform (probe + inform)" 7 4 2 0 4
	grep -qx "CALLBACK $NOTIF v3 $INFORM_USER inform" "$TMP/rx.out" || fail "v3 inform CALLBACK line missing"

	# 7. Wrong authentication passphrase, authPriv and authNoPriv.  (net-snmp's
	#    USM hands such a PDU to the session callback itself: it must still be
	#    dropped.)
	v3trap -u "$TRAP_USER" -l authPriv -a SHA -A wrong-auth-secret -x AES -X "$TRAP_PRIV" "$TARGET" '' "$NOTIF"
	expect "v3 wrong auth passphrase (authPriv)" 8 4 3 0 4
	v3trap -u "$TRAP_USER" -l authNoPriv -a SHA -A wrong-auth-secret "$TARGET" '' "$NOTIF"
	expect "v3 wrong auth passphrase (authNoPriv)" 9 4 4 0 4

	# 8. Right authentication, wrong privacy passphrase.
	v3trap -u "$TRAP_USER" -l authPriv -a SHA -A "$TRAP_AUTH" -x AES -X wrong-priv-secret "$TARGET" '' "$NOTIF"
	expect "v3 wrong priv passphrase" 10 4 5 0 4

	# 9. Unknown v3 user.
	v3trap -u nosuchuser -l authPriv -a SHA -A "$TRAP_AUTH" -x AES -X "$TRAP_PRIV" "$TARGET" '' "$NOTIF"
	expect "v3 unknown user" 11 4 6 0 4

	# 10. A configured user without authentication (below authNoPriv).
	v3trap -u "$TRAP_USER" -l noAuthNoPriv "$TARGET" '' "$NOTIF"
	expect "v3 noAuthNoPriv" 12 4 7 0 4

	# 11. v3 inform with a wrong passphrase: probe + rejected inform.
	tool snmpinform -t 5 -r 0 -v3 -u "$INFORM_USER" -l authNoPriv -a SHA -A wrong-inform-secret "$TARGET" '' "$NOTIF" &&
		fail "v3 inform with a wrong passphrase was acknowledged"
	expect "v3 inform wrong passphrase" 14 4 8 0 4

	# 12. Garbage datagram.
	printf 'this is not SNMP' >"/dev/udp/127.0.0.1/$PORT" || fail "cannot send garbage"
	expect "garbage datagram" 15 4 8 1 4

	# 13. SNMPv1 trap: wrong version.
	tool snmptrap -v 1 -c "$COMMUNITY" "$TARGET" 1.3.6.1.4.1.32473 127.0.0.1 6 1 ''
	expect "v1 trap" 16 4 8 2 4

	# 14. Not a notification: a GET gets no answer.
	tool snmpget -t 1 -r 0 -v 2c -c "$COMMUNITY" "$TARGET" 1.3.6.1.2.1.1.3.0 && fail "a GET was answered"
	expect "v2c GET" 17 4 8 3 4

	# 15. An authenticated trap with another OID is accepted but fires no callback.
	tool snmptrap -v 2c -c "$COMMUNITY" "$TARGET" '' "$OTHER"
	expect "v2c trap, other OID" 18 5 8 3 4
	grep -q "^CALLBACK $OTHER" "$TMP/rx.out" && fail "callback fired for $OTHER"

	# 16. Reload (SIGHUP re-applies the file) with another community: the
	#     receiver keeps its socket, the old community is refused, the new one
	#     and the re-created v3 users work.
	COMMUNITY=newtrap
	write_config
	kill -HUP "$RX_PID"
	wait_for_line '^RELOADED$' || fail "no RELOADED after SIGHUP"
	tool snmptrap -v 2c -c labtrap "$TARGET" '' "$NOTIF"
	expect "old community after reload" 19 5 9 3 4
	tool snmptrap -v 2c -c "$COMMUNITY" "$TARGET" '' "$NOTIF"
	expect "new community after reload" 20 6 9 3 5
	v3trap -u "$TRAP_USER" -l authPriv -a SHA -A "$TRAP_AUTH" -x AES -X "$TRAP_PRIV" "$TARGET" '' "$NOTIF" ||
		fail "snmptrap v3 exited $?"
	expect "v3 trap after reload" 21 7 9 3 6
	# The tool keeps no engine cache between runs: probe + inform again.
	tool snmpinform -t 5 -r 0 -v3 -u "$INFORM_USER" -l authNoPriv -a SHA -A "$INFORM_AUTH" "$TARGET" '' "$NOTIF" ||
		fail "v3 inform not acknowledged after reload"
	expect "v3 inform after reload" 23 8 9 3 7

	# Final state, and secrets never reach the log.
	expect "final counters" 23 8 9 3 7
	for secret in labtrap newtrap "$TRAP_AUTH" "$TRAP_PRIV" "$INFORM_AUTH"; do
		grep -qF -- "$secret" "$TMP/rx.err" && fail "secret '$secret' appears in the receiver's log"
	done

	kill "$RX_PID"
	wait "$RX_PID"
	rc=$?
	RX_PID=
	[ "$rc" = 0 ] || fail "trap_dispatch exited $rc on SIGTERM"
}

run_suite normal
[ "$FAILS" = 0 ] || { dump_logs; echo "$FAILS check(s) failed"; exit 1; }
TRAP_DISPATCH_EARLY=1 run_suite early

if [ "$FAILS" != 0 ]; then
	dump_logs
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "PASS"
exit 0
