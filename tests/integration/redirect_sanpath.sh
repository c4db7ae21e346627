#!/usr/bin/env bash
# redirect_sanpath.sh: sanpath runs verified I/O on a target through the redirector portal while a rebalance moves that
# target to another server: the old server's session is ended, sanpath logs in through the portal again, lands on
# the new server, and the run ends with zero application errors and zero verify mismatches.
set -u
. "$(dirname "$0")/lib.sh"
sa_init redir-sanpath
SANPATH=$SA_BUILDDIR/sanpath
[ -x "$SANPATH" ] || sa_skip "sanpath not built"
IQN=$SA_TGT_IQN
R=$SA_OID.3.3.1 # sanRedirObjects
sa_start_tgt_servers 3 2 # r1 and r2 on every server, one image each, shared
RPORT=$(sa_free_port tcp)
# r1 and r2 start on s1; r2 is pinned, so r1 is the only resource a plan can move.
# probe_timeout_ms: a loaded machine must not mark a slow but live server down before the run starts.
sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_timeout_ms = 5000; servers = ( $(sa_tgt_servers_conf) );
  resources = ( { target = \"$IQN:r1\"; server = \"s1\"; },
                { target = \"$IQN:r2\"; server = \"s1\"; pinned = true; } ); };"
sa_start_snmptrapd
sa_start_snmpd
sa_start_agent
sa_wait_agent
sa_wait_redirector "$RPORT" 3
res_server() { sa_get "$R.6.1.3.$1"; }
[ "$(res_server 1)" = 1 ] && [ "$(res_server 2)" = 1 ] || sa_fail "r1/r2 not on s1 at start"
# No automatic plan: this test triggers the one it watches.
sa_set "$R.1.1.0" u 1000 >/dev/null || sa_fail "cannot raise sanRedirThreshold"

timeout 90 "$SANPATH" run --target "$IQN:r1" --lun 1 --portal "127.0.0.1:$RPORT" --rw mix --qd 4 --time 12 \
	--verify --no-path-retry 20 >"$SA_TMP/sanpath.out" 2>"$SA_TMP/sanpath.log" &
SP=$!
sa_wait_for 15 eval '[ -n "$(sa_tgt_initiators 0 $IQN:r1)" ]' ||
	sa_fail "sanpath's session of r1 is not on s1: $(tail -5 "$SA_TMP/sanpath.log")"
sa_log "sanpath logged in to r1 through the portal and landed on s1"
# An external monitor's load on the pinned r2 makes moving r1 off s1 worth it.  Set only now: with
# r2 at 10^9 on s1, the periodic threshold plan moves r1 as soon as r1 has any load, which on a
# slow machine could come before sanpath's session on s1 was seen.
sa_set "$R.6.1.4.2" u 1000000000 >/dev/null || sa_fail "cannot SET r2's load"

sa_set "$R.1.4.0" i 1 >/dev/null || sa_fail "cannot trigger a rebalance"
sa_wait_for 10 eval '[ "$(res_server 1)" != 1 ]' || sa_fail "the plan did not move r1 (server $(res_server 1))"
new=$(res_server 1)
[ "$(res_server 2)" = 1 ] || sa_fail "pinned r2 moved to server $(res_server 2)"
sa_wait_for 15 eval '[ -n "$(sa_tgt_initiators $((new - 1)) $IQN:r1)" ]' ||
	sa_fail "sanpath did not log in to r1 on s$new: $(tail -5 "$SA_TMP/sanpath.log")"
sa_wait_for 10 eval '[ -z "$(sa_tgt_initiators 0 $IQN:r1)" ]' || sa_fail "r1's session on s1 was not ended"
sa_log "the plan moved r1 to s$new; its session on s1 was ended; sanpath came back through the portal to s$new"

wait "$SP"
rc=$?
result=$(grep "result:" "$SA_TMP/sanpath.out" | tail -n 1)
verify=$(grep "verify:" "$SA_TMP/sanpath.out" | tail -n 1)
[ "$rc" = 0 ] || sa_fail "sanpath exited $rc: $(tail -5 "$SA_TMP/sanpath.log")"
echo "$result" | grep -q " errors=0" || sa_fail "application errors: $result"
echo "$verify" | grep -q "mismatches=0" || sa_fail "verify: $verify"
sa_log "$result; $verify"
sa_wait_for 5 sa_trap_seen "$SA_OID.3.3.0.4" || sa_fail "no sanRebalanced at snmptrapd"
exit 0
