#!/bin/bash
# session_metrics.sh: sanSessionTable through snmpd while a two-path team runs I/O: rows, counters, window rates, logout, traps.
. "$(dirname "$0")/lib.sh"
sa_init session-metrics
sa_need_plugin nbdcopy

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
sa_start_balance_agent "$(sa_lab0_teams)"

SM=$SA_OID.3.1
S=$SM.1.10.1 # sanSessionEntry
TEAM=$SA_OID.3.2.1.2.1
col() { sa_get "$1"; }
is() { [ "$(col "$1")" = "$2" ]; }
trap_lines() { grep -E "OID: $SM\.0\.$1([^0-9]|$)" "$SA_TMP/snmptrapd.log" 2>/dev/null; }
trap_count() { trap_lines "$1" | wc -l; }
# sess_of PATH: the sanSessionId of lab0's path PATH (sanSessionTeam 1, sanSessionPath PATH).
sess_of() {
	local id
	for id in $(sa_walk "$S.29" 2>/dev/null | sed -n "s/^$S\.29\.\([0-9]*\) = Gauge32: $1\$/\1/p;s/^$S\.29\.\([0-9]*\) = Unsigned32: $1\$/\1/p"); do
		[ "$(col "$S.28.$id")" = 1 ] && echo "$id" && return 0
	done
	return 1
}
rows() { sa_walk "$S.13" 2>/dev/null | grep -c "^$S\.13\."; }

sa_wait_for 15 is "$TEAM.10.1" 1 || sa_fail "lab0 never optimal: $(col "$TEAM.10.1"); $(tail -5 "$RUN/lab0.log" 2>&1)"
[ "$(col "$SM.1.9.0")" = 60 ] || sa_fail "sanSessionWindow = $(col "$SM.1.9.0"), want the default 60"
sa_wait_for 5 sess_of 1 && sa_wait_for 5 sess_of 2 || sa_fail "no session rows for both paths: $(sa_walk "$S.29")"
S1=$(sess_of 1) S2=$(sess_of 2)
[ "$(rows)" = 2 ] || sa_fail "sanSessionTable has $(rows) rows, want one per path: $(sa_walk "$S.13")"
[ "$S1" != "$S2" ] || sa_fail "both paths share session $S1"
n=$(sa_walk "$SM.1.10" | grep -c "^$S\.")
[ "$n" = 58 ] || sa_fail "sanSessionTable walk has $n values, want 2 sessions x 29 columns: $(sa_walk "$SM.1.10")"

# ---- the rows as a manager reads them ----------------------------------------------
for p in 1 2; do
	id=$(sess_of $p)
	[ "$(col "$S.13.$id")" = 2 ] || sa_fail "session $id (path $p) state $(col "$S.13.$id"), want loggedIn(2)"
	[ "$(col "$S.3.$id")" = "\"$IQN\"" ] || sa_fail "sanSessionTargetName.$id = $(col "$S.3.$id")"
	[ "$(sa_get1 "$S.11.$id" "$S.12.$id")" = "1 1" ] || sa_fail "session $id type/owner $(col "$S.11.$id")/$(col "$S.12.$id")"
	[ "$(col "$S.4.$id")" = 1 ] || sa_fail "sanSessionPortalAddressType.$id = $(col "$S.4.$id")"
	addr=$(col "$S.5.$id" | tr -d ' "')
	[ "$addr" = "7F00000$p" ] || sa_fail "sanSessionPortalAddress.$id = $addr, want 127.0.0.$p"
	[ "$(col "$S.6.$id")" = "$P" ] || sa_fail "sanSessionPortalPort.$id = $(col "$S.6.$id")"
	init=$(col "$S.2.$id")
	[ -n "$init" ] && [ "$init" != '""' ] || sa_fail "session $id has no initiator name"
	# DateAndTime: two octets of year first; all zeros would mean "not logged in".
	lt=$(col "$S.14.$id" | tr -d '"')
	year=$((16#$(echo "$lt" | awk '{ print $1 $2 }')))
	[ "$year" -ge 2024 ] || sa_fail "sanSessionLoginTime.$id = '$lt' (year $year)"
	[ "$(col "$S.30.$id")" = 1 ] || sa_fail "sanSessionLogout.$id reads $(col "$S.30.$id"), want none(1)"
done
sa_log "rows: path 1 = session $S1, path 2 = session $S2, both loggedIn, initiator $init, login time $lt"
traps_at_least() { [ "$(trap_count "$1")" -ge "$2" ]; }
sa_wait_for 5 traps_at_least 5 2 || sa_fail "want 2 sanSessionUp at snmptrapd, got $(trap_count 5)"
trap_lines 5 | grep -q "$S.3.$S2 = STRING: \"$IQN\"" || sa_fail "no sanSessionUp names session $S2: $(trap_lines 5)"
trap_lines 5 | grep -q "$S.13.$S2 = INTEGER: 2" || sa_fail "sanSessionUp of $S2 does not carry state loggedIn"

# ---- I/O moves the counters and the window metrics -------------------------------------
URI="nbd+unix:///?socket=$RUN/lab0.sock"
head -c 16M /dev/urandom >"$SA_TMP/in.img"
read -r tx0_1 tx0_2 < <(sa_get1 "$S.15.$S1" "$S.15.$S2")
load() { while :; do nbdcopy "$SA_TMP/in.img" "$URI" 2>/dev/null || sleep 0.2; done; }
load &
LOAD_PID=$!
SA_PIDS+=("$LOAD_PID")
rate_up() { local v; v=$(col "$S.20.$1"); [ -n "$v" ] && [ "$v" -gt 0 ]; }
sa_wait_for 10 rate_up "$S1" || sa_fail "sanSessionTxRate.$S1 = $(col "$S.20.$S1") while I/O runs"
sa_wait_for 5 rate_up "$S2" || sa_fail "sanSessionTxRate.$S2 = $(col "$S.20.$S2") while I/O runs"
# A few more samples in the window, then one consistent read of the rates.
sleep_samples() { local n0; n0=$(col "$S.17.$S1"); sa_wait_for 5 grows "$S.17.$S1" "$n0"; }
grows() { local v; v=$(col "$1"); [ -n "$v" ] && [ "$v" -gt "$2" ]; }
for _ in 1 2 3; do sleep_samples; done
for id in $S1 $S2; do
	# One GET for the four (they move together); a GET lost on a loaded machine is asked again.
	rates() { read -r cur mx mn avg < <(sa_get1 "$S.20.$1" "$S.21.$1" "$S.22.$1" "$S.23.$1"); [ -n "$avg" ]; }
	sa_wait_for 5 rates "$id" || sa_fail "session $id: rates unreadable"
	[ "$mx" -ge "$avg" ] && [ "$avg" -ge "$mn" ] || sa_fail "session $id: max $mx >= avg $avg >= min $mn does not hold"
	[ "$mx" -ge "$cur" ] && [ "$cur" -ge "$mn" ] || sa_fail "session $id: current $cur outside min $mn .. max $mx"
	[ "$mx" -gt 0 ] || sa_fail "session $id: max rate 0 under load"
	sa_log "session $id: TxRate $cur KiB/s, max $mx, avg $avg, min $mn; latency avg $(col "$S.25.$id") us, max $(col "$S.26.$id") us"
done
read -r tx1_1 tx1_2 < <(sa_get1 "$S.15.$S1" "$S.15.$S2")
[ "$tx1_1" -gt "$tx0_1" ] || sa_fail "sanSessionTxBytes.$S1 did not grow ($tx0_1 -> $tx1_1)"
[ "$tx1_2" -gt "$tx0_2" ] || sa_fail "sanSessionTxBytes.$S2 did not grow ($tx0_2 -> $tx1_2)"
[ "$(col "$S.17.$S1")" -gt 0 ] || sa_fail "sanSessionCommands.$S1 = $(col "$S.17.$S1")"
sa_log "TxBytes: session $S1 $tx0_1 -> $tx1_1, session $S2 $tx0_2 -> $tx1_2"

# ---- SET errors ----------------------------------------------------------------------
out=$(sa_set "$S.30.$S1" i 3 2>&1) && sa_fail "sanSessionLogout = 3 accepted"
echo "$out" | grep -q wrongValue || sa_fail "logout 3: want wrongValue, got: $out"
out=$(sa_set "$S.30.$S1" u 2 2>&1) && sa_fail "sanSessionLogout as Unsigned32 accepted"
echo "$out" | grep -q wrongType || sa_fail "logout as Unsigned32: want wrongType, got: $out"
out=$(sa_set "$S.30.999999" i 2 2>&1) && sa_fail "logout of a missing session accepted"
echo "$out" | grep -q noCreation || sa_fail "logout of a missing session: want noCreation, got: $out"
out=$(sa_set "$S.20.$S1" u 5 2>&1) && sa_fail "sanSessionTxRate is writable"
echo "$out" | grep -q notWritable || sa_fail "SET sanSessionTxRate: want notWritable, got: $out"
sa_set "$S.30.$S1" i 1 >/dev/null || sa_fail "sanSessionLogout = none(1) refused"
[ "$(col "$S.13.$S1")" = 2 ] || sa_fail "none(1) changed session $S1"
sa_log "SET: 3 wrongValue, Unsigned32 wrongType, missing row noCreation, TxRate notWritable, none(1) a no-op"

# ---- logout of path 2's session: it goes, sanSessionDown arrives, path 1 carries on ------------
downs0=$(trap_count 6)
sa_set "$S.30.$S2" i 2 >/dev/null || sa_fail "sanSessionLogout.$S2 = logout(2) refused: $(sa_set "$S.30.$S2" i 2 2>&1)"
gone() { local st; st=$(col "$S.13.$S2"); [ -z "$st" ] || [ "$st" = 4 ]; }
sa_wait_for 10 gone || sa_fail "session $S2 still there after logout: state $(col "$S.13.$S2")"
sa_wait_for 5 traps_at_least 6 $((downs0 + 1)) || sa_fail "no sanSessionDown at snmptrapd after logout"
trap_lines 6 | grep "$S.13.$S2 = INTEGER: 4" | grep -q "$S.5.$S2 = Hex-STRING: 7F 00 00 02" ||
	sa_fail "sanSessionDown does not carry session $S2 loggedOut at 127.0.0.2: $(trap_lines 6)"
[ "$(col "$S.13.$S1")" = 2 ] || sa_fail "session $S1 (path 1) state $(col "$S.13.$S1") after path 2's logout"
kill "$LOAD_PID" 2>/dev/null
wait "$LOAD_PID" 2>/dev/null
sa_log "logout: session $S2 gone, sanSessionDown received; session $S1 still loggedIn"

# The team's remaining path keeps the export working: a round trip, compared, and path 1's session counts it.  On a
# loaded machine the data plane may declare path 1 dead for a moment (a NOP or command later than its 1 s timeout)
# and log it in again as a new session: the copy is then split between two rows, so the round trip is repeated on
# the new one (at most three times; a path that keeps dropping is still a failure).
copied=0
for try in 1 2 3; do
	P1=$(sess_of 1) || { sa_wait_for 10 sess_of 1 >/dev/null || sa_fail "path 1 has no session after the logout"; continue; }
	tx2_1=$(col "$S.15.$P1")
	nbdcopy "$SA_TMP/in.img" "$URI" || sa_fail "nbdcopy into the export failed after the logout"
	nbdcopy "$URI" "$SA_TMP/out.img" || sa_fail "nbdcopy out of the export failed after the logout"
	cmp -n $((16 << 20)) "$SA_TMP/in.img" "$SA_TMP/out.img" || sa_fail "data read back differs after the logout"
	if [ "$(sess_of 1)" = "$P1" ] && sa_wait_for 5 grows "$S.15.$P1" "$tx2_1"; then
		copied=1
		break
	fi
	sa_log "path 1's session $P1 did not last the copy (now $(sess_of 1 || echo none)): round trip again"
done
[ "$copied" = 1 ] || sa_fail "path 1's session did not carry the copy in 3 tries"
p2=$(sess_of 2 || true)
[ -z "$p2" ] || [ "$(col "$S.13.$p2")" != 2 ] || sa_fail "path 2 logged in again (session $p2) after its logout"
sa_log "16 MiB in and out over path 1 alone, identical; TxBytes.$P1 $tx2_1 -> $(col "$S.15.$P1") (try $try)"

# ---- the redirector's health probes are sessions too -----------------------------------
# A server that accepts and never answers keeps each probe logging in until its timeout.
SPORT=$(sa_free_port tcp)
sa_bg python3 -c "
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(16); held = []
while True: held.append(s.accept()[0])" "$SPORT"
sa_wait_for 5 sa_tcp_listening 127.0.0.1 "$SPORT" || sa_fail "silent server did not listen"
echo "redirect = { listen = [ \"127.0.0.1:$(sa_free_port tcp)\" ]; probe_interval_ms = 300; probe_timeout_ms = 4000;
  servers = ( { name = \"silent\"; address = \"127.0.0.1\"; port = $SPORT; } ); };" >>"$SA_TMP/sanagent.conf"
kill -HUP "$SA_AGENT_PID"
probe_row() { sa_walk "$S.12" 2>/dev/null | sed -n "s/^$S\.12\.\([0-9]*\) = INTEGER: 3\$/\1/p" | head -1 | grep .; }
sa_wait_for 10 probe_row || sa_fail "no probe-owned session after the redirector started: $(sa_walk "$S.12")"
out=
for _ in 1 2 3; do
	PR=$(probe_row) || continue
	out=$(sa_set "$S.30.$PR" i 2 2>&1) && sa_fail "logout of probe session $PR accepted"
	echo "$out" | grep -q noCreation && continue # the probe ended between the walk and the SET
	echo "$out" | grep -q inconsistentValue || sa_fail "logout of probe session $PR: want inconsistentValue, got: $out"
	break
done
echo "$out" | grep -q inconsistentValue || sa_fail "could not catch a probe session to log out: $out"
read -r ptype pstate pport < <(sa_get "$S.11.$PR" "$S.13.$PR" "$S.6.$PR" | tr '\n' ' ')
[ "$ptype $pstate $pport" = "2 1 $SPORT" ] || [ -z "$ptype" ] ||
	sa_fail "probe session $PR: type/state/port $ptype/$pstate/$pport, want discovery(2)/loggingIn(1)/$SPORT"
[ "$(trap_count 5)" = 2 ] || sa_fail "sanSessionUp count $(trap_count 5): probes must not send it"
sa_log "probe session $PR: owner probe(3), type $ptype, state $pstate, port $pport; logout refused with inconsistentValue"
exit 0
