#!/usr/bin/env bash
# discovery_sendtargets.sh: discovery engine against a real tgtd: SendTargets rows through snmpd, a /24 scan
# that finds the second portal, age-out with sanTargetLost, a dropped scanned portal with sanPortalUnreachable,
# and 1,000 then 10,000 targets on one portal (multi-PDU SendTargets replies; DISC_BIG="N ..." for other sizes).
set -u
. "$(dirname "$0")/lib.sh"

sa_init discovery_sendtargets
sa_need tgt tgtd tgtadm

S=.1.3.6.1.4.1.32473.1.3.1
N=$S.0                  # notifications
CTR=$S.1.1              # counters
SRC=$S.1.2.1            # sanDiscSourceEntry
TGT=$S.1.3.1            # sanDiscTargetEntry
POR=$S.1.4.1            # sanDiscPortalEntry
IQN=iqn.2026-11.org.sanagent.disc
SIZES=${DISC_BIG:-1000 10000}

# ---- tgtd with portals on 127.0.0.1 and 127.0.0.2 ----------------------------------------------
PORT=$(sa_free_port tcp)
CTL=$(sa_tgt_free_control)
tgt() { tgtadm -C "$CTL" "$@"; }
# tgtd ignores SIGTERM while it has targets, and deleting 10,000 targets one by one takes minutes;
# it keeps no state on disk, so SIGKILL and its control socket files are all there is to clean.
stop_tgtd() {
	[ -n "${TGTD_PID:-}" ] || return 0
	{ kill -9 "$TGTD_PID" && wait "$TGTD_PID"; } 2>/dev/null
	rm -f "/var/run/tgtd/socket.$CTL" "/var/run/tgtd/socket.$CTL.lock"
	TGTD_PID=
}
trap 'rc__=$?; stop_tgtd; (exit $rc__); sa_cleanup' EXIT
sa_bg tgtd -f -C "$CTL" --iscsi "portal=127.0.0.1:$PORT" >"$SA_TMP/tgtd.log" 2>&1
TGTD_PID=$SA_LASTPID
sa_wait_for 10 tgt --op show --mode sys || sa_fail "tgtd did not answer on control port $CTL"
tgt --lld iscsi --op new --mode portal --param "portal=127.0.0.2:$PORT" || sa_fail "cannot add portal 127.0.0.2"
for i in 1 2 3; do
	tgt --lld iscsi --op new --mode target --tid "$i" -T "$IQN:t$i" &&
		tgt --lld iscsi --op bind --mode target --tid "$i" -I ALL || sa_fail "cannot create target t$i"
done
sa_wait_for 10 sa_tcp_listening 127.0.0.2 "$PORT" || sa_fail "tgtd does not listen on 127.0.0.2:$PORT"

# ---- snmptrapd, snmpd, agent ----------------------------------------------------------------------
sa_start_snmptrapd
sa_start_snmpd
AGE=4
sa_agent_conf "discovery = {
  initiator_name = \"iqn.2026-11.org.sanagent:disctest\";
  portals = [ \"127.0.0.1:$PORT\" ];
  interval = 1;
  age_out = $AGE;
  scan = ( { cidr = \"127.0.0.0/24\"; ports = [ $PORT ]; concurrency = 64; timeout_ms = 300; } );
};"
sa_start_agent
sa_wait_agent

count_rows() { sa_walk "$1" 2>/dev/null | grep -c "^$1\." ; }
names() { sa_walk "$TGT.2" 2>/dev/null | sed -n 's/.*STRING: "\(.*\)"$/\1/p' | sort; }
has_names() { [ "$(names | tr '\n' ' ')" = "$1" ]; }

sa_wait_for 15 has_names "$IQN:t1 $IQN:t2 $IQN:t3 " || sa_fail "targets t1..t3 not in sanDiscTargetTable: $(names)"
sa_log "sanDiscTargetTable: $(names | tr '\n' ' ')"

# Each target has portals on both addresses (7F000001 and 7F000002) with the port and a TPGT.
T1=$(sa_walk "$TGT.2" | sed -n "s/^$TGT\.2\.\([0-9]*\) = STRING: \"$IQN:t1\"$/\1/p")
[ -n "$T1" ] || sa_fail "no index for t1"
has_both_portals() {
	local a
	a=$(sa_walk "$POR.3.$T1" | tr -d ' ' | sed 's/.*Hex-STRING://;s/.*STRING://' | sort | tr '\n' ' ')
	[ "$a" = '"\177\000\000\001" "\177\000\000\002" ' ] || [ "$a" = "7F000001 7F000002 " ]
}
sa_wait_for 10 has_both_portals || sa_fail "t1 portals: $(sa_walk "$POR.3.$T1")"
sa_walk "$POR.4.$T1" | grep -q "Gauge32: $PORT\|INTEGER: $PORT\|Unsigned32: $PORT" ||
	sa_fail "portal port of t1: $(sa_walk "$POR.4.$T1")"
sa_walk "$POR.5.$T1" | grep -q "Gauge32: 1" || sa_fail "TPGT of t1: $(sa_walk "$POR.5.$T1")"
[ "$(sa_get "$TGT.3.$T1")" = 1 ] || sa_fail "t1 mechanism is not sendTargets(1): $(sa_get "$TGT.3.$T1")"

# The scan found 127.0.0.2 (127.0.0.1 is configured, so not scanned twice).
scan_row() { sa_walk "$SRC.2" | grep -q "INTEGER: 3"; }
sa_wait_for 15 scan_row || sa_fail "no subnetScan source: $(sa_walk "$SRC")"
SCAN_IDX=$(sa_walk "$SRC.2" | sed -n "s/^$SRC\.2\.\([0-9]*\) = INTEGER: 3$/\1/p" | head -n1)
sa_walk "$SRC.4.$SCAN_IDX" | grep -qi '7F 00 00 02\|"\\177\\000\\000\\002"' || sa_fail "scan source is not 127.0.0.2: $(sa_walk "$SRC.4.$SCAN_IDX")"
[ "$(sa_get "$SRC.6.$SCAN_IDX")" = 2 ] || sa_fail "scan source status is not ok(2)"
scans_done() { [ "$(sa_get "$CTR.6.0")" -ge 1 ]; }
sa_wait_for 15 scans_done || sa_fail "sanDiscScansCompleted stays 0"
sa_log "scan of 127.0.0.0/24 took $(sa_get "$CTR.8.0") ms"

sa_wait_for 10 sa_trap_seen "$N.1" || sa_fail "no sanTargetDiscovered at snmptrapd"
grep -q "$IQN:t2" "$SA_TMP/snmptrapd.log" || sa_fail "sanTargetDiscovered does not name t2"

# ---- a deleted target ages out ------------------------------------------------------------------
tgt --op delete --mode target --tid 3 --force || sa_fail "cannot delete target t3"
sa_wait_for $((AGE + 8)) sa_trap_seen "$N.2" || sa_fail "no sanTargetLost after t3 was deleted"
grep -A3 "$N.2" "$SA_TMP/snmptrapd.log" | grep -q "$IQN:t3" || grep -q "$IQN:t3" "$SA_TMP/snmptrapd.log" ||
	sa_fail "sanTargetLost does not name t3"
has_names "$IQN:t1 $IQN:t2 " || sa_fail "after age-out: $(names)"
[ "$(sa_get "$CTR.4.0")" = 1 ] || sa_fail "sanDiscTargetsLost is $(sa_get "$CTR.4.0"), not 1"

# ---- a scanned portal that stops answering is dropped ---------------------------------------------
tgt --lld iscsi --op delete --mode portal --param "portal=127.0.0.2:$PORT" || sa_fail "cannot delete portal"
sa_wait_for 10 sa_trap_seen "$N.3" || sa_fail "no sanPortalUnreachable after portal 127.0.0.2 went away"
scan_gone() { ! sa_walk "$SRC.2" | grep -q "INTEGER: 3"; }
sa_wait_for 5 scan_gone || sa_fail "scanned source still listed: $(sa_walk "$SRC")"

# ---- many targets on one portal: SendTargets replies over several PDUs --------------------------
# Each SendTargets costs tgtd O(targets): polling every second while thousands are created slows
# tgtd down, so reload (SIGHUP) with a calmer interval, a longer age-out and no scan first.
sa_agent_conf "discovery = {
  initiator_name = \"iqn.2026-11.org.sanagent:disctest\";
  portals = [ \"127.0.0.1:$PORT\" ];
  interval = 3;
  age_out = 600;
  timeout_ms = 60000;
  max_data_segment = 8192;
};"
kill -HUP "$SA_AGENT_PID"
sa_wait_for 10 grep -q "reloaded" "$SA_TMP/sanagentd.log" || sa_fail "agent did not reload"
have=2 # t1 and t2
for BIG in $SIZES; do
	t0=$(sa_now_ms)
	for ((i = have + 2; i < BIG + 2; i++)); do
		echo "tgtadm -C $CTL --lld iscsi --op new --mode target --tid $i -T $IQN:big$i"
		echo "tgtadm -C $CTL --lld iscsi --op bind --mode target --tid $i -I ALL"
	done | bash -e || sa_fail "cannot create $BIG targets"
	sa_log "created $((BIG - have)) more targets in $(sa_secs_since "$t0") s"
	t0=$(sa_now_ms)
	all_found() { [ "$(sa_get "$CTR.5.0")" = "$BIG" ]; }
	sa_wait_for 120 all_found || sa_fail "sanDiscTargetsCurrent is $(sa_get "$CTR.5.0"), not $BIG; last error: $(sa_walk "$SRC.12")"
	sa_log "all $BIG targets discovered $(sa_secs_since "$t0") s after creation"
	rows=$(count_rows "$TGT.2")
	[ "$rows" = "$BIG" ] || sa_fail "walk of sanDiscTargetName returned $rows rows, not $BIG"
	# With 8 KiB data segments the reply takes many Text Responses (F=0 and a TTT, then an empty request).
	pdus=$(sed -n 's/.*SendTargets reply: [0-9]* bytes in \([0-9]*\) Text Response PDUs.*/\1/p' "$SA_TMP/sanagentd.log" |
		sort -n | tail -n1)
	# (About 100 targets fit in 8 KiB, so only a run with a few hundred can be held to it.)
	[ "$BIG" -lt 300 ] || [ "${pdus:-0}" -gt 1 ] || sa_fail "no SendTargets reply spanned several PDUs (most: ${pdus:-none})"
	sa_log "largest SendTargets reply: $pdus Text Response PDUs"
	have=$BIG
done
echo "PASS: discovery_sendtargets ($SIZES targets)"
