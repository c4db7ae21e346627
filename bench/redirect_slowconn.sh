#!/usr/bin/env bash
# redirect_slowconn.sh: legitimate redirected logins (rate and latency) under 500 slow connections from one address, against the same run without them.
#
# One run on loopback: a tgtd server, sanagentd's portal in front of it with the default limits
# (max_connections 256, max_per_source 32, header_timeout 2 s), bench/redirect_load.c as the legitimate
# client from 127.0.0.1, and tests/integration/slow_conns.py as the attacker from 127.0.0.5: 500
# connections, half silent, half sending one byte, each reopened at once when the portal closes it.
#   rate     logins/s answered 0x0101 (SC_CONNS connections at once, SC_SECONDS long), best of SC_ROUNDS;
#   latency  median and p99 of portal exchange + complete login at the server, one at a time (SC_LAT_N rounds).
# Anchor: the same measurements in the same run with no attacker.  Ratios = under attack / quiet.
# Knobs: SC_CONNS (16), SC_SECONDS (5), SC_ROUNDS (3), SC_LAT_N (1000), SC_SLOW (500).
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

SC_CONNS=${SC_CONNS:-16}
SC_SECONDS=${SC_SECONDS:-5}
SC_ROUNDS=${SC_ROUNDS:-3}
SC_LAT_N=${SC_LAT_N:-1000}
SC_SLOW=${SC_SLOW:-500}
IQN=$SA_TGT_IQN

sa_init bench-redirect-slowconn
[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first"
command -v cc >/dev/null || sa_skip "no C compiler"
command -v python3 >/dev/null || sa_skip "no python3"
cc -std=gnu11 -O2 -o "$SA_TMP/redirect_load" "$SA_SRCDIR/bench/redirect_load.c" ||
	sa_fail "cannot build bench/redirect_load.c"

sa_start_tgt_servers 1 1
RPORT=$(sa_free_port tcp)
sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; servers = ( $(sa_tgt_servers_conf) );
resources = ( { target = \"$IQN:r1\"; server = \"s1\"; } ); };"
sa_start_snmpd
sa_start_agent
sa_wait_redirector "$RPORT" 1

# measure TAG: best rate of SC_ROUNDS, then latency; sets RATE_<TAG>, LAT_<TAG>, P99_<TAG>.
measure() {
	local tag=$1 r line rate best=0 lat
	for ((r = 0; r < SC_ROUNDS; r++)); do
		line=$("$SA_TMP/redirect_load" rate 127.0.0.1 "$RPORT" "$IQN:r1" "$SC_CONNS" "$SC_SECONDS") ||
			sa_fail "rate run ($tag) failed: $line"
		echo "  $tag rate: $line"
		grep -q "status=0x0101" <<<"$line" || sa_fail "portal answered something else ($tag): $line"
		rate=$(sed -n 's/.*per_s=\([0-9]*\).*/\1/p' <<<"$line")
		[ "$rate" -gt "$best" ] && best=$rate
	done
	lat=$("$SA_TMP/redirect_load" lat "$SC_LAT_N" 127.0.0.1 "$RPORT" "$IQN:r1") || sa_fail "latency run ($tag) failed: $lat"
	echo "$lat" | sed "s/^/  $tag /"
	printf -v "RATE_$tag" '%s' "$best"
	printf -v "LAT_$tag" '%s' "$(sed -n 's/.*[^_]redirect_us=\([0-9.]*\).*/\1/p' <<<"$lat")"
	printf -v "P99_$tag" '%s' "$(awk '/^redirect / { for (i = 1; i <= NF; i++) if ($i == "p99") print $(i + 1) }' <<<"$lat")"
}

echo "quiet (anchor):"
measure quiet
# The attacker runs for as long as the measurement takes, with a margin; it stops by itself.
dur=$((SC_ROUNDS * (SC_SECONDS + 1) + 30))
sa_bg python3 "$SA_SRCDIR/tests/integration/slow_conns.py" --src 127.0.0.5 --host 127.0.0.1 --port "$RPORT" \
	--count "$SC_SLOW" --seconds "$dur" --ready "$SA_TMP/ready" >"$SA_TMP/slow.out"
SLOW_PID=$SA_LASTPID
sa_wait_for 10 test -s "$SA_TMP/ready" || sa_fail "the slow client did not open its connections"
sa_wait_for 5 eval '[ "$(ss -Hnt state established "src 127.0.0.5" | wc -l)" -ge $((SC_SLOW * 8 / 10)) ]' ||
	sa_fail "the slow client holds too few connections"
echo "under $SC_SLOW slow connections from 127.0.0.5:"
measure slow
kill "$SLOW_PID" 2>/dev/null
wait "$SLOW_PID" 2>/dev/null
kill -0 "$SA_AGENT_PID" || sa_fail "sanagentd died"
REFUSED=$(sa_get "$SA_OID.3.3.1.2.6.0")
CONNS=$(sa_get "$SA_OID.3.3.1.2.1.0")

echo
echo "redirect portal under slow connections: $(nproc) CPUs, loopback; $SC_CONNS legitimate connections at once from"
echo "  127.0.0.1, $SC_SECONDS s per rate run, best of $SC_ROUNDS; latency: $SC_LAT_N logins one at a time"
printf '%-36s %12s %12s %10s\n' "" "quiet" "500 slow" "ratio"
printf '%-36s %12s %12s %10s\n' "logins/s (0x0101 answers)" "$RATE_quiet" "$RATE_slow" \
	"$(awk -v a="$RATE_slow" -v b="$RATE_quiet" 'BEGIN { printf "%.3f", a / b }')"
printf '%-36s %12s %12s %10s\n' "redirect + login median, us" "$LAT_quiet" "$LAT_slow" \
	"$(awk -v a="$LAT_slow" -v b="$LAT_quiet" 'BEGIN { printf "%.3f", a / b }')"
printf '%-36s %12s %12s %10s\n' "redirect + login p99, us" "$P99_quiet" "$P99_slow" \
	"$(awk -v a="$P99_slow" -v b="$P99_quiet" 'BEGIN { printf "%.3f", a / b }')"
echo "attacker: $(cat "$SA_TMP/slow.out" 2>/dev/null); portal: sanRedirConnections $CONNS, sanRedirRefused $REFUSED"
