# rediscover_lab.bash: sourced by the forced-rediscovery tests (not run by itself): seed 000's Fig. 2 as network
# namespaces.  A switch namespace bridges three networks; every host has one leg on each it uses:
#
#   net36  192.0.2.0/24    the storage host's interface 36 (the seed's 10.1.0.3), rate-limited by tbf
#   net38  198.51.100.0/24 the storage host's interface 38 (the seed's 9.3.1.52)
#   mgmt   203.0.113.0/24  SNMP, traps, iSNS
#
#   host    namespace  net36          net38             mgmt
#   storage $RL_STO    192.0.2.3      198.51.100.52     203.0.113.3    tgtd: targets X, Y, Z on both interfaces
#   name    $RL_NS     -              -                 203.0.113.42   isnsd: X, Y, Z at both storage portals
#   Host_1  $RL_H1     192.0.2.11     198.51.100.11     203.0.113.11
#   Host_2  $RL_H2     192.0.2.12     198.51.100.12     203.0.113.12
#
# The addresses are documentation ranges and exist only inside the namespaces.  Free addresses of net36 (from
# 192.0.2.4) are the replacement pool.
#
#   manager $RL_MG     -              -                 203.0.113.99   snmptrapd; rl_get/rl_walk/rl_set run from here
#
# rl_up [RATE]   everything above; RATE shapes interface 36 in both directions (default 40mbit, "none": unshaped).
# rl_down        stops the agents, their snmpds, snmptrapd, tgtd and isnsd, deletes the namespaces (their veths,
#                bridges and qdiscs go with them).  rl_up installs it on EXIT before the first namespace exists.
# rl_in NS CMD...   run CMD in a namespace; rl_tgt TGTADM-ARGS; rl_isnsadm ISNSADM-ARGS (as the storage host).
#
# Agents: one snmpd master and one sanagentd per host; HOST is sto, ns, h1 or h2.
# rl_agent_up HOST [IN_SECTION [SECTIONS]]
#     snmpd on the host's mgmt address, port 161: v2c read community $SA_RO_COMMUNITY from the mgmt net, the
#     authPriv v3 writer $SA_V3_USER, its own AgentX socket and persistent dir.  It forwards every notification to
#     the manager's snmptrapd (v2c) and, except on the name server, as v3 authPriv informs to the name-server
#     agent's trap receiver $RL_NSM:$RL_RX_PORT (storage host as $RL_STOR_USER, Host_1 and Host_2 as
#     $RL_HOST_USER).  Then sanagentd in the host's role:
#       sto     storage = { tgt_control; interval = 1; IN_SECTION }
#       ns      trap_receiver (users $RL_STOR_USER, $RL_HOST_USER) and rediscover = { the wiring: feedback_users,
#               storage_users, storage_agents (the storage agent's snmpd as $SA_V3_USER, portals 36 and 38),
#               isns_server/isns_source, initiator_agents (Host_1, Host_2 at MGMT:$RL_RX_PORT), message_user
#               $RL_MSG_USER; IN_SECTION }: the policy (mode, hold_time, thresholds, pool, ...) is the caller's
#       h1 h2   trap_receiver on the host's mgmt address port $RL_RX_PORT for the name server's messages (user
#               $RL_MSG_USER); discovery = { initiator_name = login_initiator_name = $RL_IQN:hostN; isns (SCN);
#               rediscover_users = [ $RL_MSG_USER ]; IN_SECTION }; balance (the sanpath plug-in, run dir
#               $SA_TMP/rl-HOST-run: each login's NBD export)
#     RL_BALANCE_h1, RL_BALANCE_h2: more keys of that initiator's balance section (teams = ( ... )).
#     RL_STO_MORE_PORTALS: more quoted portals of the storage agent for the name server ("A:P", "A:P").
#     RL_NS_INITIATOR_AGENTS replaces the name server's initiator_agents entries (e.g. only Host_1's: Host_2 is
#     then reached by iSNS SCN alone); RL_DISC_INTERVAL the initiators' discovery interval (default 30 s).
#     SECTIONS: more top-level sections.  Returns once the agent's objects are served through its snmpd.  Start ns
#     first: the others' informs need its receiver.  Files: $SA_TMP/rl-HOST-{snmpd,sanagent}.conf, logs
#     $SA_TMP/rl-HOST-{snmpd,sanagentd}.log, state $SA_TMP/rl-HOST-state/.
#     RL_POLL_INTERVAL (default 0): the name server polls the storage agent's session table every that many s;
#     RL_STO_PUSH=0: the storage host's snmpd forwards nothing to the name server (pull only).
# rl_agents_up   ns, sto, h1, h2 with the roles' defaults.
# rl_get HOST OID... | rl_get1 | rl_walk HOST OID | rl_set HOST SNMPSET-ARGS | rl_set_err WANT HOST ARGS
#     as sa_get, sa_get1, sa_walk, sa_set, sa_set_err of lib.sh, from the manager to HOST's snmpd.
# rl_agent_pid HOST, rl_agent_stop HOST, rl_agent_restart HOST (same config and state).
# rl_trap_seen PATTERN, rl_trap_count PATTERN: what the manager's snmptrapd logged (-On).
# rl_login HOST INDEX TARGET ADDR [PORT]: a volatile login row (LUN 1, admin up) to TARGET at ADDR (dotted IPv4),
#     waits until it is up.  rl_export HOST INDEX: the NBD URI of that login's team.
# Needs tests/integration/lib.sh sourced and sa_init run first, and sa_need_plugin before an initiator agent.
# Skips (77) where ip netns is not permitted.

RL_IQN=iqn.2026-12.org.sanagent.lab
RL_X=$RL_IQN:x RL_Y=$RL_IQN:y RL_Z=$RL_IQN:z
RL_STO36=192.0.2.3 RL_STO38=198.51.100.52 RL_STOM=203.0.113.3 RL_NSM=203.0.113.42
RL_H1_36=192.0.2.11 RL_H2_36=192.0.2.12 RL_H1_38=198.51.100.11 RL_H2_38=198.51.100.12
RL_H1M=203.0.113.11 RL_H2M=203.0.113.12 RL_MGM=203.0.113.99
RL_ISNS_PORT=3205
RL_H1_IQN=$RL_IQN:host1 RL_H2_IQN=$RL_IQN:host2
# Every agent's trap receiver listens on this port of its host's mgmt address (the rediscover engine's agent_port
# default): each namespace has its own ports, and the manager's snmptrapd has 162 on its own address.
RL_RX_PORT=162
# v3 authPriv users (SHA/AES) of the notification paths: storage agent -> name server, initiator agents -> name
# server, name server -> initiator agents (the rediscovery messages).
RL_STOR_USER=storagent RL_STOR_AUTH=lab-stor-auth-secret RL_STOR_PRIV=lab-stor-priv-secret
RL_HOST_USER=hostagent RL_HOST_AUTH=lab-host-auth-secret RL_HOST_PRIV=lab-host-priv-secret
RL_MSG_USER=nsagent RL_MSG_AUTH=lab-msg-auth-secret RL_MSG_PRIV=lab-msg-priv-secret
RL_SW= RL_STO= RL_NS= RL_H1= RL_H2= RL_MG= RL_TGTD_PID= RL_ISNSD_PID= RL_CTL= RL_TRAPD_PID=
declare -gA RL_AGENT_PIDS=() RL_SNMPD_PIDS=()

rl_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
rl_tgt() { tgtadm -C "$RL_CTL" "$@"; }
rl_isnsadm() { rl_in "$RL_STO" isnsadm -c "$SA_TMP/rl-isnsadm.conf" "$@"; }
rl__listening() { rl_in "$1" ss -Hlnt "src $2 and sport = :$3" | grep -q .; }

# rl__leg NS DEV NET ADDR: a veth from NS (named DEV) to the switch's bridge of NET, addressed ADDR/24.
rl__leg() {
	local ns=$1 dev=$2 net=$3 addr=$4 peer
	peer=p${RANDOM}${#dev}
	rl_in "$ns" ip link add "$dev" type veth peer name "$peer" netns "$RL_SW" &&
		rl_in "$RL_SW" ip link set "$peer" master "br$net" &&
		rl_in "$RL_SW" ip link set "$peer" up &&
		rl_in "$ns" ip addr add "$addr/24" dev "$dev" &&
		rl_in "$ns" ip link set "$dev" up || sa_fail "cannot connect $dev of $ns to net$net"
	RL_LAST_PEER=$peer
}

rl_up() {
	local rate=${1:-40mbit} ns net
	sa_need iproute2 ip tc
	sa_need tgt tgtd tgtadm
	sa_need open-isns-server isnsd
	sa_need open-isns-utils isnsadm
	# Installed before the first namespace exists: a failure anywhere below still deletes what was made.
	trap 'sa__rc=$?; rl_down; (exit $sa__rc); sa_cleanup' EXIT
	RL_SW=rl-sw-$$ RL_STO=rl-sto-$$ RL_NS=rl-ns-$$ RL_H1=rl-h1-$$ RL_H2=rl-h2-$$ RL_MG=rl-mg-$$
	ip netns add "$RL_SW" 2>/dev/null || {
		RL_SW=
		sa_skip "ip netns is not permitted here"
	}
	for ns in "$RL_STO" "$RL_NS" "$RL_H1" "$RL_H2" "$RL_MG"; do
		ip netns add "$ns" || sa_fail "cannot create namespace $ns"
	done
	for ns in "$RL_SW" "$RL_STO" "$RL_NS" "$RL_H1" "$RL_H2" "$RL_MG"; do
		rl_in "$ns" ip link set lo up || sa_fail "cannot bring up lo in $ns"
	done
	for net in 36 38 m; do
		rl_in "$RL_SW" ip link add "br$net" type bridge && rl_in "$RL_SW" ip link set "br$net" up ||
			sa_fail "cannot create bridge br$net"
	done
	rl__leg "$RL_STO" eth36 36 "$RL_STO36"
	local sw36=$RL_LAST_PEER
	rl__leg "$RL_STO" eth38 38 "$RL_STO38"
	rl__leg "$RL_STO" ethm m "$RL_STOM"
	rl__leg "$RL_NS" ethm m "$RL_NSM"
	rl__leg "$RL_H1" eth36 36 "$RL_H1_36"
	rl__leg "$RL_H1" eth38 38 "$RL_H1_38"
	rl__leg "$RL_H1" ethm m "$RL_H1M"
	rl__leg "$RL_H2" eth36 36 "$RL_H2_36"
	rl__leg "$RL_H2" eth38 38 "$RL_H2_38"
	rl__leg "$RL_H2" ethm m "$RL_H2M"
	rl__leg "$RL_MG" ethm m "$RL_MGM"
	# Interface 36 is what the initiators compete for: shaped where it leaves the storage host (reads) and where
	# the switch hands it traffic (writes).
	if [ "$rate" != none ]; then
		rl_in "$RL_STO" tc qdisc add dev eth36 root tbf rate "$rate" burst 64kb latency 50ms &&
			rl_in "$RL_SW" tc qdisc add dev "$sw36" root tbf rate "$rate" burst 64kb latency 50ms ||
			sa_fail "tc tbf failed on interface 36"
	fi

	# The storage host: tgtd on both interfaces, targets X, Y, Z with one 16 MiB LU each.
	while :; do
		RL_CTL=$((1000 + RANDOM % 30000))
		[ -e "/var/run/tgtd/socket.$RL_CTL" ] || break
	done
	ip netns exec "$RL_STO" tgtd -f -C "$RL_CTL" --iscsi "portal=$RL_STO36:3260" >"$SA_TMP/rl-tgtd.log" 2>&1 &
	RL_TGTD_PID=$!
	sa_wait_for 10 rl_tgt --op show --mode sys >/dev/null || sa_fail "tgtd did not answer"
	rl_tgt --lld iscsi --op new --mode portal --param "portal=$RL_STO38:3260" || sa_fail "tgtadm: portal 38"
	local tid=1 t
	for t in "$RL_X" "$RL_Y" "$RL_Z"; do
		truncate -s 16M "$SA_TMP/rl-lu$tid.img"
		rl_tgt --lld iscsi --op new --mode target --tid $tid -T "$t" &&
			rl_tgt --lld iscsi --op new --mode logicalunit --tid $tid --lun 1 -b "$SA_TMP/rl-lu$tid.img" &&
			rl_tgt --lld iscsi --op bind --mode target --tid $tid -I ALL || sa_fail "tgtadm: cannot set up $t"
		tid=$((tid + 1))
	done
	sa_wait_for 10 rl__listening "$RL_STO" "$RL_STO38" 3260 || sa_fail "tgtd does not listen on $RL_STO38:3260"

	# The name server: isnsd, in memory, with a default discovery domain.
	cat >"$SA_TMP/rl-isnsd.conf" <<EOF
SourceName = $RL_IQN:isns
BindAddress = $RL_NSM:$RL_ISNS_PORT
PIDFile = $SA_TMP/rl-isnsd.pid
ControlSocket = $SA_TMP/rl-isnsctl
Security = 0
DefaultDiscoveryDomain = 1
EOF
	cat >"$SA_TMP/rl-isnsadm.conf" <<EOF
SourceName = $RL_IQN:storage
ServerAddress = $RL_NSM:$RL_ISNS_PORT
Security = 0
EOF
	ip netns exec "$RL_NS" isnsd -f -4 -c "$SA_TMP/rl-isnsd.conf" >"$SA_TMP/rl-isnsd.log" 2>&1 &
	RL_ISNSD_PID=$!
	sa_wait_for 10 rl_isnsadm --list entities >/dev/null || sa_fail "isnsd did not answer on $RL_NSM:$RL_ISNS_PORT"
	# One network entity (the storage host) with both portals and the three targets: a portal belongs to one
	# entity, so they register together.
	rl_isnsadm --register "portal=$RL_STO36:3260" "portal=$RL_STO38:3260" "target=$RL_X" "target=$RL_Y" \
		"target=$RL_Z" >"$SA_TMP/rl-reg.log" 2>&1 || sa_fail "cannot register X, Y, Z: $(cat "$SA_TMP/rl-reg.log")"

	# The management station: snmptrapd logs what every host's snmpd forwards.
	sa_need snmptrapd snmptrapd
	echo "authCommunity log $SA_TRAP_COMMUNITY" >"$SA_TMP/rl-snmptrapd.conf"
	mkdir -p "$SA_TMP/rl-snmptrapd-persist"
	SNMP_PERSISTENT_DIR="$SA_TMP/rl-snmptrapd-persist" ip netns exec "$RL_MG" snmptrapd -f -On \
		-Lf "$SA_TMP/rl-snmptrapd.log" -C -c "$SA_TMP/rl-snmptrapd.conf" -p "$SA_TMP/rl-snmptrapd.pid" \
		"udp:$RL_MGM:162" &
	RL_TRAPD_PID=$!
	sa_wait_for 10 rl__udp_listening "$RL_MG" "$RL_MGM" 162 || sa_fail "snmptrapd does not listen on $RL_MGM:162"
}
rl__udp_listening() { rl_in "$1" ss -Hlnu "src $2 and sport = :$3" | grep -q .; }

rl_down() {
	local ns h
	# Agents first (they end their logins' data planes), then their masters, then what they talk to.
	for h in h2 h1 sto ns; do
		[ -n "${RL_AGENT_PIDS[$h]:-}" ] && sa_stop_pid "${RL_AGENT_PIDS[$h]}"
		RL_AGENT_PIDS[$h]=
	done
	for h in h2 h1 sto ns; do
		[ -n "${RL_SNMPD_PIDS[$h]:-}" ] && sa_stop_pid "${RL_SNMPD_PIDS[$h]}"
		RL_SNMPD_PIDS[$h]=
	done
	[ -n "$RL_TRAPD_PID" ] && sa_stop_pid "$RL_TRAPD_PID"
	RL_TRAPD_PID=
	[ -n "$RL_TGTD_PID" ] && sa_tgtd_stop "$RL_TGTD_PID" "$RL_CTL"
	RL_TGTD_PID=
	if [ -n "$RL_ISNSD_PID" ]; then
		kill "$RL_ISNSD_PID" 2>/dev/null
		sa_wait_for 5 sa_pid_gone "$RL_ISNSD_PID" || kill -9 "$RL_ISNSD_PID" 2>/dev/null
	fi
	RL_ISNSD_PID=
	for ns in "$RL_MG" "$RL_H2" "$RL_H1" "$RL_NS" "$RL_STO" "$RL_SW"; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	RL_SW= RL_STO= RL_NS= RL_H1= RL_H2= RL_MG=
	return 0
}

# ---- agents -----------------------------------------------------------------------------------------------
rl_host_ns() {
	case $1 in
	sto) echo "$RL_STO" ;; ns) echo "$RL_NS" ;; h1) echo "$RL_H1" ;; h2) echo "$RL_H2" ;;
	*) sa_fail "unknown lab host '$1' (sto, ns, h1, h2)" ;;
	esac
}
rl_host_addr() {
	case $1 in
	sto) echo "$RL_STOM" ;; ns) echo "$RL_NSM" ;; h1) echo "$RL_H1M" ;; h2) echo "$RL_H2M" ;;
	*) sa_fail "unknown lab host '$1' (sto, ns, h1, h2)" ;;
	esac
}
# rl__user NAME AUTH PRIV: a trap_receiver users entry, SHA/AES.
rl__user() {
	echo "{ name = \"$1\"; auth_protocol = \"SHA\"; auth_passphrase = \"$2\"; priv_protocol = \"AES\"; priv_passphrase = \"$3\"; }"
}

rl__snmpd_conf() {
	local h=$1
	cat <<EOF
agentaddress udp:$(rl_host_addr "$h"):161
master agentx
agentXSocket unix:$SA_TMP/rl-$h-agentx.sock
agentXTimeout 5
rocommunity $SA_RO_COMMUNITY 203.0.113.0/24
createUser $SA_V3_USER SHA "$SA_V3_AUTH" AES "$SA_V3_PRIV"
rwuser $SA_V3_USER priv
trapsess -v 2c -c $SA_TRAP_COMMUNITY $RL_MGM:162
EOF
	case $h in
	sto) [ "${RL_STO_PUSH:-1}" = 0 ] || echo "trapsess -Ci -v 3 -l authPriv -u $RL_STOR_USER -a SHA -A $RL_STOR_AUTH -x AES -X $RL_STOR_PRIV $RL_NSM:$RL_RX_PORT" ;;
	h1 | h2) echo "trapsess -Ci -v 3 -l authPriv -u $RL_HOST_USER -a SHA -A $RL_HOST_AUTH -x AES -X $RL_HOST_PRIV $RL_NSM:$RL_RX_PORT" ;;
	esac
}

# rl__agent_conf HOST IN_SECTION SECTIONS: the role's sanagent.conf on stdout.
rl__agent_conf() {
	local h=$1 in=$2 sections=$3 n agents bal
	cat <<EOF
agent = {
  agentx_socket = "unix:$SA_TMP/rl-$h-agentx.sock";
  agentx_ping_interval = 1;
  state_file = "$SA_TMP/rl-$h-state/sanagent.state";
};
EOF
	case $h in
	sto)
		cat <<EOF
storage = {
  tgt_control = $RL_CTL;
  interval = 1;${in:+
  $in}
};
EOF
		;;
	ns)
		if [ -n "${RL_NS_INITIATOR_AGENTS+set}" ]; then
			agents=$RL_NS_INITIATOR_AGENTS
		else
			agents="{ initiator = \"$RL_H1_IQN\"; address = \"$RL_H1M:$RL_RX_PORT\"; },
                       { initiator = \"$RL_H2_IQN\"; address = \"$RL_H2M:$RL_RX_PORT\"; }"
		fi
		cat <<EOF
trap_receiver = {
  listen = "udp:$RL_NSM:$RL_RX_PORT";
  users = ( $(rl__user $RL_STOR_USER $RL_STOR_AUTH $RL_STOR_PRIV),
            $(rl__user $RL_HOST_USER $RL_HOST_AUTH $RL_HOST_PRIV) );
};
rediscover = {
  feedback_users = [ "$RL_HOST_USER" ];
  storage_users = [ "$RL_STOR_USER" ];
  storage_agents = ( { peer = "udp:$RL_STOM:161"; user = "$SA_V3_USER"; auth_passphrase = "$SA_V3_AUTH";
                       priv_passphrase = "$SA_V3_PRIV";
                       portals = [ "$RL_STO36:3260", "$RL_STO38:3260"${RL_STO_MORE_PORTALS:+, $RL_STO_MORE_PORTALS} ];
                       poll_interval = ${RL_POLL_INTERVAL:-0}; } );
  isns_server = "$RL_NSM:$RL_ISNS_PORT";
  isns_source = "$RL_IQN:nameserver";
  initiator_agents = ( $agents );
  message_user = { name = "$RL_MSG_USER"; auth_passphrase = "$RL_MSG_AUTH"; priv_passphrase = "$RL_MSG_PRIV"; };${in:+
  $in}
};
EOF
		;;
	h1 | h2)
		n=${h#h}
		bal=RL_BALANCE_$h
		bal=${!bal:-}
		cat <<EOF
trap_receiver = {
  listen = "udp:$(rl_host_addr "$h"):$RL_RX_PORT";
  users = ( $(rl__user $RL_MSG_USER $RL_MSG_AUTH $RL_MSG_PRIV) );
};
discovery = {
  initiator_name = "$RL_IQN:host$n";
  login_initiator_name = "$RL_IQN:host$n";
  isns = [ "$RL_NSM:$RL_ISNS_PORT" ];
  interval = ${RL_DISC_INTERVAL:-30};
  rediscover_users = [ "$RL_MSG_USER" ];${in:+
  $in}
};
balance = {
  run_dir = "$SA_TMP/rl-$h-run";
  plugin = "$PLUGIN";
  plugin_args = [ "report_ms=200", "initiator=$RL_IQN:host$n" ];
  poll_interval_ms = 100;${bal:+
  $bal}
};
EOF
		;;
	esac
	[ -z "$sections" ] || echo "$sections"
}

rl__agent_start() {
	local h=$1 ns
	ns=$(rl_host_ns "$h")
	mkdir -p "$SA_TMP/rl-$h-agent-persist"
	SNMP_PERSISTENT_DIR="$SA_TMP/rl-$h-agent-persist" ip netns exec "$ns" "$SA_BUILDDIR/sanagentd" -f \
		-c "$SA_TMP/rl-$h-sanagent.conf" -p "$SA_TMP/rl-$h-sanagentd.pid" 2>>"$SA_TMP/rl-$h-sanagentd.log" &
	RL_AGENT_PIDS[$h]=$!
}
rl__agent_serving() { rl_get "$1" "$SA_OID.1.1.1.0" | grep -q .; }
rl_wait_agent() { sa_wait_for "${2:-15}" rl__agent_serving "$1" || sa_fail "agent of $1 not served through its snmpd"; }

rl_agent_up() {
	local h=$1 ns addr
	ns=$(rl_host_ns "$h")
	addr=$(rl_host_addr "$h")
	sa_built "$SA_BUILDDIR/sanagentd" sanagentd
	case $h in h1 | h2) sa_built "${PLUGIN:-}" "nbdkit-sanpath-plugin (sa_need_plugin before an initiator agent)" ;; esac
	rl__snmpd_conf "$h" >"$SA_TMP/rl-$h-snmpd.conf"
	mkdir -p "$SA_TMP/rl-$h-snmpd-persist"
	# -I -smux: no SMUX listener (as lib.sh's snmpd).
	SNMP_PERSISTENT_DIR="$SA_TMP/rl-$h-snmpd-persist" ip netns exec "$ns" snmpd -f -I -smux \
		-Lf "$SA_TMP/rl-$h-snmpd.log" -C -c "$SA_TMP/rl-$h-snmpd.conf" -p "$SA_TMP/rl-$h-snmpd.pid" &
	RL_SNMPD_PIDS[$h]=$!
	sa_wait_for 10 rl_get "$h" .1.3.6.1.2.1.1.3.0 || sa_fail "snmpd of $h does not answer on $addr:161"
	rl__agent_conf "$h" "${2:-}" "${3:-}" >"$SA_TMP/rl-$h-sanagent.conf"
	rl__agent_start "$h"
	rl_wait_agent "$h"
	if [ "$h" = ns ]; then
		sa_wait_for 5 rl__udp_listening "$ns" "$addr" "$RL_RX_PORT" ||
			sa_fail "the name-server agent's trap receiver does not listen on $addr:$RL_RX_PORT"
	fi
	return 0
}
rl_agents_up() {
	local h
	for h in ns sto h1 h2; do rl_agent_up "$h"; done
}
rl_agent_pid() { echo "${RL_AGENT_PIDS[$1]:-}"; }
rl_agent_stop() {
	[ -z "${RL_AGENT_PIDS[$1]:-}" ] || sa_stop_pid "${RL_AGENT_PIDS[$1]}"
	RL_AGENT_PIDS[$1]=
}
rl_agent_restart() {
	rl_agent_stop "$1"
	rl__agent_start "$1"
	rl_wait_agent "$1"
}

rl_get() {
	local h=$1
	shift
	rl_in "$RL_MG" snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv "$(rl_host_addr "$h"):161" "$@" 2>/dev/null |
		grep -v -e '^No Such'
}
rl_get1() { rl_get "$@" | tr '\n' ' ' | sed 's/ $//'; }
rl_walk() {
	local h=$1
	shift
	rl_in "$RL_MG" snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On "$(rl_host_addr "$h"):161" "$@"
}
rl_set() {
	local h=$1
	shift
	rl_in "$RL_MG" snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" \
		-t 2 -r 0 "$(rl_host_addr "$h"):161" "$@"
}
rl_set_err() {
	local want=$1 out
	shift
	out=$(rl_set "$@" 2>&1) && sa_fail "SET on $* accepted, want $want"
	echo "$out" | grep -q "$want" || sa_fail "SET on $*: want $want, got: $out"
}
rl_trap_seen() { grep -q -- "$1" "$SA_TMP/rl-snmptrapd.log" 2>/dev/null; }
rl_trap_count() { grep -c -- "$1" "$SA_TMP/rl-snmptrapd.log" 2>/dev/null || true; }

# Logins (sanLoginTable of SANAGENT-SESSION-MIB): each one's data plane is a sanpath team exporting the LU over NBD
# at RUN_DIR/loginINDEX.sock.
RL_LOGIN=$SA_OID.3.1.1.8.1
rl__hex4() {
	local IFS=.
	# shellcheck disable=SC2086
	printf '%02X%02X%02X%02X' $1
}
rl_login() {
	local h=$1 i=$2 t=$3 a=$4 p=${5:-3260}
	rl_set "$h" "$RL_LOGIN.2.$i" s "$t" "$RL_LOGIN.3.$i" i 1 "$RL_LOGIN.4.$i" x "$(rl__hex4 "$a")" \
		"$RL_LOGIN.5.$i" u "$p" "$RL_LOGIN.8.$i" u 1 "$RL_LOGIN.10.$i" i 1 "$RL_LOGIN.17.$i" i 2 \
		"$RL_LOGIN.18.$i" i 4 >/dev/null || sa_fail "$h: cannot create login $i to $t at $a:$p"
	sa_wait_for 30 rl__login_up "$h" "$i" ||
		sa_fail "$h: login $i to $t at $a:$p not up: oper $(rl_get "$h" "$RL_LOGIN.11.$i"), $(rl_get "$h" "$RL_LOGIN.12.$i")"
}
rl__login_up() { [ "$(rl_get "$1" "$RL_LOGIN.11.$2")" = 1 ]; }
rl_export() { echo "nbd+unix:///?socket=$SA_TMP/rl-$1-run/login$2.sock"; }

# ---- workloads ---------------------------------------------------------------------------------------------
# The seed's I/O on X through the initiators' logins (rl_nbd_io.py: its own NBD client, every block verified).
# Host_1 and Host_2 write disjoint halves of X's LU.
#   LOGIN is a login's index or team:NAME (a team of the host's balance section, RL_BALANCE_hN).
#   rl_io_heavy NAME HOST LOGIN [ARGS]  256 KiB blocks back to back on [0, 8 MiB), one block in 4 read back
#   rl_io_light NAME HOST LOGIN [ARGS]  4 KiB every 20 ms on [8 MiB, 9 MiB), each read back at once
#   rl_io_start NAME HOST LOGIN ARGS    any other rl_nbd_io.py arguments
#   rl_io_val NAME KEY                  KEY (writes, errors, mismatches, reconnects, win_p99_us, gap_max_ms, ...)
#                                       from the workload's last line
#   rl_io_finish NAME                   stops it, waits for its final read-back; fails the test unless it ended
#                                       with zero errors and zero mismatches; logs its last line
# Output in $SA_TMP/rl-io-NAME.out.
declare -gA RL_IO_PIDS=()
rl_io_start() {
	local name=$1 h=$2 login=$3 sock
	shift 3
	sa_need python3 python3
	# LOGIN: a login's index, or team:NAME for a team of the balance section.
	case $login in team:*) sock=${login#team:} ;; *) sock=login$login ;; esac
	python3 "$SA_SRCDIR/tests/integration/rl_nbd_io.py" "$SA_TMP/rl-$h-run/$sock.sock" "$@" \
		>"$SA_TMP/rl-io-$name.out" 2>&1 &
	RL_IO_PIDS[$name]=$!
	SA_PIDS+=("$!")
	sa_wait_for 10 grep -q '^rlio ' "$SA_TMP/rl-io-$name.out" || sa_fail "workload $name on $h login $login did not start: $(cat "$SA_TMP/rl-io-$name.out")"
}
rl_io_heavy() { rl_io_start "$1" "$2" "$3" --offset 0 --size $((8 << 20)) --bs $((256 << 10)) --read-every 4 --seed 1 "${@:4}"; }
rl_io_light() { rl_io_start "$1" "$2" "$3" --offset $((8 << 20)) --size $((1 << 20)) --bs 4096 --interval-ms 20 --seed 2 "${@:4}"; }
rl_io_val() { grep '^rlio ' "$SA_TMP/rl-io-$1.out" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
rl_io_finish() {
	local name=$1 pid=${RL_IO_PIDS[$1]} rc
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	RL_IO_PIDS[$name]=
	grep -q '^rlio done ' "$SA_TMP/rl-io-$name.out" || sa_fail "workload $name ended (status $rc) without its final line: $(tail -n 3 "$SA_TMP/rl-io-$name.out")"
	sa_log "workload $name: $(grep '^rlio done ' "$SA_TMP/rl-io-$name.out")"
	[ "$rc" = 0 ] && [ "$(rl_io_val "$name" errors)" = 0 ] && [ "$(rl_io_val "$name" mismatches)" = 0 ] ||
		sa_fail "workload $name: status $rc, $(rl_io_val "$name" errors) errors, $(rl_io_val "$name" mismatches) mismatches"
}

# rl_session_latency HOST TARGET: "PORTAL_HEX AVG_US MAX_US" of each of HOST's data-plane sessions to TARGET, from its
# agent's sanSessionTable (the latencies the initiator agent reports as feedback).
RL_SESS=$SA_OID.3.1.1.10.1
rl_session_latency() {
	local h=$1 t=$2 id v a
	for id in $(rl_walk "$h" "$RL_SESS.3" | grep "\"$t\"" | sed -n 's/^[.0-9]*\.3\.\([0-9]*\) = .*/\1/p'); do
		v=$(rl_get1 "$h" "$RL_SESS.5.$id" "$RL_SESS.25.$id" "$RL_SESS.26.$id")
		a=${v%\"*}
		a=${a#\"}
		echo "${a// /} ${v##*\" }"
	done
}
