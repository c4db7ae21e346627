#!/bin/bash
# team_paths_snmp.sh: paths added to and removed from a running team by SNMP, with verified I/O running through its
# NBD export: a path to the same LU joins, a path to another LU under the same name is refused and says why,
# removing a path drains it, bad requests get their precise errors, and the result survives an agent restart.
. "$(dirname "$0")/lib.sh"
# shellcheck source=team_lib.bash
. "$(dirname "$0")/team_lib.bash"
sa_init team-paths
sa_need_plugin nbdcopy
sa_need python3 python3

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0

# Another storage box answering to the same target name at 127.0.0.3 with a different LU: its own image and
# scsi_id, so its VPD 0x83 identity differs.
Q=$(sa_free_port tcp)
OTHER_CTL=$(sa_tgt_free_control)
sa_bg tgtd -f -C "$OTHER_CTL" --iscsi "portal=127.0.0.3:$Q" >"$SA_TMP/tgtd-other.log" 2>&1
OTHER_PID=$SA_LASTPID
trap 'sa__rc=$?; sa_tgtd_stop "$OTHER_PID" "$OTHER_CTL"; sa_stop_tgtd; (exit $sa__rc); sa_cleanup' EXIT
other() { tgtadm -C "$OTHER_CTL" "$@"; }
sa_wait_for 10 other --op show --mode sys || sa_fail "second tgtd did not start"
truncate -s 64M "$SA_TMP/other.img"
other --lld iscsi --op new --mode target --tid 1 -T "$IQN" &&
	other --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$SA_TMP/other.img" &&
	other --lld iscsi --op update --mode logicalunit --tid 1 --lun 1 --params scsi_id=5001405bb0d00d &&
	other --lld iscsi --op bind --mode target --tid 1 -I ALL || sa_fail "cannot set up the other LU"
sa_wait_for 10 sa_tcp_listening 127.0.0.3 "$Q" || sa_fail "second tgtd does not listen"

# cfg0: a team from the config file, whose paths are the config's.
sa_start_balance_agent "teams = ( { name = \"cfg0\"; target = \"$IQN\"; lun = 1; failback = \"delayed\"; failback_hold = 7;
  flap_count = 0; paths = ( { portal = \"127.0.0.1:$P\"; } ); } );"

# ---- a team of one path, created over SNMP ------------------------------------------------
T=$(col "$PM.1.1.0")
sa_set "$TEAM.17.$T" i 4 "$TEAM.2.$T" s t1 "$TEAM.3.$T" s "$IQN" "$TEAM.4.$T" u 1 \
	"$TEAM.14.$T" s "127.0.0.1:$P" >/dev/null || sa_fail "createAndGo of team t1 failed"
sa_wait_for 15 is "$TEAM.10.$T" 1 || sa_fail "t1 never optimal: $(col "$TEAM.10.$T")"
[ "$(col "$TEAM.24.$T")" = 2 ] || sa_fail "sanTeamNextPathIndex.$T = $(col "$TEAM.24.$T"), want 2"
SOCK=$RUN/t1.sock

# ---- verified I/O runs through every change below ---------------------------------------------
team_io_start "$SOCK"
bytes_of() { col "$PATHS.13.$T.$1"; }
grows() { local a b; a=$(bytes_of "$1"); sleep 0.3; b=$(bytes_of "$1"); [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; }

# ---- bad requests: precise errors, nothing created ---------------------------------------------
sa_set_err inconsistentValue "$PATHS.25.$T.4" i 4 "$PATHS.19.$T.4" s "127.0.0.2:$P"   # not the next index
sa_set_err wrongValue "$PATHS.25.$T.2" i 4 "$PATHS.19.$T.2" s "no-portal"
sa_set_err wrongValue "$PATHS.25.$T.2" i 4 "$PATHS.19.$T.2" s "127.0.0.2:99999"
sa_set_err wrongLength "$PATHS.25.$T.2" i 4 "$PATHS.19.$T.2" s "$(printf '1%.0s' {1..96})"
sa_set_err wrongType "$PATHS.25.$T.2" i 4 "$PATHS.19.$T.2" i 3
sa_set_err inconsistentValue "$PATHS.25.$T.2" i 4 "$PATHS.19.$T.2" s "127.0.0.2:$P" "$PATHS.24.$T.2" i 2
sa_set_err noCreation "$PATHS.25.99.1" i 4 "$PATHS.19.99.1" s "127.0.0.2:$P"             # no team 99
sa_set_err noCreation "$PATHS.25.$T.17" i 4 "$PATHS.19.$T.17" s "127.0.0.2:$P"           # past 16 paths
sa_set_err noCreation "$PATHS.25.$T.0" i 4 "$PATHS.19.$T.0" s "127.0.0.2:$P"             # index 0
sa_set_err notWritable "$PATHS.21.$T.1" s "x"                                             # sanPathLastError
sa_set_err inconsistentValue "$PATHS.25.$T.1" i 6                                        # its last path
C=1 # cfg0, the only config team
[ "$(col "$TEAM.2.$C")" = '"cfg0"' ] || sa_fail "sanTeamName.$C = $(col "$TEAM.2.$C")"
[ "$(col "$PATHS.24.$C.1")" = 4 ] || sa_fail "a config team's path is not permanent: $(col "$PATHS.24.$C.1")"
[ "$(sa_get1 "$TEAM.18.$C" "$TEAM.19.$C" "$TEAM.20.$C" "$TEAM.21.$C")" = "3 7 0 30" ] ||
	sa_fail "cfg0's failback from the config: $(sa_get1 "$TEAM.18.$C" "$TEAM.19.$C" "$TEAM.20.$C" "$TEAM.21.$C")"
sa_set_err inconsistentValue "$PATHS.25.$C.2" i 4 "$PATHS.19.$C.2" s "127.0.0.2:$P"       # a config team
sa_set_err inconsistentValue "$PATHS.25.$C.1" i 6
[ "$(col "$TEAM.24.$T")" = 2 ] || sa_fail "a refused request used up a path index"
[ "$(sa_walk "$PATHS.25" | wc -l)" = 2 ] || sa_fail "a refused request left a row: $(sa_walk "$PATHS.25")"
sa_log "bad path requests refused with their errors; still one path"

# ---- a path to the same LU joins the running team ----------------------------------------------
# createAndWait, then active (RFC 2579's other way): the row waits outside the team until it is activated.
sa_set "$PATHS.25.$T.2" i 5 >/dev/null || sa_fail "createAndWait of path 2 failed"
[ "$(col "$PATHS.25.$T.2")" = 3 ] || sa_fail "path 2 without a portal is $(col "$PATHS.25.$T.2"), want notReady"
sa_set_err inconsistentValue "$PATHS.25.$T.2" i 1
sa_set "$PATHS.19.$T.2" s "127.0.0.2:$P" >/dev/null || sa_fail "cannot set path 2's portal"
[ "$(sa_get1 "$PATHS.25.$T.2" "$PATHS.19.$T.2")" = "2 \"127.0.0.2:$P\"" ] ||
	sa_fail "pending path 2: $(sa_get1 "$PATHS.25.$T.2" "$PATHS.19.$T.2")"
[ -z "$(sa_tgt_sid 1 sanpath-t1-p2)" ] || sa_fail "a path not active yet logged in"
sa_set "$PATHS.25.$T.2" i 1 >/dev/null || sa_fail "activating path 2 failed"
sa_wait_for 15 is "$PATHS.7.$T.2" 4 || sa_fail "path 2 not active: state $(col "$PATHS.7.$T.2") $(col "$PATHS.21.$T.2")"
[ "$(sa_get1 "$PATHS.20.$T.2" "$PATHS.22.$T.2" "$PATHS.19.$T.2")" = "1 2 \"127.0.0.2:$P\"" ] ||
	sa_fail "path 2 oper/login/portal: $(sa_get1 "$PATHS.20.$T.2" "$PATHS.22.$T.2" "$PATHS.19.$T.2")"
[ "$(sa_get1 "$PATHS.8.$T.1" "$PATHS.8.$T.2" "$PATHS.9.$T.1" "$PATHS.9.$T.2")" = "50 50 50 50" ] ||
	sa_fail "shares after the add: $(sa_get1 "$PATHS.8.$T.1" "$PATHS.8.$T.2" "$PATHS.9.$T.1" "$PATHS.9.$T.2")"
sa_wait_for 10 grows 2 || sa_fail "path 2 carries no writes: $(bytes_of 2)"
[ "$(col "$TEAM.24.$T")" = 3 ] || sa_fail "sanTeamNextPathIndex.$T = $(col "$TEAM.24.$T"), want 3"
[ "$(col "$TEAM.14.$T")" = "\"127.0.0.1:$P 127.0.0.2:$P\"" ] || sa_fail "sanTeamPortals = $(col "$TEAM.14.$T")"
sa_log "path 2 (127.0.0.2) added: active, oper up, login success, carries writes ($(bytes_of 2) bytes)"

# ---- a path to another LU under the same name is refused and says why ----------------------------
sa_set "$PATHS.25.$T.3" i 4 "$PATHS.19.$T.3" s "127.0.0.3:$Q" >/dev/null || sa_fail "createAndGo of path 3 failed"
sa_wait_for 15 is "$PATHS.7.$T.3" 6 || sa_fail "path 3 not refused: state $(col "$PATHS.7.$T.3")"
read -r oper login < <(sa_get1 "$PATHS.20.$T.3" "$PATHS.22.$T.3")
[ "$oper $login" = "2 7" ] || sa_fail "path 3 oper $oper login $login, want down(2) loginFailed(7)"
why=$(col "$PATHS.21.$T.3")
case $why in *"different LU"*) ;; *) sa_fail "path 3 last error does not say why: $why" ;; esac
[ "$(bytes_of 3)" = 0 ] || sa_fail "the refused path carried $(bytes_of 3) bytes"
sa_log "path 3 (another LU at 127.0.0.3) refused: oper down, loginFailed, $why"

# ---- removing a path drains it ------------------------------------------------------------------
sa_wait_for 10 grows 1 || sa_fail "path 1 carries no writes before its removal"
sid=$(sa_tgt_sid 1 "sanpath-t1-p1")
[ -n "$sid" ] || sa_fail "no tgt session for path 1"
sa_set "$PATHS.25.$T.1" i 6 >/dev/null || sa_fail "destroy of path 1 failed"
[ -z "$(col "$PATHS.7.$T.1")" ] || sa_fail "path 1 still in the table after destroy"
p1_gone() { [ -z "$(sa_tgt_sid 1 "sanpath-t1-p1")" ]; }
sa_wait_for 10 p1_gone || sa_fail "path 1's session is still logged in at the target"
grep -q "path 1 (127.0.0.1:$P): leaving the team once its" "$RUN/t1.log" || sa_fail "the data plane did not drain path 1"
grep -q "path 1 (127.0.0.1:$P) logged out" "$RUN/t1.log" || sa_fail "path 1 was not logged out: $(tail -5 "$RUN/t1.log")"
sa_wait_for 10 grows 2 || sa_fail "path 2 does not carry the I/O alone"
sa_set "$PATHS.25.$T.3" i 6 >/dev/null || sa_fail "destroy of the refused path failed"
[ "$(sa_get1 "$PATHS.8.$T.2" "$PATHS.9.$T.2")" = "100 100" ] ||
	sa_fail "path 2 shares after the removals: $(sa_get1 "$PATHS.8.$T.2" "$PATHS.9.$T.2")"
sa_set_err inconsistentValue "$PATHS.25.$T.2" i 6
[ "$(sa_walk "$PATHS.25" | wc -l)" = 2 ] || sa_fail "rows left: $(sa_walk "$PATHS.25")"
[ "$(col "$TEAM.24.$T")" = 4 ] || sa_fail "removed indexes were handed out again: next $(col "$TEAM.24.$T")"
sa_wait_for 10 is "$TEAM.10.$T" 1 || sa_fail "team not optimal with path 2 alone: $(col "$TEAM.10.$T")"
sa_log "paths 1 and 3 removed under I/O: path 1 drained and logged out, path 2 carries it all, team optimal"

# ---- the workload saw nothing -----------------------------------------------------------------
team_io_stop

# ---- the changes persist -------------------------------------------------------------------------
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent
sa_wait_for 15 is "$TEAM.10.$T" 1 || sa_fail "t1 not optimal after restart: $(col "$TEAM.10.$T")"
[ "$(sa_walk "$PATHS.19.$T" | wc -l)" = 1 ] || sa_fail "paths after restart: $(sa_walk "$PATHS.19.$T")"
[ "$(col "$PATHS.19.$T.2")" = "\"127.0.0.2:$P\"" ] || sa_fail "path 2 after restart: $(col "$PATHS.19.$T.2")"
[ "$(col "$TEAM.24.$T")" = 4 ] || sa_fail "next path index after restart: $(col "$TEAM.24.$T")"
sa_nbd_roundtrip "nbd+unix:///?socket=$SOCK" 8 "t1 after restart"
sa_log "after an agent restart: path 2 alone, next index 4, I/O verified"

# ---- a data plane started afresh keeps the removed paths out (and the indexes in place) ---------------
dp=$(pgrep -f "nbdkit.*name=t1 ")
[ -n "$dp" ] || sa_fail "no data plane for t1"
kill -9 "$dp"
respawned() { local n; n=$(pgrep -f "nbdkit.*name=t1 "); [ -n "$n" ] && [ "$n" != "$dp" ]; }
sa_wait_for 15 respawned || sa_fail "the data plane was not started again"
tr '\0' ' ' <"/proc/$(pgrep -f "nbdkit.*name=t1 ")/cmdline" | grep -q " removed=5 " ||
	sa_fail "the new data plane was not told paths 1 and 3 are gone"
sa_wait_for 15 is "$TEAM.10.$T" 1 || sa_fail "t1 not optimal after its data plane restarted"
sa_wait_for 10 is "$PATHS.7.$T.2" 4 || sa_fail "path 2 not active after the data plane restarted"
[ -z "$(sa_tgt_sid 1 sanpath-t1-p1)" ] || sa_fail "the removed path 1 logged in again"
sa_nbd_roundtrip "nbd+unix:///?socket=$SOCK" 8 "t1 after its data plane restarted"
sa_log "data plane restarted (removed=5): path 2 alone again, path 1 never logged in"
echo "PASS: team paths by SNMP"
