# netns_lab.bash: sourced by the netns test and the bench scripts (not run by itself): two namespaces joined by two veth paths, tgtd.
#
# lab_up RATE1 RATE2   initiator namespace $LAB_INI and storage namespace $LAB_STO, path 1 192.0.2.0/24 and
#                      path 2 198.51.100.0/24 (documentation ranges, private to the namespaces), each shaped in
#                      both directions by tc tbf to RATEn ("" or "none": unshaped); tgtd in $LAB_STO with one
#                      64 MiB LU (LUN 1) as $LAB_IQN on $LAB_P1 and $LAB_P2.
# lab_down             stops tgtd and deletes the namespaces (with their veths, qdiscs and iptables rules).
# in_ini CMD / in_sto CMD / lab_tgt TGTADM-ARGS
# Needs tests/integration/lib.sh sourced and sa_init run first.  Skips (77) where ip netns is not permitted.

LAB_IQN=iqn.2024-01.org.sanagent.bench:lu
LAB_P1=192.0.2.2:3260
LAB_P2=198.51.100.2:3260
LAB_INI= LAB_STO= LAB_TGTD_PID= LAB_CTL=

in_ini() { ip netns exec "$LAB_INI" "$@"; }
in_sto() { ip netns exec "$LAB_STO" "$@"; }
lab_tgt() { tgtadm -C "$LAB_CTL" "$@"; }
lab__listening() { in_sto ss -Hlnt "src $1 and sport = :3260" | grep -q .; }

lab_up() {
	local r1=${1:-} r2=${2:-} i rate
	sa_need tgt tgtd tgtadm
	sa_need iproute2 ip tc
	# Before the first namespace exists: a failure anywhere below still deletes what was made.
	trap 'sa__rc=$?; lab_down; (exit $sa__rc); sa_cleanup' EXIT
	LAB_INI=sab-ini-$$
	LAB_STO=sab-sto-$$
	ip netns add "$LAB_INI" 2>/dev/null || { LAB_INI=; sa_skip "ip netns is not permitted here"; }
	ip netns add "$LAB_STO" || sa_fail "cannot create namespace $LAB_STO"
	in_ini ip link set lo up && in_sto ip link set lo up || sa_fail "cannot bring up lo"
	for i in 1 2; do
		in_ini ip link add "vi$i" type veth peer name "vs$i" netns "$LAB_STO" || sa_fail "cannot create veth $i"
	done
	in_ini ip addr add 192.0.2.1/24 dev vi1 && in_sto ip addr add 192.0.2.2/24 dev vs1 &&
		in_ini ip addr add 198.51.100.1/24 dev vi2 && in_sto ip addr add 198.51.100.2/24 dev vs2 ||
		sa_fail "cannot address the veths"
	for i in 1 2; do
		in_ini ip link set "vi$i" up && in_sto ip link set "vs$i" up || sa_fail "cannot bring up path $i"
		rate=r$i
		case "${!rate}" in "" | none) continue ;; esac
		in_ini tc qdisc add dev "vi$i" root tbf rate "${!rate}" burst 64kb latency 50ms &&
			in_sto tc qdisc add dev "vs$i" root tbf rate "${!rate}" burst 64kb latency 50ms ||
			sa_fail "tc tbf failed on path $i"
	done
	while :; do
		LAB_CTL=$((1000 + RANDOM % 30000))
		[ -e "/var/run/tgtd/socket.$LAB_CTL" ] || break
	done
	# Not through in_sto: a backgrounded function is a subshell, and $! would be that subshell, not tgtd (a kill -9
	# of it at cleanup left tgtd running).  ip netns exec execs tgtd, so $! is tgtd itself.
	ip netns exec "$LAB_STO" tgtd -f -C "$LAB_CTL" --iscsi "portal=$LAB_P1" >"$SA_TMP/tgtd.log" 2>&1 &
	LAB_TGTD_PID=$!
	sa_wait_for 10 lab_tgt --op show --mode sys || sa_fail "tgtd did not answer"
	truncate -s 64M "$SA_TMP/lab-lu.img"
	lab_tgt --lld iscsi --op new --mode portal --param "portal=$LAB_P2" &&
		lab_tgt --lld iscsi --op new --mode target --tid 1 -T "$LAB_IQN" &&
		lab_tgt --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$SA_TMP/lab-lu.img" &&
		lab_tgt --lld iscsi --op bind --mode target --tid 1 -I ALL || sa_fail "tgtadm: cannot set up the target"
	sa_wait_for 10 lab__listening "${LAB_P2%:*}" || sa_fail "tgtd does not listen on $LAB_P2"
}

lab_down() {
	[ -n "$LAB_TGTD_PID" ] && sa_tgtd_stop "$LAB_TGTD_PID" "$LAB_CTL"
	LAB_TGTD_PID=
	[ -n "$LAB_INI" ] && ip netns del "$LAB_INI" 2>/dev/null
	[ -n "$LAB_STO" ] && ip netns del "$LAB_STO" 2>/dev/null
	LAB_INI= LAB_STO=
	return 0
}

# lab_tgt_sid ALIAS: tgt session id of the initiator alias (sanpath names its paths sanpath-TEAM-pN).
lab_tgt_sid() {
	lab_tgt --op show --mode target 2>/dev/null | awk -v alias="$1" '
		/I_T nexus:/ { sid = $3 } /alias:/ && $NF == alias { print sid; exit }'
}
