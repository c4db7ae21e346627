# walk_lib.bash: what the walk benchmarks (walk.sh, redirect_walk.sh, cluster_walk.sh, iscsi_mib_walk.sh) share:
# the walkloop client, its rate and CPU figures, the dlmod snmpd, and the printed table.  Source it; it sources
# tests/integration/lib.sh.

# shellcheck source=../tests/integration/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/lib.sh"

# walk_init NAME: sa_init, skip unless the agent and the plug-in (SO) are built, build the walkloop client.
walk_init() {
	sa_init "$1"
	[ -x "$SA_BUILDDIR/sanagentd" ] || sa_skip "no $SA_BUILDDIR/sanagentd: build first"
	# Absolute: snmpd reads a relative dlmod path against its own dlmod directory (SA_BUILDDIR=build failed so).
	SO=$(cd "$SA_BUILDDIR" 2>/dev/null && pwd)/.libs/sanagent.so
	[ -f "$SO" ] || sa_skip "no $SO: build first"
	sa_need build-essential cc
	cc -std=gnu11 -O2 -o "$SA_TMP/walkloop" "$SA_SRCDIR/bench/walkloop.c" -lnetsnmp ||
		sa_fail "cannot build bench/walkloop.c"
}

# walk_once PORT ROOT N [MODE]: one walkloop run of N walks; sets WALK_PER (varbinds per walk) and WALK_SECS.
walk_once() {
	local line
	line=$("$SA_TMP/walkloop" "127.0.0.1:$1" "$SA_RO_COMMUNITY" "$2" "$3" "$WALK_MAXREP" ${4:+"$4"}) || return 1
	WALK_PER=$(sed -n 's/.*per_walk=\([0-9]*\).*/\1/p' <<<"$line")
	WALK_SECS=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
}
# walk_vbs N PER SECS: varbinds per second.
walk_vbs() { awk -v n="$1" -v p="$2" -v s="$3" 'BEGIN { printf "%.0f", n * p / s }'; }

# CPU seconds (user + system) a process has used.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# rate PORT ROOT N MODE [PID...]: one walkloop run; prints "PER_WALK RATE SECONDS [US_PER_VARBIND...]",
# the last fields being each PID's CPU per varbind over the run.
rate() {
	local port=$1 root=$2 n=$3 mode=$4 p before=() i=0 cpu=""
	shift 4
	for p in "$@"; do before+=("$(cpu_s "$p")"); done
	walk_once "$port" "$root" "$n" "$mode" || return 1
	for p in "$@"; do
		cpu+=" $(awk -v a="${before[$i]}" -v b="$(cpu_s "$p")" -v v="$((n * WALK_PER))" 'BEGIN { printf "%.2f", (b - a) / v * 1e6 }')"
		i=$((i + 1))
	done
	echo "$WALK_PER $(walk_vbs "$n" "$WALK_PER" "$WALK_SECS") $WALK_SECS$cpu"
}

# walk_dl_snmpd_conf: picks DL_PORT and writes the second snmpd's config, which loads the plug-in with the agent
# config $SA_TMP/dl/sanagent.conf.
walk_dl_snmpd_conf() {
	DL_PORT=$(sa_free_port udp)
	mkdir -p "$SA_TMP/dl-persist" "$SA_TMP/dl"
	printf '%s\n' "agentaddress udp:127.0.0.1:$DL_PORT" "rocommunity $SA_RO_COMMUNITY 127.0.0.1" \
		"dlmod sanagent $SO" "sanagentConfig $SA_TMP/dl/sanagent.conf" >"$SA_TMP/dl/snmpd.conf"
	# The dlmod floor, when built: WALK_FLOOR_ROWS and WALK_FLOOR_COLS in the environment size it.
	[ ! -f "$SA_TMP/walk_floor.so" ] || echo "dlmod walk_floor $SA_TMP/walk_floor.so" >>"$SA_TMP/dl/snmpd.conf"
}
# walk_dl_agent_conf SECTION...: the plug-in's agent config, its state under $SA_TMP/dl, then each SECTION.
walk_dl_agent_conf() {
	mkdir -p "$SA_TMP/dl"
	{
		echo "agent = { state_file = \"$SA_TMP/dl/state/sanagent.state\"; };"
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >"$SA_TMP/dl/sanagent.conf"
}
# walk_dl_start LOG: starts the dlmod snmpd (walk_dl_snmpd_conf first), logging to $SA_TMP/LOG; sets DL_PID.
walk_dl_start() {
	SNMP_PERSISTENT_DIR="$SA_TMP/dl-persist" sa_bg snmpd -f -I -smux -Lf "$SA_TMP/$1" -C \
		-c "$SA_TMP/dl/snmpd.conf" -p "$SA_TMP/dl/snmpd.pid"
	DL_PID=$SA_LASTPID
}

# The floor (bench/walk_floor.c): net-snmp's own agent library serving COLS x ROWS integers computed from the
# OID at $FLOOR_ROOT, walked through the same snmpd the same way as sanagent's table.
FLOOR_ROOT=.1.3.6.1.4.1.8072.9999.9999.7147
# walk_floor_build: the AgentX subagent $SA_TMP/walk_floor and the dlmod $SA_TMP/walk_floor.so.
walk_floor_build() {
	local libs
	libs=$(net-snmp-config --agent-libs) || sa_fail "no net-snmp-config (libsnmp-dev)"
	# shellcheck disable=SC2086 # the flags are words
	cc -std=gnu11 -O2 -o "$SA_TMP/walk_floor" "$SA_SRCDIR/bench/walk_floor.c" $libs ||
		sa_fail "cannot build bench/walk_floor.c"
	cc -std=gnu11 -O2 -fPIC -shared -DWALK_FLOOR_DLMOD -o "$SA_TMP/walk_floor.so" "$SA_SRCDIR/bench/walk_floor.c" ||
		sa_fail "cannot build bench/walk_floor.c as a dlmod"
}
# walk_floor_start SOCKET ROWS COLS: starts the AgentX floor as a subagent of the master at SOCKET and waits until
# the master at $SA_SNMP_PORT serves its last instance; sets FLOOR_PID.
walk_floor_start() {
	sa_bg "$SA_TMP/walk_floor" "$1" "$2" "$3"
	FLOOR_PID=$SA_LASTPID
	sa_wait_for 20 walk_floor_up "$SA_SNMP_PORT" "$2" "$3" || sa_fail "the AgentX floor subagent did not register"
}
# walk_alt N MODE PORT KEY_A ROOT_A "PIDS_A" KEY_B ROOT_B "PIDS_B": N walks of each of two subtrees through the same
# snmpd, one of each in turn, into R[KEY_A] and R[KEY_B] as rate prints them (seconds summed, CPU per varbind
# averaged): a change of load during the run falls on both alike, so their ratio holds.
walk_alt() {
	local n=$1 mode=$2 port=$3 i line
	local -a la=() lb=()
	for ((i = 0; i < n; i++)); do
		# shellcheck disable=SC2086 # the PIDs are words
		line=$(rate "$port" "$5" 1 "$mode" $6) || return 1
		la+=("$line")
		# shellcheck disable=SC2086
		line=$(rate "$port" "$8" 1 "$mode" $9) || return 1
		lb+=("$line")
	done
	R[$4]=$(walk_sum "${la[@]}")
	R[$7]=$(walk_sum "${lb[@]}")
}
# walk_sum LINE...: rate's lines of single walks of one subtree as one line for all of them.
walk_sum() {
	printf '%s\n' "$@" | awk '{ per = $1; s += $3; for (i = 4; i <= NF; i++) c[i] += $i; nf = NF }
		END { printf "%d %.0f %.6f", per, NR * per / s, s; for (i = 4; i <= nf; i++) printf " %.2f", c[i] / NR; print "" }'
}
# walk_floor_ax ROWS COLS N: with the AgentX snmpd up and sanagentd stopped, the AgentX floor's rates of N walks
# in each of WALK_MODES into R[MODE.fl] (CPU per varbind: snmpd, then the floor subagent).
walk_floor_ax() {
	local m
	walk_floor_start "$SA_TMP/agentx.sock" "$1" "$2"
	for m in $WALK_MODES; do
		R[$m.fl]=$(rate "$SA_SNMP_PORT" "$FLOOR_ROOT" "$3" "$m" "$SA_SNMPD_PID" "$FLOOR_PID") ||
			sa_fail "AgentX floor $m walk"
	done
	sa_stop_pid "$FLOOR_PID"
}
# walk_floor_dl ROWS COLS N: the same through the dlmod snmpd (started by walk_dl_start with WALK_FLOOR_ROWS=ROWS
# and WALK_FLOOR_COLS=COLS in its environment), into R[MODE.df].
walk_floor_dl() {
	local m
	walk_floor_up "$DL_PORT" "$1" "$2" || sa_fail "dlmod: the floor is not served"
	for m in $WALK_MODES; do
		R[$m.df]=$(rate "$DL_PORT" "$FLOOR_ROOT" "$3" "$m" "$DL_PID") || sa_fail "dlmod floor $m walk"
	done
}
# walk_floor_rows WIDTH MODE ROWS COLS: the floor's two rows of the table (AgentX against the AgentX anchor, dlmod
# against the dlmod one).
walk_floor_rows() {
	walk_row "$1" agentx "$2" "floor (net-snmp subagent, $4 x $3)" "$2.fl" "$2.an"
	walk_row "$1" dlmod "$2" "floor (net-snmp handler, $4 x $3)" "$2.df" "$2.da"
}
# walk_floor_line MODE AX_RATE DL_RATE: the floor's rates and CPU, and sanagent's rates against them.
walk_floor_line() {
	echo "$1 walk: floor: AgentX $(f "$1.fl" 2) vb/s (CPU per varbind snmpd $(f "$1.fl" 4) us + subagent" \
		"$(f "$1.fl" 5) us), dlmod $(f "$1.df" 2) vb/s (snmpd $(f "$1.df" 4) us); sanagent / floor: AgentX" \
		"$(ratio "$2" "$(f "$1.fl" 2)"), dlmod $(ratio "$3" "$(f "$1.df" 2)")"
}
# walk_floor_up PORT ROWS COLS: the snmpd at PORT serves the floor's last instance.
walk_floor_up() {
	[ "$(snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 0 -Oqv "127.0.0.1:$1" "$FLOOR_ROOT.1.$3.$2" 2>/dev/null)" = "$2" ]
}

# The CPUs the run may use (taskset narrows them) and how an idle one waits: where halting exits to a hypervisor
# (guest halt polling off), every wake-up of a process on the other CPU pays that exit, and a walk is made of them.
walk_machine() {
	local d p
	d=$(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null) || d=none
	p=$(cat /sys/module/haltpoll/parameters/guest_halt_poll_ns 2>/dev/null) || p=n/a
	echo "$(nproc) CPUs, cpuidle $d, guest_halt_poll_ns $p"
}
# The net-snmp version the figures were taken with.
walk_netsnmp() { snmpd -v 2>/dev/null | sed -n 's/.*version: *//p' | head -n1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# Results are kept in R[KEY] as "PER_WALK RATE SECONDS [CPU...]" (rate's line).
declare -A R
f() { cut -d' ' -f"$2" <<<"${R[$1]}"; } # f KEY FIELD: 1 per walk, 2 rate, 3 seconds, 4.. CPU per varbind
# walk_head WIDTH THIRD: the table's head, THIRD the third column's title, WIDTH its width.
walk_head() {
	printf "%-8s %-8s %-$1s %9s %10s %12s %9s\n" mode walk "$2" "vb/walk" "s/loop" "varbinds/s" "vs anchor"
}
# walk_row WIDTH MODE WALK LABEL KEY ANCHOR_KEY: one row of the table, its rate against the anchor's.
walk_row() {
	printf "%-8s %-8s %-$1s %9s %10s %12s %9s\n" "$2" "$3" "$4" "$(f "$5" 1)" "$(f "$5" 3)" "$(f "$5" 2)" \
		"$(ratio "$(f "$5" 2)" "$(f "$6" 2)")"
}
# walk_goals MODE AX_RATE DL_RATE: whether the issue's goals are met.  Printed, never a threshold.
walk_goals() {
	echo "$1 walk goals: AgentX >= 30000 vb/s: $([ "$2" -ge 30000 ] && echo met || echo MISSED) ($2);" \
		"dlmod >= 250000 vb/s: $([ "$3" -ge 250000 ] && echo met || echo MISSED) ($3)"
}
# walk_sizes_report WIDTH WHAT UNIT AT: the table and the per-mode lines of a benchmark that walks WHAT (its rows
# counted in UNIT) at WALK_SMALL and WALK_BIG, from R[MODE.axsmall], .axbig, .dlsmall, .dlbig, the anchors
# R[MODE.an] (AgentX snmpd) and R[MODE.da] (dlmod snmpd), and the floor R[MODE.fl] and .df (WALK_FLOOR_ROWS x
# WALK_FLOOR_COLS); AT follows the big size in the per-mode lines.
walk_sizes_report() {
	local w=$1 what=$2 unit=$3 at=$4 m ax dl
	for m in $WALK_MODES; do
		walk_row "$w" agentx "$m" "hrSWRunTable (anchor, AgentX snmpd)" "$m.an" "$m.an"
		walk_row "$w" agentx "$m" "$what, $WALK_SMALL $unit" "$m.axsmall" "$m.an"
		walk_row "$w" agentx "$m" "$what, $WALK_BIG $unit" "$m.axbig" "$m.an"
		walk_row "$w" dlmod "$m" "hrSWRunTable (anchor, dlmod snmpd)" "$m.da" "$m.da"
		walk_row "$w" dlmod "$m" "$what, $WALK_SMALL $unit" "$m.dlsmall" "$m.da"
		walk_row "$w" dlmod "$m" "$what, $WALK_BIG $unit" "$m.dlbig" "$m.da"
		walk_floor_rows "$w" "$m" "$WALK_FLOOR_ROWS" "$WALK_FLOOR_COLS"
	done
	for m in $WALK_MODES; do
		ax=$(f "$m.axbig" 2) dl=$(f "$m.dlbig" 2)
		echo "$m walk: flat cost per row (rate at $WALK_BIG$at / at $WALK_SMALL): AgentX $(ratio "$ax" "$(f "$m.axsmall" 2)")," \
			"dlmod $(ratio "$dl" "$(f "$m.dlsmall" 2)"); CPU per varbind at $WALK_BIG$at: AgentX snmpd $(f "$m.axbig" 4) us +" \
			"sanagentd $(f "$m.axbig" 5) us, dlmod snmpd $(f "$m.dlbig" 4) us"
		walk_floor_line "$m" "$ax" "$dl"
		walk_goals "$m" "$ax" "$dl"
	done
}
