#!/usr/bin/env bash
# redirect_load.sh: server load as a weighted sum (seed 003 [0095]): bytes/s and commands/s from tgtd under real I/O,
# CPU and memory from each server's own snmpd (HOST-RESOURCES-MIB); a CPU-loaded server keeps fewer resources.
set -u
. "$(dirname "$0")/lib.sh"
# shellcheck source=redirect_lib.bash
. "$(dirname "$0")/redirect_lib.bash"
sa_init redirect_load
sa_need libiscsi-bin iscsi-perf
IQN=$SA_TGT_IQN
R=$SA_OID.3.3 # SANAGENT-REDIRECTOR-MIB
O=$R.1        # sanRedirObjects
C=$O.1        # sanRedirControls
SRV=$O.4.1    # sanRedirServerEntry
RES=$O.6.1    # sanRedirResourceEntry

sa_start_tgt_servers 2 6
# Each server's own agent: an snmpd on its host.  Both servers share this machine's kernel, and in this
# container snmpd's hrProcessorTable lists no processor, so each snmpd states its host's processor load with its
# own override directive (s1 busy, s2 idle); hrStorageTable (memory) is snmpd's real one.
HR_PORT=()
for i in 0 1; do
	HR_PORT[$i]=$(sa_free_port udp)
	cat >"$SA_TMP/hr$i.conf" <<EOF
rocommunity hrpublic 127.0.0.1
override .1.3.6.1.2.1.25.3.3.1.2.196608 integer $([ "$i" = 0 ] && echo 90 || echo 10)
EOF
	sa_bg snmpd -f -I -smux,hr_proc -C -c "$SA_TMP/hr$i.conf" -p "$SA_TMP/hr$i.pid" -Lf "$SA_TMP/hr$i.log" \
		"udp:127.0.0.1:${HR_PORT[$i]}"
	sa_wait_for 10 snmpget -v2c -c hrpublic -t 0.5 -r 0 "127.0.0.1:${HR_PORT[$i]}" .1.3.6.1.2.1.1.3.0 >/dev/null ||
		sa_fail "server $i's snmpd did not answer"
done
servers=""
for i in 0 1; do
	servers="$servers${servers:+, }{ name = \"s$((i + 1))\"; address = \"${SA_TGT_ADDR[$i]}\"; port = ${SA_TGT_PORT[$i]};
 tgt_control = ${SA_TGT_CTL[$i]}; agent = \"udp:127.0.0.1:${HR_PORT[$i]}\"; agent_community = \"hrpublic\"; }"
done
res=""
for t in 1 2 3 4 5 6; do res="$res${res:+, }{ target = \"$IQN:r$t\"; server = \"s$(((t - 1) / 3 + 1))\"; }"; done
RPORT=$(sa_free_port tcp)
# threshold 1000: no automatic rebalance; the test asks for each (sanRedirRebalanceTrigger).
redir_up "$RPORT" 2 "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_timeout_ms = 5000; threshold = 1000; max_moves = 6;
 servers = ( $servers ); resources = ( $res ); };"

# rebalance: asks for a manual rebalance and waits for its plan row; MOVES is its move list.
PLANS=0
rebalance() {
	PLANS=$((PLANS + 1))
	rset $C.4.0 i 1
	sa_wait_for 10 eval '[ -n "$(rget $O.8.1.4.$PLANS)" ]' || sa_fail "manual rebalance $PLANS left no plan row"
	MOVES=$(rget $O.8.1.7.$PLANS)
}

# ---- the hosts' figures, read from their snmpds ----
sa_wait_for 10 eval '[ "$(rget $SRV.21.1)" = 90 ] && [ "$(rget $SRV.21.2)" = 10 ]' ||
	sa_fail "sanRedirServerCpuLoad: $(rget $SRV.21.1) and $(rget $SRV.21.2), want 90 and 10"
mem=$(rget $SRV.22.1)
[ "${mem:--1}" -ge 1 ] && [ "$mem" -le 100 ] || sa_fail "sanRedirServerMemoryUsed.1 = '$mem', want 1..100"
echo "# s1: CPU $(rget $SRV.21.1) %, memory $mem %; s2: CPU $(rget $SRV.21.2) %"
[ "$(rget $C.11.0 $C.12.0 $C.13.0 $C.14.0 | tr '\n' ' ')" = "1 0 0 0 " ] || sa_fail "default weights are not 1 0 0 0"
[ "$(rget $SRV.23.1)" = 0 ] || sa_fail "host load with weight 0: $(rget $SRV.23.1)"

# ---- bad input: the precise error, nothing changed ----
rset_err wrongValue $C.13.0 u 1000001
rset_err wrongType $C.13.0 i 5
rset_err wrongType $C.11.0 s 1
rset_err notWritable $SRV.21.1 i 5
[ "$(rget $C.13.0)" = 0 ] || sa_fail "a refused SET changed sanRedirWeightCpu"

# ---- real I/O: bytes/s and commands/s from tgtd, weighted ----
timeout 60 iscsi-perf -i "$IQN:perf" "iscsi://127.0.0.1:$RPORT/$IQN:r1/1" >"$SA_TMP/perf.out" 2>&1 &
PERF=$!
sa_wait_for 15 eval '[ "$(rget $RES.17.1)" -gt 0 ] 2>/dev/null' || sa_fail "no commands/s measured for r1 under I/O"
read -r load bytes cmds <<<"$(rget $RES.5.1 $RES.16.1 $RES.17.1 | tr '\n' ' ')"
echo "# r1 under I/O: $bytes B/s, $cmds commands/s, load $load"
[ "$load" = "$bytes" ] || sa_fail "load $load is not bytes/s $bytes with the default weights"
rset $C.11.0 u 0 $C.12.0 u 1000
# The weights apply at once to the last sample: one PDU reads the three together.
read -r load bytes cmds <<<"$(rget $RES.5.1 $RES.16.1 $RES.17.1 | tr '\n' ' ')"
[ "$load" = $((cmds * 1000)) ] || sa_fail "load $load is not 1000 x $cmds commands/s"
sa_wait_for 5 eval 'read -r l b c <<<"$(rget $RES.5.1 $RES.16.1 $RES.17.1 | tr "\n" " ")"; [ "$c" -gt 0 ] && [ "$l" = $((c * 1000)) ]' ||
	sa_fail "the next sample is not weighted by commands"
rset $C.11.0 u 1 $C.12.0 u 0
kill "$PERF" 2>/dev/null
wait "$PERF" 2>/dev/null

# ---- equal resource loads: balanced by bytes alone, so nothing moves ----
for t in 1 2 3 4 5 6; do rset $RES.4.$t u 1000000; done
rebalance
[ "$MOVES" = '""' ] || sa_fail "a rebalance of equal loads moved $MOVES"
[ "$(rget $SRV.10.1 $SRV.10.2 | tr '\n' ' ')" = "3 3 " ] || sa_fail "resources are not 3 and 3"

# ---- CPU counts: s1's busy host keeps fewer resources ----
rset $C.13.0 u 100000
[ "$(rget $SRV.23.1 $SRV.23.2 | tr '\n' ' ')" = "9000000 1000000 " ] ||
	sa_fail "host loads $(rget $SRV.23.1 $SRV.23.2 | tr '\n' ' '), want 9000000 1000000"
[ "$(rget $SRV.9.1)" = 12000000 ] || sa_fail "s1's load $(rget $SRV.9.1), want 12000000 (3 x 1000000 + 90 x 100000)"
rebalance
echo "# plan with CPU weighted: $MOVES"
read -r n1 n2 <<<"$(rget $SRV.10.1 $SRV.10.2 | tr '\n' ' ')"
# 9,000,000 + k x 1,000,000 against 1,000,000 + (6 - k) x 1,000,000: k = 0 is the most even.
[ "$n1" = 0 ] && [ "$n2" = 6 ] || sa_fail "s1 (CPU 90 %) has $n1 resources and s2 (CPU 10 %) $n2, want 0 and 6"
[ "$(rget $SRV.9.1 $SRV.9.2 | tr '\n' ' ')" = "9000000 7000000 " ] || sa_fail "loads after: $(rget $SRV.9.1 $SRV.9.2)"
# The weight persists over a restart.
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent
[ "$(rget $C.13.0)" = 100000 ] || sa_fail "sanRedirWeightCpu lost in a restart: $(rget $C.13.0)"
echo "PASS"
