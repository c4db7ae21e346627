#!/usr/bin/env bash
# cluster_converge.sh: CRT convergence in embedded mode (peer sync over SNMP) with CONV_N hosts on loopback.
#
# Each host is one snmpd with sanagent.so loaded (dlmod: one process per host, so 64 hosts fit 2 cores), its own
# state file, trap receiver (the sync's informs arrive there) and a cluster section listing all CONV_N hosts.  Every
# host starts from the same CRT (written into its state file in the engine's row format): the CONV_N host rows, one
# unit shared by all, one controller and one device dedicated to host 1.
#   converge  an ownership change on host 1 (the controller moves between host 1 and host 2: one SET PDU with the
#             ownership and both owner rows) -> time until every host reports the new sanCluVersion.  Clock: from
#             just before snmpset starts to the answer that completed the set (bench/clu_poll.c polls all hosts
#             in parallel rounds).  CONV_CHANGES changes, median and worst.
#   boot      host CONV_N stopped, CONV_BOOTS changes made without it, then it restarts from its stale state file:
#             time from its start to serving the newest version (and, inside that, from its first answer).
#   anchor    one parallel SNMP GET round to all CONV_N hosts (clu_poll round), median of 20, in the same run.
# Goals (issue): converge <= 2 s, boot adoption <= 1 s.  Printed, never a threshold.
# Knobs: CONV_N (64), CONV_CHANGES (5), CONV_BOOTS (3).
# Exit: 0 measured, 1 failed, 77 skipped.
set -u -o pipefail

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

CONV_N=${CONV_N:-64}
CONV_CHANGES=${CONV_CHANGES:-5}
CONV_BOOTS=${CONV_BOOTS:-3}
CLU=$SA_OID.3.5.1
VERSION_OID=$CLU.1.1.0
RES=$CLU.3.1
OWN=$CLU.4.1
SYNC_USER=clusync
SYNC_AUTH=bench-sync-auth
SYNC_PRIV=bench-sync-priv
UNIT=$((CONV_N + 1)) CTL=$((CONV_N + 2)) DEV=$((CONV_N + 3)) # CRT rows after the host rows 1..CONV_N

sa_init bench-cluster-converge
SO=$SA_BUILDDIR/.libs/sanagent.so
[ -f "$SO" ] || sa_skip "no $SO: build first"
SW=$SA_BUILDDIR/tests/integration/state_writer
[ -x "$SW" ] || sa_skip "no $SW: make check builds it (make -C build tests/integration/state_writer)"
[ "$CONV_N" -le 64 ] || sa_fail "CONV_N at most 64 (an owner list holds 64 hosts)"
sa_need build-essential cc
cc -std=gnu11 -O2 -o "$SA_TMP/clu_poll" "$SA_SRCDIR/bench/clu_poll.c" -lnetsnmp || sa_fail "cannot build bench/clu_poll.c"

guid() { printf '%016x' $((0x5a00 + $1)); }
iqn() { echo "iqn.2024-01.org.sanagent.bench:h$1"; }
declare -a PORT TPORT PID
declare -A TAKEN
# sa_free_port runs in a command substitution here, so it cannot remember what it handed out: this does.
free_port() {
	local p
	while :; do
		p=$(sa_free_port udp)
		[ -z "${TAKEN[$p]:-}" ] && { TAKEN[$p]=1; FREE=$p; return 0; }
	done
}
for ((i = 1; i <= CONV_N; i++)); do
	free_port && PORT[i]=$FREE
	free_port && TPORT[i]=$FREE
done
peers() { local i; for ((i = 1; i <= CONV_N; i++)); do [ "${1:-0}" = "$i" ] || echo "udp:127.0.0.1:${PORT[$i]}"; done; }

# The CRT every host starts from: version 1 written by host 1.
crt_lines() {
	local i owners=""
	for ((i = 1; i <= CONV_N; i++)); do owners+="${owners:+,}$i"; done
	for ((i = 1; i <= CONV_N; i++)); do
		printf 'cluster.res.%d\t1\t1\t%s\tudp:127.0.0.1:%s\t0\t0\t3\t%d\t1\t%s\t\t\t0\t1\t1\n' "$i" "$(guid "$i")" \
			"${PORT[$i]}" "$i" "$(iqn "$i")"
	done
	printf 'cluster.res.%d\t1\t2\t00000000000000b1\t\t0\t0\t2\t%s\t1\tunit1\t\t\t0\t1\t1\n' "$UNIT" "$owners"
	printf 'cluster.res.%d\t1\t3\t%016x\t127.0.0.1:3260\t1\t%d\t3\t1\t1\tiqn.2024-01.org.sanagent.bench:t1\t\t\t0\t1\t1\n' \
		"$CTL" $((0x7700)) "$UNIT"
	printf 'cluster.res.%d\t1\t4\t60014050000000000000000000000001\t\t1\t%d\t3\t1\t1\t\tLIO-ORG\tdisk\t67108864\t1\t1\n' \
		"$DEV" "$CTL"
	printf 'cluster.version\t1 %s 1\n' "$(guid 1)"
}
members() {
	local i
	for ((i = 1; i <= CONV_N; i++)); do
		printf '{ type = "host"; guid = "%s"; address = "udp:127.0.0.1:%s"; notify = "udp:127.0.0.1:%s"; name = "%s"; }%s\n' \
			"$(guid "$i")" "${PORT[$i]}" "${TPORT[$i]}" "$(iqn "$i")" "$([ "$i" -lt "$CONV_N" ] && echo ,)"
	done
}
user() { echo "{ name = \"$SYNC_USER\"; auth_protocol = \"SHA\"; auth_passphrase = \"$SYNC_AUTH\"; priv_protocol = \"AES\"; priv_passphrase = \"$SYNC_PRIV\"; }"; }

MEMBERS=$(members)
setup_host() {
	local i=$1 d=$SA_TMP/h$1
	mkdir -p "$d/state" "$d/persist"
	rm -f "$d/state/sanagent.state"*
	crt_lines | "$SW" load "$d/state/sanagent.state" >/dev/null || sa_fail "host $i: cannot write its state file"
	cat >"$d/sanagent.conf" <<EOF
agent = { state_file = "$d/state/sanagent.state"; };
trap_receiver = { listen = "udp:127.0.0.1:${TPORT[$i]}"; users = ( $(user) ); };
cluster = {
  role = "host";
  guid = "$(guid "$i")";
  initiator_name = "$(iqn "$i")";
  granularity = "controller";
  poll_interval = 0;
  sync_interval = 0;
  peer_user = { name = "$SYNC_USER"; auth_passphrase = "$SYNC_AUTH"; priv_passphrase = "$SYNC_PRIV"; };
  sync_users = [ "$SYNC_USER" ];
  members = ( $MEMBERS );
};
EOF
	# No createUser for the sync user: in one process snmpd and the agent's trap receiver share the USM, and the
	# receiver creates it (with this engine's ID, as an inform's receiver must); snmpd's peers read as it too.
	cat >"$d/snmpd.conf" <<EOF
agentaddress udp:127.0.0.1:${PORT[$i]}
rocommunity $SA_RO_COMMUNITY 127.0.0.1
createUser $SA_V3_USER SHA "$SA_V3_AUTH" AES "$SA_V3_PRIV"
rwuser $SA_V3_USER priv
rouser $SYNC_USER priv
dlmod sanagent $SO
sanagentConfig $d/sanagent.conf
EOF
}
start_host() {
	local d=$SA_TMP/h$1
	SNMP_PERSISTENT_DIR="$d/persist" sa_bg snmpd -f -I -smux -Lf "$d/snmpd.log" -C -c "$d/snmpd.conf" -p "$d/snmpd.pid"
	PID[$1]=$SA_LASTPID
}
get_version() { snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 0 -Oqv "127.0.0.1:${PORT[$1]}" "$VERSION_OID" 2>/dev/null; }
set1() {
	snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 5 -r 0 \
		"127.0.0.1:${PORT[1]}" "$@" >/dev/null
}
# move K: the controller goes from its owner to the other of hosts 1 and 2 (change K of the run).
OWNER=1
move() {
	local to=$((3 - OWNER))
	set1 "$RES.7.$CTL" i 3 "$OWN.2.$CTL.$OWNER" i 6 "$OWN.2.$CTL.$to" i 4 || return 1
	OWNER=$to
}

for ((i = 1; i <= CONV_N; i++)); do setup_host "$i"; done
T_START=$(sa_now_ms)
for ((i = 1; i <= CONV_N; i++)); do start_host "$i"; done
mapfile -t ALL < <(peers)
mapfile -t REST < <(peers "$CONV_N")
"$SA_TMP/clu_poll" "$SA_RO_COMMUNITY" "$VERSION_OID" until 1 120 "${ALL[@]}" >/dev/null ||
	sa_fail "not every host serves sanCluVersion"
sa_log "$CONV_N hosts serving after $(sa_secs_since "$T_START") s"
V=$(get_version 1)
[ -n "$V" ] || sa_fail "host 1 does not answer"

# ---- anchor ----
ANCHOR=$("$SA_TMP/clu_poll" "$SA_RO_COMMUNITY" "$VERSION_OID" round 20 "${ALL[@]}") || sa_fail "anchor round failed"
A_MS=$(sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<<"$ANCHOR")

# ---- converge ----
CONV=()
for ((k = 1; k <= CONV_CHANGES; k++)); do
	t0=$(sa_now_ms)
	move || sa_fail "change $k: SET on host 1 failed"
	want=$((V + k))
	[ "$(get_version 1)" -ge "$want" ] || sa_fail "change $k: host 1 at version $(get_version 1), want $want"
	out=$("$SA_TMP/clu_poll" "$SA_RO_COMMUNITY" "$VERSION_OID" until "$want" 30 "${ALL[@]}") ||
		sa_fail "change $k: not every host reached version $want within 30 s"
	done_ms=$(sed -n 's/.*done_epoch_ms=\([0-9.]*\).*/\1/p' <<<"$out")
	CONV+=("$(awk -v a="$done_ms" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')")
	sa_log "change $k: all $CONV_N at version $want after ${CONV[-1]} ms"
done
V=$((V + CONV_CHANGES))

# ---- boot adoption ----
BOOT=() FIRST=()
for ((k = 1; k <= CONV_BOOTS; k++)); do
	sa_stop_pid "${PID[$CONV_N]}"
	move || sa_fail "boot $k: SET on host 1 failed"
	V=$((V + 1))
	"$SA_TMP/clu_poll" "$SA_RO_COMMUNITY" "$VERSION_OID" until "$V" 30 "${REST[@]}" >/dev/null ||
		sa_fail "boot $k: the running hosts did not reach version $V"
	t0=$(sa_now_ms)
	start_host "$CONV_N"
	# Asked every 5 ms while it starts (a round waits 100 ms by default): the figure's resolution.
	out=$(CLU_POLL_ROUND_MS=5 "$SA_TMP/clu_poll" "$SA_RO_COMMUNITY" "$VERSION_OID" until "$V" 30 \
		"udp:127.0.0.1:${PORT[$CONV_N]}") ||
		sa_fail "boot $k: host $CONV_N did not adopt version $V within 30 s"
	done_ms=$(sed -n 's/.*done_epoch_ms=\([0-9.]*\).*/\1/p' <<<"$out")
	first=$(sed -n 's/.*first_answer_ms=\([0-9.]*\).*/\1/p' <<<"$out")
	took=$(sed -n 's/^ms=\([0-9.]*\).*/\1/p' <<<"$out")
	BOOT+=("$(awk -v a="$done_ms" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')")
	FIRST+=("$(awk -v a="$took" -v f="$first" 'BEGIN { printf "%.1f", a - f }')")
	sa_log "boot $k: host $CONV_N at version $V ${BOOT[-1]} ms after its start"
done

# Every host holds the same table in the end (rows and owners), as read over SNMP.
crt_of() {
	snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 2 -r 1 -On -Oq "127.0.0.1:${PORT[$1]}" "$CLU.3" "$CLU.4" 2>/dev/null |
		grep -v "^$RES\.8\." | md5sum
}
ref=$(crt_of 1)
for ((i = 2; i <= CONV_N; i++)); do
	[ "$(crt_of "$i")" = "$ref" ] || sa_fail "host $i's CRT differs from host 1's"
done

med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
echo "CRT convergence, embedded mode: $CONV_N hosts (dlmod snmpd each) on loopback, $(nproc) CPUs, net-snmp" \
	"$(snmpd -v 2>/dev/null | sed -n 's/.*version: *//p' | head -n1)"
echo "anchor: one parallel GET round to all $CONV_N hosts: median $A_MS ms ($ANCHOR)"
echo "converge: SET on host 1 -> all $CONV_N at the new version, $CONV_CHANGES changes (ms): ${CONV[*]}"
echo "  median $(med "${CONV[@]}") ms (x$(ratio "$(med "${CONV[@]}")" "$A_MS") anchor), worst $(max "${CONV[@]}") ms;" \
	"goal <= 2000 ms: $(awk -v m="$(max "${CONV[@]}")" 'BEGIN { print (m <= 2000 ? "met" : "MISSED") }')"
echo "boot adoption: host $CONV_N restarted from a stale state file, $CONV_BOOTS times (ms from start): ${BOOT[*]};" \
	"from its first answer: ${FIRST[*]}"
echo "  median $(med "${BOOT[@]}") ms (x$(ratio "$(med "${BOOT[@]}")" "$A_MS") anchor), from first answer $(med "${FIRST[@]}") ms;" \
	"goal <= 1000 ms: $(awk -v m="$(max "${BOOT[@]}")" 'BEGIN { print (m <= 1000 ? "met" : "MISSED") }')"
echo "all $CONV_N CRTs identical at version $V"
