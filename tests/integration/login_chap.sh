#!/usr/bin/env bash
# login_chap.sh: CHAP credential rows (length, equal secrets, write-only, never logged) and login rows against a real
# tgtd with CHAP accounts: CHAP and mutual CHAP logins up with their teams, a wrong secret giving
# authenticationFailure (0x0201) and one sanLoginFailed, I/O through a login's team, logout through SET, and the
# initiator-wide default credential (sanDefaultCredential) that a login naming none logs in with.
set -u
. "$(dirname "$0")/lib.sh"
sa_init login_chap
sa_need_plugin nbdcopy

S=$SA_OID.3.1
CRED=$S.1.6.1  # sanCredEntry
LOGIN=$S.1.8.1 # sanLoginEntry
TEAM=$SA_OID.3.2.1.2.1 # sanTeamEntry
INIT=iqn.2026-01.org.sanagent:initiator # discovery.login_initiator_name's default
# Secrets of 12..16 bytes (the default limits); distinct so a log grep finds any of them.
SECRET=Chap-Secret-42   # 14
MSECRET=Target-Mut-77x  # 14
WRONG=Wrong-Secret-9   # 14

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
# tid 1 demands CHAP from initiators (alice) and answers mutual CHAP as tgtmutual.
sa_tgt_ctl --lld iscsi --mode account --op new --user alice --password "$SECRET" &&
	sa_tgt_ctl --lld iscsi --mode account --op bind --tid 1 --user alice &&
	sa_tgt_ctl --lld iscsi --mode account --op new --user tgtmutual --password "$MSECRET" &&
	sa_tgt_ctl --lld iscsi --mode account --op bind --tid 1 --user tgtmutual --outgoing ||
	sa_fail "tgtadm: cannot set up CHAP accounts"

# No discovery section: logins work with discovery off (initiator name and secret limits keep their defaults).
sa_start_balance_agent

col() { sa_get "$1"; }
is() { [ "$(col "$1")" = "$2" ]; }
trap_lines() { grep -E "OID: $S\.0\.4([^0-9]|$)" "$SA_TMP/snmptrapd.log" 2>/dev/null; }

# ---- credentials: lengths, equal secrets, write-only ---------------------------------------------------
sa_set_err wrongLength "$CRED.2.1" s alice "$CRED.3.1" s 12345678901 "$CRED.8.1" i 4
sa_set_err wrongLength "$CRED.2.1" s alice "$CRED.3.1" s 12345678901234567 "$CRED.8.1" i 4
sa_set_err wrongLength "$CRED.2.1" s alice "$CRED.3.1" s "$SECRET" "$CRED.5.1" s short "$CRED.8.1" i 4
# Equal secrets in one PDU, then in either order against a stored row.
sa_set_err inconsistentValue "$CRED.2.1" s alice "$CRED.3.1" s "$SECRET" "$CRED.5.1" s "$SECRET" "$CRED.8.1" i 4
sa_set_err inconsistentValue "$CRED.2.1" s alice "$CRED.8.1" i 4 # createAndGo without a secret
[ -z "$(col "$CRED.8.1")" ] || sa_fail "a refused createAndGo left row 1 behind"
[ "$(col "$S.1.5.0")" = 1 ] || sa_fail "sanCredNextIndex = $(col "$S.1.5.0"), want 1"
sa_set "$CRED.2.1" s alice "$CRED.3.1" s "$SECRET" "$CRED.8.1" i 4 >/dev/null || sa_fail "cannot create credential 1"
sa_set_err inconsistentValue "$CRED.5.1" s "$SECRET"
sa_set "$CRED.2.2" s alice "$CRED.3.2" s "$SECRET" "$CRED.4.2" s tgtmutual "$CRED.5.2" s "$MSECRET" \
	"$CRED.8.2" i 4 >/dev/null || sa_fail "cannot create mutual credential 2"
sa_set_err inconsistentValue "$CRED.3.2" s "$MSECRET"
# createAndWait without a secret waits in notReady; a secret makes it notInService, then active.
sa_set "$CRED.2.3" s alice "$CRED.8.3" i 5 >/dev/null || sa_fail "createAndWait of credential 3 failed"
[ "$(col "$CRED.8.3")" = 3 ] || sa_fail "credential 3 status $(col "$CRED.8.3"), want notReady(3)"
sa_set_err inconsistentValue "$CRED.8.3" i 1
sa_set "$CRED.3.3" s "$WRONG" >/dev/null || sa_fail "cannot set the secret of credential 3"
[ "$(col "$CRED.8.3")" = 2 ] || sa_fail "credential 3 status $(col "$CRED.8.3"), want notInService(2)"
sa_set "$CRED.8.3" i 1 >/dev/null || sa_fail "cannot activate credential 3"
for c in 1 2 3; do
	[ "$(col "$CRED.3.$c")" = '""' ] || sa_fail "sanCredSecret.$c reads $(col "$CRED.3.$c"), want \"\""
done
[ "$(col "$CRED.5.2")" = '""' ] || sa_fail "sanCredMutualSecret.2 reads $(col "$CRED.5.2")"
[ "$(col "$CRED.2.2")" = '"alice"' ] || sa_fail "sanCredUserName.2 = $(col "$CRED.2.2")"
[ "$(col "$CRED.7.1")" = 3 ] || sa_fail "sanCredStorageType.1 = $(col "$CRED.7.1"), want nonVolatile"
sa_log "credentials: 11 and 17 bytes wrongLength, equal secrets inconsistentValue, secrets read back empty"

# ---- logins -------------------------------------------------------------------------------------------
# login N: CHAP credential C, portal 127.0.0.A, LUN 1, admin up, createAndGo.
mk_login() {
	sa_set "$LOGIN.2.$1" s "$IQN" "$LOGIN.3.$1" i 1 "$LOGIN.4.$1" x "7F00000$3" "$LOGIN.5.$1" u "$P" \
		"$LOGIN.7.$1" u "$2" "$LOGIN.8.$1" u 1 "$LOGIN.10.$1" i 1 "$LOGIN.18.$1" i 4 >/dev/null
}
sa_set_err inconsistentValue "$LOGIN.2.1" s "$IQN" "$LOGIN.7.1" u 9 "$LOGIN.18.1" i 4 # no credential 9
sa_set_err wrongValue "$LOGIN.2.1" s "$IQN" "$LOGIN.6.1" s "eth0;x" "$LOGIN.18.1" i 4 # not an interface name nor an address
sa_set_err inconsistentValue "$LOGIN.3.1" i 1 "$LOGIN.18.1" i 4 # no target name
mk_login 1 1 1 || sa_fail "cannot create login 1"
sa_wait_for 20 is "$LOGIN.11.1" 1 ||
	sa_fail "CHAP login 1 not up: oper $(col "$LOGIN.11.1") result $(col "$LOGIN.12.1") status $(col "$LOGIN.13.1")"
team1=$(col "$LOGIN.15.1")
[ -n "$team1" ] && [ "$team1" != 0 ] || sa_fail "login 1 has no team"
[ "$(col "$LOGIN.12.1")" = 2 ] || sa_fail "login 1 result $(col "$LOGIN.12.1"), want success(2)"
[ "$(col "$LOGIN.16.1")" = 1 ] || sa_fail "login 1 paths $(col "$LOGIN.16.1")"
[ "$(col "$TEAM.3.$team1")" = "\"$IQN\"" ] || sa_fail "team $team1 target $(col "$TEAM.3.$team1")"
[ "$(col "$CRED.6.1")" = 1 ] || sa_fail "sanCredUsers.1 = $(col "$CRED.6.1")"
sa_tgt_ctl --op show --mode target | grep -q "Initiator: $INIT" || sa_fail "tgt shows no session of $INIT"
# The data plane reaches the LU through the team's export.
sock=$(col "$TEAM.13.$team1" | tr -d '"')
sa_nbd_roundtrip "nbd+unix:///?socket=$sock" 1 "login 1's export"
sa_log "login 1 (CHAP): up, team $team1, 1 MiB written and read back intact"

mk_login 2 2 2 || sa_fail "cannot create login 2"
sa_wait_for 20 is "$LOGIN.11.2" 1 ||
	sa_fail "mutual CHAP login 2 not up: oper $(col "$LOGIN.11.2") result $(col "$LOGIN.12.2") status $(col "$LOGIN.13.2")"
sa_log "login 2 (mutual CHAP): up, team $(col "$LOGIN.15.2")"

# A used credential cannot go.
sa_set_err inconsistentValue "$CRED.8.1" i 6
sa_set_err inconsistentValue "$CRED.8.1" i 2

# ---- wrong secret -------------------------------------------------------------------------------------------
mk_login 3 3 1 || sa_fail "cannot create login 3"
sa_wait_for 20 is "$LOGIN.12.3" 6 ||
	sa_fail "login 3 result $(col "$LOGIN.12.3"), want authenticationFailure(6) (status $(col "$LOGIN.13.3"))"
[ "$(col "$LOGIN.11.3")" = 2 ] || sa_fail "login 3 oper $(col "$LOGIN.11.3"), want down"
[ "$(col "$LOGIN.13.3")" = 513 ] || sa_fail "login 3 status code $(col "$LOGIN.13.3"), want 513 (0x0201)"
has_trap() { trap_lines | grep -q "$LOGIN.12.3 = INTEGER: 6"; }
sa_wait_for 5 has_trap || sa_fail "no sanLoginFailed with result 6 at snmptrapd: $(trap_lines)"
trap_lines | grep -q "$LOGIN.2.3 = STRING: \"$IQN\"" || sa_fail "sanLoginFailed does not name the target"
trap_lines | grep -q "$LOGIN.13.3 = Gauge32: 513" || sa_fail "sanLoginFailed lacks status 513: $(trap_lines)"
# The data plane keeps retrying; the episode still gave one notification.  Wait for tgtd to refuse a few more.
refusals() { grep -ci "chap\|auth" "$SA_TMP/tgtd.log" 2>/dev/null || echo 0; }
r0=$(refusals)
more_refusals() { [ "$(refusals)" -ge $((r0 + 2)) ]; }
sa_wait_for 10 more_refusals || sa_log "note: tgtd logged no further CHAP refusals (retries not visible in its log)"
n=$(trap_lines | grep -c "$LOGIN.12.3 = INTEGER: 6")
[ "$n" = 1 ] || sa_fail "$n sanLoginFailed for one failure episode, want 1"
sa_log "login 3 (wrong secret): down, authenticationFailure, status 513, one sanLoginFailed"

# ---- changing a used credential logs its logins in again: the right secret brings login 3 up ------------
sa_set "$CRED.3.3" s "$SECRET" >/dev/null || sa_fail "cannot change credential 3's secret"
sa_wait_for 20 is "$LOGIN.11.3" 1 || sa_fail "login 3 not up after its credential was fixed: $(col "$LOGIN.12.3")"
sa_log "credential 3 fixed: login 3 logged in again and up"

# ---- logout through SET --------------------------------------------------------------------------------------
sa_set "$LOGIN.10.1" i 2 >/dev/null || sa_fail "cannot set login 1 admin down"
[ "$(col "$LOGIN.15.1")" = 0 ] || sa_fail "login 1 still has team $(col "$LOGIN.15.1") after admin down"
[ "$(col "$LOGIN.11.1")" = 2 ] || sa_fail "login 1 oper $(col "$LOGIN.11.1") after admin down"
[ -z "$(col "$TEAM.2.$team1")" ] || sa_fail "team $team1 still in sanTeamTable after logout"
one_session_gone() { [ "$(sa_tgt_ctl --op show --mode target | grep -c "Initiator: $INIT")" -le 2 ]; }
sa_wait_for 10 one_session_gone || sa_fail "tgt still shows 3 sessions after login 1 logged out"
# Destroying a login frees its credential, which can then go.
sa_set "$LOGIN.18.3" i 6 >/dev/null || sa_fail "cannot destroy login 3"
[ "$(col "$CRED.6.3")" = 0 ] || sa_fail "sanCredUsers.3 = $(col "$CRED.6.3") after login 3 was destroyed"
sa_set "$CRED.8.3" i 6 >/dev/null || sa_fail "cannot destroy credential 3"
[ -z "$(col "$CRED.2.3")" ] || sa_fail "credential 3 still there"
sa_log "logout: login 1 down, team $team1 gone; login 3 and credential 3 destroyed"

# ---- the initiator-wide default credential: a login that names none uses it -------------------------------------
DEF=$S.1.19.0 # sanDefaultCredential
[ "$(col "$DEF")" = 0 ] || sa_fail "sanDefaultCredential reads $(col "$DEF"), want 0"
sa_set_err inconsistentValue "$DEF" u 9 # no credential 9
sa_set_err wrongType "$DEF" i 1
mk_login 4 0 1 || sa_fail "cannot create login 4"
sa_wait_for 20 is "$LOGIN.12.4" 6 || sa_fail "login 4 without CHAP: result $(col "$LOGIN.12.4"), want authenticationFailure(6)"
sa_set "$CRED.2.4" s alice "$CRED.3.4" s "$SECRET" "$CRED.8.4" i 4 >/dev/null || sa_fail "cannot create credential 4"
sa_set "$DEF" u 4 >/dev/null || sa_fail "cannot set sanDefaultCredential to 4"
[ "$(col "$DEF")" = 4 ] || sa_fail "sanDefaultCredential reads $(col "$DEF") after the SET"
sa_wait_for 20 is "$LOGIN.11.4" 1 || sa_fail "login 4 not up with the default credential: result $(col "$LOGIN.12.4")"
[ "$(col "$LOGIN.7.4")" = 0 ] || sa_fail "sanLoginCredential.4 = $(col "$LOGIN.7.4"), want 0"
sa_set_err inconsistentValue "$CRED.8.4" i 6 # the default cannot go
sa_state_dump | grep -q "^login.default_cred	4" || sa_fail "the default credential is not in the state"
sa_log "default credential 4: login 4 (naming none) up; credential 4 cannot be destroyed"

# ---- secrets never logged, state file private ------------------------------------------------------------------
for s in "$SECRET" "$MSECRET" "$WRONG"; do
	for f in "$SA_TMP"/sanagentd.log "$SA_TMP"/snmpd.log "$RUN"/*.log "$SA_TMP"/state/sanagent.state*; do
		[ -f "$f" ] || continue
		! grep -qF -- "$s" "$f" || sa_fail "a secret appears in $f"
	done
done
for f in "$SA_TMP"/state/sanagent.state*; do
	mode=$(stat -c %a "$f")
	[ "$mode" = 600 ] || sa_fail "$f: mode $mode, want 600"
done
sa_state_dump | grep -q "^login.cred.1" || sa_fail "credential 1 not in the state"
sa_log "no secret in the agent, snmpd or data-plane logs nor in clear in the state file (mode $mode)"
exit 0
