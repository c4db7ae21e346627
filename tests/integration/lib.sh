# lib.sh: shared helpers for integration tests and the lab: temp dirs, free ports, polling, real daemons.
# Source it; it sets SA_TMP (removed on exit unless SA_KEEP=1) and kills every process it started.

SA_SRCDIR=${SA_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SA_BUILDDIR=${SA_BUILDDIR:-$SA_SRCDIR/build}
SA_SHARED_MIBS=${SA_SHARED_MIBS:-$(cd "$SA_SRCDIR/.." && pwd)/shared/mibs}
# Standard MIB texts (SNMPv2-SMI, INET-ADDRESS-MIB, ...): Debian's main archive ships none.  ../shared/mibs holds
# copies; on a plain clone, Debian's snmp-mibs-downloader (non-free) puts them in /usr/share/snmp/mibs/ietf and iana.
SA_STD_MIBDIRS="$SA_SHARED_MIBS:/usr/share/snmp/mibs/ietf:/usr/share/snmp/mibs/iana"
SA_MIBDIRS="$SA_SRCDIR/mibs:$SA_STD_MIBDIRS:/usr/share/snmp/mibs"
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

# sa_need PACKAGE CMD...: every CMD is on PATH, or the test fails naming the Debian package.  ./sanlab deps
# installs every package a test uses, so a missing tool is a broken setup to fix, never a reason to skip.
sa_need() {
	local pkg=$1 c
	shift
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || sa_fail "$c not found: install $pkg (./sanlab deps installs it)"
	done
}

# sa_built FILE WHAT: a build product the test needs exists, or the test fails (configure names what is missing).
sa_built() { [ -e "$1" ] || sa_fail "$2 not built ($1 missing): run ./sanlab build and read configure's output"; }

# sa_std_mibdir: the first directory of SA_STD_MIBDIRS that holds the standard MIB texts (INET-ADDRESS-MIB).
sa_std_mibdir() {
	local d
	local IFS=:
	for d in $SA_STD_MIBDIRS; do
		if [ -f "$d/INET-ADDRESS-MIB.txt" ] || [ -f "$d/INET-ADDRESS-MIB" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}
sa_need_std_mibs() {
	sa_std_mibdir >/dev/null ||
		sa_fail "standard MIB texts (INET-ADDRESS-MIB, ...) not found in $SA_STD_MIBDIRS: put shared/mibs next to the clone or install snmp-mibs-downloader (Debian non-free)"
}

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
	sa_san_reports || rc=1
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
	# The tools' own persistent dir, made ready: on first use they create cert_indexes and
	# say so on stderr, which would mix into values the tests read on a fresh machine.
	mkdir -p "$SA_TMP/tools-persist/cert_indexes"
	export SNMP_PERSISTENT_DIR="$SA_TMP/tools-persist"
	sa_san_init
	trap sa_cleanup EXIT
	trap 'exit 143' TERM INT
}

# Sanitized builds (configure --enable-sanitizers, ./sanlab test --sanitize).  Our executables report into
# $SA_TMP/asan.PID and ubsan.PID; sa_cleanup prints every report and fails the test.  Leaks are checked in our
# executables; snmpd, the foreign host of our dlmod module, gets the runtime preloaded (it must come first in a
# process) and no leak check: its own leaks are not ours.  (nbdkit's plug-ins stay uninstrumented.)
# fast_unwind_on_malloc=0: libnetsnmp has no frame pointers, and without the slow unwinder a leak it makes shows
# no caller, so tests/lsan.supp could not name it.
SA_ASAN_OPTIONS=${SA_ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:fast_unwind_on_malloc=0}
SA_UBSAN_OPTIONS=${SA_UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

sa_sanitized() { grep -q '^#define SA_SANITIZERS 1' "$SA_BUILDDIR/config.h" 2>/dev/null; }

sa_san_init() {
	local rt host real supp=$SA_SRCDIR/tests/lsan.supp
	sa_sanitized || return 0
	export ASAN_OPTIONS="$SA_ASAN_OPTIONS:log_path=$SA_TMP/asan"
	export UBSAN_OPTIONS="$SA_UBSAN_OPTIONS:log_path=$SA_TMP/ubsan"
	[ -f "$supp" ] && export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
	rt=$(ldd "$SA_BUILDDIR/sanagentd" | awk '/lib(a|ub)san\.so/ { print $3 }' | paste -sd:)
	[ -n "$rt" ] || sa_fail "sanitized build, but $SA_BUILDDIR/sanagentd links no libasan/libubsan"
	mkdir -p "$SA_TMP/san-hosts"
	# nbdkit hosts nothing instrumented: the sanitized build keeps its plug-ins plain (Makefile.am says why).
	for host in snmpd; do
		real=$(command -v "$host") || continue
		{
			echo '#!/bin/sh'
			echo "# $host hosting a sanitized module of this build: the ASan runtime first, no leak check of the host."
			# An snmpd without dlmod in its config (-c FILE) hosts nothing of ours: left as it is.
			[ "$host" = snmpd ] && printf '%s\n' 'c= p=' 'for a; do [ "$p" = -c ] && c=$a; p=$a; done' \
				"grep -qs '^[[:space:]]*dlmod' \"\$c\" || exec \"$real\" \"\$@\""
			echo "exec env LD_PRELOAD=\"$rt\${LD_PRELOAD:+:\$LD_PRELOAD}\" ASAN_OPTIONS=\"\$ASAN_OPTIONS:detect_leaks=0\" \"$real\" \"\$@\""
		} >"$SA_TMP/san-hosts/$host"
		chmod 755 "$SA_TMP/san-hosts/$host"
	done
	export PATH="$SA_TMP/san-hosts:$PATH"
}

# sa_san_reports: prints the sanitizer reports of this test's processes; fails when there is one.
sa_san_reports() {
	local f n=0
	[ -n "${SA_TMP:-}" ] || return 0
	for f in "$SA_TMP"/asan.* "$SA_TMP"/ubsan.*; do
		[ -s "$f" ] || continue
		n=$((n + 1))
		echo "FAIL: sanitizer report ${f##*/}:" >&2
		cat "$f" >&2
	done
	[ $n -eq 0 ]
}

# sa_bg CMD...: start a background process and remember it for cleanup; sets SA_LASTPID.
sa_bg() {
	"$@" &
	SA_LASTPID=$!
	SA_PIDS+=("$SA_LASTPID")
}

# sa_free_port udp|tcp: a port no socket uses and this run has not handed out, below the kernel's
# ephemeral range, so no outgoing connection of a parallel test can take it before a daemon binds it.
sa_free_port() {
	local proto=${1:-udp} port flag=-Hanu lo
	[ "$proto" = tcp ] && flag=-Hant
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	[ "$lo" -gt 11000 ] || lo=32768
	while :; do
		port=$((10000 + RANDOM % (lo - 10000)))
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

# sa_now_ms: wall clock in milliseconds (bash's EPOCHREALTIME, microseconds once its decimal point is gone).
sa_now_ms() {
	local us=${EPOCHREALTIME/[.,]/}
	echo $((us / 1000))
}
# sa_secs_since T0_MS: seconds since T0_MS (from sa_now_ms), three decimals.
sa_secs_since() {
	local d=$(($(sa_now_ms) - $1))
	printf '%d.%03d\n' $((d / 1000)) $((d % 1000))
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
	# -I -smux: no SMUX listener on 0.0.0.0:199 (nothing here speaks SMUX; Debian's unit does the same).
	SNMP_PERSISTENT_DIR="$SA_TMP/snmpd-persist" sa_bg snmpd -f -I -smux -Lf "$SA_TMP/snmpd.log" -C \
		-c "$SA_TMP/snmpd.conf" -p "$SA_TMP/snmpd.pid"
	SA_SNMPD_PID=$SA_LASTPID
	sa_wait_for 10 sa_snmp_alive || sa_fail "snmpd did not answer on udp:$SA_SNMP_PORT"
}

# sa_master_snmpd DIR PORT [LINE...]: one more private snmpd master, for an agent of its own in DIR (a test with
# several agents): DIR/snmpd.conf with AgentX at DIR/agentx.sock on udp:127.0.0.1:PORT, lib.sh's read community
# and v3 writer, LINEs appended; persistent data in DIR/persist, log $SA_TMP/NAME-snmpd.log (NAME: DIR's last
# component, where a failed test's log dump finds it).  Returns once it answers.
sa_master_snmpd() {
	local d=$1 port=$2 line
	shift 2
	mkdir -p "$d/persist"
	cat >"$d/snmpd.conf" <<EOF
agentaddress udp:127.0.0.1:$port
master agentx
agentXSocket unix:$d/agentx.sock
agentXTimeout 5
rocommunity $SA_RO_COMMUNITY 127.0.0.1
createUser $SA_V3_USER SHA "$SA_V3_AUTH" AES "$SA_V3_PRIV"
rwuser $SA_V3_USER priv
EOF
	for line in "$@"; do echo "$line" >>"$d/snmpd.conf"; done
	SNMP_PERSISTENT_DIR="$d/persist" sa_bg snmpd -f -I -smux -Lf "$SA_TMP/${d##*/}-snmpd.log" -C -c "$d/snmpd.conf" \
		-p "$d/snmpd.pid"
	sa_wait_for 10 snmpget -v2c -c "$SA_RO_COMMUNITY" -t 0.5 -r 0 "127.0.0.1:$port" .1.3.6.1.2.1.1.3.0 ||
		sa_fail "snmpd of $d did not answer on udp:$port"
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

# What the agent has committed (snapshot plus journal), one "key<TAB>value" line per key.  Read-only:
# safe while the agent runs.  The state file alone misses the commits since the last compaction.
sa_state_dump() { "$SA_BUILDDIR/tests/integration/state_writer" dump "${1:-$SA_TMP/state/sanagent.state}"; }

# sa_start_agent [ARGS...]: sanagentd in the foreground mode, logging to $SA_TMP/sanagentd.log.
sa_start_agent() {
	[ -f "$SA_TMP/sanagent.conf" ] || sa_agent_conf
	mkdir -p "$SA_TMP/agent-persist"
	SNMP_PERSISTENT_DIR="$SA_TMP/agent-persist" sa_bg "$SA_BUILDDIR/sanagentd" -f \
		-c "$SA_TMP/sanagent.conf" -p "$SA_TMP/sanagentd.pid" "$@" 2>>"$SA_TMP/sanagentd.log"
	SA_AGENT_PID=$SA_LASTPID
}

# sa_need_plugin [TOOL...]: PLUGIN is the built nbdkit-sanpath-plugin; fail without it, nbdkit or any TOOL.
sa_need_plugin() {
	local tool
	PLUGIN=$SA_BUILDDIR/.libs/nbdkit-sanpath-plugin.so
	sa_need nbdkit nbdkit
	for tool in "$@"; do
		case $tool in nbdcopy | nbdinfo | nbdsh) sa_need libnbd-bin "$tool" ;; *) sa_need "$tool" "$tool" ;; esac
	done
	sa_built "$PLUGIN" "nbdkit-sanpath-plugin (needs nbdkit-plugin-dev)"
}

# sa_start_balance_agent [EXTRA [SECTIONS]]: snmptrapd, snmpd and an agent whose balance engine runs $PLUGIN
# (sa_need_plugin) from RUN=$SA_TMP/run with fast reports and polls, the setup of the team, login and session tests;
# EXTRA (teams, ...) goes into the balance section, SECTIONS (a discovery section, ...) after it. Returns once the
# agent serves through snmpd.
sa_start_balance_agent() {
	sa_start_snmptrapd
	sa_start_snmpd
	RUN=$SA_TMP/run
	sa_agent_conf "balance = {
  run_dir = \"$RUN\";
  plugin = \"$PLUGIN\";
  plugin_args = [ \"report_ms=200\" ];
  poll_interval_ms = 100;${1:+
  $1}
};${2:+
$2}"
	sa_start_agent
	sa_wait_agent
}

# sa_lab0_teams: the balance teams of lab0, LUN 1 of $IQN over 127.0.0.1 and 127.0.0.2 port $P (sa_start_tgtd).
sa_lab0_teams() {
	cat <<EOF
teams = ( {
    name = "lab0"; target = "$IQN"; lun = 1;
    paths = ( { portal = "127.0.0.1:$P"; }, { portal = "127.0.0.2:$P"; } );
  } );
EOF
}

# sa_wait_agent: the agent's objects are served through the master.
sa_wait_agent() { sa_wait_for "${1:-10}" sa_agent_serving || sa_fail "agent objects not served through snmpd"; }
sa_agent_serving() { sa_get "$SA_OID.1.1.1.0" | grep -q .; }

# sa_get OID...: values only, through the master, v2c read-only community.
sa_get() {
	snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv "127.0.0.1:$SA_SNMP_PORT" "$@" 2>/dev/null |
		grep -v -e '^No Such' 
}

# sa_get1 OID...: the values of one GET (one PDU, so related values come from the same moment) on one line.
sa_get1() { sa_get "$@" | tr '\n' ' ' | sed 's/ $//'; }

# sa_start_isnsd_storage TARGET...: isnsd on 127.0.0.1:$ISNS_PORT (Security 0, a default discovery domain) with one
# entity, the storage host, registered with the portals 127.0.0.1:$SA_ISCSI_PORT and 127.0.0.2:$SA_ISCSI_PORT and
# the TARGETs.  sa_isnsadm talks to it as that host; sa_isns_pgs lists "NAME ADDRESS:PORT" of every portal group
# with a tag (one without grants no access).
sa_start_isnsd_storage() {
	local t regs=()
	ISNS_PORT=$(sa_free_port tcp)
	cat >"$SA_TMP/isnsd.conf" <<CONF
SourceName = $SA_IQN_PREFIX:isns
BindAddress = 127.0.0.1:$ISNS_PORT
PIDFile = $SA_TMP/isnsd.pid
ControlSocket = $SA_TMP/isnsctl
Database = $SA_TMP/isnsdb
Security = 0
DefaultDiscoveryDomain = 1
CONF
	mkdir -p "$SA_TMP/isnsdb"
	printf 'SourceName = %s\nServerAddress = 127.0.0.1:%s\nSecurity = 0\n' "$SA_IQN_PREFIX:storage" "$ISNS_PORT" \
		>"$SA_TMP/isnsadm.conf"
	sa_bg isnsd -f -4 -c "$SA_TMP/isnsd.conf" >"$SA_TMP/isnsd.log" 2>&1
	sa_wait_for 10 sa_isnsadm --list entities >/dev/null || sa_fail "isnsd did not answer on 127.0.0.1:$ISNS_PORT"
	for t in "$@"; do regs+=("target=$t"); done
	sa_isnsadm --register "portal=127.0.0.1:$SA_ISCSI_PORT" "portal=127.0.0.2:$SA_ISCSI_PORT" "${regs[@]}" \
		>"$SA_TMP/reg.log" 2>&1 || sa_fail "cannot register the targets: $(cat "$SA_TMP/reg.log")"
}
sa_isnsadm() { isnsadm -c "$SA_TMP/isnsadm.conf" "$@"; }
sa_isns_pgs() {
	sa_isnsadm --list portal-groups | awk -F' = ' '/Portal group name/{n=$2} /Portal group address/{a=$2}
		/Portal group port/{p=$2} /Portal group tag/{gsub(/"/,"",n); sub(/\/tcp/,"",p); print n, a ":" p}' | sort
}

# ---- a second agent on 127.0.0.1 (a name-server agent beside the storage or initiator agent of sa_start_agent) ----
# sa_ns_snmpd [LINES]: its snmpd on $NS_PORT with AgentX at $SA_TMP/ns-agentx.sock, lib.sh's v3 user allowed to
# write, LINES (e.g. a trapsess) appended to its snmpd.conf.  ns_get/ns_get1/ns_walk/ns_set talk to it.
sa_ns_snmpd() {
	NS_PORT=$(sa_free_port udp)
	cat >"$SA_TMP/ns-snmpd.conf" <<CONF
agentaddress udp:127.0.0.1:$NS_PORT
master agentx
agentXSocket unix:$SA_TMP/ns-agentx.sock
agentXTimeout 5
rocommunity $SA_RO_COMMUNITY 127.0.0.1
createUser $SA_V3_USER SHA "$SA_V3_AUTH" AES "$SA_V3_PRIV"
rwuser $SA_V3_USER priv
${1:-}
CONF
	mkdir -p "$SA_TMP/ns-snmpd-persist" "$SA_TMP/ns-agent-persist"
	SNMP_PERSISTENT_DIR="$SA_TMP/ns-snmpd-persist" sa_bg snmpd -f -I -smux -Lf "$SA_TMP/ns-snmpd.log" -C \
		-c "$SA_TMP/ns-snmpd.conf" -p "$SA_TMP/ns-snmpd.pid"
}
ns_get() { snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On -Oqv "127.0.0.1:$NS_PORT" "$@" 2>/dev/null | grep -v '^No Such'; }
ns_get1() { ns_get "$@" | tr '\n' ' ' | sed 's/ $//'; }
ns_walk() { snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On "127.0.0.1:$NS_PORT" "$@"; }
ns_set() {
	snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 2 -r 0 \
		"127.0.0.1:$NS_PORT" "$@"
}
ns_serving() { ns_get "$SA_OID.1.1.1.0" | grep -q .; }
# sa_ns_agent_conf < BODY: its config: its own AgentX socket and state file, then BODY (the engines' sections).
sa_ns_agent_conf() {
	{
		cat <<CONF
agent = {
  agentx_socket = "unix:$SA_TMP/ns-agentx.sock";
  agentx_ping_interval = 1;
  state_file = "$SA_TMP/ns-state/sanagent.state";
};
CONF
		cat
	} >"$SA_TMP/ns.conf"
}
# sa_ns_start_agent: starts it (NS_PID) and waits until its snmpd serves it.
sa_ns_start_agent() {
	SNMP_PERSISTENT_DIR="$SA_TMP/ns-agent-persist" sa_bg "$SA_BUILDDIR/sanagentd" -f -c "$SA_TMP/ns.conf" \
		-p "$SA_TMP/ns-sanagentd.pid" 2>>"$SA_TMP/ns-sanagentd.log"
	NS_PID=$SA_LASTPID
	sa_wait_for 15 ns_serving || sa_fail "name-server agent not served through its snmpd"
}

# sa_walk OID: "OID = TYPE: value" lines through the master.
sa_walk() { snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -On "127.0.0.1:$SA_SNMP_PORT" "$@"; }

# sa_set ARGS...: snmpset as the authPriv v3 user.
sa_set() {
	snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 2 -r 0 \
		"127.0.0.1:$SA_SNMP_PORT" "$@"
}

# sa_set_err WANT ARGS...: the snmpset must fail with the error WANT (wrongValue, inconsistentValue, ...).
sa_set_err() {
	local want=$1 out
	shift
	out=$(sa_set "$@" 2>&1) && sa_fail "SET $* accepted, want $want"
	echo "$out" | grep -q "$want" || sa_fail "SET $*: want $want, got: $out"
}

# sa_trap_seen OID_SUFFIX: a notification with that snmpTrapOID reached snmptrapd.
sa_trap_seen() { grep -q -- "$1" "$SA_TMP/snmptrapd.log" 2>/dev/null; }
sa_trap_count() { grep -c -- "$1" "$SA_TMP/snmptrapd.log" 2>/dev/null || true; }

# ---- tgtd for the data-plane tests (sanpath) ------------------------------
# sa_start_tgtd [N]: a private tgtd (control port SA_TGT_CONTROL) with portals 127.0.0.1 and 127.0.0.2 on
# SA_ISCSI_PORT and N targets $SA_IQN_PREFIX:diskI (tid I+1, LUN 1, sparse 64 MiB file).  tgtd ignores
# SIGTERM while it has targets, so the exit trap stops it through tgtadm before the generic cleanup.
SA_IQN_PREFIX=iqn.2024-01.org.sanagent.test
sa_tgt_ctl() { tgtadm -C "$SA_TGT_CONTROL" "$@"; }
sa_tcp_listening() { ss -Hlnt "src $1 and sport = :$2" | grep -q .; }
sa_start_tgtd() {
	local n=${1:-1} i tid
	sa_need tgt tgtd tgtadm
	: "${SA_ISCSI_PORT:=$(sa_free_port tcp)}"
	SA_TGT_CONTROL=$(sa_tgt_free_control)
	sa_bg tgtd -f -C "$SA_TGT_CONTROL" --iscsi "portal=127.0.0.1:$SA_ISCSI_PORT" >"$SA_TMP/tgtd.log" 2>&1
	SA_TGTD_PID=$SA_LASTPID
	trap 'sa__rc=$?; sa_stop_tgtd; (exit $sa__rc); sa_cleanup' EXIT
	sa_wait_for 10 sa_tgt_ctl --op show --mode sys || sa_fail "tgtd did not answer on control port $SA_TGT_CONTROL"
	sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=127.0.0.2:$SA_ISCSI_PORT" ||
		sa_fail "tgtadm: cannot add portal 127.0.0.2:$SA_ISCSI_PORT"
	for ((i = 0; i < n; i++)); do
		tid=$((i + 1))
		truncate -s 64M "$SA_TMP/disk$i.img" || sa_fail "cannot create LUN file"
		sa_tgt_ctl --lld iscsi --op new --mode target --tid "$tid" -T "$SA_IQN_PREFIX:disk$i" &&
			sa_tgt_ctl --lld iscsi --op new --mode logicalunit --tid "$tid" --lun 1 -b "$SA_TMP/disk$i.img" &&
			sa_tgt_ctl --lld iscsi --op bind --mode target --tid "$tid" -I ALL ||
			sa_fail "tgtadm: cannot create target $SA_IQN_PREFIX:disk$i"
	done
	sa_wait_for 10 sa_tcp_listening 127.0.0.2 "$SA_ISCSI_PORT" || sa_fail "tgtd does not listen on 127.0.0.2"
}
# sa_tgtd_stop PID CONTROL: tgtd ignores SIGTERM while it has targets: delete them, ask it to exit,
# kill -9 as a last resort, and remove the control socket it leaves behind.  Used by every test, the
# namespace lab and ./sanlab.
sa_tgtd_stop() {
	local pid=$1 ctl=$2 tid
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		for tid in $(tgtadm -C "$ctl" --op show --mode target 2>/dev/null | sed -n 's/^Target \([0-9]*\):.*/\1/p'); do
			tgtadm -C "$ctl" --op delete --mode target --tid "$tid" --force >/dev/null 2>&1
		done
		tgtadm -C "$ctl" --op delete --mode system >/dev/null 2>&1
		sa_wait_for 5 sa_pid_gone "$pid" || kill -9 "$pid" 2>/dev/null
	fi
	rm -f "/var/run/tgtd/socket.$ctl" "/var/run/tgtd/socket.$ctl.lock"
}
sa_stop_tgtd() {
	[ -n "${SA_TGTD_PID:-}" ] || return 0
	sa_tgtd_stop "$SA_TGTD_PID" "$SA_TGT_CONTROL"
	SA_TGTD_PID=
}
sa_pid_gone() { ! kill -0 "$1" 2>/dev/null; }
# sa_tgt_sid TID ALIAS: the session id (I_T nexus) whose initiator alias is ALIAS.
sa_tgt_sid() {
	sa_tgt_ctl --op show --mode target 2>/dev/null | awk -v tid="$1" -v alias="$2" '
		/^Target [0-9]+:/ { t = $2; sub(":", "", t) }
		t == tid && /I_T nexus:/ { sid = $3 }
		t == tid && /alias:/ && $NF == alias { print sid; exit }'
}

# ---- tgtd storage servers (redirector tests) ----------------------------------
# sa_start_tgt_servers NSERVERS NTARGETS: NSERVERS tgtd on 127.0.0.11, .12, ... each on a free port with a
# private control port, all exporting the same LU images as iqn.2026-11.org.sanagent.lab:r1..rNTARGETS
# (LUN 1 is the disk).  Fills SA_TGT_ADDR[i], SA_TGT_PORT[i], SA_TGT_CTL[i], SA_TGT_PID[i] (i from 0).
# They are killed on exit: tgtd ignores SIGTERM while it has targets.
SA_TGT_IQN=iqn.2026-11.org.sanagent.lab
SA_TGT_ADDR=() SA_TGT_PORT=() SA_TGT_CTL=() SA_TGT_PID=()

sa_tgt_free_control() {
	local n
	while :; do
		n=$((1000 + RANDOM % 30000))
		[ -e "/var/run/tgtd/socket.$n" ] && continue
		case "$SA_PORTS_TAKEN" in *" c$n "*) continue ;; esac
		SA_PORTS_TAKEN="${SA_PORTS_TAKEN}c$n "
		echo "$n"
		return 0
	done
}

sa_tgt_stop_all() {
	local i
	for i in "${!SA_TGT_PID[@]}"; do
		kill -9 "${SA_TGT_PID[$i]}" 2>/dev/null
		wait "${SA_TGT_PID[$i]}" 2>/dev/null
		rm -f "/var/run/tgtd/socket.${SA_TGT_CTL[$i]}" "/var/run/tgtd/socket.${SA_TGT_CTL[$i]}.lock"
	done
	SA_TGT_PID=()
}

sa_tgt_exit() {
	local rc=$?
	sa_tgt_stop_all
	declare -F sa_stop_tgtd >/dev/null && sa_stop_tgtd
	(exit "$rc")
	sa_cleanup
}

# sa_start_tgt_server I NTARGETS: (re)starts server I on its address, port and control port.
sa_start_tgt_server() {
	local i=$1 nt=$2 t
	: "${SA_TGT_ADDR[$i]:=127.0.0.$((11 + i))}"
	: "${SA_TGT_PORT[$i]:=$(sa_free_port tcp)}"
	: "${SA_TGT_CTL[$i]:=$(sa_tgt_free_control)}"
	sa_need tgt tgtd tgtadm
	mkdir -p "$SA_TMP/luns"
	rm -f "/var/run/tgtd/socket.${SA_TGT_CTL[$i]}" "/var/run/tgtd/socket.${SA_TGT_CTL[$i]}.lock"
	tgtd -f -C "${SA_TGT_CTL[$i]}" --iscsi "portal=${SA_TGT_ADDR[$i]}:${SA_TGT_PORT[$i]}" \
		>>"$SA_TMP/tgtd$i.log" 2>&1 &
	SA_TGT_PID[$i]=$!
	trap sa_tgt_exit EXIT
	sa_wait_for 10 tgtadm -C "${SA_TGT_CTL[$i]}" --op show --mode sys || sa_fail "tgtd $i did not start"
	for ((t = 1; t <= nt; t++)); do
		[ -f "$SA_TMP/luns/r$t.img" ] || truncate -s 16M "$SA_TMP/luns/r$t.img"
		tgtadm -C "${SA_TGT_CTL[$i]}" --lld iscsi --op new --mode target --tid "$t" -T "$SA_TGT_IQN:r$t" &&
			tgtadm -C "${SA_TGT_CTL[$i]}" --lld iscsi --op new --mode logicalunit --tid "$t" --lun 1 \
				-b "$SA_TMP/luns/r$t.img" &&
			tgtadm -C "${SA_TGT_CTL[$i]}" --lld iscsi --op bind --mode target --tid "$t" -I ALL ||
			sa_fail "tgtadm: cannot create target r$t on server $i"
	done
	sa_wait_for 10 sa_tcp_listening "${SA_TGT_ADDR[$i]}" "${SA_TGT_PORT[$i]}" || sa_fail "tgtd $i does not listen"
}

sa_start_tgt_servers() {
	local i
	for ((i = 0; i < $1; i++)); do sa_start_tgt_server "$i" "$2"; done
}

# sa_tgt_initiators I TARGET: initiator names connected to TARGET on server I (one per line).
sa_tgt_initiators() {
	tgtadm -C "${SA_TGT_CTL[$1]}" --op show --mode target 2>/dev/null |
		awk -v t="$2" '/^Target [0-9]+:/ { on = ($3 == t) } on && /Initiator:/ { print $2 }'
}

# sa_nbd_roundtrip URI MIB WHAT: MIB MiB of random data written through the NBD export URI, read back and compared;
# WHAT names the export in the failure.
sa_nbd_roundtrip() {
	head -c $(($2 << 20)) /dev/urandom >"$SA_TMP/nbd.in"
	nbdcopy "$SA_TMP/nbd.in" "$1" || sa_fail "nbdcopy into $3 failed"
	nbdcopy "$1" "$SA_TMP/nbd.out" || sa_fail "nbdcopy out of $3 failed"
	cmp -n $(($2 << 20)) "$SA_TMP/nbd.in" "$SA_TMP/nbd.out" || sa_fail "data read back through $3 differs"
}

# sa_wait_redirector PORT LAST: the agent's portal listens on 127.0.0.1:PORT and its health checks have seen
# server sLAST (the last configured) up.
sa_wait_redirector() {
	sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$1" || sa_fail "portal does not listen on 127.0.0.1:$1"
	sa_wait_for 5 grep -q "server s$2 .* is up" "$SA_TMP/sanagentd.log" || sa_fail "servers not probed up"
}

# sa_tgt_servers_conf [ADMIN_ARRAY]: the redirect section's `servers` list (without the parentheses) for
# the servers sa_start_tgt_servers started, named s1, s2, ...; ADMIN_ARRAY names a bash array of admin
# states by server (default up).
sa_tgt_servers_conf() {
	local i out="" admin=""
	[ -n "${1:-}" ] && local -n sa__admin=$1
	for i in "${!SA_TGT_ADDR[@]}"; do
		[ -n "${1:-}" ] && admin=" admin = \"${sa__admin[$i]:-up}\";"
		out="$out${out:+, }{ name = \"s$((i + 1))\"; address = \"${SA_TGT_ADDR[$i]}\"; port = ${SA_TGT_PORT[$i]}; tgt_control = ${SA_TGT_CTL[$i]};$admin }"
	done
	echo "$out"
}
