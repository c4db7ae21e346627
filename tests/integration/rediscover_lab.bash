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
# rl_up [RATE]   everything above; RATE shapes interface 36 in both directions (default 40mbit, "none": unshaped).
# rl_down        stops tgtd and isnsd, deletes the namespaces (their veths, bridges and qdiscs go with them).
# rl_in NS CMD...   run CMD in a namespace; rl_tgt TGTADM-ARGS; rl_isnsadm ISNSADM-ARGS (as the storage host).
# Needs tests/integration/lib.sh sourced and sa_init run first.  Skips (77) where ip netns is not permitted.

RL_IQN=iqn.2026-12.org.sanagent.lab
RL_X=$RL_IQN:x RL_Y=$RL_IQN:y RL_Z=$RL_IQN:z
RL_STO36=192.0.2.3 RL_STO38=198.51.100.52 RL_STOM=203.0.113.3 RL_NSM=203.0.113.42
RL_H1_36=192.0.2.11 RL_H2_36=192.0.2.12 RL_H1_38=198.51.100.11 RL_H2_38=198.51.100.12
RL_H1M=203.0.113.11 RL_H2M=203.0.113.12
RL_ISNS_PORT=3205
RL_SW= RL_STO= RL_NS= RL_H1= RL_H2= RL_TGTD_PID= RL_ISNSD_PID= RL_CTL=

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
	RL_SW=rl-sw-$$ RL_STO=rl-sto-$$ RL_NS=rl-ns-$$ RL_H1=rl-h1-$$ RL_H2=rl-h2-$$
	ip netns add "$RL_SW" 2>/dev/null || {
		RL_SW=
		sa_skip "ip netns is not permitted here"
	}
	for ns in "$RL_STO" "$RL_NS" "$RL_H1" "$RL_H2"; do
		ip netns add "$ns" || sa_fail "cannot create namespace $ns"
	done
	for ns in "$RL_SW" "$RL_STO" "$RL_NS" "$RL_H1" "$RL_H2"; do
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
	rl_in "$RL_STO" tgtd -f -C "$RL_CTL" --iscsi "portal=$RL_STO36:3260" >"$SA_TMP/rl-tgtd.log" 2>&1 &
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
	rl_in "$RL_NS" isnsd -f -4 -c "$SA_TMP/rl-isnsd.conf" >"$SA_TMP/rl-isnsd.log" 2>&1 &
	RL_ISNSD_PID=$!
	sa_wait_for 10 rl_isnsadm --list entities >/dev/null || sa_fail "isnsd did not answer on $RL_NSM:$RL_ISNS_PORT"
	# One network entity (the storage host) with both portals and the three targets: a portal belongs to one
	# entity, so they register together.
	rl_isnsadm --register "portal=$RL_STO36:3260" "portal=$RL_STO38:3260" "target=$RL_X" "target=$RL_Y" \
		"target=$RL_Z" >"$SA_TMP/rl-reg.log" 2>&1 || sa_fail "cannot register X, Y, Z: $(cat "$SA_TMP/rl-reg.log")"
}

rl_down() {
	local ns
	[ -n "$RL_TGTD_PID" ] && sa_tgtd_stop "$RL_TGTD_PID" "$RL_CTL"
	RL_TGTD_PID=
	if [ -n "$RL_ISNSD_PID" ]; then
		kill "$RL_ISNSD_PID" 2>/dev/null
		sa_wait_for 5 sa_pid_gone "$RL_ISNSD_PID" || kill -9 "$RL_ISNSD_PID" 2>/dev/null
	fi
	RL_ISNSD_PID=
	for ns in "$RL_H2" "$RL_H1" "$RL_NS" "$RL_STO" "$RL_SW"; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	RL_SW= RL_STO= RL_NS= RL_H1= RL_H2=
	return 0
}
