# cluster_lab.bash: sourced by the cluster tests (not run by itself): hosts and storage units of seed 004 as network
# namespaces on one management network, a switch namespace bridging them.  Addresses 198.18.0.0/24 (a test range)
# exist only inside the namespaces.
#
#   member    namespace        address          daemons
#   host H    $(cl_ns H)       198.18.0.(10+i)  snmpd (161) + sanagentd: cluster role host, trap receiver on 162
#   unit U    $(cl_ns U)       198.18.0.(100+j) tgtd (3260) + snmpd (161) + sanagentd: storage + cluster role unit
#   manager   $CL_MG           198.18.0.250     snmptrapd (162): every snmpd forwards its notifications here (v2c)
#   etcd      $CL_ETCD_NS      198.18.0.240     etcd (2379), only with CL_ETCD=1
#
# CL_ETCD=1 (set before cl_up): etcd mode.  A real etcd in a namespace of its own on the same network, and every
# member's agent (hosts and units) with cluster.etcd pointing at it: etcd is the fabric services database, the CRT's
# version is etcd's revision of its key, there is no peer sync.  The tests run unchanged in both modes (what differs
# is said where it does: cl_etcd).
#
# Declare the members before cl_up:  CL_HOSTS=(108 110) CL_UNITS=(112 118)  (names: short words or numbers).
# cl_up             namespaces, bridge, the manager's snmptrapd, each unit's tgtd (no targets).  Installs cl_down on
#                   EXIT before the first namespace exists.
# cl_down           stops every daemon the lab started (by pid), deletes the namespaces.
# cl_tgt U ARGS     tgtadm on unit U's tgtd.  cl_target U TID IQN LUN...: a target with a 16 MiB LU per LUN
#                   number (image $SA_TMP/cl-U-TID-LUN.img, scsi_id $(cl_scsi_id U TID LUN): a designator of its
#                   own), bound to every initiator (the unit's agent narrows it with enforce_acl).
# CL_LOGINS=1 before cl_agents_up: every host's agent also runs the login engine (sanLoginTable) as its initiator
#                   name: cl_login_err M ROW TARGET LUN: a login row up to TARGET LUN (a unit's portal) refused with
#                   inconsistentValue by M's agent, nothing created.
# cl_agent_up M [CLUSTER_MORE [SECTIONS]]   snmpd then sanagentd of member M (host or unit); CLUSTER_MORE goes into
#                   its cluster section (poll_interval, sync_interval, granularity, ...: defaults below), SECTIONS
#                   after it.  Returns once the agent serves through its snmpd.
# cl_agents_up      every unit, then every host, each host once it holds the first host's version.
# cl_agent_start M / cl_agent_stop M / cl_agent_kill M (kill -9) / cl_agent_restart M: the sanagentd only, same
#                   config and state file.  cl_snmpd_stop M / cl_snmpd_start M: its snmpd.  cl_link M down|up: its
#                   veth (the member vanishes from the network, processes keep running).
# cl_get M OID... | cl_get1 | cl_walk M OID | cl_set M SNMPSET-ARGS | cl_set_err WANT M ARGS: from the manager to
#                   M's snmpd (v2c read community; SETs as the authPriv writer $SA_V3_USER).
# cl_version M      "COUNTER WRITERHEX" of M's CRT (one GET).  cl_crt M: M's CRT and owner table, one line per
#                   value, taken between two equal versions (a consistent copy); fails after 5 tries.
# cl_trap_seen PATTERN, cl_trap_count PATTERN: what the manager's snmptrapd logged (-On); cl_trap_count_from M
#                   PATTERN: only what M's snmpd sent.
# cl_guid M, cl_addr M, cl_iqn M (a host's initiator name), cl_state M (its state file).
# cl_etcd: true in etcd mode.  cl_etcd_rev: the mod_revision of the CRT key in etcd (a read from the manager).
# cl_etcd_pause / cl_etcd_resume: SIGSTOP / SIGCONT etcd (a transaction out stays unanswered meanwhile).
# cl_etcd_unread M: etcd (paused) holds bytes from M it has not read: M's request is out, unanswered.
# cl_settled M: M's change is where the mode puts it: in etcd mode M's version is etcd's revision of the CRT (its
# transaction answered); in the embedded mode at once.  cl_mode: "etcd" or "embedded", for logs.
# Users: $SA_V3_USER writes (authPriv only); $CL_SYNC_USER (authPriv, SHA/AES) is what the agents read each
# other as and inform each other as: every snmpd has it read-only, every agent's trap receiver accepts it and
# lists it in sync_users.  $CL_ROGUE_USER is known to the receivers but not a sync user (tests of the drop).
# Needs lib.sh sourced and sa_init run first.  Skips (77) where ip netns is not permitted.

CL_NET=198.18.0
CL_MGA=$CL_NET.250
CL_IQN=iqn.2026-12.org.sanagent.clu
# What each unit's storage agent logs in to its own tgtd as, to read its LUNs' designators: always in the ACLs.
CL_PROBE_IQN=$CL_IQN:probe
CL_SYNC_USER=clusync CL_SYNC_AUTH=lab-sync-auth-secret CL_SYNC_PRIV=lab-sync-priv-secret
CL_ROGUE_USER=clurogue CL_ROGUE_AUTH=lab-rogue-auth-secret CL_ROGUE_PRIV=lab-rogue-priv-secret
CL_RX_PORT=162
# The cluster MIB (SANAGENT-RESOURCE-MIB, sanEngineMibs 5).
CL_MIB=$SA_OID.3.5
CL_VERSION=$CL_MIB.1.1.1 CL_WRITER=$CL_MIB.1.1.2 CL_LOCK=$CL_MIB.1.1.3 CL_GRAN=$CL_MIB.1.1.4
CL_MEMBER=$CL_MIB.1.2.1 CL_RES=$CL_MIB.1.3.1 CL_OWNER=$CL_MIB.1.4.1 CL_PEER=$CL_MIB.1.5.1 CL_CTR=$CL_MIB.1.6
CL_CONFLICT=$CL_MIB.1.7.1
CL_T_NEW=$CL_MIB.0.1 CL_T_GONE=$CL_MIB.0.2 CL_T_CHANGED=$CL_MIB.0.3 CL_T_CONFLICT=$CL_MIB.0.4
CL_T_UNREACH=$CL_MIB.0.5 CL_T_LOST=$CL_MIB.0.6
: "${CL_HOSTS:=}" "${CL_UNITS:=}" "${CL_ETCD:=}"
CL_ETCD_ADDR=$CL_NET.240
CL_ETCD_URL=http://$CL_ETCD_ADDR:2379
CL_ETCD_CLUSTER=lab
CL_SW= CL_MG= CL_TRAPD_PID= CL_ETCD_NS= CL_ETCD_PID=
declare -gA CL_NS=() CL_ADDR=() CL_KIND=() CL_AGENT_PIDS=() CL_SNMPD_PIDS=() CL_TGTD_PIDS=() CL_CTL=() CL_VETH=()

cl_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
cl_ns() { [ -n "${CL_NS[$1]:-}" ] && echo "${CL_NS[$1]}" || sa_fail "unknown lab member '$1'"; }
cl_addr() { echo "${CL_ADDR[$1]}"; }
cl_kind() { echo "${CL_KIND[$1]}"; }
cl_iqn() { echo "$CL_IQN:h$1"; }
cl_state() { echo "$SA_TMP/cl-$1-state/sanagent.state"; }
# A GUID per member, 16 hex digits: kind (1 host, 2 unit) and its position, so the order of hosts' GUIDs (the
# version tiebreak) is the order of CL_HOSTS.
cl_guid() {
	local m=$1 i=0 x
	if [ "${CL_KIND[$m]}" = host ]; then
		for x in "${CL_HOSTS[@]}"; do [ "$x" = "$m" ] && break; i=$((i + 1)); done
		printf '5c10000000000%03x' $((0x100 + i))
	else
		for x in "${CL_UNITS[@]}"; do [ "$x" = "$m" ] && break; i=$((i + 1)); done
		printf '5c10000000000%03x' $((0x200 + i))
	fi
}
cl__udp_listening() { cl_in "$1" ss -Hlnu "src $2 and sport = :$3" | grep -q .; }
cl__tcp_listening() { cl_in "$1" ss -Hlnt "src $2 and sport = :$3" | grep -q .; }

# cl__leg NS ADDR MEMBER: a veth from NS to the switch's bridge, addressed ADDR/24.
cl__leg() {
	local ns=$1 addr=$2 m=$3 peer
	peer=c${RANDOM}x${#m}
	cl_in "$ns" ip link add eth0 type veth peer name "$peer" netns "$CL_SW" &&
		cl_in "$CL_SW" ip link set "$peer" master br0 &&
		cl_in "$CL_SW" ip link set "$peer" up &&
		cl_in "$ns" ip addr add "$addr/24" dev eth0 &&
		cl_in "$ns" ip link set eth0 up || sa_fail "cannot connect $ns to the switch"
	CL_VETH[$m]=$peer
}

cl_up() {
	local m i ns
	sa_need iproute2 ip ss
	sa_need tgt tgtd tgtadm
	sa_need snmpd snmpd
	sa_need snmptrapd snmptrapd
	sa_need snmp snmpget snmpbulkwalk snmpset
	if cl_etcd; then
		sa_need etcd-server etcd
		sa_need curl curl
		sa_need python3 python3
	fi
	[ ${#CL_HOSTS[@]} -gt 0 ] || sa_fail "cl_up: CL_HOSTS is empty"
	# Installed before the first namespace exists: a failure anywhere below still deletes what was made.
	trap 'sa__rc=$?; cl_down; (exit $sa__rc); sa_cleanup' EXIT
	if cl_etcd; then CL_ETCD_NS=cl-etcd-$$; fi
	CL_SW=cl-sw-$$ CL_MG=cl-mg-$$
	ip netns add "$CL_SW" 2>/dev/null || {
		CL_SW=
		sa_skip "ip netns is not permitted here"
	}
	i=0
	for m in "${CL_HOSTS[@]}"; do
		CL_KIND[$m]=host CL_ADDR[$m]=$CL_NET.$((10 + i)) CL_NS[$m]=cl-$m-$$
		i=$((i + 1))
	done
	i=0
	for m in ${CL_UNITS[@]+"${CL_UNITS[@]}"}; do
		CL_KIND[$m]=unit CL_ADDR[$m]=$CL_NET.$((100 + i)) CL_NS[$m]=cl-$m-$$
		i=$((i + 1))
	done
	for ns in "$CL_MG" $CL_ETCD_NS "${CL_NS[@]}"; do ip netns add "$ns" || sa_fail "cannot create namespace $ns"; done
	for ns in "$CL_SW" "$CL_MG" $CL_ETCD_NS "${CL_NS[@]}"; do
		cl_in "$ns" ip link set lo up || sa_fail "cannot bring up lo in $ns"
	done
	cl_in "$CL_SW" ip link add br0 type bridge && cl_in "$CL_SW" ip link set br0 up || sa_fail "cannot create br0"
	cl__leg "$CL_MG" "$CL_MGA" manager
	for m in "${!CL_NS[@]}"; do cl__leg "${CL_NS[$m]}" "${CL_ADDR[$m]}" "$m"; done
	if cl_etcd; then
		cl__leg "$CL_ETCD_NS" "$CL_ETCD_ADDR" etcd
		cl__etcd_start
	fi

	# Each unit: tgtd on its address, a private control port; targets come from the test (cl_target).
	for m in ${CL_UNITS[@]+"${CL_UNITS[@]}"}; do
		CL_CTL[$m]=$(sa_tgt_free_control)
		ip netns exec "${CL_NS[$m]}" tgtd -f -C "${CL_CTL[$m]}" --iscsi "portal=${CL_ADDR[$m]}:3260" \
			>"$SA_TMP/cl-$m-tgtd.log" 2>&1 &
		CL_TGTD_PIDS[$m]=$!
		sa_wait_for 10 cl_tgt "$m" --op show --mode sys >/dev/null || sa_fail "tgtd of unit $m did not answer"
	done

	# The management station.
	echo "authCommunity log $SA_TRAP_COMMUNITY" >"$SA_TMP/cl-snmptrapd.conf"
	mkdir -p "$SA_TMP/cl-snmptrapd-persist"
	SNMP_PERSISTENT_DIR="$SA_TMP/cl-snmptrapd-persist" ip netns exec "$CL_MG" snmptrapd -f -On \
		-Lf "$SA_TMP/cl-snmptrapd.log" -C -c "$SA_TMP/cl-snmptrapd.conf" -p "$SA_TMP/cl-snmptrapd.pid" \
		"udp:$CL_MGA:162" &
	CL_TRAPD_PID=$!
	sa_wait_for 10 cl__udp_listening "$CL_MG" "$CL_MGA" 162 || sa_fail "snmptrapd does not listen on $CL_MGA:162"
}

cl_down() {
	local m ns
	# Agents first, then their masters, then what they talk to; every process by its own pid.
	for m in "${!CL_AGENT_PIDS[@]}"; do
		[ -n "${CL_AGENT_PIDS[$m]}" ] && sa_stop_pid "${CL_AGENT_PIDS[$m]}"
		CL_AGENT_PIDS[$m]=
	done
	for m in "${!CL_SNMPD_PIDS[@]}"; do
		[ -n "${CL_SNMPD_PIDS[$m]}" ] && sa_stop_pid "${CL_SNMPD_PIDS[$m]}"
		CL_SNMPD_PIDS[$m]=
	done
	for m in "${!CL_TGTD_PIDS[@]}"; do
		[ -n "${CL_TGTD_PIDS[$m]}" ] && sa_tgtd_stop "${CL_TGTD_PIDS[$m]}" "${CL_CTL[$m]}"
		CL_TGTD_PIDS[$m]=
	done
	[ -n "$CL_TRAPD_PID" ] && sa_stop_pid "$CL_TRAPD_PID"
	CL_TRAPD_PID=
	if [ -n "$CL_ETCD_PID" ]; then
		kill -CONT "$CL_ETCD_PID" 2>/dev/null # a paused etcd does not stop
		sa_stop_pid "$CL_ETCD_PID"
	fi
	CL_ETCD_PID=
	for ns in "$CL_MG" "$CL_ETCD_NS" "${CL_NS[@]}" "$CL_SW"; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	CL_SW= CL_MG= CL_ETCD_NS=
	CL_NS=()
	return 0
}

# ---- etcd mode ------------------------------------------------------------------------------------------------
cl_etcd() { [ -n "$CL_ETCD" ] && [ "$CL_ETCD" != 0 ]; }
cl__etcd_healthy() { cl_in "$CL_MG" curl -sf -m 1 "$CL_ETCD_URL/health" | grep -q '"health":"true"'; }
cl__etcd_start() {
	local peer=http://127.0.0.1:2380
	ip netns exec "$CL_ETCD_NS" etcd --name lab --data-dir "$SA_TMP/cl-etcd" --listen-client-urls "$CL_ETCD_URL" \
		--advertise-client-urls "$CL_ETCD_URL" --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "lab=$peer" --heartbeat-interval 50 --election-timeout 500 >>"$SA_TMP/cl-etcd.log" 2>&1 &
	CL_ETCD_PID=$!
	sa_wait_for 20 cl__etcd_healthy || sa_fail "etcd did not become healthy at $CL_ETCD_URL"
}
cl_mode() { if cl_etcd; then echo etcd; else echo embedded; fi; }
cl_settled() {
	local v r
	cl_etcd || return 0
	v=$(cl_version "$1") && r=$(cl_etcd_rev) && [ "${v%% *}" = "$r" ]
}
# cl_etcd_unread M: etcd (paused) has bytes from M it has not read yet: M's request is out and unanswered.
cl_etcd_unread() {
	cl_in "$CL_ETCD_NS" ss -Htn state established "( sport = :2379 and dst ${CL_ADDR[$1]} )" | awk '$1 > 0 { f = 1 } END { exit !f }'
}
cl_etcd_pause() { kill -STOP "$CL_ETCD_PID"; }
cl_etcd_resume() { kill -CONT "$CL_ETCD_PID"; }
# The mod_revision of the CRT key (what sanCluVersion is on every member in step with etcd).
cl_etcd_rev() {
	cl_in "$CL_MG" curl -sf -m 2 -X POST "$CL_ETCD_URL/v3/kv/range" \
		-d "{\"key\":\"$(printf '%s' "/sanagent/cluster/$CL_ETCD_CLUSTER/crt" | base64 -w0)\"}" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])' 2>/dev/null
}

# ---- units: targets and LUNs --------------------------------------------------------------------------------
cl_tgt() {
	local m=$1
	shift
	tgtadm -C "${CL_CTL[$m]}" "$@"
}
cl_scsi_id() {
	local m=$1 i=0 x
	for x in "${CL_UNITS[@]}"; do [ "$x" = "$m" ] && break; i=$((i + 1)); done
	printf '5001405c%02x%02x%02x' "$i" "$2" "$3"
}
cl_target() {
	local m=$1 tid=$2 iqn=$3 lun
	shift 3
	cl_tgt "$m" --lld iscsi --op new --mode target --tid "$tid" -T "$iqn" || sa_fail "unit $m: cannot create $iqn"
	for lun in "$@"; do
		truncate -s 16M "$SA_TMP/cl-$m-$tid-$lun.img"
		cl_tgt "$m" --lld iscsi --op new --mode logicalunit --tid "$tid" --lun "$lun" -b "$SA_TMP/cl-$m-$tid-$lun.img" ||
			sa_fail "unit $m: cannot add LUN $lun to $iqn"
		# tgt builds the LU's NAA (its VPD 0x83 designator, the device's identity) from scsi_id, by default from
		# tid and LUN alone: the same on every unit.  One of its own per LU, unless the test says otherwise.
		cl_tgt "$m" --lld iscsi --op update --mode logicalunit --tid "$tid" --lun "$lun" \
			--params "scsi_id=$(cl_scsi_id "$m" "$tid" "$lun")" || sa_fail "unit $m: cannot set the scsi_id of $tid:$lun"
	done
	cl_tgt "$m" --lld iscsi --op bind --mode target --tid "$tid" -I ALL || sa_fail "unit $m: cannot bind $iqn"
}

# ---- agents ---------------------------------------------------------------------------------------------------
cl__user() {
	echo "{ name = \"$1\"; auth_protocol = \"SHA\"; auth_passphrase = \"$2\"; priv_protocol = \"AES\"; priv_passphrase = \"$3\"; }"
}

cl__snmpd_conf() {
	local m=$1
	cat <<EOF
agentaddress udp:${CL_ADDR[$m]}:161
master agentx
agentXSocket unix:$SA_TMP/cl-$m-agentx.sock
agentXTimeout 5
rocommunity $SA_RO_COMMUNITY $CL_NET.0/24
createUser $SA_V3_USER SHA "$SA_V3_AUTH" AES "$SA_V3_PRIV"
rwuser $SA_V3_USER priv
createUser $CL_SYNC_USER SHA "$CL_SYNC_AUTH" AES "$CL_SYNC_PRIV"
rouser $CL_SYNC_USER priv
trapsess -v 2c -c $SA_TRAP_COMMUNITY $CL_MGA:162
EOF
}

# The members list every agent carries: every host and unit of the lab.
cl__members() {
	local m out="" t
	for m in "${CL_HOSTS[@]}" ${CL_UNITS[@]+"${CL_UNITS[@]}"}; do
		if [ "${CL_KIND[$m]}" = host ]; then t="host; name = \"$(cl_iqn "$m")\""; else t="unit; name = \"unit$m\""; fi
		t="{ type = \"${t%%;*}\";${t#*;}; guid = \"$(cl_guid "$m")\"; address = \"udp:${CL_ADDR[$m]}:161\"; }"
		out="$out${out:+,
              }$t"
	done
	echo "$out"
}

cl__agent_conf() {
	local m=$1 more=$2 sections=$3 role=${CL_KIND[$1]} init=
	[ "$role" = host ] && init="
  initiator_name = \"$(cl_iqn "$m")\";"
	# A unit's tgt admits the owners of each target and its own probe (CL_ENFORCE_ACL=false: everybody).
	[ "$role" = unit ] && init="
  enforce_acl = ${CL_ENFORCE_ACL:-true};
  acl_always = [ \"$CL_PROBE_IQN\" ];"
	cat <<EOF
agent = {
  agentx_socket = "unix:$SA_TMP/cl-$m-agentx.sock";
  agentx_ping_interval = 1;
  state_file = "$(cl_state "$m")";
};
trap_receiver = {
  listen = "udp:${CL_ADDR[$m]}:$CL_RX_PORT";
  users = ( $(cl__user $CL_SYNC_USER $CL_SYNC_AUTH $CL_SYNC_PRIV),
            $(cl__user $CL_ROGUE_USER $CL_ROGUE_AUTH $CL_ROGUE_PRIV) );
};
EOF
	[ "$role" = unit ] && cat <<EOF
storage = {
  tgt_control = ${CL_CTL[$m]};
  interval = 1;
  probe_initiator = "$CL_PROBE_IQN";
};
EOF
	cat <<EOF
cluster = {
  role = "$role";
  guid = "$(cl_guid "$m")";$init
  granularity = "${CL_GRANULARITY:-device}";
  poll_interval = ${CL_POLL_INTERVAL:-2};
  sync_interval = ${CL_SYNC_INTERVAL:-5};
  ownership_grace = ${CL_GRACE:-2};
  peer_user = { name = "$CL_SYNC_USER"; auth_passphrase = "$CL_SYNC_AUTH"; priv_passphrase = "$CL_SYNC_PRIV"; };
  sync_users = [ "$CL_SYNC_USER" ];
  members = ( $(cl__members) );${more:+
  $more}$(cl_etcd && printf '\n  etcd = { endpoints = [ "%s" ]; cluster = "%s"; };' "$CL_ETCD_URL" "$CL_ETCD_CLUSTER")
};
EOF
	# CL_LOGINS=1: hosts run the login engine (sanLoginTable) as their initiator name, so a login the CRT does not
	# give them is refused at SET time.
	if [ "$role" = host ] && [ "${CL_LOGINS:-0}" != 0 ]; then
		echo "discovery = { login_initiator_name = \"$(cl_iqn "$m")\"; };"
	fi
	[ -z "$sections" ] || echo "$sections"
}

cl_agent_start() {
	local m=$1
	mkdir -p "$SA_TMP/cl-$m-agent-persist" "$SA_TMP/cl-$m-state"
	SNMP_PERSISTENT_DIR="$SA_TMP/cl-$m-agent-persist" ip netns exec "${CL_NS[$m]}" "$SA_BUILDDIR/sanagentd" -f \
		-c "$SA_TMP/cl-$m-sanagent.conf" -p "$SA_TMP/cl-$m-sanagentd.pid" 2>>"$SA_TMP/cl-$m-sanagentd.log" &
	CL_AGENT_PIDS[$m]=$!
}
cl__serving() { cl_get "$1" "$CL_VERSION.0" | grep -q .; }
cl_wait_agent() { sa_wait_for "${2:-15}" cl__serving "$1" || sa_fail "cluster objects of $1 not served through its snmpd"; }

cl_snmpd_start() {
	local m=$1
	mkdir -p "$SA_TMP/cl-$m-snmpd-persist"
	SNMP_PERSISTENT_DIR="$SA_TMP/cl-$m-snmpd-persist" ip netns exec "${CL_NS[$m]}" snmpd -f -I -smux \
		-Lf "$SA_TMP/cl-$m-snmpd.log" -C -c "$SA_TMP/cl-$m-snmpd.conf" -p "$SA_TMP/cl-$m-snmpd.pid" &
	CL_SNMPD_PIDS[$m]=$!
	sa_wait_for 10 cl_get "$m" .1.3.6.1.2.1.1.3.0 || sa_fail "snmpd of $m does not answer on ${CL_ADDR[$m]}:161"
}
cl_snmpd_stop() {
	[ -z "${CL_SNMPD_PIDS[$1]:-}" ] || sa_stop_pid "${CL_SNMPD_PIDS[$1]}"
	CL_SNMPD_PIDS[$1]=
}

cl_agent_up() {
	local m=$1
	sa_built "$SA_BUILDDIR/sanagentd" sanagentd
	cl__snmpd_conf "$m" >"$SA_TMP/cl-$m-snmpd.conf"
	cl_snmpd_start "$m"
	cl__agent_conf "$m" "${2:-}" "${3:-}" >"$SA_TMP/cl-$m-sanagent.conf"
	cl_agent_start "$m"
	cl_wait_agent "$m"
	sa_wait_for 5 cl__udp_listening "${CL_NS[$m]}" "${CL_ADDR[$m]}" "$CL_RX_PORT" ||
		sa_fail "the trap receiver of $m does not listen on ${CL_ADDR[$m]}:$CL_RX_PORT"
}
# One after the other, each host once it holds the first host's table: no two fresh tables race at the start.
cl_agents_up() {
	local m first=${CL_HOSTS[0]}
	for m in ${CL_UNITS[@]+"${CL_UNITS[@]}"} "${CL_HOSTS[@]}"; do
		cl_agent_up "$m"
		[ "${CL_KIND[$m]}" = host ] && [ "$m" != "$first" ] || continue
		sa_wait_for 5 cl__same_version "$first" "$m" ||
			sa_fail "$m started with version $(cl_version "$m"), $first has $(cl_version "$first")"
	done
}
cl__same_version() { local v; v=$(cl_version "$1") && [ "$(cl_version "$2")" = "$v" ]; }
# cl_converged M...: every member holds the first one's version.
cl_converged() {
	local v m
	v=$(cl_version "$1") || return 1
	shift
	for m in "$@"; do [ "$(cl_version "$m")" = "$v" ] || return 1; done
}
# cl_one_target_up LUN...: the lab of the tests built on one target: cl_up, unit u's target T=$CL_IQN:t1 with
# those LUNs, every agent up; then from the first host's CRT the rows: one variable per host, its name in capitals
# (H1 for h1), U (the unit), C (the target) and D (the devices, in LUN order).  Declare CL_HOSTS and CL_UNITS=(u).
cl_one_target_up() {
	local first=${CL_HOSTS[0]} h v
	cl_up
	T=$CL_IQN:t1
	cl_target u 1 "$T" "$@"
	cl_agents_up
	sa_wait_for 20 cl__has_rows "$first" $# || sa_fail "$first's CRT lacks the unit's target and LUNs"
	for h in "${CL_HOSTS[@]}"; do printf -v "${h^^}" %s "$(cl_row_by_name "$first" "$(cl_iqn "$h")")"; done
	U=$(cl_unit_row "$first" u) C=$(cl_row_by_name "$first" "$T")
	D=()
	for v in "$@"; do D+=("$(cl_device_row "$first" "$C" "$v")"); done
	for v in "${CL_HOSTS[@]^^}" U C; do [ -n "${!v}" ] || sa_fail "row $v not found in $first's CRT"; done
	for v in "${!D[@]}"; do [ -n "${D[$v]}" ] || sa_fail "device row of LUN ${*:v+1:1} not found in $first's CRT"; done
}
cl__has_rows() { [ -n "$(cl_row_by_name "$1" "$T")" ] && [ "$(cl_row_of "$1" 4 | wc -l)" -ge "$2" ]; }
cl_agent_pid() { echo "${CL_AGENT_PIDS[$1]:-}"; }
cl_agent_stop() {
	[ -z "${CL_AGENT_PIDS[$1]:-}" ] || sa_stop_pid "${CL_AGENT_PIDS[$1]}"
	CL_AGENT_PIDS[$1]=
}
cl_agent_kill() {
	local p=${CL_AGENT_PIDS[$1]:-}
	[ -n "$p" ] || return 0
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	CL_AGENT_PIDS[$1]=
}
cl_agent_restart() {
	cl_agent_stop "$1"
	cl_agent_start "$1"
	cl_wait_agent "$1"
}
cl_link() { cl_in "$CL_SW" ip link set "${CL_VETH[$1]}" "$2"; }

# ---- the manager's view -------------------------------------------------------------------------------------
cl_get() {
	local m=$1
	shift
	cl_in "$CL_MG" snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv "${CL_ADDR[$m]}:161" "$@" 2>/dev/null |
		grep -v -e '^No Such'
}
cl_get1() { cl_get "$@" | tr '\n' ' ' | sed 's/ $//'; }
cl_walk() {
	local m=$1
	shift
	cl_in "$CL_MG" snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On "${CL_ADDR[$m]}:161" "$@"
}
cl_set() {
	local m=$1
	shift
	cl_in "$CL_MG" snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" \
		-t 2 -r 0 "${CL_ADDR[$m]}:161" "$@"
}
cl_set_err() {
	local want=$1 out
	shift
	out=$(cl_set "$@" 2>&1) && sa_fail "SET on $* accepted, want $want"
	echo "$out" | grep -q "$want" || sa_fail "SET on $*: want $want, got: $out"
}
cl_trap_seen() { grep -q -- "$1" "$SA_TMP/cl-snmptrapd.log" 2>/dev/null; }
cl_trap_count() { grep -c -- "$1" "$SA_TMP/cl-snmptrapd.log" 2>/dev/null || true; }
# cl_trap_count_from M PATTERN: the notifications matching PATTERN that M's snmpd sent (snmptrapd logs the sender on
# the line before the varbinds).
cl_trap_count_from() {
	awk -v src="[${CL_ADDR[$1]}]:" -v pat="$2" 'index($0, "[UDP: ") { from = index($0, "[UDP: " src) > 0; next }
		from && index($0, pat) { n++ } END { print n + 0 }' "$SA_TMP/cl-snmptrapd.log" 2>/dev/null
}

# cl_version M: "COUNTER WRITERHEX" (one GET, so both from the same moment).
cl_version() {
	local v c w
	v=$(cl_in "$CL_MG" snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv -Ox "${CL_ADDR[$1]}:161" \
		"$CL_VERSION.0" "$CL_WRITER.0" 2>/dev/null) || return 1
	c=$(echo "$v" | sed -n 1p)
	w=$(echo "$v" | sed -n '2,$p' | tr -d ' "\n')
	case $c in '' | *[!0-9]*) return 1 ;; esac
	[ ${#w} = 16 ] || return 1
	echo "$c $w"
}
# cl_crt M: the CRT and owner table of M, values only (the timestamps-free columns), between two equal versions.
cl_crt() {
	local m=$1 v1 v2 out i
	for i in 1 2 3 4 5; do
		v1=$(cl_version "$m") || { sleep 0.2; continue; }
		out=$(cl_walk "$m" "$CL_MIB.1.3" && cl_walk "$m" "$CL_MIB.1.4") || { sleep 0.2; continue; }
		v2=$(cl_version "$m")
		if [ "$v1" = "$v2" ]; then
			echo "version $v1"
			echo "$out" | sed "s/^$CL_MIB//"
			return 0
		fi
	done
	return 1
}
# cl_same_crt M1 M2...: every member's copy equals M1's.
cl_same_crt() {
	local a=$1 ca cb m
	shift
	ca=$(cl_crt "$a") || return 1
	for m in "$@"; do
		cb=$(cl_crt "$m") || return 1
		[ "$ca" = "$cb" ] || return 1
	done
}
# cl_peer M MEMBER_INDEX COLUMN: a column of M's sanCluPeerTable (1 state, 2 last contact, 3 version, 5 failures).
cl_peer() { cl_get "$1" "$CL_PEER.$3.$2"; }
# cl_member_index M OTHER: the membership index OTHER has in M's sanCluMemberTable (by its GUID).
cl_member_index() {
	local g
	g=$(cl_guid "$2" | sed 's/../& /g; s/ $//' | tr a-f A-F)
	cl_walk "$1" "$CL_MEMBER.3" | grep -i "Hex-STRING: $g *\$" | sed -n "s/^.*\.\([0-9]*\) = .*/\1/p" | head -n 1
}

# cl_login_err M ROW UNIT TARGET LUN: M's agent refuses a login row (admin up) to TARGET LUN at UNIT's portal with
# inconsistentValue; the row does not exist afterwards.
CL_LOGIN=$SA_OID.3.1.1.8.1
cl_login_err() {
	local m=$1 row=$2 u=$3 t=$4 lun=$5 a
	a=$(printf '%02X' ${CL_ADDR[$u]//./ })
	cl_set_err inconsistentValue "$m" "$CL_LOGIN.2.$row" s "$t" "$CL_LOGIN.3.$row" i 1 "$CL_LOGIN.4.$row" x "$a" \
		"$CL_LOGIN.5.$row" u 3260 "$CL_LOGIN.8.$row" u "$lun" "$CL_LOGIN.10.$row" i 1 "$CL_LOGIN.18.$row" i 4
	[ -z "$(cl_get "$m" "$CL_LOGIN.2.$row")" ] || sa_fail "$m: the refused login row $row to $t LUN $lun exists"
}

# ---- CRT rows (sanCluResEntry: 3 type, 5 number, 6 parent, 7 ownership, 9 name; owners .1.4.1.2.ROW.HOST) --------
# cl_row_by_name M NAME: the index of M's row whose name is NAME (a host's initiator name, a controller's IQN).
cl_row_by_name() {
	cl_walk "$1" "$CL_RES.9" | grep -F "STRING: \"$2\"" | sed -n "s/^.*\.\([0-9]*\) = .*/\1/p" | head -n 1
}
# cl_row_of M TYPE: the indexes of M's rows of TYPE (1 host, 2 unit, 3 controller, 4 device), one a line.
cl_row_of() { cl_walk "$1" "$CL_RES.3" | grep " = INTEGER: $2\$" | sed -n "s/^.*\.\([0-9]*\) = .*/\1/p"; }
# cl_device_row M CONTROLLER_ROW LUN: the device row under a controller row with that number.
cl_device_row() {
	local r
	for r in $(cl_walk "$1" "$CL_RES.6" | grep " = Gauge32: $2\$" | sed -n "s/^.*\.\([0-9]*\) = .*/\1/p"); do
		[ "$(cl_get "$1" "$CL_RES.5.$r")" = "$3" ] && { echo "$r"; return 0; }
	done
	return 1
}
# cl_unit_row M UNIT: the unit's row (by its GUID, column 2).
cl_unit_row() {
	local g
	g=$(cl_guid "$2" | sed 's/../& /g; s/ $//' | tr a-f A-F)
	cl_walk "$1" "$CL_RES.2" | grep -i "Hex-STRING: $g *\$" | sed -n "s/^.*\.\([0-9]*\) = .*/\1/p" | head -n 1
}
# cl_owners M ROW: the host rows owning ROW, space separated, ascending.
cl_owners() { cl_walk "$1" "$CL_OWNER.2.$2" | sed -n "s/^.*\.\([0-9]*\) = INTEGER: .*/\1/p" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
# cl_own_args ROW OWNERSHIP HOSTROW...: snmpset arguments making ROW shared(2)/dedicated(3) and adding those owners
# (owner rows created; the caller destroys old ones with cl_unown_args).
cl_own_args() {
	local row=$1 own=$2 h
	shift 2
	printf '%s\n' "$CL_RES.7.$row" i "$own"
	for h in "$@"; do printf '%s\n' "$CL_OWNER.2.$row.$h" i 4; done
}
cl_unown_args() {
	local row=$1 h
	shift
	for h in "$@"; do printf '%s\n' "$CL_OWNER.2.$row.$h" i 6; done
}
