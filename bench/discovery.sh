#!/usr/bin/env bash
# discovery.sh: time for the discovery engine to discover 1,000 and 10,000 targets on one tgtd portal, against iscsi-ls; time to scan a /24.
#
# Part 1, SendTargets on one portal (a private tgtd on 127.0.0.1, DB_N1 and DB_N2 targets):
#   sanagent  each run sets sanEngineAdminStatus of the discovery engine down, then up (the engine
#             drops its rows on down and starts a round at once on up); two figures per run:
#               engine  the engine's own log line: SendTargets exchange started .. reply merged (ms);
#               wall    snmpset admin up started .. sanDiscTargetsCurrent = N read through snmpd;
#   anchor    `iscsi-ls iscsi://127.0.0.1:PORT` (libiscsi) on the same tgtd, wall time of the process.
#             It rejects SendTargets replies longer than one PDU, so it fails above a few thousand
#             targets: the largest count it handles is found by bisection (targets hidden and shown with
#             tgtadm unbind/bind) and measured too.  Without -s iscsi-ls does what the engine does
#             (SendTargets only); `iscsi-ls -s` (then a login and REPORT LUNS on every target) is timed
#             once at DB_N1 for reference.
# Part 2, a scan of 127.0.0.0/24 on one port, a second tgtd listening on 127.0.0.1..DB_SCAN_ADDRS:
#   sanagent  sanDiscLastScanDuration (the engine's own ms) and the wall time from snmpset admin up to
#             sanDiscScansCompleted moving, read through snmpd;
#   anchor    the same /24 with one iscsi-ls per address, DB_SCAN_CONCURRENCY at once (xargs -P).
# Every figure is the median of DB_ROUNDS runs.  Ratios are sanagent time / anchor time (< 1: faster).
# Knobs: DB_N1 (1000), DB_N2 (10000), DB_ROUNDS (3), DB_BISECT (1; 0 skips the bisection),
#        DB_SCAN_ADDRS (5), DB_SCAN_CONCURRENCY (64), DB_SCAN_TIMEOUT_MS (500), DB_POLL_MS (20: pause
#        between the wall clock's polls, so the wall figures have that resolution on top of a GET's).
# Build dir: SA_BUILDDIR (or SANLAB_BUILD; default build/).  Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

SA_BUILDDIR=${SA_BUILDDIR:-${SANLAB_BUILD:-}}
[ -n "$SA_BUILDDIR" ] || unset SA_BUILDDIR
# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

DB_N1=${DB_N1:-1000}
DB_N2=${DB_N2:-10000}
DB_ROUNDS=${DB_ROUNDS:-3}
DB_BISECT=${DB_BISECT:-1}
DB_SCAN_ADDRS=${DB_SCAN_ADDRS:-5}
DB_SCAN_CONCURRENCY=${DB_SCAN_CONCURRENCY:-64}
DB_SCAN_TIMEOUT_MS=${DB_SCAN_TIMEOUT_MS:-500}
DB_POLL_MS=${DB_POLL_MS:-20}
IQN=iqn.2026-11.org.sanagent.bench
INITIATOR=iqn.2026-11.org.sanagent:discbench

S=$SA_OID.3.1           # SANAGENT-SESSION-MIB objects
CTR=$S.1.1              # sanDiscCounters
SRC=$S.1.2.1            # sanDiscSourceEntry
TGT=$S.1.3.1            # sanDiscTargetEntry
ENG=$SA_OID.1.2.1       # sanEngineEntry

sa_init bench-discovery
[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first (SA_BUILDDIR=DIR)"
sa_need tgt tgtd tgtadm
sa_need libiscsi-bin iscsi-ls
[ "${BASH_VERSINFO[0]}" -ge 5 ] || sa_skip "needs bash 5 (EPOCHREALTIME)"

# ---- two tgtd: BIG (one portal, many targets) and SCAN (a few targets on 127.0.0.1..DB_SCAN_ADDRS) ----
# tgtd ignores SIGTERM while it has targets and deleting thousands one by one takes minutes; it keeps no
# state on disk, so SIGKILL and its control socket files are all there is to clean.
BPORT=$(sa_free_port tcp)
SPORT=$(sa_free_port tcp)
BCTL=$(sa_tgt_free_control)
SCTL=$(sa_tgt_free_control)
TGTD_PIDS=()
stop_tgtds() {
	local p
	for p in "${TGTD_PIDS[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null; done
	rm -f "/var/run/tgtd/socket.$BCTL" "/var/run/tgtd/socket.$BCTL.lock" \
		"/var/run/tgtd/socket.$SCTL" "/var/run/tgtd/socket.$SCTL.lock"
	TGTD_PIDS=()
}
trap 'rc__=$?; stop_tgtds; (exit $rc__); sa_cleanup' EXIT
tgtd -f -C "$BCTL" --iscsi "portal=127.0.0.1:$BPORT" >"$SA_TMP/tgtd-big.log" 2>&1 &
TGTD_PIDS+=($!)
tgtd -f -C "$SCTL" --iscsi "portal=127.0.0.1:$SPORT" >"$SA_TMP/tgtd-scan.log" 2>&1 &
TGTD_PIDS+=($!)
sa_wait_for 10 tgtadm -C "$BCTL" --op show --mode sys || sa_fail "tgtd (big) did not answer on control port $BCTL"
sa_wait_for 10 tgtadm -C "$SCTL" --op show --mode sys || sa_fail "tgtd (scan) did not answer on control port $SCTL"
for ((a = 2; a <= DB_SCAN_ADDRS; a++)); do
	tgtadm -C "$SCTL" --lld iscsi --op new --mode portal --param "portal=127.0.0.$a:$SPORT" ||
		sa_fail "cannot add portal 127.0.0.$a:$SPORT"
done
for t in 1 2; do
	tgtadm -C "$SCTL" --lld iscsi --op new --mode target --tid "$t" -T "$IQN:scan$t" &&
		tgtadm -C "$SCTL" --lld iscsi --op bind --mode target --tid "$t" -I ALL || sa_fail "cannot create scan target $t"
done
sa_wait_for 10 sa_tcp_listening "127.0.0.$DB_SCAN_ADDRS" "$SPORT" || sa_fail "tgtd does not listen on 127.0.0.$DB_SCAN_ADDRS"

# set_count N: the big tgtd lists exactly targets 1..N (tid = number) in SendTargets.  Targets are
# created once and never deleted (tgtadm --op delete costs ~10 ms a target); the bisection hides the
# ones above N by removing their ACL (unbind: tgtd lists only targets the initiator may see) and shows
# them again with bind.  tgtadm is a process per call (1-3 ms): one `bash -e` reading the commands from
# a pipe avoids a subshell per call, and two such streams keep both CPUs busy.
CREATED=0 CUR=0
tgt_stream() {
	local i
	for ((i = $2; i <= $3; i++)); do
		[ "$1" = new ] && echo "tgtadm -C $BCTL --lld iscsi --op new --mode target --tid $i -T $IQN:t$i"
		echo "tgtadm -C $BCTL --lld iscsi --op ${1/new/bind} --mode target --tid $i -I ALL"
	done | bash -e
}
# tgt_op OP FIRST LAST: OP (new, bind, unbind) on targets FIRST..LAST, in two streams when many.
tgt_op() {
	local mid p1 p2 rc=0
	[ "$2" -le "$3" ] || return 0
	if [ $(($3 - $2)) -lt 200 ]; then
		tgt_stream "$@"
		return
	fi
	mid=$((($2 + $3) / 2))
	tgt_stream "$1" "$2" "$mid" & p1=$!
	tgt_stream "$1" $((mid + 1)) "$3" & p2=$!
	wait "$p1" || rc=1
	wait "$p2" || rc=1
	return $rc
}
set_count() {
	local n=$1 rc=0
	if [ "$n" -gt "$CUR" ]; then
		tgt_op bind $((CUR + 1)) $((n < CREATED ? n : CREATED)) || rc=1
		if [ "$n" -gt "$CREATED" ]; then
			tgt_op new $((CREATED + 1)) "$n" || rc=1
			CREATED=$n
		fi
	elif [ "$n" -lt "$CUR" ]; then
		tgt_op unbind $((n + 1)) "$CUR" || rc=1
	fi
	[ $rc = 0 ] || sa_fail "tgtadm: cannot bring the big tgtd from $CUR to $n listed targets"
	CUR=$n
}

# ---- snmpd, snmptrapd, agent ----------------------------------------------------------------------
sa_start_snmptrapd
sa_start_snmpd
conf_big() {
	sa_agent_conf "discovery = {
  initiator_name = \"$INITIATOR\";
  portals = [ \"127.0.0.1:$BPORT\" ];
  interval = 86400;
  age_out = 604800;
  timeout_ms = 120000;
};"
}
conf_scan() {
	sa_agent_conf "discovery = {
  initiator_name = \"$INITIATOR\";
  portals = [ ];
  interval = 86400;
  age_out = 604800;
  scan = ( { cidr = \"127.0.0.0/24\"; ports = [ $SPORT ]; concurrency = $DB_SCAN_CONCURRENCY; timeout_ms = $DB_SCAN_TIMEOUT_MS; } );
};"
}
conf_big
sa_start_agent
sa_wait_agent
DISC_ENG=$(sa_walk "$ENG.2" | sed -n "s/^$ENG\.2\.\([0-9]*\) = STRING: \"discovery\"$/\1/p")
[ -n "$DISC_ENG" ] || sa_fail "no discovery row in sanEngineTable: $(sa_walk "$ENG.2")"

# ---- helpers ------------------------------------------------------------------------------------
now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# reply_bytes N: the size of tgtd's SendTargets=All reply listing targets 1..N of the big tgtd.
reply_bytes() {
	awk -v n="$1" -v iqn="$IQN" -v addr="127.0.0.1:$BPORT,1" 'BEGIN {
		for (i = 1; i <= n; i++) b += length("TargetName=" iqn ":t" i) + 1 + length("TargetAddress=" addr) + 1
		print b }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
get1() { snmpget -v2c -c "$SA_RO_COMMUNITY" -t 2 -r 0 -On -Oqv "127.0.0.1:$SA_SNMP_PORT" "$1" 2>/dev/null; }
# admin 1|2: sanEngineAdminStatus of the discovery engine, as the v3 user; a generous timeout, as the agent
# may be busy merging a large reply.
admin() {
	snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 10 -r 0 \
		"127.0.0.1:$SA_SNMP_PORT" "$ENG.3.$DISC_ENG" i "$1" >/dev/null ||
		sa_fail "snmpset sanEngineAdminStatus.$DISC_ENG = $1 failed"
}
# wait_until LIMIT_S OID CMP VALUE: polls OID through snmpd every DB_POLL_MS until "value CMP VALUE";
# prints the microsecond clock of the first GET that saw it.  The pause matters: back-to-back snmpget
# processes (~125/s) with snmpd and the agent take about one of the two CPUs from tgtd, whose reply
# build is what the engine waits for (see bench/RESULTS.md, "Discovery at 10,000 targets").
wait_until() {
	local limit=$(($(now_us) + $1 * 1000000)) oid=$2 cmp=$3 want=$4 v pause
	pause=$(awk -v ms="$DB_POLL_MS" 'BEGIN { printf "%.3f", ms / 1000 }')
	while [ "$(now_us)" -lt "$limit" ]; do
		v=$(get1 "$oid")
		if [[ "$v" =~ ^[0-9]+$ ]] && { [ "$cmp" = -eq ] && ((v == want)) || { [ "$cmp" = -gt ] && ((v > want)); }; }; then
			now_us
			return 0
		fi
		sleep "$pause"
	done
	return 1
}

# engine_run N: one down/up of the discovery engine; prints "ENGINE_MS WALL_MS SET_MS" (SET_MS: the
# snmpset process alone, part of the wall time).
engine_run() {
	local n=$1 lines t0 ts t1 eng
	admin 2
	lines=$(wc -l <"$SA_TMP/sanagentd.log")
	t0=$(now_us)
	admin 1
	ts=$(now_us)
	t1=$(wait_until 120 "$CTR.5.0" -eq "$n") ||
		sa_fail "sanDiscTargetsCurrent did not reach $n: $(get1 "$CTR.5.0"); last error: $(sa_walk "$SRC.12")"
	# The engine logs the exchange when it has merged the reply, before its rows are readable.
	eng=$(tail -n +$((lines + 1)) "$SA_TMP/sanagentd.log" |
		sed -n "s/.*127\.0\.0\.1:$BPORT: $n targets, [0-9]* bytes in \([0-9]*\) ms.*/\1/p" | tail -n1)
	[ -n "$eng" ] || sa_fail "no \"$n targets ... in N ms\" line from the engine in sanagentd.log"
	echo "$eng $(ms $((t1 - t0))) $(ms $((ts - t0)))"
}
# anchor_run N [ARGS]: one iscsi-ls; prints "ok MS" or "fail MS MESSAGE".
anchor_run() {
	local n=$1 t0 t1 rc got
	shift
	t0=$(now_us)
	iscsi-ls -i "$INITIATOR" "$@" "iscsi://127.0.0.1:$BPORT" >"$SA_TMP/iscsi-ls.out" 2>&1
	rc=$?
	t1=$(now_us)
	got=$(grep -c '^Target:' "$SA_TMP/iscsi-ls.out")
	if [ "$rc" = 0 ] && [ "$got" = "$n" ]; then
		echo "ok $(ms $((t1 - t0)))"
	elif [ "$rc" = 0 ]; then
		echo "fail $(ms $((t1 - t0))) listed $got of $n targets"
	else
		echo "fail $(ms $((t1 - t0))) $(grep -v '^Target:' "$SA_TMP/iscsi-ls.out" | tr '\n' ' ' | sed 's/ *$//') (exit $rc)"
	fi
}
anchor_ok() { [ "$(anchor_run "$1" | cut -d' ' -f1)" = ok ]; }

# measure N: DB_ROUNDS of the engine and of iscsi-ls, alternating; sets E_MS W_MS A_MS A_ERR.
measure() {
	local n=$1 r e w st a es=() ws=() as=() fails=0
	set_count "$n"
	A_ERR=""
	for ((r = 1; r <= DB_ROUNDS; r++)); do
		read -r e w st < <(engine_run "$n") || sa_fail "engine run at $n targets"
		es+=("$e") ws+=("$w") SETS+=("$st")
		a=$(anchor_run "$n")
		as+=("$(cut -d' ' -f2 <<<"$a")")
		if [ "${a%% *}" != ok ]; then
			fails=$((fails + 1))
			A_ERR=$(cut -d' ' -f3- <<<"$a")
		fi
	done
	E_MS=$(median "${es[@]}") W_MS=$(median "${ws[@]}") A_MS=$(median "${as[@]}")
	[ "$fails" = 0 ] || [ "$fails" = "$DB_ROUNDS" ] || A_ERR="$A_ERR (failed $fails of $DB_ROUNDS runs)"
	sa_log "$n targets: engine ${es[*]} ms, wall ${ws[*]} ms, iscsi-ls ${as[*]} ms${A_ERR:+ ($A_ERR)}"
}

# tgtd's SendTargets cost grows faster than the target count and it shares the CPUs: the load says how
# quiet the machine was.
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- one snmpget's round trip: the resolution of the wall figures ------------------------------
ps=()
for r in 1 2 3 4 5; do
	t0=$(now_us)
	get1 "$CTR.5.0" >/dev/null
	ps+=($(($(now_us) - t0)))
done
POLL_MS=$(ms "$(median "${ps[@]}")")

ROWS=() SETS=()
# row LABEL ENGINE WALL ANCHOR RESULT: one line of the table, with both ratios when the anchor worked.
row() {
	local r1=- r2=-
	if [ "$5" = ok ]; then r1=$(ratio "$2" "$4") r2=$(ratio "$3" "$4"); fi
	ROWS+=("$(printf '%-28s %8s %10s %10s %8s %8s %9s' "$1" "$2" "$3" "$4" "$5" "$r1" "$r2")")
}

# ---- part 1: N1 targets ---------------------------------------------------------------------
t0=$(now_us)
set_count "$DB_N1"
sa_log "created $DB_N1 targets in $(ms $(($(now_us) - t0))) ms"
measure "$DB_N1"
N1_E=$E_MS
[ -z "$A_ERR" ] || sa_fail "iscsi-ls fails at $DB_N1 targets: $A_ERR"
N1_A=$A_MS
row "$DB_N1 targets" "$E_MS" "$W_MS" "$A_MS" ok
rows=$(sa_walk "$TGT.2" | grep -c "^$TGT\.2\.")
[ "$rows" = "$DB_N1" ] || sa_fail "walk of sanDiscTargetName: $rows rows, not $DB_N1"
# For reference: iscsi-ls -s logs in to every target after the discovery.
S_RES=$(anchor_run "$DB_N1" -s)

# ---- where iscsi-ls stops working --------------------------------------------------------------
MAXOK=""
if [ "$DB_BISECT" = 1 ]; then
	t0=$(now_us)
	lo=$DB_N1 hi=""
	for n in $((DB_N1 * 2)) $((DB_N1 * 4)) "$DB_N2"; do
		[ "$n" -le "$DB_N2" ] || continue
		set_count "$n"
		if anchor_ok "$n"; then lo=$n; else hi=$n; break; fi
	done
	if [ -n "$hi" ]; then
		while [ $((hi - lo)) -gt 1 ]; do
			n=$(((lo + hi) / 2))
			set_count "$n"
			if anchor_ok "$n"; then lo=$n; else hi=$n; fi
		done
		MAXOK=$lo
		set_count "$hi"
		HI_RES=$(anchor_run "$hi")
		sa_log "bisection: iscsi-ls lists $lo targets, fails at $hi ($(ms $(($(now_us) - t0))) ms)"
		MAX_HELD=$CREATED
		measure "$MAXOK"
		MAX_A=$A_MS
		[ -z "$A_ERR" ] || sa_fail "iscsi-ls fails at $MAXOK targets after the bisection said it works: $A_ERR"
		row "$MAXOK targets (iscsi-ls max)" "$E_MS" "$W_MS" "$A_MS" ok
		row "$hi targets" - - "$(cut -d' ' -f2 <<<"$HI_RES")" fails
	else
		sa_log "bisection: iscsi-ls still works at $lo targets"
	fi
fi

# ---- N2 targets ---------------------------------------------------------------------------------
t0=$(now_us)
set_count "$DB_N2"
sa_log "big tgtd now has $DB_N2 targets ($(ms $(($(now_us) - t0))) ms to get there)"
measure "$DB_N2"
N2_E=$E_MS N2_W=$W_MS N2_A=$A_MS N2_ERR=$A_ERR
row "$DB_N2 targets" "$E_MS" "$W_MS" "$A_MS" "$([ -z "$N2_ERR" ] && echo ok || echo fails)"
rows=$(sa_walk "$TGT.2" | grep -c "^$TGT\.2\.")
[ "$rows" = "$DB_N2" ] || sa_fail "walk of sanDiscTargetName: $rows rows, not $DB_N2"
PDUS=$(sed -n 's/.*SendTargets reply: \([0-9]*\) bytes in \([0-9]*\) Text Response PDUs.*/\1 \2/p' \
	"$SA_TMP/sanagentd.log" | sort -n | tail -n1)

# ---- part 2: scan of 127.0.0.0/24 ------------------------------------------------------------------
conf_scan
reloads=$(grep -c "reloaded" "$SA_TMP/sanagentd.log")
kill -HUP "$SA_AGENT_PID"
reloaded() { [ "$(grep -c "reloaded" "$SA_TMP/sanagentd.log")" -gt "$reloads" ]; }
sa_wait_for 10 reloaded || sa_fail "agent did not reload the scan config"
scan_sources() { sa_walk "$SRC.2" 2>/dev/null | grep -c "INTEGER: 3$"; }
sw=() sd=() sa=()
for ((r = 1; r <= DB_ROUNDS; r++)); do
	# Counters survive a down/up but are not served while the engine is down: read it first.
	c0=$(get1 "$CTR.6.0")
	[[ "$c0" =~ ^[0-9]+$ ]] || sa_fail "sanDiscScansCompleted: $c0"
	admin 2
	t0=$(now_us)
	admin 1
	t1=$(wait_until 120 "$CTR.6.0" -gt "$c0") || sa_fail "the scan did not complete: sanDiscScansCompleted $(get1 "$CTR.6.0")"
	sw+=("$(ms $((t1 - t0)))")
	sd+=("$(get1 "$CTR.8.0")")
	found=$(scan_sources)
	[ "$found" = "$DB_SCAN_ADDRS" ] || sa_fail "the scan found $found portals, not $DB_SCAN_ADDRS: $(sa_walk "$SRC.4")"
	# The anchor: one iscsi-ls per address, DB_SCAN_CONCURRENCY at once; the responders list their targets.
	t0=$(now_us)
	ok=$(seq 1 254 | xargs -P "$DB_SCAN_CONCURRENCY" -I{} sh -c \
		"iscsi-ls -i $INITIATOR iscsi://127.0.0.{}:$SPORT 2>/dev/null | grep -q '^Target:' && echo ok" | grep -c ok)
	t1=$(now_us)
	sa+=("$(ms $((t1 - t0)))")
	[ "$ok" = "$DB_SCAN_ADDRS" ] || sa_fail "the iscsi-ls scan found $ok portals, not $DB_SCAN_ADDRS"
done
sa_log "scan: engine ${sd[*]} ms, wall ${sw[*]} ms, iscsi-ls x254 ${sa[*]} ms"
SC_D=$(median "${sd[@]}") SC_W=$(median "${sw[@]}") SC_A=$(median "${sa[@]}")
PROBES=$(get1 "$CTR.7.0")

# ---- report ---------------------------------------------------------------------------------------
echo "discovery benchmark: $(nproc) CPUs, $(uname -r), tgt $(tgtd --version 2>/dev/null | head -n1 || echo ?)," \
	"$(dpkg-query -W -f='libiscsi ${Version}' libiscsi-bin 2>/dev/null || echo libiscsi), median of $DB_ROUNDS;" \
	"load average at start $LOAD0, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== SendTargets on one tgtd portal (127.0.0.1:$BPORT); sanagent: engine admin down/up over SNMP"
echo "   engine = the engine's exchange (log: connect .. reply merged); wall = snmpset up .. sanDiscTargetsCurrent = N"
echo "   through snmpd (polled every $DB_POLL_MS ms + one snmpget, $POLL_MS ms: the resolution; the v3 snmpset itself $(median "${SETS[@]}") ms);"
echo "   anchor = the iscsi-ls process, wall"
printf '%-28s %8s %10s %10s %8s %8s %9s\n' "" engine wall iscsi-ls iscsi-ls engine/ wall/
printf '%-28s %8s %10s %10s %8s %8s %9s\n' "" ms ms ms result iscsi-ls iscsi-ls
printf '%s\n' "${ROWS[@]}"
[ -z "$N2_ERR" ] || echo "iscsi-ls at $DB_N2 targets fails: $N2_ERR, after $N2_A ms"
[ -z "${HI_RES:-}" ] || echo "iscsi-ls at ${hi:-?} targets fails: $(cut -d' ' -f3- <<<"$HI_RES")"
if [ -n "$MAXOK" ]; then
	echo "iscsi-ls works up to $MAXOK targets on this portal (bisection; names like $IQN:t$MAXOK; the tgtd held" \
		"$MAX_HELD targets, those above $MAXOK unbound so that SendTargets does not list them)"
	echo "SendTargets reply: $(reply_bytes "$MAXOK") bytes for $MAXOK targets, $(reply_bytes "$hi") for $hi;" \
		"tgtd splits a reply at the initiator's MaxRecvDataSegmentLength (libiscsi offers 262144)"
fi
read -r s_st s_ms s_msg <<<"$S_RES"
echo "iscsi-ls -s at $DB_N1 targets (discovery + a login and REPORT LUNS per target), one run: $s_st in $s_ms ms${s_msg:+ ($s_msg)}"
echo "largest SendTargets reply the engine read: ${PDUS% *} bytes in ${PDUS#* } Text Response PDUs"
echo "per target: engine $(awk -v a="$N1_E" -v n="$DB_N1" 'BEGIN { printf "%.1f", a * 1000 / n }') us at $DB_N1," \
	"$(awk -v a="$N2_E" -v n="$DB_N2" 'BEGIN { printf "%.1f", a * 1000 / n }') us at $DB_N2;" \
	"iscsi-ls $(awk -v a="$N1_A" -v n="$DB_N1" 'BEGIN { printf "%.1f", a * 1000 / n }') us at $DB_N1${MAXOK:+, $(awk -v a="$MAX_A" -v n="$MAXOK" 'BEGIN { printf "%.1f", a * 1000 / n }') us at $MAXOK}"
[ -z "$MAXOK" ] || [ -z "$N2_ERR" ] || echo "$DB_N2 targets by the engine vs $MAXOK by iscsi-ls (the most it lists):" \
	"engine $(ratio "$N2_E" "$MAX_A"), wall $(ratio "$N2_W" "$MAX_A")"
echo "== scan of 127.0.0.0/24, port $SPORT, tgtd on 127.0.0.1..$DB_SCAN_ADDRS, concurrency $DB_SCAN_CONCURRENCY," \
	"timeout $DB_SCAN_TIMEOUT_MS ms"
printf '%-44s %10s %9s\n' "" "ms" "vs anchor"
printf '%-44s %10s %9s\n' "iscsi-ls per address, xargs -P $DB_SCAN_CONCURRENCY (anchor)" "$SC_A" "1.000"
printf '%-44s %10s %9s\n' "sanagent sanDiscLastScanDuration" "$SC_D" "$(ratio "$SC_D" "$SC_A")"
printf '%-44s %10s %9s\n' "sanagent wall (snmpset up .. ScansCompleted)" "$SC_W" "$(ratio "$SC_W" "$SC_A")"
echo "each scan: 254 addresses, $DB_SCAN_ADDRS portals found (checked in sanDiscSourceTable); probes so far: $PROBES"
