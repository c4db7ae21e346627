#!/usr/bin/env bash
# redirect_etcd.sh: two redirectors share mapping and server states through a real etcd; one leader; takeover in 2 s.
. "$(dirname "$0")/lib.sh"
sa_init redir-etcd
sa_need etcd-server etcd
sa_need curl curl
sa_need python3 python3
sa_need libiscsi-bin iscsi-inq
CLIENT="python3 $SA_SRCDIR/tests/integration/redir_client.py"
IQN=$SA_TGT_IQN
ROID=$SA_OID.3.3.1 # sanRedirObjects

# ---- a real etcd on loopback, a short heartbeat so a 1 s lease is allowed ----
EPORT=$(sa_free_port tcp)
EPEER=$(sa_free_port tcp)
EURL=http://127.0.0.1:$EPORT
sa_bg etcd --name sa --data-dir "$SA_TMP/etcd" --listen-client-urls "$EURL" --advertise-client-urls "$EURL" \
	--listen-peer-urls "http://127.0.0.1:$EPEER" --initial-advertise-peer-urls "http://127.0.0.1:$EPEER" \
	--initial-cluster "sa=http://127.0.0.1:$EPEER" --heartbeat-interval 50 --election-timeout 500 \
	>"$SA_TMP/etcd.log" 2>&1
sa_wait_for 20 eval "curl -sf $EURL/health | grep -q true" || sa_fail "etcd did not become healthy"
# etcd_get REL: a value under the cluster prefix, through the same JSON gateway.
etcd_get() {
	curl -sf -X POST "$EURL/v3/kv/range" -d "{\"key\":\"$(printf '%s' "/sanagent/redirect/t1/$1" | base64 -w0)\"}" |
		python3 -c 'import base64,json,sys; kv=json.load(sys.stdin).get("kvs") or [{}]; print(base64.b64decode(kv[0].get("value","")).decode())'
}

sa_start_tgt_servers 3 6

# ---- two redirector pairs (snmpd master + sanagentd), sharing etcd cluster "t1" ----
servers=$(sa_tgt_servers_conf)
resources=""
for t in 1 2 3 4 5 6; do
	resources="$resources${resources:+, }{ target = \"$IQN:r$t\"; server = \"s$(((t - 1) / 2 + 1))\"; }"
done
declare -a SNMP RPORT APID
start_pair() {
	local k=$1 d=$SA_TMP/a$1
	mkdir -p "$d/persist" "$d/agent-persist" "$d/state"
	: "${SNMP[$k]:=$(sa_free_port udp)}"
	: "${RPORT[$k]:=$(sa_free_port tcp)}"
	[ -f "$d/snmpd.conf" ] || sa_master_snmpd "$d" "${SNMP[$k]}"
	cat >"$d/sanagent.conf" <<EOF
agent = { agentx_socket = "unix:$d/agentx.sock"; agentx_ping_interval = 1; state_file = "$d/state/sanagent.state"; };
redirect = {
  listen = [ "127.0.0.1:${RPORT[$k]}" ];
  servers = ( $servers );
  resources = ( $resources );
  etcd = { endpoints = [ "$EURL" ]; cluster = "t1"; lease_ttl = 1; };
};
EOF
	SNMP_PERSISTENT_DIR="$d/agent-persist" sa_bg "$SA_BUILDDIR/sanagentd" -f -c "$d/sanagent.conf" \
		-p "$d/sanagentd.pid" 2>>"$d/sanagentd.log"
	APID[$k]=$SA_LASTPID
}
set() {
	snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 2 -r 0 \
		"127.0.0.1:${SNMP[$1]}" "${@:2}"
}
get() { snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv "127.0.0.1:${SNMP[$1]}" "$2" 2>/dev/null | grep -v '^No Such'; }
role() { get "$1" "$ROID.9.0"; }
# mapped K TARGET: the address redirector K sends a login for TARGET to.
mapped() { $CLIENT login 127.0.0.1 "${RPORT[$1]}" "$IQN:$2" | sed -n 's/^status 0x0101 address //p'; }
addr_of() { echo "${SA_TGT_ADDR[$1]}:${SA_TGT_PORT[$1]},1"; }
dump() { for k in 1 2; do echo "---- a$k/sanagentd.log" >&2; tail -n 25 "$SA_TMP/a$k/sanagentd.log" >&2; done; }
fail() { dump; sa_fail "$@"; }

start_pair 1
sa_wait_for 10 eval '[ -n "$(role 1)" ]' || fail "redirector 1 not served through its snmpd"
sa_wait_for 5 eval '[ "$(role 1)" = 2 ]' || fail "redirector 1 alone is not leader (role $(role 1))"
start_pair 2
sa_wait_for 10 eval '[ "$(role 2)" = 3 ]' || fail "redirector 2 is not a follower (role $(role 2))"
[ "$(role 1)" = 2 ] || fail "redirector 1 lost leadership when 2 joined"
echo "# leader: redirector 1, follower: redirector 2"
[ "$(etcd_get leader)" = "$(hostname)/127.0.0.1:${RPORT[1]}" ] || fail "leader key holds '$(etcd_get leader)'"
[ "$(etcd_get "map/$IQN:r3")" = s2 ] || fail "etcd map/r3 = '$(etcd_get "map/$IQN:r3")', want s2"
sa_wait_for 5 eval '[ "$(etcd_get server/s3)" = up ]' || fail "etcd server/s3 = '$(etcd_get server/s3)', want up"
for t in 1 3 5; do
	i=$(((t - 1) / 2))
	for k in 1 2; do
		[ "$(mapped $k r$t)" = "$(addr_of $i)" ] || fail "redirector $k sends r$t to '$(mapped $k r$t)'"
	done
done
# Followers neither probe nor rebalance.
grep -q "server s1 .* is up" "$SA_TMP/a2/sanagentd.log" && fail "the follower probed the servers"

# ---- loads: the follower shows the leader's (here one an external monitor SET on the leader) ----
set 1 "$ROID.6.1.4.4" u 777777 >/dev/null || fail "SET sanRedirResourceLoad.4 on the leader refused"
sa_wait_for 5 eval '[ "$(get 2 $ROID.6.1.5.4)" = 777777 ]' ||
	fail "follower's sanRedirResourceLoadHC.4 = $(get 2 $ROID.6.1.5.4), want the leader's 777777"
[ "$(etcd_get "load/$IQN:r4")" = 777777 ] || fail "etcd load/r4 = '$(etcd_get "load/$IQN:r4")'"
[ "$(get 2 $ROID.4.1.9.2)" -ge 777777 ] || fail "follower's sanRedirServerLoad.2 = $(get 2 $ROID.4.1.9.2)"
echo "# follower shows the leader's load of r4: $(get 2 $ROID.6.1.5.4) B/s"

# ---- admin: a drain SET on the follower reaches the leader, which moves r5 and r6 off s3 ----
set 2 "$ROID.4.1.7.3" i 2 >"$SA_TMP/set.out" 2>&1 || fail "the follower refused a drain: $(cat "$SA_TMP/set.out")"
sa_wait_for 5 eval '[ "$(get 1 $ROID.4.1.7.3)" = 2 ]' || fail "leader's sanRedirServerAdminStatus.3 = $(get 1 $ROID.4.1.7.3)"
[ "$(etcd_get admin/s3)" = drain ] || fail "etcd admin/s3 = '$(etcd_get admin/s3)', want drain"
sa_wait_for 5 eval 'grep -q "drain: $IQN:r5 moved from s3" "$SA_TMP/a1/sanagentd.log"' || fail "leader did not move r5 off s3"
sa_wait_for 3 eval '[ "$(mapped 2 r5)" != "$(addr_of 2)" ] && [ "$(mapped 2 r6)" != "$(addr_of 2)" ]' ||
	fail "follower still sends r5/r6 to the drained s3: $(mapped 2 r5) $(mapped 2 r6)"
[ "$(mapped 2 r5)" = "$(mapped 1 r5)" ] || fail "leader and follower disagree on r5 after the drain"
grep -q "drain:" "$SA_TMP/a2/sanagentd.log" && fail "the follower remapped by itself"
set 2 "$ROID.4.1.7.3" i 1 >/dev/null || fail "the follower refused admin up"
sa_wait_for 5 eval '[ "$(get 1 $ROID.4.1.7.3)" = 1 ]' || fail "s3 not back up on the leader"
echo "# drain of s3 set on the follower: the leader moved r5 to $(mapped 1 r5), r6 to $(mapped 1 r6)"

# ---- kill -9 server s1: the leader remaps r1 and r2; the follower redirects to the new server ----
kill -9 "${SA_TGT_PID[0]}"
t0=$(date +%s%N)
sa_wait_for 3 eval 'grep -q "failover: $IQN:r1 moved from s1" "$SA_TMP/a1/sanagentd.log"' || fail "leader did not remap r1"
sa_wait_for 3 eval 'case "$(mapped 2 r1)" in "$(addr_of 1)" | "$(addr_of 2)") true ;; *) false ;; esac' ||
	fail "follower still sends r1 to '$(mapped 2 r1)'"
echo "# follower redirects r1 to $(mapped 2 r1) $((($(date +%s%N) - t0) / 1000000)) ms after kill -9 of s1"
[ "$(mapped 2 r1)" = "$(mapped 1 r1)" ] || fail "leader and follower disagree on r1"
[ "$(mapped 2 r2)" = "$(mapped 1 r2)" ] || fail "leader and follower disagree on r2"
[ "$(mapped 2 r3)" = "$(addr_of 1)" ] || fail "r3 moved although s2 is up"
grep -q "failover:" "$SA_TMP/a2/sanagentd.log" && fail "the follower remapped by itself"
sa_wait_for 3 eval '[ "$(get 2 $ROID.4.1.8.1)" = 2 ]' || fail "follower's sanRedirServerOperStatus.1 = $(get 2 $ROID.4.1.8.1), want down(2)"
iscsi-inq -i "$IQN:inq" "iscsi://127.0.0.1:${RPORT[2]}/$IQN:r1/1" | grep -q DIRECT_ACCESS ||
	fail "iscsi-inq r1 through the follower after the failover"

# ---- kill -9 the leader: the follower takes over within 2 s and keeps serving ----
kill -9 "${APID[1]}"
t0=$(date +%s%N)
while [ "$(role 2)" != 2 ]; do
	[ $((($(date +%s%N) - t0) / 1000000)) -lt 5000 ] || fail "redirector 2 did not take over within 5 s"
	sleep 0.05
done
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# redirector 2 became leader ${ms} ms after kill -9 of the leader"
[ "$ms" -le 2000 ] || fail "takeover took $ms ms (more than 2 s)"
[ "$(etcd_get leader)" = "$(hostname)/127.0.0.1:${RPORT[2]}" ] || fail "leader key holds '$(etcd_get leader)'"
iscsi-inq -i "$IQN:inq" "iscsi://127.0.0.1:${RPORT[2]}/$IQN:r3/1" | grep -q DIRECT_ACCESS ||
	fail "iscsi-inq r3 through the new leader"
# The new leader runs the health checks: kill s2 and its resources move to s3.
kill -9 "${SA_TGT_PID[1]}"
sa_wait_for 3 eval 'grep -q "failover: $IQN:r3 moved from s2" "$SA_TMP/a2/sanagentd.log"' ||
	fail "the new leader did not remap r3 after s2 died"
[ "$(mapped 2 r3)" = "$(addr_of 2)" ] || fail "r3 redirected to '$(mapped 2 r3)', want s3"
sa_wait_for 3 eval '[ "$(etcd_get "map/$IQN:r3")" = s3 ]' || fail "etcd map/r3 = '$(etcd_get "map/$IQN:r3")', want s3"

# ---- the old leader comes back as a follower and adopts the shared mapping ----
start_pair 1
sa_wait_for 10 eval '[ "$(role 1)" = 3 ]' || fail "restarted redirector 1 is not a follower (role $(role 1))"
sa_wait_for 3 eval '[ "$(mapped 1 r3)" = "$(addr_of 2)" ]' || fail "restarted redirector 1 sends r3 to '$(mapped 1 r3)'"
# A follower refuses to change what the leader owns (here a manual move).
set 1 "$ROID.6.1.3.3" u 1 >"$SA_TMP/set.out" 2>&1 && fail "a follower accepted a manual move"
grep -q resourceUnavailable "$SA_TMP/set.out" || fail "follower's refusal: $(cat "$SA_TMP/set.out")"
[ "$(mapped 1 r3)" = "$(addr_of 2)" ] || fail "the refused move changed the follower's mapping"
echo "PASS"
