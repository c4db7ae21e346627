#!/usr/bin/env bash
# redirect_slowconn.sh: 500 slow connections from one address do not lock other initiators out of the redirector portal.
. "$(dirname "$0")/lib.sh"
sa_init redir-slowconn
sa_need libiscsi-bin iscsi-ls
sa_need python3 python3
SLOW="python3 $SA_SRCDIR/tests/integration/slow_conns.py"
IQN=$SA_TGT_IQN
ATTACKER=127.0.0.5
SLOW_S=12

sa_start_tgt_servers 1 2
RPORT=$(sa_free_port tcp)
# $1: extra portal settings.
redirect_conf() {
	sa_agent_conf "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; $1
servers = ( $(sa_tgt_servers_conf) );
resources = ( { target = \"$IQN:r1\"; server = \"s1\"; }, { target = \"$IQN:r2\"; server = \"s1\"; } ); };"
}
counter() { sa_get "$SA_OID.3.3.1.2.$1.0"; } # sanRedirCounters: 6 refused, 7 evicted

# ls_during PID TAG: iscsi-ls from 127.0.0.1 (not the attacker's address) again and again while PID runs;
# every attempt must list both targets.  Prints "attempts failures".
ls_during() {
	local pid=$1 tag=$2 n=0 bad=0 out
	while kill -0 "$pid" 2>/dev/null; do
		n=$((n + 1))
		out=$(timeout 5 iscsi-ls -i "$IQN:$tag" "iscsi://127.0.0.1:$RPORT" 2>&1)
		if [ "$(grep -c "Target:$IQN:r[12] " <<<"$out")" != 2 ]; then
			bad=$((bad + 1))
			sa_log "iscsi-ls attempt $n failed: $out"
		fi
		sleep 0.2
	done
	echo "$n $bad"
}

# ---- defaults: the per-source limit keeps one address to its share ----
redirect_conf ""
sa_start_snmpd
sa_start_agent
sa_wait_redirector "$RPORT" 1
sa_wait_agent
refused0=$(counter 6)
sa_bg $SLOW --src $ATTACKER --host 127.0.0.1 --port "$RPORT" --count 500 --seconds $SLOW_S \
	--ready "$SA_TMP/ready1" >"$SA_TMP/slow1.out"
SLOW_PID=$SA_LASTPID
sa_wait_for 10 test -s "$SA_TMP/ready1" || sa_fail "the slow client did not open its connections"
# The attack is on: the attacker holds hundreds of connections (in the kernel or the portal).
sa_wait_for 5 eval '[ "$(ss -Hnt state established "src $ATTACKER" | wc -l)" -ge 400 ]' ||
	sa_fail "the slow client holds $(ss -Hnt state established "src $ATTACKER" | wc -l) connections, want >= 400"
read -r attempts failures < <(ls_during "$SLOW_PID" a)
wait "$SLOW_PID" 2>/dev/null
echo "defaults: $(cat "$SA_TMP/slow1.out"); iscsi-ls $attempts attempts, $failures failed"
[ "$attempts" -ge 10 ] || sa_fail "only $attempts iscsi-ls attempts in ${SLOW_S} s"
[ "$failures" = 0 ] || sa_fail "$failures of $attempts iscsi-ls attempts failed under 500 slow connections"
refused1=$(counter 6)
[ "$refused1" -gt "$refused0" ] || sa_fail "sanRedirRefused did not grow ($refused0 -> $refused1)"
# One-byte connections the portal took are closed at the header deadline (2 s by default), not the 5 s login
# deadline; the ones over the per-source limit at once.
life=$(sed -n 's/.*lifetime_ms_max=\([-0-9]*\).*/\1/p' "$SA_TMP/slow1.out")
[ "$life" -ge 1000 ] && [ "$life" -lt 4000 ] || sa_fail "one-byte connections lived up to $life ms, want about 2000"

# ---- no per-source limit to help: a full table turns over, oldest unfinished login first ----
redirect_conf "max_connections = 64; max_per_source = 100000; header_timeout = 30; login_timeout_ms = 60000;"
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_redirector "$RPORT" 1
sa_wait_agent
sa_bg $SLOW --src $ATTACKER --host 127.0.0.1 --port "$RPORT" --count 500 --silent 0 --seconds $SLOW_S \
	--ready "$SA_TMP/ready2" >"$SA_TMP/slow2.out"
SLOW_PID=$SA_LASTPID
sa_wait_for 10 test -s "$SA_TMP/ready2" || sa_fail "the slow client did not open its connections"
sa_wait_for 5 eval '[ "$(counter 7)" -gt 0 ]' || sa_fail "a full table evicted nothing"
read -r attempts failures < <(ls_during "$SLOW_PID" b)
wait "$SLOW_PID" 2>/dev/null
evicted=$(counter 7)
echo "full table: $(cat "$SA_TMP/slow2.out"); iscsi-ls $attempts attempts, $failures failed; sanRedirEvicted $evicted"
[ "$attempts" -ge 10 ] || sa_fail "only $attempts iscsi-ls attempts in ${SLOW_S} s"
[ "$failures" = 0 ] || sa_fail "$failures of $attempts iscsi-ls attempts failed with a full table"
kill -0 "$SA_AGENT_PID" || sa_fail "sanagentd died"
echo "PASS"
