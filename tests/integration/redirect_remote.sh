#!/usr/bin/env bash
# redirect_remote.sh: the redirector's resources and loads come from the servers' own sanagent agents over SNMP.
. "$(dirname "$0")/lib.sh"
sa_init redir-remote
sa_need libiscsi-bin iscsi-perf
IQN=$SA_TGT_IQN
ROID=$SA_OID.3.3.1 # sanRedirObjects
STOR_TARGETS=$SA_OID.3.1.1.13 # sanStorTargetTable
sa_start_tgt_servers 3 2
RPORT=$(sa_free_port tcp)

# Server i's storage side: its own snmpd (UDP port STOR_PORT[i], AgentX socket in stor$i/) and its own
# sanagentd with a storage { } section over that server's tgtd.
STOR_PORT=()
start_storage_agent() {
	local i=$1 d="$SA_TMP/stor$1" port
	port=$(sa_free_port udp)
	STOR_PORT[$i]=$port
	mkdir -p "$d/persist" "$d/state"
	sa_master_snmpd "$d" "$port"
	cat >"$d/sanagent.conf" <<-EOF
	agent = { agentx_socket = "unix:$d/agentx.sock"; agentx_ping_interval = 1; state_file = "$d/state/state"; };
	storage = { tgt_control = ${SA_TGT_CTL[$i]}; interval = 1; };
	EOF
	SNMP_PERSISTENT_DIR="$d/persist" sa_bg "$SA_BUILDDIR/sanagentd" -f -c "$d/sanagent.conf" \
		-p "$d/sanagentd.pid" 2>>"$SA_TMP/stor$i-sanagentd.log"
}
stor_walk() { snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 0 -On "127.0.0.1:${STOR_PORT[$1]}" "$2" 2>/dev/null; }
stor_lists() { stor_walk "$1" "$STOR_TARGETS.1.2" | grep -q "\"$2\""; }
for i in 0 1 2; do start_storage_agent "$i"; done
for i in 0 1 2; do
	# (sa_wait_for has a local i of its own: pass the server as an argument, never through eval.)
	sa_wait_for 15 stor_lists "$i" "$IQN:r2" ||
		sa_fail "server $i's agent does not list its targets: $(stor_walk $i $STOR_TARGETS)"
done

# The redirector: no resources in its config, only the servers and their agents.  s3's agent has no community:
# it is read over SNMPv3 authPriv too.  s4 has neither a tgtd nor an agent behind its addresses: its agent
# status must say timeout.
servers=""
for i in 0 1 2; do
	community="agent_community = \"$SA_RO_COMMUNITY\";"
	[ "$i" = 2 ] && community=""
	servers="$servers${servers:+, }{ name = \"s$((i + 1))\"; address = \"${SA_TGT_ADDR[$i]}\"; port = ${SA_TGT_PORT[$i]};
	  agent = \"udp:127.0.0.1:${STOR_PORT[$i]}\"; $community
	  agent_user = \"$SA_V3_USER\"; agent_auth_passphrase = \"$SA_V3_AUTH\"; agent_priv_passphrase = \"$SA_V3_PRIV\"; }"
done
DEAD_AGENT=udp:127.0.0.1:$(sa_free_port udp)
servers="$servers, { name = \"s4\"; address = \"127.0.0.14\"; port = $(sa_free_port tcp); agent = \"$DEAD_AGENT\";
	  agent_community = \"$SA_RO_COMMUNITY\"; }"
sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; load_interval = 1; servers = ( $servers ); };"
sa_start_snmpd
sa_start_agent ${SA_AGENT_DEBUG:+-D "$SA_AGENT_DEBUG"}
sa_wait_agent
grep -q "$SA_V3_AUTH\|$SA_V3_PRIV" "$SA_TMP/sanagentd.log" && sa_fail "a passphrase appears in the log"

# res_index TARGET: the sanRedirResourceIndex whose target is TARGET.
res_index() { sa_walk "$ROID.6.1.2" | sed -n "s/^$ROID\.6\.1\.2\.\([0-9]*\) = STRING: \"\{0,1\}$1\"\{0,1\}\$/\1/p" | head -1; }
sa_wait_for 10 eval '[ -n "$(res_index $IQN:r1)" ] && [ -n "$(res_index $IQN:r2)" ]' ||
	sa_fail "the servers' targets did not become resources: $(sa_walk "$ROID.6.1.2")"
R1=$(res_index "$IQN:r1")
echo "# resources from the agents: $(sa_walk "$ROID.6.1.2" | wc -l) rows, r1 is row $R1"
[ "$(sa_walk "$ROID.6.1.2" | wc -l)" = 2 ] || sa_fail "want exactly 2 resources: $(sa_walk "$ROID.6.1.2")"
# sanRedirResourceOrigin discovered(3); sanRedirServerAgent and sanRedirServerAgentStatus ok(3) / timeout(4).
[ "$(sa_get "$ROID.6.1.13.$R1")" = 3 ] || sa_fail "sanRedirResourceOrigin.$R1 = $(sa_get "$ROID.6.1.13.$R1"), want 3"
[ "$(sa_get "$ROID.4.1.18.1")" = "\"udp:127.0.0.1:${STOR_PORT[0]}\"" ] ||
	sa_fail "sanRedirServerAgent.1 = $(sa_get "$ROID.4.1.18.1")"
agent_ok() { [ "$(sa_get "$ROID.4.1.19.$1")" = 3 ]; }
for k in 1 2 3; do
	sa_wait_for 5 agent_ok "$k" ||
		sa_fail "sanRedirServerAgentStatus.$k = $(sa_get "$ROID.4.1.19.$k"), want ok(3) (s3: over SNMPv3)"
done
sa_wait_for 10 eval '[ "$(sa_get "$ROID.4.1.19.4")" = 4 ]' ||
	sa_fail "sanRedirServerAgentStatus.4 (no agent behind $DEAD_AGENT) = $(sa_get "$ROID.4.1.19.4"), want timeout(4)"
out=$(sa_set "$ROID.4.1.18.1" s "udp:127.0.0.1:1" 2>&1) && sa_fail "SET sanRedirServerAgent accepted: $out"
echo "$out" | grep -qi notWritable || sa_fail "SET sanRedirServerAgent: $out"
res_server() { sa_get "$ROID.6.1.3.$1"; }
old=$(($(res_server "$R1") - 1))
[ "$old" -ge 0 ] || sa_fail "r1 is not mapped"

# ---- I/O through a redirected login makes r1's load > 0 (read through the redirector's snmpd) ----
timeout 60 iscsi-perf -i "$IQN:perf1" "iscsi://127.0.0.1:$RPORT/$IQN:r1/1" >"$SA_TMP/perf1.out" 2>&1 &
PERF=$!
sa_wait_for 10 eval '[ -n "$(sa_tgt_initiators $old $IQN:r1)" ]' || sa_fail "r1's session is not on s$((old + 1))"
sa_wait_for 10 eval '[ "$(sa_get "$ROID.6.1.5.$R1")" -gt 0 ]' ||
	sa_fail "r1's load stays $(sa_get "$ROID.6.1.5.$R1") under I/O"
# The server's load and r1's in one PDU: read apart, they come from different samples while I/O runs.
loads() { sa_get1 "$ROID.4.1.9.$((old + 1))" "$ROID.6.1.5.$R1"; }
server_covers_r1() {
	set -- $(loads)
	[ $# = 2 ] && [ "$2" -gt 0 ] && [ "$1" -ge "$2" ]
}
sa_wait_for 10 server_covers_r1 || sa_fail "server load below r1's (server, r1: $(loads))"
echo "# server and r1 load $(loads) B/s on s$((old + 1)) (from its agent's Counter64s)"

# ---- a manual move ends the session on the old server through its agent ----
new=$(((old + 1) % 3))
sa_set "$ROID.6.1.3.$R1" u $((new + 1)) >/dev/null || sa_fail "SET sanRedirResourceServer.$R1 refused"
sa_wait_for 10 eval 'grep -q "server s$((old + 1)): session .* of $IQN:r1 ended through its agent" "$SA_TMP/sanagentd.log"' ||
	sa_fail "r1's session on s$((old + 1)) was not ended through its agent"
sa_wait_for 10 eval '[ -z "$(sa_tgt_initiators $old $IQN:r1)" ]' || sa_fail "r1's session on s$((old + 1)) still there"
# libiscsi reconnects to the portal it was given (the redirector), which now redirects it to the new server.
sa_wait_for 15 eval '[ -n "$(sa_tgt_initiators $new $IQN:r1)" ]' ||
	sa_fail "iscsi-perf did not log in again at s$((new + 1)): $(tail -5 "$SA_TMP/perf1.out")"
echo "# r1's initiator moved: s$((old + 1)) -> s$((new + 1))"
kill -0 "$PERF" 2>/dev/null || sa_fail "iscsi-perf ended during the move: $(tail -5 "$SA_TMP/perf1.out")"
kill "$PERF" 2>/dev/null
wait "$PERF" 2>/dev/null
echo "PASS"
