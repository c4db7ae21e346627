#!/usr/bin/env bash
# discovery_informational.sh: seed 001's informational login (sanLoginKind informational(2)) against a real tgtd, on
# an agent with no balance engine (no data plane): a login that the target accepts shows up with no team and
# leaves no session behind at tgtd; one to a target that does not exist gives targetNotFound (0x0203); a target
# that wants CHAP gives authenticationFailure (0x0201) until the row's credential is set; informational rows come
# back after a restart.
set -u
. "$(dirname "$0")/lib.sh"

sa_init discovery_informational
sa_start_tgtd 2

S=.1.3.6.1.4.1.32473.1.3.1
CRED=$S.1.6.1  # sanCredEntry
LOGIN=$S.1.8.1 # sanLoginEntry: 11 oper, 12 result, 13 status code, 15 team, 18 row status, 19 kind
SECRET=Info-Secret-42
D0=$SA_IQN_PREFIX:disk0
D1=$SA_IQN_PREFIX:disk1
# disk1 (tid 2) wants CHAP.
sa_tgt_ctl --lld iscsi --mode account --op new --user bob --password "$SECRET" &&
	sa_tgt_ctl --lld iscsi --mode account --op bind --tid 2 --user bob || sa_fail "tgtadm: cannot set up CHAP"

sa_start_snmptrapd
sa_start_snmpd
sa_agent_conf "discovery = {
  initiator_name = \"iqn.2026-12.org.sanagent:infodisc\";
  login_initiator_name = \"iqn.2026-12.org.sanagent:info\";
  interval = 600;
  age_out = 600;
};"
sa_start_agent
sa_wait_agent

# login N: target T, portal 127.0.0.1, informational, admin up, createAndGo (extra varbinds after).
mk_info() {
	local n=$1 t=$2
	shift 2
	sa_set "$LOGIN.2.$n" s "$t" "$LOGIN.3.$n" i 1 "$LOGIN.4.$n" x 7F000001 "$LOGIN.5.$n" u "$SA_ISCSI_PORT" \
		"$LOGIN.19.$n" i 2 "$LOGIN.10.$n" i 1 "$LOGIN.18.$n" i 4 "$@" >/dev/null
}
row() { sa_get1 "$LOGIN.11.$1" "$LOGIN.12.$1" "$LOGIN.13.$1" "$LOGIN.15.$1"; }
is_row() { [ "$(row "$1")" = "$2" ]; }

sa_set_err wrongValue "$LOGIN.2.9" s "$D0" "$LOGIN.19.9" i 3 "$LOGIN.18.9" i 4
mk_info 1 "$D0" || sa_fail "cannot create informational login 1"
[ "$(sa_get "$LOGIN.19.1")" = 2 ] || sa_fail "sanLoginKind.1 reads $(sa_get "$LOGIN.19.1")"
# oper up(1), success(2), status 0, no team
sa_wait_for 15 is_row 1 "1 2 0 0" || sa_fail "informational login 1: oper/result/status/team $(row 1)"
no_session() { ! sa_tgt_ctl --op show --mode target | grep -q "Initiator: iqn.2026-12.org.sanagent:info"; }
sa_wait_for 5 no_session || sa_fail "the informational login left a session at tgtd: $(sa_tgt_ctl --op show --mode target)"
sa_log "login 1 (informational, $D0): up, success, no team, no session left at tgtd"

mk_info 2 "$SA_IQN_PREFIX:nosuch" || sa_fail "cannot create informational login 2"
sa_wait_for 15 is_row 2 "2 5 515 0" || sa_fail "login 2 to a missing target: $(row 2), want down targetNotFound 0x0203"
sa_log "login 2 (no such target): down, targetNotFound, status 515 (0x0203)"

mk_info 3 "$D1" || sa_fail "cannot create informational login 3"
sa_wait_for 15 is_row 3 "2 6 513 0" || sa_fail "login 3 without CHAP: $(row 3), want down authenticationFailure 0x0201"
sa_set "$CRED.2.1" s bob "$CRED.3.1" s "$SECRET" "$CRED.8.1" i 4 "$LOGIN.7.3" u 1 >/dev/null ||
	sa_fail "cannot create credential 1 and name it on login 3"
sa_wait_for 15 is_row 3 "1 2 0 0" || sa_fail "login 3 with credential 1: $(row 3)"
sa_log "login 3 ($D1, CHAP): authenticationFailure 0x0201 without a credential, up with credential 1"

# Back to normal would need the balance engine: serviceUnavailable, and no team.
sa_set "$LOGIN.19.1" i 1 >/dev/null || sa_fail "cannot make login 1 normal"
sa_wait_for 10 is_row 1 "2 8 0 0" || sa_fail "login 1 made normal without a data plane: $(row 1)"
sa_set "$LOGIN.19.1" i 2 >/dev/null || sa_fail "cannot make login 1 informational again"
sa_wait_for 15 is_row 1 "1 2 0 0" || sa_fail "login 1 informational again: $(row 1)"

# A restart keeps the rows, kind included; informational logins that were up log in again (persistent or not:
# the admin status of a non-persistent row comes back down).
sa_set "$LOGIN.9.1" i 1 >/dev/null || sa_fail "cannot make login 1 persistent"
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent 15
back() { [ "$(sa_get1 "$LOGIN.19.1" "$LOGIN.19.3")" = "2 2" ] && is_row 1 "1 2 0 0"; }
sa_wait_for 15 back || sa_fail "after restart: kinds $(sa_get1 "$LOGIN.19.1" "$LOGIN.19.3"), login 1 $(row 1)"
sa_log "restart: informational rows kept, login 1 (persistent) logged in again"
! grep -q -- "$SECRET" "$SA_TMP/sanagentd.log" || sa_fail "the secret appears in the agent's log"
echo "PASS: discovery_informational"
