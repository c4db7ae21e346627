#!/usr/bin/env bash
# redirect_portal.sh: the redirector portal with real tgtd servers: discovery, login redirects, rejects, robustness, 10,000 targets.
. "$(dirname "$0")/lib.sh"
sa_init redir-portal
command -v iscsi-ls >/dev/null && command -v iscsi-inq >/dev/null || sa_skip "libiscsi-bin not installed"
command -v python3 >/dev/null || sa_skip "python3 not installed"
CLIENT="python3 $SA_SRCDIR/tests/integration/redir_client.py"
IQN=$SA_TGT_IQN

sa_start_tgt_servers 3 6
RPORT=$(sa_free_port tcp)
# r1,r2 on s1; r3,r4 on s2; r5,r6 on s3.
redirect_conf() {
	local i servers="" resources="" t n=$1
	servers=$(sa_tgt_servers_conf)
	for ((t = 1; t <= n; t++)); do
		resources="$resources${resources:+,
}{ target = \"$IQN:r$t\"; server = \"s$(((t - 1) / 2 % 3 + 1))\"; }"
	done
	# header_timeout: the held connection below stays silent for longer than the 2 s default.
	sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_interval_ms = 200; header_timeout = 30; servers = ( $servers );
resources = ( $resources ); };"
}
redirect_conf 6
sa_start_snmpd
sa_start_agent
sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$RPORT" || sa_fail "portal does not listen on 127.0.0.1:$RPORT"

# ---- discovery with libiscsi: every target at the redirector's own address ----
out=$(iscsi-ls -i "$IQN:ls" "iscsi://127.0.0.1:$RPORT") || sa_fail "iscsi-ls through the redirector failed: $out"
echo "$out"
n=$(echo "$out" | grep -c "Target:$IQN:r[1-6] Portal:127.0.0.1:$RPORT,1")
[ "$n" = 6 ] || sa_fail "iscsi-ls listed $n of 6 targets at 127.0.0.1:$RPORT"
echo "$out" | grep -q "${SA_TGT_ADDR[0]}" && sa_fail "a server address leaked into SendTargets"
# -s logs into every target too: each login is redirected to its server and LUN 1 is listed.
out=$(iscsi-ls -s -i "$IQN:ls" "iscsi://127.0.0.1:$RPORT") || sa_fail "iscsi-ls -s through the redirector failed: $out"
n=$(echo "$out" | grep -c "Lun:1")
[ "$n" = 6 ] || sa_fail "iscsi-ls -s saw LUN 1 of $n of 6 targets: $out"

# ---- a normal login reaches the mapped server ----
iscsi-inq -i "$IQN:inq" "iscsi://127.0.0.1:$RPORT/$IQN:r3/1" | grep -q DIRECT_ACCESS || sa_fail "iscsi-inq of r3 failed"
out=$($CLIENT login 127.0.0.1 "$RPORT" "$IQN:r3")
[ "$out" = "status 0x0101 address ${SA_TGT_ADDR[1]}:${SA_TGT_PORT[1]},1" ] || sa_fail "login r3: $out"
# Hold a session and look at it from the servers' side.
timeout 20 iscsi-perf -i "$IQN:perf" "iscsi://127.0.0.1:$RPORT/$IQN:r5/1" >"$SA_TMP/perf.out" 2>&1 &
PERF=$!
sa_wait_for 10 eval '[ -n "$(sa_tgt_initiators 2 $IQN:r5)" ]' || sa_fail "r5's session is not on s3"
[ -z "$(sa_tgt_initiators 0 $IQN:r5)$(sa_tgt_initiators 1 $IQN:r5)" ] || sa_fail "r5 has a session on s1 or s2"
kill "$PERF" 2>/dev/null
wait "$PERF" 2>/dev/null

# ---- unknown targets ----
out=$($CLIENT login 127.0.0.1 "$RPORT" "$IQN:nosuch")
[ "$out" = "status 0x0203 address -" ] || sa_fail "unknown target: $out"
iscsi-inq -i "$IQN:inq" "iscsi://127.0.0.1:$RPORT/$IQN:nosuch/1" >/dev/null 2>&1 && sa_fail "iscsi-inq of an unknown target worked"

# ---- a garbage PDU closes only its own connection ----
exec 7<>"/dev/tcp/127.0.0.1/$RPORT" || sa_fail "cannot open a held connection"
out=$($CLIENT garbage 127.0.0.1 "$RPORT")
[ "$out" = closed ] || sa_fail "garbage PDU: $out"
out=$($CLIENT login 127.0.0.1 "$RPORT" "$IQN:r1")
[ "$out" = "status 0x0101 address ${SA_TGT_ADDR[0]}:${SA_TGT_PORT[0]},1" ] || sa_fail "login after garbage: $out"
# The connection held open across the garbage is still established.
ss -Hnt state established "dport = :$RPORT" | grep -q . || sa_fail "the held connection was closed too"
exec 7>&-
grep -q "closed: malformed PDU" "$SA_TMP/sanagentd.log" || sa_fail "the malformed PDU was not logged"
out=$($CLIENT discover 127.0.0.1 "$RPORT") || sa_fail "discovery with our client: $out"
echo "$out" | head -1

# ---- 10,000 targets: SendTargets with Text continuation ----
redirect_conf 10000
kill -HUP "$SA_AGENT_PID"
sa_wait_for 20 grep -q "reloaded: 3 servers, 10000 resources" "$SA_TMP/sanagentd.log" || sa_fail "reload with 10,000 resources"
out=$($CLIENT discover 127.0.0.1 "$RPORT") || sa_fail "10,000-target discovery: $(echo "$out" | head -3)"
head=$(echo "$out" | head -1)
echo "$head"
case "$head" in "10000 targets in "*) ;; *) sa_fail "10,000-target discovery: $head" ;; esac
pdus=$(echo "$head" | awk '{print $4}')
[ "$pdus" -gt 1 ] || sa_fail "10,000 targets fit one PDU? $head"
n=$(echo "$out" | grep -c "	127.0.0.1:$RPORT,1$")
[ "$n" = 10000 ] || sa_fail "$n of 10000 targets at the redirector's address"
echo "$out" | tail -n +2 | cut -f1 | sort | uniq -d | grep -q . && sa_fail "duplicate targets in the reply"
out=$($CLIENT login 127.0.0.1 "$RPORT" "$IQN:r9999")
case "$out" in "status 0x0101 address 127.0.0.1"[123]":"*) ;; *) sa_fail "login r9999: $out" ;; esac
# libiscsi cannot follow multi-PDU replies (DESIGN.md); it must fail cleanly, not hang the portal.
timeout 20 iscsi-ls -i "$IQN:ls" "iscsi://127.0.0.1:$RPORT" >/dev/null 2>&1
out=$($CLIENT login 127.0.0.1 "$RPORT" "$IQN:r2")
case "$out" in "status 0x0101 "*) ;; *) sa_fail "portal after iscsi-ls on 10,000 targets: $out" ;; esac
echo "PASS"
