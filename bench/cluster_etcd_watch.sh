#!/usr/bin/env bash
# cluster_etcd_watch.sh: the cluster engine in etcd mode, 1,000 watchers: time from a CRT change to the last watcher
# seeing it, against etcdctl put -> watch in the same run.
#
# One run on loopback: one etcd (3.4, its JSON gateway), CW_AGENTS host agents (snmpd + sanagentd each, cluster.etcd
# configured, each one a watcher of the prefix itself), and bench/etcd_watchers.py opening CW_WATCHERS real watch
# streams (one HTTP connection and one /v3/watch each) on the cluster's prefix from one process.  Rounds alternate:
#   anchor  etcdctl put of a key under the prefix (process start + one put)
#   txn     curl POST /v3/kv/txn: a put guarded by a mod_revision compare, as the agents write the CRT
#   agent   snmpset through host 1 changing one device's ownership: the SET, the agent's transaction on the CRT's
#           revision, the watch fan-out
# each timed from the command's start to the first, median and last of the watchers' first event.  Then one more
# change through host 1, timed until every agent reads the new version (polled over SNMP).
# Knobs: CW_WATCHERS (1000), CW_ROUNDS (5), CW_AGENTS (3).  Goal: last watcher <= 1 s after the change.
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

CW_WATCHERS=${CW_WATCHERS:-1000}
CW_ROUNDS=${CW_ROUNDS:-5}
CW_AGENTS=${CW_AGENTS:-3}

sa_init bench-clu-etcd
[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first"
sa_need etcd-server etcd
sa_need etcd-client etcdctl
sa_need curl curl
sa_need python3 python3
ulimit -n 8192 2>/dev/null || true

C=$SA_OID.3.5.1
VERSION=$C.1.1.0
OWN=$C.3.1.7
OWNER=$C.4.1.2

EPORT=$(sa_free_port tcp)
EPEER=$(sa_free_port tcp)
EURL=http://127.0.0.1:$EPORT
sa_bg etcd --name sa --data-dir "$SA_TMP/etcd" --listen-client-urls "$EURL" --advertise-client-urls "$EURL" \
	--listen-peer-urls "http://127.0.0.1:$EPEER" --initial-advertise-peer-urls "http://127.0.0.1:$EPEER" \
	--initial-cluster "sa=http://127.0.0.1:$EPEER" --heartbeat-interval 50 --election-timeout 500 \
	>"$SA_TMP/etcd.log" 2>&1
sa_wait_for 20 eval "curl -sf $EURL/health | grep -q true" || sa_fail "etcd did not become healthy"
etcd_rev() {
	curl -sf -m 2 -X POST "$EURL/v3/kv/range" -d "{\"key\":\"$(printf /sanagent/cluster/c1/crt | base64 -w0)\"}" |
		python3 -c 'import json,sys; print((json.load(sys.stdin).get("kvs") or [{}])[0].get("mod_revision",""))'
}

# Host 1 brings the first table (unit 112, controller 114A, devices 116A1 and 116A2, as cluster_snmp.sh seeds them).
row() {
	printf 'cluster.res.%s\t1\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t3\t%s\t\t\t0\t1\t1\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9"
}
mkdir -p "$SA_TMP/a1/state"
{
	row 1 1 0000000000000108 udp:198.18.0.108:161 0 0 3 1 iqn.2026-01.org.sanagent:host108
	row 2 1 0000000000000110 udp:198.18.0.110:161 0 0 3 2 iqn.2026-01.org.sanagent:host110
	row 3 2 0000000000000112 udp:198.18.0.112:161 0 0 1 "" unit112
	row 4 3 6a1f000000000001 198.18.0.112:3260 1 3 1 "" iqn.2026-01.org.sanagent:unit112.114a
	row 5 4 600140500000000000000000000000a1 "" 1 4 1 "" ""
	row 6 4 600140500000000000000000000000a2 "" 2 4 1 "" ""
	printf 'cluster.version\t3 0000000000000108 2\n'
} | "$SA_BUILDDIR/tests/integration/state_writer" load "$SA_TMP/a1/state/sanagent.state" || sa_fail "cannot seed the state"

members=""
for k in $(seq 1 "$CW_AGENTS"); do
	g=$(printf '%016x' $((0x200 + k)))
	[ "$k" = 1 ] && g=0000000000000108
	[ "$k" = 2 ] && g=0000000000000110
	members="$members{ type = \"host\"; guid = \"$g\"; address = \"udp:198.18.1.$k:161\"; name = \"iqn.2026-01.org.sanagent:h$k\"; },"
done
members="$members{ type = \"unit\"; guid = \"0000000000000112\"; address = \"udp:198.18.0.112:161\"; name = \"unit112\"; }"
declare -a SNMP
start_host() {
	local k=$1 d=$SA_TMP/a$1 g
	g=$(printf '%016x' $((0x200 + k)))
	[ "$k" = 1 ] && g=0000000000000108
	[ "$k" = 2 ] && g=0000000000000110
	mkdir -p "$d/persist" "$d/agent-persist" "$d/state"
	SNMP[$k]=$(sa_free_port udp)
	sa_master_snmpd "$d" "${SNMP[$k]}"
	cat >"$d/sanagent.conf" <<EOF
agent = { agentx_socket = "unix:$d/agentx.sock"; agentx_ping_interval = 1; state_file = "$d/state/sanagent.state"; };
cluster = { role = "host"; guid = "$g"; initiator_name = "iqn.2026-01.org.sanagent:h$k"; granularity = "device";
  poll_interval = 0; sync_interval = 0; members = ( $members );
  etcd = { endpoints = [ "$EURL" ]; cluster = "c1"; }; };
EOF
	SNMP_PERSISTENT_DIR="$d/agent-persist" sa_bg "$SA_BUILDDIR/sanagentd" -f -c "$d/sanagent.conf" \
		-p "$d/sanagentd.pid" 2>>"$d/sanagentd.log"
}
get() { snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv "127.0.0.1:${SNMP[$1]}" "${@:2}" 2>/dev/null | grep -v '^No Such'; }
SETCMD="snmpset -v3 -l authPriv -u $SA_V3_USER -a SHA -A $SA_V3_AUTH -x AES -X $SA_V3_PRIV -t 3 -r 0 127.0.0.1"
all_at() { # REV: every agent reads version REV
	local k
	for k in $(seq 1 "$CW_AGENTS"); do [ "$(get "$k" $VERSION)" = "$1" ] || return 1; done
}

start_host 1
sa_wait_for 15 eval "[ \"\$(get 1 $C.1.9.0)\" = 1 ]" || sa_fail "host 1 not serving"
sa_wait_for 10 eval '[ -n "$(etcd_rev)" ]' || sa_fail "host 1 did not write the CRT"
for k in $(seq 2 "$CW_AGENTS"); do start_host "$k"; done
for k in $(seq 2 "$CW_AGENTS"); do
	sa_wait_for 20 eval "[ \"\$(get $k $C.1.9.0)\" = 1 ]" || sa_fail "host $k not serving"
done
sa_wait_for 10 eval 'all_at "$(etcd_rev)"' || sa_fail "agents not at etcd's revision"
# 114A shared by hosts 1 and 2, 116A1 dedicated to host 1: the toggled device.
$SETCMD:"${SNMP[1]}" $OWN.3 i 2 $OWNER.3.1 i 4 $OWNER.3.2 i 4 $OWN.4 i 2 $OWNER.4.1 i 4 $OWNER.4.2 i 4 \
	$OWN.5 i 3 $OWNER.5.1 i 4 >/dev/null || sa_fail "initial SET refused"
sa_wait_for 10 eval 'all_at "$(etcd_rev)"' || sa_fail "agents not in step after the initial SET"

# The agent toggles 116A1 between dedicated to host 1 and shared by 1 and 2 (both SETs in one script, by state).
cat >"$SA_TMP/toggle.sh" <<EOF
#!/bin/bash
if [ -e "$SA_TMP/shared" ]; then rm -f "$SA_TMP/shared"; exec $SETCMD:${SNMP[1]} $OWN.5 i 3 $OWNER.5.2 i 6
else touch "$SA_TMP/shared"; exec $SETCMD:${SNMP[1]} $OWN.5 i 2 $OWNER.5.2 i 4; fi
EOF
# A transaction shaped as the agents' (a put guarded by a mod_revision compare), on its own key.
BK=$(printf /sanagent/cluster/c1/bench | base64 -w0)
cat >"$SA_TMP/txn.sh" <<EOF
#!/bin/bash
exec curl -sf -m 3 -X POST $EURL/v3/kv/txn -d '{"compare":[{"key":"$BK","target":"VERSION","result":"GREATER","version":"-1"}],"success":[{"request_put":{"key":"$BK","value":"'\$(date +%s%N | base64 -w0)'"}}]}'
EOF
chmod +x "$SA_TMP/toggle.sh" "$SA_TMP/txn.sh"

echo "cluster_etcd_watch: $CW_WATCHERS watch streams from one process + $CW_AGENTS agents (each a watcher), etcd $(etcd --version | sed -n 's/etcd Version: //p'), $(nproc) CPUs, loopback"
python3 "$SA_SRCDIR/bench/etcd_watchers.py" 127.0.0.1 "$EPORT" /sanagent/cluster/c1/ "$CW_WATCHERS" "$CW_ROUNDS" \
	anchor "etcdctl --endpoints=$EURL put /sanagent/cluster/c1/bench x" \
	txn "$SA_TMP/txn.sh" \
	agent "$SA_TMP/toggle.sh" || sa_fail "the watcher load failed"

# The agents themselves: one more change through host 1, until every agent reads etcd's new revision.
# shellcheck disable=SC2034 # rev0 is read inside the eval below
rev0=$(etcd_rev)
t0=$(sa_now_ms)
"$SA_TMP/toggle.sh" >/dev/null || sa_fail "toggle refused"
sa_wait_for 10 eval '[ "$(etcd_rev)" != "$rev0" ] && all_at "$(etcd_rev)"' || sa_fail "agents did not converge"
echo "agents: all $CW_AGENTS at etcd revision $(etcd_rev) $(sa_secs_since "$t0") s after the SET started (polled over SNMP, 0.1 s steps)"
