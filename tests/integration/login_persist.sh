#!/usr/bin/env bash
# login_persist.sh: login and credential rows survive agent restarts (SIGTERM and SIGKILL): a persistent login logs in
# again with a new team, a non-persistent one comes back admin down (its orphaned data plane ended), volatile rows go.
set -u
. "$(dirname "$0")/lib.sh"
sa_init login_persist
sa_need_plugin

S=$SA_OID.3.1
CRED=$S.1.6.1
LOGIN=$S.1.8.1
TEAM=$SA_OID.3.2.1.2.1

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
sa_start_balance_agent

col() { sa_get "$1"; }
is() { [ "$(col "$1")" = "$2" ]; }
# login N on portal 127.0.0.A, persistent T (1 true, 2 false), storage ST, admin up, no CHAP.
mk_login() {
	sa_set "$LOGIN.2.$1" s "$IQN" "$LOGIN.3.$1" i 1 "$LOGIN.4.$1" x "7F00000$2" "$LOGIN.5.$1" u "$P" \
		"$LOGIN.8.$1" u 1 "$LOGIN.9.$1" i "$3" "$LOGIN.10.$1" i 1 "$LOGIN.17.$1" i "$4" "$LOGIN.18.$1" i 4 >/dev/null
}
# A data plane process of login N (by its export socket on the command line).
dp_pid() { pgrep -f -- "--unix $RUN/login$1.sock" | head -1; }
no_dp() { [ -z "$(dp_pid "$1")" ]; }

# A credential row persists with its secret (write-only through SNMP).
sa_set "$CRED.2.1" s alice "$CRED.3.1" s Persist-Sec-01 "$CRED.8.1" i 4 >/dev/null || sa_fail "cannot create credential 1"
mk_login 1 1 1 3 || sa_fail "cannot create persistent login 1"
mk_login 2 2 2 3 || sa_fail "cannot create non-persistent login 2"
mk_login 3 1 1 2 || sa_fail "cannot create volatile login 3"
for n in 1 2 3; do
	sa_wait_for 20 is "$LOGIN.11.$n" 1 || sa_fail "login $n not up: result $(col "$LOGIN.12.$n")"
done
sa_log "logins 1 (persistent), 2 (not persistent), 3 (volatile) up with teams $(col "$LOGIN.15.1") $(col "$LOGIN.15.2") $(col "$LOGIN.15.3")"

check_restored() { # check_restored HOW
	sa_wait_agent 20
	sa_wait_for 20 is "$LOGIN.11.1" 1 || sa_fail "$1: persistent login 1 not up again: $(col "$LOGIN.12.1")"
	local team
	team=$(col "$LOGIN.15.1")
	[ -n "$team" ] && [ "$team" != 0 ] || sa_fail "$1: login 1 has no team"
	[ "$(col "$TEAM.2.$team")" = '"login1"' ] || sa_fail "$1: team $team is not login1's: $(col "$TEAM.2.$team")"
	[ "$(col "$LOGIN.2.2")" = "\"$IQN\"" ] || sa_fail "$1: login 2 not back"
	[ "$(col "$LOGIN.10.2")" = 2 ] || sa_fail "$1: login 2 admin $(col "$LOGIN.10.2"), want down"
	[ "$(col "$LOGIN.15.2")" = 0 ] || sa_fail "$1: login 2 has team $(col "$LOGIN.15.2")"
	[ "$(col "$LOGIN.9.2")" = 2 ] || sa_fail "$1: login 2 persistent $(col "$LOGIN.9.2")"
	[ -z "$(col "$LOGIN.2.3")" ] || sa_fail "$1: volatile login 3 came back"
	[ "$(col "$CRED.2.1")" = '"alice"' ] || sa_fail "$1: credential 1 not back"
	[ "$(col "$CRED.3.1")" = '""' ] || sa_fail "$1: credential 1's secret readable"
	[ "$(col "$CRED.8.1")" = 1 ] || sa_fail "$1: credential 1 not active"
	# Indexes are unique within a run: the volatile row 3 is free again.
	[ "$(col "$S.1.7.0")" = 3 ] || sa_fail "$1: sanLoginNextIndex $(col "$S.1.7.0"), want 3"
	sa_wait_for 10 no_dp 2 || sa_fail "$1: login 2's data plane still runs (pid $(dp_pid 2))"
	sa_log "$1: login 1 up again (team $team), login 2 back admin down, login 3 gone, credential 1 back"
}

# ---- SIGTERM ------------------------------------------------------------------------------------------------
sa_stop_pid "$SA_AGENT_PID"
sa_wait_for 10 no_dp 1 || sa_fail "login 1's data plane survived a clean agent stop"
sa_start_agent
check_restored SIGTERM

# ---- SIGKILL: a data plane that outlives the agent is adopted (login 1) or ended (login 2) -----------------
sa_set "$LOGIN.10.2" i 1 >/dev/null || sa_fail "cannot set login 2 admin up"
sa_wait_for 20 is "$LOGIN.11.2" 1 || sa_fail "login 2 not up again"
dp1=$(dp_pid 1)
[ -n "$dp1" ] || sa_fail "no data plane process for login 1"
kill -9 "$SA_AGENT_PID"
wait "$SA_AGENT_PID" 2>/dev/null
# Whether a data plane outlives its agent is the data plane's business; if login 2's did, the restart ends it.
if [ -n "$(dp_pid 2)" ]; then sa_log "login 2's data plane outlived the agent"; else sa_log "note: no data plane outlived the agent"; fi
sa_start_agent
check_restored SIGKILL
[ "$(dp_pid 1)" = "$dp1" ] || sa_log "note: login 1's data plane was restarted (pid $dp1 -> $(dp_pid 1)), not adopted"
exit 0
