#!/usr/bin/env bash
# redirect_failover.sh: a killed tgtd server's resources are remapped within ~1 s and reached again; a drain moves resources off.
. "$(dirname "$0")/lib.sh"
sa_init redir-failover
command -v iscsi-inq >/dev/null && command -v iscsi-perf >/dev/null || sa_skip "libiscsi-bin not installed"
command -v python3 >/dev/null || sa_skip "python3 not installed"
CLIENT="python3 $SA_SRCDIR/tests/integration/redir_client.py"
IQN=$SA_TGT_IQN
ROID=$SA_OID.3.3.1 # sanRedirObjects
sa_start_tgt_servers 3 6
RPORT=$(sa_free_port tcp)

# s1..s3 are rows 1..3, r1..r6 rows 1..6: r1,r2 on s1; r3,r4 on s2; r5,r6 on s3.
redirect_conf() {
	local i servers="" resources="" t
	servers=$(sa_tgt_servers_conf ADMIN)
	for t in 1 2 3 4 5 6; do
		resources="$resources${resources:+, }{ target = \"$IQN:r$t\"; server = \"s$(((t - 1) / 2 + 1))\"; }"
	done
	# A probe that times out marks a server down: on a loaded machine 500 ms is not enough, and
	# this test kills servers (refused at once) rather than slowing them.
	sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_timeout_ms = 5000; servers = ( $servers ); resources = ( $resources ); };"
}
redirect_conf
sa_start_snmpd
sa_start_agent
sa_wait_agent
sa_wait_redirector "$RPORT" 3

# mapped_addr TARGET: the server address a login for TARGET is redirected to.
mapped_addr() { $CLIENT login 127.0.0.1 "$RPORT" "$IQN:$1" | sed -n 's/^status 0x0101 address //p'; }
res_server() { sa_get "$ROID.6.1.3.$1"; }
for t in 1 2 3 4 5 6; do
	i=$(((t - 1) / 2))
	[ "$(mapped_addr r$t)" = "${SA_TGT_ADDR[$i]}:${SA_TGT_PORT[$i]},1" ] || sa_fail "r$t not on s$((i + 1)) at start"
	[ "$(res_server $t)" = $((i + 1)) ] || sa_fail "sanRedirResourceServer.$t = $(res_server $t), want $((i + 1))"
done

# ---- kill -9 s1: only r1 and r2 move, within ~1 s ----
kill -9 "${SA_TGT_PID[0]}"
t0=$(date +%s%N)
sa_wait_for 3 eval 'grep -q "failover: $IQN:r1 moved from s1" "$SA_TMP/sanagentd.log" &&
	grep -q "failover: $IQN:r2 moved from s1" "$SA_TMP/sanagentd.log"' || sa_fail "r1/r2 not remapped within 3 s"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# remapped ${ms} ms after kill -9"
[ "$ms" -le 2000 ] || sa_fail "failover took $ms ms"
grep -q "server s1 .* is down" "$SA_TMP/sanagentd.log" || sa_fail "s1 not reported down"
[ "$(sa_get "$ROID.4.1.8.1")" = 2 ] || sa_fail "sanRedirServerOperStatus.1 = $(sa_get "$ROID.4.1.8.1"), want down(2)"
for t in 1 2; do
	a=$(mapped_addr r$t)
	case "$a" in "${SA_TGT_ADDR[1]}:${SA_TGT_PORT[1]},1" | "${SA_TGT_ADDR[2]}:${SA_TGT_PORT[2]},1") ;;
	*) sa_fail "r$t redirected to '$a' after s1 died" ;; esac
	s=$(res_server $t)
	[ "$s" = 2 ] || [ "$s" = 3 ] || sa_fail "sanRedirResourceServer.$t = $s after failover"
done
# Balanced by capacity: one each to s2 and s3.
[ "$(res_server 1)" != "$(res_server 2)" ] || sa_fail "r1 and r2 both went to s$(res_server 1)"
for t in 3 4 5 6; do
	i=$(((t - 1) / 2))
	[ "$(mapped_addr r$t)" = "${SA_TGT_ADDR[$i]}:${SA_TGT_PORT[$i]},1" ] || sa_fail "r$t moved although s$((i + 1)) is up"
done
[ "$(grep -c "failover: .* moved from" "$SA_TMP/sanagentd.log")" = 2 ] || sa_fail "more than two resources moved"
# A client that logs in again through the redirector reaches the new server.
iscsi-inq -i "$IQN:inq" "iscsi://127.0.0.1:$RPORT/$IQN:r1/1" | grep -q DIRECT_ACCESS || sa_fail "iscsi-inq r1 after failover"
new=$(($(res_server 1) - 1))
timeout 30 iscsi-perf -i "$IQN:perf1" "iscsi://127.0.0.1:$RPORT/$IQN:r1/1" >"$SA_TMP/perf1.out" 2>&1 &
PERF1=$!
sa_wait_for 10 eval '[ -n "$(sa_tgt_initiators $new $IQN:r1)" ]' || sa_fail "r1's new session is not on s$((new + 1))"
# Loads are real: tgtadm byte counters of that server, per target, and summed per server.
sa_wait_for 5 eval '[ "$(sa_get "$ROID.6.1.4.1")" -gt 0 ]' || sa_fail "r1's load stays $(sa_get "$ROID.6.1.4.1") under I/O"
# Both in one PDU: the loads move between two GETs while I/O runs.
loads=$(sa_get "$ROID.4.1.9.$((new + 1))" "$ROID.6.1.4.1" | tr '\n' ' ')
read -r sload rload <<<"$loads"
[ "${sload:-0}" -ge "${rload:-1}" ] || sa_fail "server load $sload below its resource's load $rload"
echo "# r1 load $(sa_get "$ROID.6.1.4.1") B/s, r3 load $(sa_get "$ROID.6.1.4.3") B/s"
kill "$PERF1" 2>/dev/null
wait "$PERF1" 2>/dev/null

# ---- s1 comes back: reported up, mappings stay where they are ----
sa_start_tgt_server 0 6
sa_wait_for 3 eval '[ "$(grep -c "server s1 .* is up" "$SA_TMP/sanagentd.log")" -ge 2 ]' || sa_fail "s1 not seen up again"
[ "$(res_server 1)" != 1 ] || sa_fail "r1 moved back to s1 without a rebalance"

# ---- drain s2 by config reload: its resources leave, its sessions end, clients follow ----
timeout 60 iscsi-perf -i "$IQN:perf3" "iscsi://127.0.0.1:$RPORT/$IQN:r3/1" >"$SA_TMP/perf3.out" 2>&1 &
PERF3=$!
sa_wait_for 10 eval '[ -n "$(sa_tgt_initiators 1 $IQN:r3)" ]' || sa_fail "r3's session is not on s2"
ADMIN=(up drain up)
redirect_conf
kill -HUP "$SA_AGENT_PID"
sa_wait_for 5 eval 'grep -q "drain: $IQN:r3 moved from s2" "$SA_TMP/sanagentd.log"' || sa_fail "drain did not move r3"
sa_wait_for 5 eval '[ "$(sa_get "$ROID.4.1.10.2")" = 0 ]' || sa_fail "s2 still has $(sa_get "$ROID.4.1.10.2") resources"
[ "$(sa_get "$ROID.4.1.7.2")" = 2 ] || sa_fail "sanRedirServerAdminStatus.2 = $(sa_get "$ROID.4.1.7.2"), want drain(2)"
for t in 3 4; do
	case "$(mapped_addr r$t)" in "${SA_TGT_ADDR[1]}:"*) sa_fail "r$t still redirected to s2" ;; esac
done
# The session on s2 was ended through tgtadm; the initiator logs in again via the redirector.
sa_wait_for 10 eval '[ -z "$(sa_tgt_initiators 1 $IQN:r3)" ]' || sa_fail "r3's session on s2 was not ended"
new=$(($(res_server 3) - 1))
sa_wait_for 15 eval '[ -n "$(sa_tgt_initiators $new $IQN:r3)" ]' ||
	echo "# note: iscsi-perf did not come back on s$((new + 1)) by itself (libiscsi reconnects to its last portal)"
kill "$PERF3" 2>/dev/null
wait "$PERF3" 2>/dev/null
iscsi-inq -i "$IQN:inq" "iscsi://127.0.0.1:$RPORT/$IQN:r3/1" | grep -q DIRECT_ACCESS || sa_fail "iscsi-inq r3 after drain"

# ---- drain by SNMP: s3's admin set to drain(2) moves r5 and r6 ----
sa_set "$ROID.4.1.7.3" i 2 >/dev/null || sa_fail "SET sanRedirServerAdminStatus.3 = drain refused"
sa_wait_for 5 eval '[ "$(sa_get "$ROID.4.1.10.3")" = 0 ]' || sa_fail "s3 still has resources after an SNMP drain"
for t in 5 6; do
	[ "$(res_server $t)" = 1 ] || sa_fail "r$t on s$(res_server $t) after draining s3 (only s1 is up)"
done

# ---- a restart keeps the mapping and the SNMP drain (state file) ----
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent
sa_wait_for 5 eval '[ "$(sa_get "$ROID.4.1.7.3")" = 2 ]' || sa_fail "s3's SNMP drain lost over a restart"
for t in 5 6; do
	[ "$(res_server $t)" = 1 ] || sa_fail "r$t on s$(res_server $t) after a restart, want s1"
done
echo "PASS"
