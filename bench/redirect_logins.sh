#!/usr/bin/env bash
# redirect_logins.sh: redirected logins per second through the portal, and the latency a redirect adds, against tgtd's own redirect.
#
# One run on loopback: three tgtd servers (lib.sh), sanagentd's portal in front of them, and
# bench/redirect_load.c as the client (one thread, epoll):
#   rate     logins/s answered 0x0101 by the portal (CONNS connections at once, SECONDS long),
#            anchor: the same client against a tgtd target set up to redirect
#            (tgtadm --op update --mode target --name RedirectAddress/RedirectPort);
#   latency  medians of a direct complete login at the server, of portal exchange + that login,
#            and of tgtd redirect + that login, interleaved; "added" = redirected - direct;
#            floor: the same through "redirect_load serve", a minimal server (blocking accept, one read,
#            one canned write, close): what any redirect costs on this machine;
#   syscalls and context switches per login of the server process (perf stat tracepoints, when perf
#            is there): counts, not times, so they compare across noisy runs.
# Knobs: RL_CONNS (16; the portal takes many more since the epoll event loop), RL_SECONDS (5), RL_ROUNDS (3, best kept), RL_LAT_N (2000).
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

RL_CONNS=${RL_CONNS:-16}
RL_SECONDS=${RL_SECONDS:-5}
RL_ROUNDS=${RL_ROUNDS:-3}
RL_LAT_N=${RL_LAT_N:-2000}
IQN=$SA_TGT_IQN

sa_init bench-redirect-logins
[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first"
sa_need build-essential cc
cc -std=gnu11 -O2 -o "$SA_TMP/redirect_load" "$SA_SRCDIR/bench/redirect_load.c" ||
	sa_fail "cannot build bench/redirect_load.c"

sa_start_tgt_servers 3 3
RPORT=$(sa_free_port tcp)
servers=$(sa_tgt_servers_conf)
# r1 on s1 (the latency target), r2 on s2, r3 on s3.
sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; max_connections = 1024; servers = ( $servers );
resources = ( { target = \"$IQN:r1\"; server = \"s1\"; }, { target = \"$IQN:r2\"; server = \"s2\"; },
{ target = \"$IQN:r3\"; server = \"s3\"; } ); };"
sa_start_snmpd
sa_start_agent
sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$RPORT" || sa_fail "portal does not listen on 127.0.0.1:$RPORT"

# tgtd's own redirect: r1 on server 3 (tid 1) points at server 1, where r1 really is.
tgtadm -C "${SA_TGT_CTL[2]}" --lld iscsi --op update --mode target --tid 1 --name RedirectAddress \
	--value "${SA_TGT_ADDR[0]}" &&
	tgtadm -C "${SA_TGT_CTL[2]}" --lld iscsi --op update --mode target --tid 1 --name RedirectPort \
		--value "${SA_TGT_PORT[0]}" &&
	tgtadm -C "${SA_TGT_CTL[2]}" --lld iscsi --op update --mode target --tid 1 --name RedirectReason \
		--value Temporary || sa_fail "tgtadm does not take the redirect settings"
tgtadm -C "${SA_TGT_CTL[2]}" --op show --mode target | grep -q "RedirectAddress\|Redirect" ||
	sa_log "note: tgtadm --op show does not list the redirect settings"

FPORT=$(sa_free_port tcp)
sa_bg "$SA_TMP/redirect_load" serve "$FPORT" "${SA_TGT_ADDR[0]}:${SA_TGT_PORT[0]},1"
sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$FPORT" || sa_fail "floor server does not listen"

# perf stat on a process while CMD runs: prints "SYSCALLS CSWITCHES" (totals), or "- -" without perf.
HAVE_PERF=0
perf stat -e raw_syscalls:sys_enter,context-switches true >/dev/null 2>&1 && HAVE_PERF=1
counted() {
	local pid=$1 out=$SA_TMP/perfstat.$$ sp
	shift
	if [ "$HAVE_PERF" = 0 ]; then
		"$@"
		echo "- -" >"$SA_TMP/counts"
		return
	fi
	perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$pid" -o "$out" &
	sp=$!
	"$@"
	local rc=$?
	kill -INT "$sp" 2>/dev/null
	wait "$sp"
	awk -F, '/sys_enter/ { s = $1 } /context-switches/ { c = $1 } END { print s, c }' "$out" >"$SA_TMP/counts"
	return $rc
}
per_login() { awk -v a="$1" -v n="$2" 'BEGIN { if (a == "-") print "-"; else printf "%.1f", a / n }'; }

# CPU seconds (user + system) a process has used.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# rate: best of RL_ROUNDS; LOGINS_SUM adds up every round's logins (for CPU per login).
LOGINS_SUM=0
best_rate() {
	local host=$1 port=$2 target=$3 r line rate best=0 bestline=""
	for ((r = 0; r < RL_ROUNDS; r++)); do
		line=$("$SA_TMP/redirect_load" rate "$host" "$port" "$target" "$RL_CONNS" "$RL_SECONDS") || {
			echo "$line" >&2
			return 1
		}
		rate=$(sed -n 's/.*per_s=\([0-9]*\).*/\1/p' <<<"$line")
		echo "$line" >>"$SA_TMP/rate.log"
		LOGINS_SUM=$((LOGINS_SUM + $(sed -n 's/.*logins=\([0-9]*\).*/\1/p' <<<"$line")))
		[ "$rate" -gt "$best" ] && best=$rate bestline=$line
	done
	echo "$bestline"
}
CPU0=$(cpu_s "$SA_AGENT_PID")
counted "$SA_AGENT_PID" best_rate 127.0.0.1 "$RPORT" "$IQN:r1" >"$SA_TMP/portal.line" || sa_fail "portal rate run failed"
read -r P_SYS P_CSW <"$SA_TMP/counts"
CPU1=$(cpu_s "$SA_AGENT_PID")
PORTAL_LINE=$(cat "$SA_TMP/portal.line")
P_CPU_US=$(awk -v a="$CPU0" -v b="$CPU1" -v n="$LOGINS_SUM" 'BEGIN { printf "%.1f", (b - a) / n * 1e6 }')
P_SYS=$(per_login "$P_SYS" "$LOGINS_SUM") P_CSW=$(per_login "$P_CSW" "$LOGINS_SUM")
LOGINS_SUM=0
TCPU0=$(cpu_s "${SA_TGT_PID[2]}")
counted "${SA_TGT_PID[2]}" best_rate "${SA_TGT_ADDR[2]}" "${SA_TGT_PORT[2]}" "$IQN:r1" >"$SA_TMP/tgt.line" ||
	sa_fail "tgtd redirect rate run failed"
read -r T_SYS T_CSW <"$SA_TMP/counts"
TCPU1=$(cpu_s "${SA_TGT_PID[2]}")
TGT_LINE=$(cat "$SA_TMP/tgt.line")
T_CPU_US=$(awk -v a="$TCPU0" -v b="$TCPU1" -v n="$LOGINS_SUM" 'BEGIN { printf "%.1f", (b - a) / n * 1e6 }')
T_SYS=$(per_login "$T_SYS" "$LOGINS_SUM") T_CSW=$(per_login "$T_CSW" "$LOGINS_SUM")
grep -q "status=0x0101" <<<"$PORTAL_LINE" || sa_fail "portal answered something else: $PORTAL_LINE"
grep -q "status=0x0101" <<<"$TGT_LINE" || sa_fail "tgtd did not redirect: $TGT_LINE"
P_RATE=$(sed -n 's/.*per_s=\([0-9]*\).*/\1/p' <<<"$PORTAL_LINE")
T_RATE=$(sed -n 's/.*per_s=\([0-9]*\).*/\1/p' <<<"$TGT_LINE")
AGENT_RSS=$(awk '/VmHWM/ {print $2 " kB"}' "/proc/$SA_AGENT_PID/status" 2>/dev/null)

LAT=$("$SA_TMP/redirect_load" lat "$RL_LAT_N" 127.0.0.1 "$RPORT" "$IQN:r1" \
	"${SA_TGT_ADDR[2]}" "${SA_TGT_PORT[2]}" "$IQN:r1" 127.0.0.1 "$FPORT") || sa_fail "latency run failed: $LAT"
kill -0 "$SA_AGENT_PID" || sa_fail "sanagentd died under load"

echo "redirect login benchmark: $(nproc) CPUs, loopback, one client thread, $RL_CONNS connections at once,"
echo "  $RL_SECONDS s per run, best of $RL_ROUNDS; latency: $RL_LAT_N interleaved rounds, one login at a time"
printf '%-34s %12s %10s\n' "rate" "logins/s" "vs tgtd"
printf '%-34s %12s %10s\n' "tgtd redirect (anchor)" "$T_RATE" "1.000"
printf '%-34s %12s %10s\n' "sanagent portal" "$P_RATE" "$(awk -v a="$P_RATE" -v b="$T_RATE" 'BEGIN { printf "%.3f", a / b }')"
echo "portal: $PORTAL_LINE"
echo "tgtd:   $TGT_LINE"
echo "$LAT"
added=$(sed -n 's/.*[^_]added_us=\([-0-9.]*\).*/\1/p' <<<"$LAT")
tadded=$(sed -n 's/.*tgt_added_us=\([-0-9.]*\).*/\1/p' <<<"$LAT")
fadded=$(sed -n 's/.*floor_added_us=\([-0-9.]*\).*/\1/p' <<<"$LAT")
echo "goals: rate $P_RATE/s (>= 20000: $([ "$P_RATE" -ge 20000 ] && echo met || echo MISSED)), added $added us" \
	"(<= 60: $(awk -v a="$added" 'BEGIN { print (a <= 60) ? "met" : "MISSED" }')); tgtd's redirect adds $tadded us" \
	"(ratio $(awk -v a="$added" -v b="$tadded" 'BEGIN { printf "%.3f", a / b }')); the minimal server's adds $fadded us" \
	"(ratio $(awk -v a="$added" -v b="$fadded" 'BEGIN { printf "%.3f", a / b }'))"
echo "server CPU per redirected login (user+sys, all rounds): sanagentd $P_CPU_US us, tgtd $T_CPU_US us;" \
	"one core's worth: sanagentd $(awk -v c="$P_CPU_US" 'BEGIN { printf "%.0f", 1e6 / c }')/s," \
	"tgtd $(awk -v c="$T_CPU_US" 'BEGIN { printf "%.0f", 1e6 / c }')/s"
echo "server syscalls per redirected login: sanagentd $P_SYS, tgtd $T_SYS;" \
	"context switches per login: sanagentd $P_CSW, tgtd $T_CSW"
echo "sanagentd peak RSS: $AGENT_RSS"
