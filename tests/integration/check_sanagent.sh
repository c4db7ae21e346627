#!/bin/bash
# check_sanagent.sh: the check plug-in against the lab in every mode (a failed path WARNING, a failed team CRITICAL,
# a failed engine CRITICAL, an unreachable agent and a bad threshold UNKNOWN), its ranges beside the Monitoring
# Plugins' own, and the Icinga 2 CheckCommand through `icinga2 daemon -C`, the Nagios command run as Nagios would.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mon_lab.bash"
sa_init check-sanagent
sa_need icinga2 icinga2
sa_need libiscsi-bin iscsi-perf
CK=$SA_BUILDDIR/tools/check_sanagent/check_sanagent
sa_built "$CK" check_sanagent
MP=/usr/lib/nagios/plugins
[ -x "$MP/check_cluster" ] || sa_fail "$MP/check_cluster not found: install monitoring-plugins-basic"

# ---- a client tool: libnetsnmp and libc, nothing of the agent -------------------------------------------------
needed=$(readelf -d "$CK" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v -E '^lib(c|m|asan|ubsan)\.so' | tr '\n' ' ')
[ "$needed" = "libnetsnmp.so.40 " ] || sa_fail "check_sanagent links: $needed (want libnetsnmp alone)"

# ---- Icinga 2: the CheckCommand in a minimal config, validated by the real daemon ----------------------------
IC=$SA_TMP/icinga2
mkdir -p "$IC/cache"
chmod 777 "$IC/cache" # icinga2 -C drops to its own user and writes its cache there
cp "$SA_SRCDIR/conf/icinga2/sanagent-commands.conf" "$IC/"
cat >"$IC/icinga2.conf" <<'EOF'
const PluginDir = "/usr/lib/nagios/plugins"
include <itl>
include <plugins>
include "sanagent-commands.conf"
object Host "san1" {
  address = "127.0.0.1"
  check_command = "dummy"
}
object Service "teams" {
  host_name = "san1"
  check_command = "sanagent"
  vars.sanagent_mode = "team"
  vars.sanagent_team = "lab0"
  vars.sanagent_warning = "20000"
  vars.sanagent_v3_user = "sanmon"
  vars.sanagent_v3_auth_pass = "sanmon-auth-pass"
  vars.sanagent_v3_priv_pass = "sanmon-priv-pass"
}
object Service "engines-v2c" {
  host_name = "san1"
  check_command = "sanagent"
  vars.sanagent_mode = "engines"
  vars.sanagent_protocol = "2c"
  vars.sanagent_community = "public"
}
EOF
icinga2_check() { icinga2 daemon -C -c "$IC/icinga2.conf" -DCacheDir="$IC/cache" >"$SA_TMP/icinga2.log" 2>&1; }
icinga2_check || sa_fail "icinga2 daemon -C refuses sanagent-commands.conf: $(grep -E 'critical|error' "$SA_TMP/icinga2.log")"
grep -q 'Instantiated 2 Services' "$SA_TMP/icinga2.log" || sa_fail "icinga2 did not take both services: $(tail -5 "$SA_TMP/icinga2.log")"
# The validation can fail: an attribute CheckCommand arguments do not have.
sed -i 's/^\t\t\tdescription = "SNMPv3 security name"/&\n\t\t\tfoo = 1/' "$IC/sanagent-commands.conf"
icinga2_check && sa_fail "icinga2 daemon -C accepted an argument with an unknown attribute"
sa_log "icinga2 daemon -C: sanagent-commands.conf valid (and a broken copy refused)"

# ---- the lab ---------------------------------------------------------------------------------------------------
# The sessions' window at its longest: the error rate of a session below stays above 0 for the whole test.
MON_AGENT_EXTRA='discovery = { enabled = false; session_window = 3600; };'
mon_lab_start
H=127.0.0.1:$SA_SNMP_PORT
V3=(-P 3 -u "$MON_USER" -l authPriv -a SHA -A "$MON_AUTH" -x AES -X "$MON_PRIV")
# ck WANT_RC ARGS...: runs the plug-in; OUT is its output, RC its exit status; fails unless RC = WANT_RC and
# the output is one status line "SANAGENT MODE STATE - ..." (usage lines follow only an UNKNOWN).
ck() {
	local want=$1
	shift
	OUT=$("$CK" "$@" 2>"$SA_TMP/ck.err")
	RC=$?
	ck_out "$want" "$*"
}
# ck_out WANT ARGS: the checks of ck on OUT and RC, from a run with ARGS.
ck_out() {
	local want=$1 first
	first=$(echo "$OUT" | head -1)
	[ "$RC" = "$want" ] || sa_fail "check_sanagent $2 exited $RC, want $want: $OUT"
	case $RC in 0) st=OK ;; 1) st=WARNING ;; 2) st=CRITICAL ;; *) st=UNKNOWN ;; esac
	echo "$first" | grep -q -E "^SANAGENT ([A-Z]+ )?$st - " || sa_fail "status line: $first"
	[ "$RC" = 3 ] || [ "$(echo "$OUT" | wc -l)" = 1 ] || sa_fail "more than one line: $OUT"
}
has() { echo "$OUT" | grep -q -F -- "$1" || sa_fail "output lacks '$1': $OUT"; }

# ---- everything fine ------------------------------------------------------------------------------------------------
ck 0 -H "$H" "${V3[@]}" -m engines
has "2 engines up, 3 admin down"
has "'engines not up'=0;;0;0;"
ck 0 -H "$H" "${V3[@]}" -m team -n lab0 -i 0
has "lab0 optimal"
ck 0 -H "$H" -P 2c -C public -m redirector
has "2 servers up"
has "'servers down'=0;0;;0;"
# The redirector's health probes are discovery sessions of their own while they last (200 ms rounds here, longer
# under load): wait for a listing between two probes.
two_sessions() { ck 0 -H "$H" "${V3[@]}" -m sessions && echo "$OUT" | grep -q -F "2 sessions"; }
sa_wait_for 10 two_sessions || sa_fail "check_sanagent -m sessions never lists lab0's 2 sessions alone: $OUT"

# ---- team perfdata: bytes/s of each path while an nbdcopy writes, and latency --------------------------------------
load() { while :; do nbdcopy "$SA_TMP/load.in" "$URI" 2>/dev/null || sleep 0.2; done; }
head -c $((32 << 20)) /dev/urandom >"$SA_TMP/load.in"
load &
LOAD_PID=$!
SA_PIDS+=("$LOAD_PID")
wrates() {
	ck 0 -H "$H" "${V3[@]}" -m team -n lab0 -i 1 || return 1
	W1=$(echo "$OUT" | sed -n "s/.*'lab0 p1 127.0.0.1 write'=\([0-9.]*\);.*/\1/p")
	W2=$(echo "$OUT" | sed -n "s/.*'lab0 p2 127.0.0.2 write'=\([0-9.]*\);.*/\1/p")
	[ "${W1%.*}" -gt 0 ] 2>/dev/null && [ "${W2%.*}" -gt 0 ] 2>/dev/null
}
sa_wait_for 15 wrates || sa_fail "no write bytes/s on both paths under load: $OUT"
echo "$OUT" | grep -q -E "'lab0 p1 127.0.0.1 latency'=[0-9]+us;;;0;" || sa_fail "no path latency perfdata: $OUT"
sa_log "team under load: path write rates $W1 / $W2 B/s"
# Latency thresholds on the paths, and on the sessions (their window now holds commands).
lat_positive() { "$CK" -H "$H" -m team -n lab0 -i 0 -w 0 >/dev/null; [ $? = 1 ]; }
sa_wait_for 10 lat_positive || sa_fail "path latency never above 0 under load"
ck 2 -H "$H" "${V3[@]}" -m team -n lab0 -i 0 -w 0 -c 0
has "latency"
sess_lat() { "$CK" -H "$H" -m sessions -w 0 >/dev/null; [ $? = 1 ]; }
sa_wait_for 10 sess_lat || sa_fail "session latency never above 0 under load"
ck 2 -H "$H" -m sessions -w 0 -c 0
has "latency"
ck 0 -H "$H" -m sessions -w 10000000 -c 20000000
# The error-rate thresholds: no session has errors, so only a range alerting on 0 fires.
ck 0 -H "$H" -m sessions -e 0 -E 0
ck 1 -H "$H" -m sessions -e @0:0
has "errors/h"
kill "$LOAD_PID"
wait "$LOAD_PID" 2>/dev/null

# ---- redirector: two servers under different real loads, their max/min ratio ------------------------------------
# Reads through the redirector's portal, sent on to s1 (disk1) and s2 (disk2): s1 with 128 KiB reads, 16 at a time,
# s2 with 512-byte reads one at a time.  The redirector measures each server's load as the bytes/s its tgtd moved
# for its resources.
SRVE=$SA_OID.3.3.1.4.1
# iscsi-perf itself in the background (not in a subshell), so that stopping its pid stops it.
perf() { sa_bg iscsi-perf -i "$SA_IQN_PREFIX:perf$1" -m "$2" -b "$3" "iscsi://127.0.0.1:$RPORT/$SA_IQN_PREFIX:disk$1/1" >"$SA_TMP/perf$1.out" 2>&1; }
perf 1 16 256
PERF1=$SA_LASTPID
perf 2 1 1
PERF2=$SA_LASTPID
# loads_apart: both servers carry I/O, s1 at least twice s2's load (read in one PDU).
loads_apart() {
	read -r L1 L2 <<<"$(sa_get1 "$SRVE.9.1" "$SRVE.9.2")"
	[ "${L2:-0}" -gt 0 ] && [ "${L1:-0}" -ge $((2 * L2)) ]
}
sa_wait_for 20 loads_apart || sa_fail "loads not apart under I/O: s1 ${L1:-?}, s2 ${L2:-?}; $(tail -2 "$SA_TMP/perf1.out" "$SA_TMP/perf2.out")"
sa_log "redirector under I/O: s1 load $L1, s2 load $L2"
# ratio_run FLAG SIDE [MORE...]: reads both loads in one PDU, then runs the plug-in with FLAG at half (SIDE lo) or
# twice (SIDE hi) their ratio R, and MORE; it succeeds when the plug-in read the same loads (they move once a
# load interval), with OUT and RC its output and status.
ratio_run() {
	local flag=$1 side=$2 thr
	shift 2
	loads_apart || return 1
	R=$(awk -v a="$L1" -v b="$L2" 'BEGIN { printf "%.2f", a / b }')
	thr=$(awk -v r="$R" -v s="$side" 'BEGIN { printf "%.2f", s == "lo" ? r / 2 : r * 2 }')
	OUT=$("$CK" -H "$H" "${V3[@]}" -m redirector "$flag" "$thr" "$@" 2>"$SA_TMP/ck.err")
	RC=$?
	echo "$OUT" | grep -q -F "'s1 load'=$L1;;;0; 's2 load'=$L2;;;0;"
}
# ratio_ck WANT FLAG SIDE [MORE...]: ratio_run until the plug-in and snmpd agree on the loads; RC must be WANT, the
# status line must name the ratio of those loads, and the perfdata carry it.
ratio_ck() {
	local want=$1 perf
	shift
	sa_wait_for 15 ratio_run "$@" || sa_fail "check_sanagent never read the loads snmpd gave ($L1 $L2): $OUT"
	ck_out "$want" "-m redirector $1 at $2 of ratio $R"
	perf=$(awk -v a="$L1" -v b="$L2" 'BEGIN { v = a / b; printf (v == int(v) ? "%.0f" : "%.3f"), v }')
	has "'load ratio'=$perf;"
}
ratio_ck 1 -r lo
has "load ratio $R (max $L1, min $L2)"
ratio_ck 2 -R lo
has "load ratio $R (max $L1, min $L2)"
ratio_ck 0 -r hi
has "2 servers up, load ratio $R"
sa_stop_pid "$PERF1"
sa_stop_pid "$PERF2"
sa_log "redirector: load ratio $R of s1 $L1 / s2 $L2: -r/-R below it WARNING/CRITICAL, above it OK"

# ---- a failed path: the team degraded is WARNING, its server down too -------------------------------------------
mon_path_down 127.0.0.2
sa_wait_for 10 mon_is "$TEAM.10.1" 2 || sa_fail "lab0 not degraded: $(sa_get "$TEAM.10.1")"
ck 1 -H "$H" "${V3[@]}" -m team -n lab0 -i 0
has "lab0 degraded"
has "lab0 path 2 127.0.0.2:$P down"
ck 1 -H "$H" "${V3[@]}" -m team -i 0
# A path's actual share off its configured one: path 1 configured to carry nothing, but with path 2 down it
# carries every write.  -M 100 allows any difference.
sa_set "$PATHS.8.1.1" u 0 "$PATHS.8.1.2" u 100 "$PATHS.9.1.1" u 0 "$PATHS.9.1.2" u 100 >/dev/null ||
	sa_fail "cannot set lab0's shares to 0/100"
load &
LOAD_PID=$!
SA_PIDS+=("$LOAD_PID")
share_off() {
	ck 1 -H "$H" "${V3[@]}" -m team -n lab0 -i 0
	echo "$OUT" | grep -q -F "lab0 path 1 127.0.0.1 write share 100% (configured 0%)"
}
sa_wait_for 10 share_off || sa_fail "no share warning for path 1: $OUT"
ck 1 -H "$H" "${V3[@]}" -m team -n lab0 -i 0 -M 100
echo "$OUT" | grep -q "share" && sa_fail "-M 100 still warns of a share: $OUT"
kill "$LOAD_PID"
wait "$LOAD_PID" 2>/dev/null
sa_set "$PATHS.8.1.1" u 50 "$PATHS.8.1.2" u 50 "$PATHS.9.1.1" u 50 "$PATHS.9.1.2" u 50 >/dev/null ||
	sa_fail "cannot set lab0's shares back to 50/50"
sa_log "share: path 1 at 100% of the writes against 0% configured is a WARNING; -M 100 allows it"
sa_wait_for 10 mon_is "$SA_OID.3.3.1.4.1.8.2" 2 || sa_fail "server s2 not down"
ck 1 -H "$H" "${V3[@]}" -m redirector
has "server s2 down"
has "'servers down'=1;0;;0;"
ck 2 -H "$H" "${V3[@]}" -m redirector -c 0
ck 0 -H "$H" "${V3[@]}" -m redirector -w 1
# The load ratio of the one server up is 1; a range alerting on it fires.
ck 2 -H "$H" "${V3[@]}" -m redirector -w 1 -R @1:1
has "load ratio 1.00"

# The range syntax as the Monitoring Plugins read it: check_cluster (monitoring-plugins-basic) with one non-OK
# service of two, and check_sanagent with one server down of two, must agree on every range.
for r in 0 1 2 1: 2: '~:0' '~:1' 0:1 1:1 2:3 @1:1 @0:0 @1:2 @2: @~:0 0.5 1.5:; do
	"$MP/check_cluster" -s -d 0,2 -w "$r" >/dev/null
	want=$?
	"$CK" -H "$H" -m redirector -w "$r" >"$SA_TMP/ck.out"
	got=$?
	[ "$got" = "$want" ] || sa_fail "range '$r': check_cluster says $want, check_sanagent $got ($(cat "$SA_TMP/ck.out"))"
done
sa_log "ranges: check_sanagent agrees with check_cluster on 17 ranges"

# ---- a failed team: CRITICAL; every server down: CRITICAL ---------------------------------------------------------
mon_path_down 127.0.0.1
sa_wait_for 10 mon_is "$TEAM.10.1" 3 || sa_fail "lab0 not failed: $(sa_get "$TEAM.10.1")"
ck 2 -H "$H" "${V3[@]}" -m team -n lab0 -i 0
has "lab0 failed"
sa_wait_for 10 mon_is "$SA_OID.3.3.1.4.1.8.1" 2 || sa_fail "server s1 not down"
ck 2 -H "$H" "${V3[@]}" -m redirector -w 5 -c 5
has "0 up, 2 down"
mon_path_up 127.0.0.1
mon_path_up 127.0.0.2
sa_wait_for 20 mon_is "$TEAM.10.1" 1 || sa_fail "lab0 not optimal again: $(sa_get "$TEAM.10.1")"
ck 0 -H "$H" "${V3[@]}" -m team -n lab0 -i 0

# ---- sessions: a path that failed and came back, its session's error rate -------------------------------------------
# lab0's path through 127.0.0.2 fails once more (its connection dropped) and logs in again.  The failure ended the
# path's session; the path's next session carries it, and its sanSessionErrorRate shows it over the window.
SE=$SA_OID.3.1.1.10.1
mon_path_down 127.0.0.2
sa_wait_for 10 mon_is "$TEAM.10.1" 2 || sa_fail "lab0 not degraded: $(sa_get "$TEAM.10.1")"
mon_path_up 127.0.0.2
sa_wait_for 20 mon_is "$TEAM.10.1" 1 || sa_fail "lab0 not optimal again: $(sa_get "$TEAM.10.1")"
# err_read: SID is the session of lab0's path 2 (sanSessionPath 2), ERR its error rate and EMAX the largest of every
# session's, all rates read in one PDU.
err_read() {
	local ids=() oids=() rates i
	SID=$(sa_walk "$SE.29" | awk '$NF == 2 { n = split($1, a, "."); print a[n] }')
	mapfile -t ids < <(sa_walk "$SE.24" | awk '{ n = split($1, a, "."); print a[n] }')
	[ -n "$SID" ] && [ "${#ids[@]}" -gt 0 ] || return 1
	for i in "${ids[@]}"; do oids+=("$SE.24.$i"); done
	read -r -a rates <<<"$(sa_get1 "${oids[@]}")"
	[ "${#rates[@]}" = "${#ids[@]}" ] || return 1
	ERR=
	EMAX=0
	for i in "${!ids[@]}"; do
		[ "${ids[$i]}" = "$SID" ] && ERR=${rates[$i]}
		[ "${rates[$i]}" -gt "$EMAX" ] && EMAX=${rates[$i]}
	done
	[ -n "$ERR" ]
}
err_positive() { err_read && [ "$ERR" -gt 0 ]; }
sa_wait_for 15 err_positive || sa_fail "session ${SID:-?} of lab0's path 2 shows no error rate: ${ERR:-?}; $(sa_walk "$SE.24")"
sa_log "session $SID of the path that failed: $ERR errors/h"
# err_run FLAG SIDE: reads the rates, then runs the plug-in with FLAG just below the path's session's rate (SIDE lo)
# or at twice the largest (SIDE hi); it succeeds when the plug-in read the same rates (they fall as the window since
# the failure grows, each second), with OUT and RC its output and status.
err_run() {
	local thr
	err_read || return 1
	[ "$2" = lo ] && thr=$((ERR - 1)) || thr=$((2 * EMAX))
	OUT=$("$CK" -H "$H" "${V3[@]}" -m sessions "$1" "$thr" 2>"$SA_TMP/ck.err")
	RC=$?
	echo "$OUT" | grep -q -F "'error rate max'=$EMAX;"
}
err_ck() {
	local want=$1
	shift
	sa_wait_for 15 err_run "$@" || sa_fail "check_sanagent never read the error rates snmpd gave (max $EMAX): $OUT"
	ck_out "$want" "-m sessions $1 at $2 of session $SID's error rate $ERR"
}
err_ck 1 -e lo
has "session $SID $IQN via 127.0.0.2:$P $ERR errors/h"
err_ck 2 -E lo
has "session $SID $IQN via 127.0.0.2:$P $ERR errors/h"
err_ck 0 -e hi
has "max error rate $EMAX/h"
err_ck 0 -E hi
sa_log "sessions: session $SID at $ERR errors/h: -e/-E below it WARNING/CRITICAL, above it OK"

# ---- UNKNOWN: no such team, an unreachable agent, refused credentials, a bad threshold ----------------------------------
ck 3 -H "$H" -m team -n nosuchteam -i 0
has "no team named 'nosuchteam'"
DEAD=127.0.0.1:$(sa_free_port udp)
t0=$(sa_now_ms)
ck 3 -H "$DEAD" "${V3[@]}" -m team -t 2
el=$(($(sa_now_ms) - t0))
has "timeout"
[ "$el" -lt 4000 ] || sa_fail "an unreachable agent took $el ms with -t 2"
# -t bounds the whole check, not only each request: a rate interval longer than it ends in UNKNOWN on time.
t0=$(sa_now_ms)
ck 3 -H "$H" -m team -i 5 -t 1
has "timed out"
[ $(($(sa_now_ms) - t0)) -lt 3000 ] || sa_fail "-t 1 with -i 5 took $(($(sa_now_ms) - t0)) ms"
ck 3 -H "$H" -P 3 -u "$MON_USER" -A wrong-auth-pass -X wrong-priv-pass -m engines -t 3
ck 3 -H "$H" -m team -w 10:5
has "invalid threshold range '10:5' for -w"
has "Usage:"
ck 3 -H "$H" -m team -c abc
has "Usage:"
ck 3 -H "$H" -m nosuchmode
has "Usage:"
ck 3 -m team
has "-H HOST is required"
sa_log "UNKNOWN: missing team, unreachable agent (${el} ms with -t 2), wrong passphrases, bad thresholds with usage"

# ---- the Nagios command definitions, expanded and run as Nagios runs them --------------------------------------------
cfg=$SA_SRCDIR/conf/nagios/sanagent-commands.cfg
nagios_cmd() { sed -n "/command_name *$1\$/{n;s/^ *command_line *//p}" "$cfg"; }
line=$(nagios_cmd check_sanagent_v3)
[ -n "$line" ] || sa_fail "no check_sanagent_v3 in $cfg"
line=${line//\$USER1\$/$(dirname "$CK")}
line=${line//\$HOSTADDRESS\$/$H}
line=${line//\$USER5\$/$MON_USER}
line=${line//\$USER6\$/$MON_AUTH}
line=${line//\$USER7\$/$MON_PRIV}
line=${line//\$ARG1\$/team}
line=${line//\$ARG2\$/-n lab0 -i 0}
OUT=$(sh -c "$line") || sa_fail "the Nagios command exited $?: $line: $OUT"
echo "$OUT" | grep -q "^SANAGENT TEAM OK - lab0 optimal" || sa_fail "the Nagios command said: $OUT"
line=$(nagios_cmd check_sanagent_v2c)
line=${line//\$USER1\$/$(dirname "$CK")}
line=${line//\$HOSTADDRESS\$/$H}
line=${line//\$ARG1\$/engines}
line=${line//\$ARG2\$/public}
line=${line//\$ARG3\$/}
OUT=$(sh -c "$line") || sa_fail "the v2c Nagios command exited $?: $OUT"

# ---- an engine admin up but not running: CRITICAL, with its error ----------------------------------------------------
# The redirector is told to listen where tgtd already does: it cannot start.
sa_stop_pid "$SA_AGENT_PID"
mon_agent_conf "127.0.0.1:$P"
sa_start_agent
sa_wait_agent 15
ck 2 -H "$H" "${V3[@]}" -m engines
has "redirect failed"
has "'engines not up'=1;;0;0;"
sa_log "engines: $OUT"
echo "PASS: check_sanagent"
exit 0
