#!/usr/bin/env bash
# index_stable.sh: config rows keep their index across SIGKILL restarts and config changes (redirect servers and
# resources, balance teams), and an index once handed out never names a different row after a restart.
. "$(dirname "$0")/lib.sh"
sa_init index-stable
M=SANAGENT-REDIRECTOR-MIB
IQN=iqn.2026-11.org.sanagent.idx
PORT=$(sa_free_port tcp)
RPORT=$(sa_free_port tcp)
PLUGIN=$SA_BUILDDIR/.libs/nbdkit-sanpath-plugin.so
HAVE_BAL=0
command -v nbdkit >/dev/null && [ -f "$PLUGIN" ] && HAVE_BAL=1

# conf SERVERS RESOURCES TEAMS: names in config order.
conf() {
	local s r t sv="" rv="" tv="" bal="" a=20
	for s in $1; do
		a=$((a + 1))
		sv="$sv${sv:+, }{ name = \"$s\"; address = \"127.0.0.$a\"; port = $PORT; }"
	done
	for r in $2; do rv="$rv${rv:+, }{ target = \"$IQN:$r\"; }"; done
	for t in $3; do
		tv="$tv${tv:+, }{ name = \"$t\"; target = \"$IQN:$t\"; lun = 1;
			paths = ( { portal = \"127.0.0.1:$PORT\"; }, { portal = \"127.0.0.2:$PORT\"; } ); }"
	done
	[ "$HAVE_BAL" = 1 ] && bal="balance = { run_dir = \"$SA_TMP/run\"; plugin = \"$PLUGIN\"; teams = ( $tv ); };"
	sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_interval_ms = 1000;
servers = ( $sv ); resources = ( $rv ); };" "$bal"
}
# index_of COLUMN_OID NAME: the row index whose string column is NAME.
index_of() { sa_walk "$1" 2>/dev/null | sed -n "s/^$1\.\([0-9]*\) = STRING: \"$2\"$/\1/p"; }
SRVNAME=$SA_OID.3.3.1.4.1.2 # sanRedirServerName
RESTGT=$SA_OID.3.3.1.6.1.2  # sanRedirResourceTarget
TEAMNAME=$SA_OID.3.2.1.2.1.2 # sanTeamName
srv() { index_of "$SRVNAME" "$1"; }
res() { index_of "$RESTGT" "$IQN:$1"; }
team() { index_of "$TEAMNAME" "$1"; }
# restart kill|term: SIGKILL (nothing but what was committed survives), or a clean stop (the data planes of
# teams stop with the agent).
restart() {
	if [ "$1" = kill ]; then
		kill -9 "$SA_AGENT_PID"
		wait "$SA_AGENT_PID" 2>/dev/null
	else
		sa_stop_pid "$SA_AGENT_PID"
	fi
	sa_start_agent
	sa_wait_agent 15
	sa_wait_for 10 eval '[ -n "$(srv s1)" ]' || sa_fail "servers not served after the restart"
}
rset() { sa_set "$@" >/dev/null 2>"$SA_TMP/set.err" || sa_fail "SET $* failed: $(cat "$SA_TMP/set.err")"; }

sa_start_snmpd
conf "s1 s2" "r1 r2" ""
sa_start_agent
sa_wait_agent
sa_wait_for 10 eval '[ -n "$(srv s2)" ] && [ -n "$(res r2)" ]' || sa_fail "config rows not served"
S1=$(srv s1) S2=$(srv s2) R1=$(res r1) R2=$(res r2)
echo "start: s1=$S1 s2=$S2 r1=$R1 r2=$R2"

# An SNMP server and resource that persist (nonVolatile), then ones that do not (volatile).
NV=$(sa_get "$SA_OID.3.3.1.3.0")
rset "$M::sanRedirServerName.$NV" s nv "$M::sanRedirServerAddressType.$NV" i 1 \
	"$M::sanRedirServerAddress.$NV" x 7f00001e "$M::sanRedirServerPort.$NV" u "$PORT" \
	"$M::sanRedirServerRowStatus.$NV" i 4
VOL=$(sa_get "$SA_OID.3.3.1.3.0")
rset "$M::sanRedirServerName.$VOL" s vol "$M::sanRedirServerAddressType.$VOL" i 1 \
	"$M::sanRedirServerAddress.$VOL" x 7f00001f "$M::sanRedirServerPort.$VOL" u "$PORT" \
	"$M::sanRedirServerStorageType.$VOL" i 2 "$M::sanRedirServerRowStatus.$VOL" i 4
RNV=$(sa_get "$SA_OID.3.3.1.5.0")
rset "$M::sanRedirResourceTarget.$RNV" s "$IQN:rnv" "$M::sanRedirResourceRowStatus.$RNV" i 4
RVOL=$(sa_get "$SA_OID.3.3.1.5.0")
rset "$M::sanRedirResourceTarget.$RVOL" s "$IQN:rvol" "$M::sanRedirResourceStorageType.$RVOL" i 2 \
	"$M::sanRedirResourceRowStatus.$RVOL" i 4
echo "SNMP rows: servers nv=$NV vol=$VOL, resources rnv=$RNV rvol=$RVOL"

# ---- SIGKILL and restart: same indexes; the volatile rows' indexes are not handed out again ----
restart kill
[ "$(srv s1) $(srv s2) $(srv nv)" = "$S1 $S2 $NV" ] ||
	sa_fail "after the restart: s1=$(srv s1) s2=$(srv s2) nv=$(srv nv), want $S1 $S2 $NV"
[ "$(res r1) $(res r2) $(res rnv)" = "$R1 $R2 $RNV" ] ||
	sa_fail "after the restart: r1=$(res r1) r2=$(res r2) rnv=$(res rnv), want $R1 $R2 $RNV"
[ -z "$(sa_get "$SA_OID.3.3.1.4.1.2.$VOL")" ] || sa_fail "index $VOL names a row after the restart"
[ -z "$(sa_get "$SA_OID.3.3.1.6.1.2.$RVOL")" ] || sa_fail "index $RVOL names a resource after the restart"
n=$(sa_get "$SA_OID.3.3.1.3.0")
[ "$n" -gt "$VOL" ] || sa_fail "sanRedirServerNextIndex is $n after the restart, handed out before: $VOL"
n=$(sa_get "$SA_OID.3.3.1.5.0")
[ "$n" -gt "$RVOL" ] || sa_fail "sanRedirResourceNextIndex is $n after the restart, handed out before: $RVOL"

# ---- a team, then new config rows ahead of the old ones, and clean restarts ----
if [ "$HAVE_BAL" = 1 ]; then
	conf "s1 s2" "r1 r2" "t1"
	restart term
	sa_wait_for 10 eval '[ -n "$(team t1)" ]' || sa_fail "team t1 not served"
	T1=$(team t1)
	echo "team t1=$T1"
fi
conf "s0 s2 s1" "r0 r2 r1" "t0 t1"
restart term
sa_wait_for 10 eval '[ -n "$(srv s0)" ] && [ -n "$(res r0)" ]' || sa_fail "new config rows not served"
echo "after reorder: s0=$(srv s0) s1=$(srv s1) s2=$(srv s2) r0=$(res r0) r1=$(res r1) r2=$(res r2)"
[ "$(srv s1) $(srv s2) $(res r1) $(res r2)" = "$S1 $S2 $R1 $R2" ] || sa_fail "config rows moved after a reorder"
[ "$(srv s0)" -gt "$VOL" ] || sa_fail "new server s0 got index $(srv s0), handed out before (<= $VOL)"
[ "$(res r0)" -gt "$RVOL" ] || sa_fail "new resource r0 got index $(res r0), handed out before (<= $RVOL)"
if [ "$HAVE_BAL" = 1 ]; then
	sa_wait_for 10 eval '[ -n "$(team t0)" ]' || sa_fail "team t0 not served"
	echo "teams: t0=$(team t0) t1=$(team t1)"
	[ "$(team t1)" = "$T1" ] || sa_fail "team t1 moved from $T1 to $(team t1)"
	[ "$(team t0)" -gt "$T1" ] || sa_fail "team t0 got index $(team t0), handed out before"
else
	sa_log "balance part skipped: no nbdkit or sanpath plugin"
fi
echo PASS
