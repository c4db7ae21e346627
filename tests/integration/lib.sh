# lib.sh: shared helpers for integration tests and the lab: temp dirs, free ports, polling, real daemons.
# Source it; it sets SA_TMP (removed on exit unless SA_KEEP=1) and kills every process it started.

SA_SRCDIR=${SA_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SA_BUILDDIR=${SA_BUILDDIR:-$SA_SRCDIR/build}
SA_SHARED_MIBS=${SA_SHARED_MIBS:-$(cd "$SA_SRCDIR/.." && pwd)/shared/mibs}
SA_MIBDIRS="$SA_SRCDIR/mibs:$SA_SHARED_MIBS:/usr/share/snmp/mibs"
SA_OID=.1.3.6.1.4.1.32473.1
SA_PIDS=()
SA_PORTS_TAKEN=" "

# The v3 user that may write, and the read-only community, for every lab and test.
SA_V3_USER=saadmin
SA_V3_AUTH=sanlab-auth-pass
SA_V3_PRIV=sanlab-priv-pass
SA_RO_COMMUNITY=public
SA_TRAP_COMMUNITY=labtrap

export PATH="$PATH:/usr/sbin:/sbin"

sa_log() { echo "# $*" >&2; }
sa_fail() { echo "FAIL: $*" >&2; sa_dump_logs; exit 1; }
sa_skip() { echo "SKIP: $*" >&2; exit 77; }

sa_dump_logs() {
	local f
	[ -n "${SA_TMP:-}" ] || return 0
	for f in "$SA_TMP"/*.log; do
		[ -s "$f" ] || continue
		echo "---- $f (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
}

sa_cleanup() {
	local rc=$? p
	for p in "${SA_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${SA_PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "${SA_TMP:-}" ] && [ "${SA_KEEP:-0}" != 1 ]; then rm -rf "$SA_TMP"; fi
	exit "$rc"
}

# sa_init NAME: temp dir, isolated net-snmp config path, cleanup on any exit.
sa_init() {
	[ "$(id -u)" = 0 ] || sa_skip "integration tests run as root"
	SA_TMP=$(mktemp -d "/tmp/sanagent-${1:-test}.XXXXXX")
	chmod 755 "$SA_TMP"
	mkdir -p "$SA_TMP/snmpconf"
	# Keep ~/.snmp and /etc/snmp/snmp.conf out of the tools' way.
	export SNMPCONFPATH="$SA_TMP/snmpconf"
	export MIBS="" MIBDIRS="$SA_MIBDIRS"
	trap sa_cleanup EXIT
	trap 'exit 143' TERM INT
}

# sa_bg CMD...: start a background process and remember it for cleanup; sets SA_LASTPID.
sa_bg() {
	"$@" &
	SA_LASTPID=$!
	SA_PIDS+=("$SA_LASTPID")
}

# sa_free_port udp|tcp: a port nobody listens on and this run has not handed out.
sa_free_port() {
	local proto=${1:-udp} port flag=-Hlnu
	[ "$proto" = tcp ] && flag=-Hlnt
	while :; do
		port=$((20000 + RANDOM % 40000))
		case "$SA_PORTS_TAKEN" in *" $port "*) continue ;; esac
		ss $flag "sport = :$port" | grep -q . && continue
		SA_PORTS_TAKEN="$SA_PORTS_TAKEN$port "
		echo "$port"
		return 0
	done
}

# sa_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
sa_wait_for() {
	local limit=$1 i=0
	shift
	while [ $i -lt $((limit * 10)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

sa_udp_listening() { ss -Hlnu "sport = :$1" | grep -q .; }

# sa_snmpd_conf: write $SA_TMP/snmpd.conf for a private master (SA_SNMP_PORT, SA_TRAP_PORT set).
sa_snmpd_conf() {
	cat >"$SA_TMP/snmpd.conf" <<EOF
agentaddress udp:127.0.0.1:$SA_SNMP_PORT
master agentx
agentXSocket unix:$SA_TMP/agentx.sock
agentXTimeout 5
rocommunity $SA_RO_COMMUNITY 127.0.0.1
createUser $SA_V3_USER SHA "$SA_V3_AUTH" AES "$SA_V3_PRIV"
rwuser $SA_V3_USER priv
trapsess -v 2c -c $SA_TRAP_COMMUNITY 127.0.0.1:$SA_TRAP_PORT
EOF
}

# sa_start_snmpd [EXTRA_CONF_LINE...]: a private snmpd master on SA_SNMP_PORT.
sa_start_snmpd() {
	local line
	: "${SA_SNMP_PORT:=$(sa_free_port udp)}"
	: "${SA_TRAP_PORT:=$(sa_free_port udp)}"
	sa_snmpd_conf
	for line in "$@"; do echo "$line" >>"$SA_TMP/snmpd.conf"; done
	mkdir -p "$SA_TMP/snmpd-persist"
	SNMP_PERSISTENT_DIR="$SA_TMP/snmpd-persist" sa_bg snmpd -f -Lf "$SA_TMP/snmpd.log" -C \
		-c "$SA_TMP/snmpd.conf" -p "$SA_TMP/snmpd.pid"
	SA_SNMPD_PID=$SA_LASTPID
	sa_wait_for 10 sa_snmp_alive || sa_fail "snmpd did not answer on udp:$SA_SNMP_PORT"
}

sa_snmp_alive() { snmpget -v2c -c "$SA_RO_COMMUNITY" -t 0.5 -r 0 "127.0.0.1:$SA_SNMP_PORT" .1.3.6.1.2.1.1.3.0; }

sa_stop_pid() {
	local p=$1
	kill "$p" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

# sa_start_snmptrapd: receives what the master forwards; log in $SA_TMP/snmptrapd.log, numeric OIDs.
sa_start_snmptrapd() {
	: "${SA_TRAP_PORT:=$(sa_free_port udp)}"
	cat >"$SA_TMP/snmptrapd.conf" <<EOF
authCommunity log $SA_TRAP_COMMUNITY
EOF
	mkdir -p "$SA_TMP/snmptrapd-persist"
	SNMP_PERSISTENT_DIR="$SA_TMP/snmptrapd-persist" sa_bg snmptrapd -f -On -Lf "$SA_TMP/snmptrapd.log" -C \
		-c "$SA_TMP/snmptrapd.conf" -p "$SA_TMP/snmptrapd.pid" "udp:127.0.0.1:$SA_TRAP_PORT"
	SA_SNMPTRAPD_PID=$SA_LASTPID
	sa_wait_for 10 sa_udp_listening "$SA_TRAP_PORT" || sa_fail "snmptrapd did not listen"
}

# sa_agent_conf [EXTRA...]: a minimal agent config at $SA_TMP/sanagent.conf.
sa_agent_conf() {
	cat >"$SA_TMP/sanagent.conf" <<EOF
agent = {
  agentx_socket = "unix:$SA_TMP/agentx.sock";
  agentx_ping_interval = 1;
  state_file = "$SA_TMP/state/sanagent.state";
};
EOF
	local extra
	for extra in "$@"; do echo "$extra" >>"$SA_TMP/sanagent.conf"; done
}

# sa_start_agent [ARGS...]: sanagentd in the foreground mode, logging to $SA_TMP/sanagentd.log.
sa_start_agent() {
	[ -f "$SA_TMP/sanagent.conf" ] || sa_agent_conf
	mkdir -p "$SA_TMP/agent-persist"
	SNMP_PERSISTENT_DIR="$SA_TMP/agent-persist" sa_bg "$SA_BUILDDIR/sanagentd" -f \
		-c "$SA_TMP/sanagent.conf" -p "$SA_TMP/sanagentd.pid" "$@" 2>>"$SA_TMP/sanagentd.log"
	SA_AGENT_PID=$SA_LASTPID
}

# sa_wait_agent: the agent's objects are served through the master.
sa_wait_agent() { sa_wait_for "${1:-10}" sa_agent_serving || sa_fail "agent objects not served through snmpd"; }
sa_agent_serving() { sa_get "$SA_OID.1.1.1.0" | grep -q .; }

# sa_get OID...: values only, through the master, v2c read-only community.
sa_get() {
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv "127.0.0.1:$SA_SNMP_PORT" "$@" 2>/dev/null |
		grep -v -e '^No Such' 
}

# sa_walk OID: "OID = TYPE: value" lines through the master.
sa_walk() { snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On "127.0.0.1:$SA_SNMP_PORT" "$@"; }

# sa_set ARGS...: snmpset as the authPriv v3 user.
sa_set() {
	snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 2 -r 0 \
		"127.0.0.1:$SA_SNMP_PORT" "$@"
}

# sa_trap_seen OID_SUFFIX: a notification with that snmpTrapOID reached snmptrapd.
sa_trap_seen() { grep -q -- "$1" "$SA_TMP/snmptrapd.log" 2>/dev/null; }
sa_trap_count() { grep -c -- "$1" "$SA_TMP/snmptrapd.log" 2>/dev/null || true; }
