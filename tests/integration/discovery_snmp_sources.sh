#!/usr/bin/env bash
# discovery_snmp_sources.sh: sanDiscSourceTable as read-create rows against a real tgtd that wants discovery CHAP:
# bad input answered with the precise error, a SendTargets source created by snmpset (failing without a
# credential, finding the targets once its credential column names one and its refresh trigger is set), the global
# refresh trigger, a restart that keeps the row and its index, destroy with sanTargetLost at snmptrapd, a /16 scan
# range whose state and percent done are polled while it runs, and the readOnly row of the config file.
set -u
. "$(dirname "$0")/lib.sh"

sa_init discovery_snmp_sources
sa_start_tgtd 2

S=.1.3.6.1.4.1.32473.1.3.1
N=$S.0          # notifications: 2 sanTargetLost
SRC=$S.1.2.1    # sanDiscSourceEntry
TGT=$S.1.3.1    # sanDiscTargetEntry: 2 name
CRED=$S.1.6.1   # sanCredEntry
NEXT=$S.1.17.0  # sanDiscSourceNextIndex
REFRESH=$S.1.18.0
USER=disc-user
SECRET=disc-secret-0123

# Every discovery session must log in with CHAP (an account bound without --tid).
sa_tgt_ctl --lld iscsi --mode account --op new --user "$USER" --password "$SECRET" || sa_fail "cannot create account"
sa_tgt_ctl --lld iscsi --mode account --op bind --user "$USER" || sa_fail "cannot bind the discovery account"

# A config portal where nothing listens: its row is the file's (readOnly).  The interval is long, so only the
# refresh triggers ask the sources again after the first exchange.
DEAD=$(sa_free_port tcp)
sa_start_snmptrapd
sa_start_snmpd
sa_agent_conf "discovery = {
  initiator_name = \"iqn.2026-12.org.sanagent:srctest\";
  portals = [ \"127.0.0.3:$DEAD\" ];
  interval = 600;
  age_out = 600;
};"
sa_start_agent
sa_wait_agent
sa_wait_for 10 sa_get "$SRC.2.1" >/dev/null || sa_fail "config source row 1 missing: $(sa_walk "$SRC")"
[ "$(sa_get "$SRC.20.1")" = 5 ] || sa_fail "config row StorageType is $(sa_get "$SRC.20.1"), not readOnly(5)"

PHEX=$(printf '%04X' "$SA_ISCSI_PORT")
names() { sa_walk "$TGT.2" 2>/dev/null | sed -n 's/.*STRING: "\(.*\)"$/\1/p' | sort | tr '\n' ' '; }
has_names() { [ "$(names)" = "$1" ]; }
D0=$SA_IQN_PREFIX:disk0
D1=$SA_IQN_PREFIX:disk1
D2=$SA_IQN_PREFIX:disk2

# ---- bad input ---------------------------------------------------------------------------------------------
I=$(sa_get "$NEXT")
[ "$I" -ge 2 ] || sa_fail "sanDiscSourceNextIndex is '$I'"
go() { sa_set "$SRC.21.$I" i 4 "$@"; } # createAndGo with the columns given
go_err() { sa_set_err "$1" "$SRC.21.$I" i 4 "${@:2}"; }
go_err wrongValue "$SRC.2.$I" i 3 "$SRC.4.$I" x 7F000001              # subnetScan rows are the engine's
go_err wrongValue "$SRC.2.$I" i 5 "$SRC.4.$I" x 7F000001              # no such mechanism
go_err wrongValue "$SRC.3.$I" i 16 "$SRC.4.$I" x 7F000001             # dns is no type a source takes
go_err wrongLength "$SRC.4.$I" x 7F0000                               # 3 octets
go_err wrongType "$SRC.5.$I" s 3260 "$SRC.4.$I" x 7F000001            # a port is an Unsigned32
go_err inconsistentValue "$SRC.4.$I" x 00000000000000000000000000000001 # ipv4 with 16 octets
go_err wrongValue "$SRC.4.$I" x 00000000                              # an all-zero portal
go_err inconsistentValue "$SRC.13.$I" u 24 "$SRC.4.$I" x 7F000001     # a prefix on a portal
go_err wrongValue "$SRC.2.$I" i 4 "$SRC.13.$I" u 8 "$SRC.4.$I" x 0A000000 # wider than /16
go_err wrongValue "$SRC.13.$I" u 33 "$SRC.4.$I" x 7F000001
go_err inconsistentValue "$SRC.2.$I" i 4 "$SRC.4.$I" x 00000000       # 0.0.0.0/0 without the flag
go_err inconsistentValue "$SRC.2.$I" i 4 "$SRC.14.$I" i 1 "$SRC.13.$I" u 24 "$SRC.4.$I" x 0A000000
go_err inconsistentValue "$SRC.15.$I" u 99 "$SRC.4.$I" x 7F000001     # no credential 99
go_err inconsistentValue "$SRC.2.$I" i 2 "$SRC.15.$I" u 1 "$SRC.4.$I" x 7F000001 # CHAP on iSNS (and no cred 1)
go_err inconsistentValue "$SRC.5.$I" u 1                              # no address: not ready
go_err wrongValue "$SRC.20.$I" i 5 "$SRC.4.$I" x 7F000001             # readOnly is the agent's to give
go_err inconsistentValue "$SRC.4.$I" x 7F000003 "$SRC.5.$I" u "$DEAD" # the config's portal again
sa_set_err inconsistentValue "$SRC.21.1" i 6                          # the file's row
sa_set_err inconsistentValue "$SRC.15.1" u 0 "$SRC.5.1" u 1           # the file's row, active: no column changes
[ -z "$(sa_get "$SRC.2.$I")" ] || sa_fail "a refused create left row $I: $(sa_walk "$SRC.2")"
sa_log "bad input: every create refused with its error, nothing left behind"

# ---- a SendTargets source without a credential: authentication failure --------------------------------------
go "$SRC.4.$I" x 7F000001 "$SRC.5.$I" u "$SA_ISCSI_PORT" >/dev/null || sa_fail "createAndGo of source $I refused"
last_error() { sa_get "$SRC.12.$I" | tr -d '"'; }
failed_auth() { [ "$(sa_get "$SRC.17.$I")" = 4 ] && last_error | grep -q "^authentication failure$"; }
sa_wait_for 15 failed_auth || sa_fail "source $I without CHAP: state $(sa_get "$SRC.17.$I"), error '$(last_error)'"
[ "$(sa_get "$SRC.20.$I")" = 3 ] || sa_fail "source $I StorageType is not nonVolatile(3)"
[ "$(sa_get "$SRC.5.$I")" = "$SA_ISCSI_PORT" ] || sa_fail "source $I port: $(sa_get "$SRC.5.$I")"
sa_log "source $I without CHAP: failed(4), '$(last_error)'"

# ---- its credential, then its refresh trigger ---------------------------------------------------------------
C=$(sa_get "$S.1.5.0")
sa_set "$CRED.2.$C" s "$USER" "$CRED.3.$C" s "$SECRET" "$CRED.8.$C" i 4 >/dev/null || sa_fail "cannot create credential $C"
sa_set "$SRC.15.$I" u "$C" >/dev/null || sa_fail "cannot name credential $C on source $I"
[ "$(sa_get "$SRC.15.$I")" = "$C" ] || sa_fail "sanDiscSourceCredential.$I reads $(sa_get "$SRC.15.$I")"
sa_set_err inconsistentValue "$CRED.8.$C" i 6 # a source names it
# The interval is 600 s: only the trigger asks again.
sa_set "$SRC.16.$I" i 2 >/dev/null || sa_fail "cannot set sanDiscSourceRefresh.$I"
[ "$(sa_get "$SRC.16.$I")" = 1 ] || sa_fail "sanDiscSourceRefresh does not read idle(1)"
sa_wait_for 10 has_names "$D0 $D1 " || sa_fail "after refresh with CHAP: targets '$(names)', error '$(last_error)'"
[ "$(sa_get "$SRC.6.$I")" = 2 ] && [ "$(sa_get "$SRC.7.$I")" = 2 ] && [ "$(sa_get "$SRC.17.$I")" = 1 ] &&
	[ "$(sa_get "$SRC.18.$I")" = 100 ] || sa_fail "source $I after success: $(sa_walk "$SRC" | grep "\.$I = ")"
sa_get "$SRC.9.$I" | grep -q '^[0-9A-F]\{2\} ' || sa_get "$SRC.9.$I" | grep -q . || sa_fail "no last success time"
sa_log "source $I with credential $C: targets $(names)"

# ---- the global trigger: a new target shows at once, not in 600 s --------------------------------------------
truncate -s 64M "$SA_TMP/disk2.img"
sa_tgt_ctl --lld iscsi --op new --mode target --tid 3 -T "$D2" &&
	sa_tgt_ctl --lld iscsi --op new --mode logicalunit --tid 3 --lun 1 -b "$SA_TMP/disk2.img" &&
	sa_tgt_ctl --lld iscsi --op bind --mode target --tid 3 -I ALL || sa_fail "cannot create $D2"
sa_set_err wrongValue "$REFRESH" i 3
sa_set "$REFRESH" i 2 >/dev/null || sa_fail "cannot set sanDiscRefresh"
sa_wait_for 10 has_names "$D0 $D1 $D2 " || sa_fail "after sanDiscRefresh: '$(names)'"
sa_log "sanDiscRefresh: $(names)"

# ---- a refused change loses nothing; a config reload keeps the row ---------------------------------------------
sa_set_err inconsistentValue "$SRC.15.$I" u 99 # no credential 99
sa_set_err inconsistentValue "$SRC.4.$I" x 7F000002 # the address of an active row
[ "$(sa_get1 "$SRC.15.$I" "$SRC.4.$I")" = "$C \"7F 00 00 01 \"" ] ||
	sa_fail "source $I after refused SETs: $(sa_get1 "$SRC.15.$I" "$SRC.4.$I")"
n=$(grep -c "reloaded" "$SA_TMP/sanagentd.log")
kill -HUP "$SA_AGENT_PID"
reloaded() { [ "$(grep -c "reloaded" "$SA_TMP/sanagentd.log")" -gt "$n" ]; }
sa_wait_for 10 reloaded || sa_fail "agent did not reload"
[ "$(sa_get1 "$SRC.15.$I" "$SRC.20.$I")" = "$C 3" ] || sa_fail "source $I after SIGHUP: $(sa_walk "$SRC" | grep "\.$I = ")"
has_names "$D0 $D1 $D2 " || sa_fail "targets after SIGHUP: '$(names)'"
sa_log "refused SETs left source $I as it was; SIGHUP kept it"

# ---- a restart keeps the row, its index and its credential ----------------------------------------------------
sa_state_dump | grep -q "^disc.src.$I	" || sa_fail "source $I not in the state file: $(sa_state_dump | grep disc)"
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent 15
restored() { [ "$(sa_get "$SRC.15.$I")" = "$C" ] && [ "$(sa_get "$SRC.20.$I")" = 3 ]; }
sa_wait_for 15 restored || sa_fail "source $I after restart: $(sa_walk "$SRC" | grep "\.$I = ")"
sa_wait_for 15 has_names "$D0 $D1 $D2 " || sa_fail "after restart: targets '$(names)'"
[ "$(sa_get "$NEXT")" -gt "$I" ] || sa_fail "sanDiscSourceNextIndex $(sa_get "$NEXT") after restart"
sa_log "restart: source $I back with credential $C, targets $(names)"

# ---- destroy: the targets go, with sanTargetLost ------------------------------------------------------------
before=$(sa_trap_count "$N.2")
sa_set "$SRC.21.$I" i 6 >/dev/null || sa_fail "cannot destroy source $I"
[ -z "$(sa_get "$SRC.2.$I")" ] || sa_fail "row $I still there"
sa_wait_for 5 has_names "" || sa_fail "targets after destroy: '$(names)'"
lost3() { [ "$(sa_trap_count "$N.2")" -ge $((before + 3)) ]; }
sa_wait_for 10 lost3 || sa_fail "$(($(sa_trap_count "$N.2") - before)) sanTargetLost at snmptrapd, want 3"
for d in "$D0" "$D1" "$D2"; do grep -q "$d" "$SA_TMP/snmptrapd.log" || sa_fail "no notification names $d"; done
! sa_state_dump | grep -q "^disc.src.$I	" || sa_fail "source $I still in the state file"
sa_log "destroy: 3 sanTargetLost, table empty, state file clean"

# ---- a /16 scan range: progress polled while it runs --------------------------------------------------------
R=$(sa_get "$NEXT")
t0=$(sa_now_ms)
sa_set "$SRC.21.$R" i 4 "$SRC.2.$R" i 4 "$SRC.4.$R" x 7F000000 "$SRC.13.$R" u 16 "$SRC.5.$R" u "$SA_ISCSI_PORT" \
	"$SRC.15.$R" u "$C" "$SRC.20.$R" i 2 >/dev/null || sa_fail "cannot create scan range $R"
seen_mid=0
samples=""
scan_done() {
	local v st pc
	v=$(sa_get "$SRC.17.$R" "$SRC.18.$R" | tr '\n' ' ')
	read -r st pc <<<"$v"
	samples="$samples $st/$pc"
	[ "$st" = 3 ] && [ "${pc:-0}" -gt 0 ] && [ "${pc:-0}" -lt 100 ] && seen_mid=1
	[ "$st" = 1 ] && [ "$pc" = 100 ]
}
sa_wait_for 120 scan_done || sa_fail "scan of 127.0.0.0/16 did not end: state/percent samples:$samples"
[ "$seen_mid" = 1 ] || sa_fail "no sample showed scanning(3) with a percent between 0 and 100:$samples"
sa_log "scan of 127.0.0.0/16 in $(sa_secs_since "$t0") s; state/percent samples:$(echo "$samples" | tr ' ' '\n' | uniq | tr '\n' ' ')"
[ "$(sa_get "$SRC.7.$R")" = 3 ] || sa_fail "scan range found $(sa_get "$SRC.7.$R") targets, not 3"
has_names "$D0 $D1 $D2 " || sa_fail "after the scan: '$(names)'"
found=$(sa_walk "$SRC.19" | grep -c "Gauge32: $R$\|Unsigned32: $R$\|INTEGER: $R$")
[ "$found" = 2 ] || sa_fail "portals found by range $R: $found, want 2 (127.0.0.1 and 127.0.0.2): $(sa_walk "$SRC.19")"
sa_set_err inconsistentValue "$SRC.21.$(sa_walk "$SRC.19" | sed -n "s/^$SRC\.19\.\([0-9]*\) = .*: $R$/\1/p" | head -n1)" i 6
before=$(sa_trap_count "$N.2")
sa_set "$SRC.21.$R" i 6 >/dev/null || sa_fail "cannot destroy scan range $R"
sa_wait_for 5 has_names "" || sa_fail "targets after the range went: '$(names)'"
[ "$(sa_walk "$SRC.2" | grep -c "INTEGER: 3$")" = 0 ] || sa_fail "scanned portals outlived their range"
sa_wait_for 10 lost3 || sa_fail "range destroy: $(($(sa_trap_count "$N.2") - before)) sanTargetLost"
sa_log "scan range destroyed: its portals and targets went"

# ---- a source that names no credential uses sanDefaultCredential ----------------------------------------------
J=$(sa_get "$NEXT")
sa_set "$S.1.19.0" u "$C" >/dev/null || sa_fail "cannot set sanDefaultCredential"
sa_set "$SRC.21.$J" i 4 "$SRC.4.$J" x 7F000002 "$SRC.5.$J" u "$SA_ISCSI_PORT" >/dev/null || sa_fail "cannot create source $J"
sa_wait_for 10 has_names "$D0 $D1 $D2 " || sa_fail "source $J with the default credential: '$(names)', $(sa_get "$SRC.12.$J")"
[ "$(sa_get "$SRC.15.$J")" = 0 ] || sa_fail "source $J names credential $(sa_get "$SRC.15.$J")"
sa_log "source $J (no credential of its own) logged in with the default credential $C"

# ---- one PDU creates a credential and a source that names it ---------------------------------------------------
sa_set "$S.1.19.0" u 0 >/dev/null || sa_fail "cannot clear sanDefaultCredential"
sa_set "$SRC.21.$J" i 6 >/dev/null || sa_fail "cannot destroy source $J"
K=$(sa_get "$NEXT")
C2=$(sa_get "$S.1.5.0")
sa_set "$CRED.2.$C2" s "$USER" "$CRED.3.$C2" s "$SECRET" "$CRED.8.$C2" i 4 \
	"$SRC.21.$K" i 4 "$SRC.4.$K" x 7F000001 "$SRC.5.$K" u "$SA_ISCSI_PORT" "$SRC.15.$K" u "$C2" >/dev/null ||
	sa_fail "one PDU with credential $C2 and source $K refused"
sa_wait_for 10 has_names "$D0 $D1 $D2 " || sa_fail "source $K with credential $C2: '$(names)', $(sa_get "$SRC.12.$K")"
sa_log "one PDU: credential $C2 and source $K naming it; targets $(names)"

# ---- destroying one of two sources that report the same targets loses none -------------------------------------
L=$(sa_get "$NEXT")
sa_set "$SRC.21.$L" i 4 "$SRC.4.$L" x 7F000002 "$SRC.5.$L" u "$SA_ISCSI_PORT" "$SRC.15.$L" u "$C2" >/dev/null ||
	sa_fail "cannot create source $L"
l_ok() { [ "$(sa_get1 "$SRC.6.$L" "$SRC.7.$L")" = "2 3" ]; }
sa_wait_for 10 l_ok || sa_fail "source $L: status/targets $(sa_get1 "$SRC.6.$L" "$SRC.7.$L")"
before=$(sa_trap_count "$N.2")
sa_set "$SRC.21.$K" i 6 >/dev/null || sa_fail "cannot destroy source $K"
has_names "$D0 $D1 $D2 " || sa_fail "targets after $K went while $L reports them: '$(names)'"
[ "$(sa_trap_count "$N.2")" = "$before" ] || sa_fail "sanTargetLost for targets source $L still reports"
sa_set "$SRC.21.$L" i 6 >/dev/null || sa_fail "cannot destroy source $L"
sa_wait_for 10 lost3 || sa_fail "$(($(sa_trap_count "$N.2") - before)) sanTargetLost after the last source went"
has_names "" || sa_fail "targets after the last source went: '$(names)'"
sa_log "two sources: destroying one lost nothing, destroying the other lost the 3 targets"

# ---- createAndWait: notReady without an address, notInService with one, then active ----------------------------
W=$(sa_get "$NEXT")
sa_set "$SRC.21.$W" i 5 "$SRC.2.$W" i 4 >/dev/null || sa_fail "createAndWait of row $W refused"
[ "$(sa_get "$SRC.21.$W")" = 3 ] || sa_fail "row $W without an address: status $(sa_get "$SRC.21.$W"), want notReady(3)"
sa_set_err inconsistentValue "$SRC.21.$W" i 1
sa_set "$SRC.4.$W" x 7F000000 "$SRC.13.$W" u 30 "$SRC.5.$W" u "$SA_ISCSI_PORT" "$SRC.15.$W" u "$C2" >/dev/null ||
	sa_fail "cannot fill row $W"
[ "$(sa_get "$SRC.21.$W")" = 2 ] || sa_fail "row $W filled: status $(sa_get "$SRC.21.$W"), want notInService(2)"
[ "$(sa_get "$NEXT")" != "$W" ] || sa_fail "sanDiscSourceNextIndex hands out the pending row $W"
sa_set "$SRC.21.$W" i 1 >/dev/null || sa_fail "cannot activate row $W"
range_done() { [ "$(sa_get1 "$SRC.17.$W" "$SRC.18.$W" "$SRC.6.$W")" = "1 100 2" ]; }
sa_wait_for 10 range_done || sa_fail "range $W (127.0.0.0/30): state/percent/status $(sa_get1 "$SRC.17.$W" "$SRC.18.$W" "$SRC.6.$W")"
sa_log "createAndWait: row $W notReady, notInService, active; its /30 scanned"

for s in "$SECRET"; do ! grep -q -- "$s" "$SA_TMP/sanagentd.log" || sa_fail "a secret appears in the agent's log"; done
echo "PASS: discovery_snmp_sources"
