#!/usr/bin/env bash
# discovery_chap.sh: SendTargets with discovery CHAP against a real tgtd that has a discovery account: no CHAP and
# a wrong secret fail with "authentication failure", the right secret and mutual CHAP find the targets, and a
# target that fails our mutual challenge is refused.  Each case is a config reload (SIGHUP) of one agent.
set -u
. "$(dirname "$0")/lib.sh"

sa_init discovery_chap
sa_start_tgtd 2

S=.1.3.6.1.4.1.32473.1.3.1
SRC=$S.1.2.1 # sanDiscSourceEntry: 6 status, 12 last error
TGT=$S.1.3.1 # sanDiscTargetEntry: 2 name
USER=disc-user
SECRET=disc-secret-0123
TUSER=disc-target
TSECRET=target-secret-4567

# tgt 1.0.85: an account bound without --tid guards discovery sessions; --outgoing is the target's own account
# for mutual CHAP.
sa_tgt_ctl --lld iscsi --mode account --op new --user "$USER" --password "$SECRET" || sa_fail "cannot create account"
sa_tgt_ctl --lld iscsi --mode account --op bind --user "$USER" || sa_fail "cannot bind the discovery account"

sa_start_snmptrapd
sa_start_snmpd
conf() {
	sa_agent_conf "discovery = {
  initiator_name = \"iqn.2026-11.org.sanagent:chaptest\";
  portals = [ \"127.0.0.1:$SA_ISCSI_PORT\" ];
  interval = 1;
  age_out = 600;
  $1
};"
}
reload() {
	local n
	n=$(grep -c "reloaded" "$SA_TMP/sanagentd.log")
	conf "$1"
	kill -HUP "$SA_AGENT_PID"
	sa_wait_for 10 sa_reloaded_after "$n" || sa_fail "agent did not reload"
}
sa_reloaded_after() { [ "$(grep -c "reloaded" "$SA_TMP/sanagentd.log")" -gt "$1" ]; }

status() { sa_get "$SRC.6.1"; }
last_error() { sa_get "$SRC.12.1" | tr -d '"'; }
failed_auth() { [ "$(status)" = 4 ] && last_error | grep -q "^authentication failure$"; }
ok_found() {
	[ "$(status)" = 2 ] &&
		[ "$(sa_walk "$TGT.2" | grep -c "$SA_IQN_PREFIX:disk[01]\"")" = 2 ]
}

# ---- no CHAP: the target answers 0x0201 ------------------------------------------------------------
conf ""
sa_start_agent
sa_wait_agent
sa_wait_for 15 failed_auth || sa_fail "without CHAP: status $(status), error '$(last_error)'"
sa_log "no CHAP: status failed(4), '$(last_error)'"
[ -z "$(sa_walk "$TGT.2" 2>/dev/null | grep "$SA_IQN_PREFIX")" ] || sa_fail "targets listed without CHAP"

# ---- the right secret ------------------------------------------------------------------------------
reload "chap_user = \"$USER\"; chap_secret = \"$SECRET\";"
sa_wait_for 15 ok_found || sa_fail "with CHAP: status $(status), error '$(last_error)', targets: $(sa_walk "$TGT.2")"
sa_log "CHAP: status ok(2), targets $(sa_walk "$TGT.2" | sed -n 's/.*STRING: "\(.*\)"$/\1/p' | tr '\n' ' ')"

# ---- a wrong secret --------------------------------------------------------------------------------
reload "chap_user = \"$USER\"; chap_secret = \"wrong-secret-99\";"
sa_wait_for 15 failed_auth || sa_fail "wrong secret: status $(status), error '$(last_error)'"
sa_log "wrong secret: status failed(4), '$(last_error)'"

# ---- mutual CHAP -------------------------------------------------------------------------------------
sa_tgt_ctl --lld iscsi --mode account --op new --user "$TUSER" --password "$TSECRET" ||
	sa_fail "cannot create the outgoing account"
sa_tgt_ctl --lld iscsi --mode account --op bind --user "$TUSER" --outgoing || sa_fail "cannot bind the outgoing account"
reload "chap_user = \"$USER\"; chap_secret = \"$SECRET\"; chap_target_user = \"$TUSER\"; chap_target_secret = \"$TSECRET\";"
sa_wait_for 15 ok_found || sa_fail "mutual CHAP: status $(status), error '$(last_error)'"
sa_log "mutual CHAP: status ok(2)"

# ---- the target does not know the secret we expect from it -------------------------------------------
reload "chap_user = \"$USER\"; chap_secret = \"$SECRET\"; chap_target_user = \"$TUSER\"; chap_target_secret = \"other-secret-000\";"
failed_mutual() { [ "$(status)" = 4 ] && last_error | grep -q "target failed mutual CHAP"; }
sa_wait_for 15 failed_mutual || sa_fail "bad target secret: status $(status), error '$(last_error)'"
sa_log "target failing mutual CHAP: '$(last_error)'"

# Secrets never reach the log.
for s in "$SECRET" "$TSECRET" wrong-secret-99 other-secret-000; do
	! grep -q -- "$s" "$SA_TMP/sanagentd.log" || sa_fail "a secret appears in the agent's log"
done
echo "PASS: discovery_chap"
