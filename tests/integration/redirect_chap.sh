#!/usr/bin/env bash
# redirect_chap.sh: CHAP at the redirector portal (seed 003's credential table) in front of tgtd servers that run
# their own CHAP: no or wrong CHAP gets 0x0201 from the portal, right CHAP reaches the server; SET errors; restart.
set -u
. "$(dirname "$0")/lib.sh"
# shellcheck source=redirect_lib.bash
. "$(dirname "$0")/redirect_lib.bash"
sa_init redirect_chap
sa_need libiscsi-bin iscsi-ls iscsi-inq
sa_need python3 python3
CLIENT="python3 $SA_SRCDIR/tests/integration/redir_client.py"
IQN=$SA_TGT_IQN
R=.1.3.6.1.4.1.32473.1.3.3.1 # sanRedirObjects
AUTH=$R.1.9.0                # sanRedirPortalAuth
FAILS=$R.2.8.0               # sanRedirAuthFailures
CRED=$R.11.1                 # sanRedirCredEntry
USER=alice SECRET=alice-secret-0123
BOB=bob BOBSECRET=bob-secret-456789

# Two servers; each tgtd authenticates initiators itself with its own account for alice (not bob).
sa_start_tgt_servers 2 2
for i in 0 1; do
	tgtadm -C "${SA_TGT_CTL[$i]}" --lld iscsi --op new --mode account --user "$USER" --password "$SECRET" ||
		sa_fail "tgtadm: account on server $i"
	for t in 1 2; do
		tgtadm -C "${SA_TGT_CTL[$i]}" --lld iscsi --op bind --mode account --tid "$t" --user "$USER" ||
			sa_fail "tgtadm: bind account to r$t on server $i"
	done
done
RPORT=$(sa_free_port tcp)
redir_up "$RPORT" 2 "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_interval_ms = 200; servers = ( $(sa_tgt_servers_conf) );
resources = ( { target = \"$IQN:r1\"; server = \"s1\"; }, { target = \"$IQN:r2\"; server = \"s2\"; } ); };"

S1="${SA_TGT_ADDR[0]}:${SA_TGT_PORT[0]},1"

# ---- before: no portal CHAP, the servers' own CHAP still guards the targets ----
[ "$(rget $AUTH)" = 1 ] || sa_fail "sanRedirPortalAuth is not none(1) by default"
out=$($CLIENT login 127.0.0.1 "$RPORT" "$IQN:r1")
[ "$out" = "status 0x0101 address $S1" ] || sa_fail "login without portal CHAP: $out"
iscsi-inq -i "$IQN:inq" "iscsi://127.0.0.1:$RPORT/$IQN:r1/1" >/dev/null 2>&1 && sa_fail "tgtd let a login without CHAP in"

# ---- the credential table: createAndGo, write-only secret, every bad input refused, nothing lost ----
[ "$(rget $R.10.0)" = 1 ] || sa_fail "sanRedirCredNextIndex is not 1"
rset $CRED.2.1 s "$USER" $CRED.3.1 s "$SECRET" $CRED.6.1 i 4
rset $CRED.2.2 s "$BOB" $CRED.3.2 s "$BOBSECRET" $CRED.4.2 s "$IQN:bob" $CRED.6.2 i 4
[ "$(rget $CRED.2.1)" = "\"$USER\"" ] || sa_fail "user of row 1: $(rget $CRED.2.1)"
[ "$(rget $CRED.3.1)" = '""' ] || sa_fail "the secret reads back: $(rget $CRED.3.1)"
[ "$(rget $CRED.5.1)" = 3 ] || sa_fail "storage type of row 1 is not nonVolatile"
[ "$(rget $R.10.0)" = 3 ] || sa_fail "sanRedirCredNextIndex after two rows: $(rget $R.10.0)"
rset_err wrongLength $CRED.3.1 s "short"
rset_err wrongValue $CRED.3.1 s "has a space inside"
rset_err wrongValue $CRED.2.1 s "two words"
rset_err wrongType $CRED.3.1 i 5
rset_err inconsistentValue $CRED.2.3 s "$USER" $CRED.3.3 s "another-secret-99" $CRED.6.3 i 4
[ -z "$(rget $CRED.6.3)" ] || sa_fail "a refused row was created"
rset_err inconsistentValue $CRED.2.2 s "$USER"
[ "$(rget $CRED.2.2)" = "\"$BOB\"" ] || sa_fail "row 2 changed by a refused SET"
rset_err noCreation $CRED.2.9 s carol
# createAndWait: notReady until it has a user and a secret, then active(1).
rset $CRED.6.5 i 5
[ "$(rget $CRED.6.5)" = 3 ] || sa_fail "a new row without a secret is not notReady(3): $(rget $CRED.6.5)"
rset $CRED.2.5 s carol $CRED.3.5 s carol-secret-2468
[ "$(rget $CRED.6.5)" = 2 ] || sa_fail "a complete waiting row is not notInService(2): $(rget $CRED.6.5)"
[ "$(rget $CRED.3.5)" = '""' ] || sa_fail "a waiting row's secret reads back"
rset $CRED.6.5 i 1
[ "$(rget $CRED.6.5)" = 1 ] || sa_fail "row 5 is not active"
rset $CRED.6.5 i 6
[ -z "$(rget $CRED.6.5)" ] || sa_fail "row 5 not destroyed"
rset_err wrongValue $AUTH i 3
rset_err wrongType $AUTH s chap
[ "$(rget $AUTH)" = 1 ] || sa_fail "a refused SET changed sanRedirPortalAuth"
rset $AUTH i 2

# ---- no or wrong CHAP: 0x0201 from the portal ----
out=$($CLIENT login 127.0.0.1 "$RPORT" "$IQN:r1")
[ "$out" = "status 0x0201 address -" ] || sa_fail "login without CHAP: $out"
out=$($CLIENT chaplogin 127.0.0.1 "$RPORT" "$IQN:r1" "$USER" "wrong-secret-0000")
[ "$out" = "status 0x0201 address -" ] || sa_fail "login with a wrong secret: $out"
out=$($CLIENT chaplogin 127.0.0.1 "$RPORT" "$IQN:r1" nosuchuser "$SECRET")
[ "$out" = "status 0x0201 address -" ] || sa_fail "login of an unknown user: $out"
# bob's credential is bound to the initiator name $IQN:bob; the test client has another.
out=$($CLIENT chaplogin 127.0.0.1 "$RPORT" "$IQN:r1" "$BOB" "$BOBSECRET")
[ "$out" = "status 0x0201 address -" ] || sa_fail "bob's credential from another initiator: $out"
iscsi-ls -i "$IQN:ls" "iscsi://127.0.0.1:$RPORT" >/dev/null 2>&1 && sa_fail "discovery without CHAP worked"
iscsi-ls -i "$IQN:ls" "iscsi://$USER%wrong-secret-0000@127.0.0.1:$RPORT" >/dev/null 2>&1 &&
	sa_fail "discovery with a wrong secret worked"
iscsi-inq -i "$IQN:inq" "iscsi://$USER%wrong-secret-0000@127.0.0.1:$RPORT/$IQN:r1/1" >/dev/null 2>&1 &&
	sa_fail "a login with a wrong secret worked"
n=$(rget $FAILS)
[ "${n:-0}" -ge 7 ] || sa_fail "sanRedirAuthFailures is $n after 7 refused logins"
grep -q "CHAP login of .* refused: wrong response" "$SA_TMP/sanagentd.log" || sa_fail "no log line for a wrong response"

# ---- right CHAP: redirected, and the server's own CHAP passes ----
# An initiator that speaks CHAP with the portal in its normal login (our client) is redirected at once.
out=$($CLIENT chaplogin 127.0.0.1 "$RPORT" "$IQN:r1" "$USER" "$SECRET")
[ "$out" = "status 0x0101 address $S1" ] || sa_fail "login with the right secret: $out"
# libiscsi passes the portal's CHAP in its discovery session; its logins from there follow within
# sanRedirAuthLifetime and are redirected without a second CHAP, so the server's CHAP starts afresh.
out=$(iscsi-ls -s -i "$IQN:app" "iscsi://$USER%$SECRET@127.0.0.1:$RPORT") || sa_fail "iscsi-ls with CHAP failed: $out"
echo "$out"
[ "$(echo "$out" | grep -c "Target:$IQN:r[12] Portal:127.0.0.1:$RPORT,1")" = 2 ] || sa_fail "iscsi-ls with CHAP: $out"
[ "$(echo "$out" | grep -c "Lun:1")" = 2 ] || sa_fail "iscsi-ls -s did not reach LUN 1 of both targets: $out"
iscsi-inq -i "$IQN:app" "iscsi://$USER%$SECRET@127.0.0.1:$RPORT/$IQN:r2/1" | grep -q DIRECT_ACCESS ||
	sa_fail "iscsi-inq of r2 with CHAP failed"
# The server authenticates on its own: bob passes the portal but has no account on tgtd.
iscsi-ls -i "$IQN:bob" "iscsi://$BOB%$BOBSECRET@127.0.0.1:$RPORT" >/dev/null || sa_fail "bob's discovery at the portal"
out=$(iscsi-inq -i "$IQN:bob" "iscsi://$BOB%$BOBSECRET@127.0.0.1:$RPORT/$IQN:r1/1" 2>&1) &&
	sa_fail "bob reached r1 without an account on the server: $out"
echo "$out" | grep -q "Authentication failure" || sa_fail "bob's login not refused by the server's CHAP: $out"
grep -q "CHAP login of $IQN:bob" "$SA_TMP/sanagentd.log" && sa_fail "the portal refused bob: the server should have"
# sanRedirAuthLifetime 0: every login passes CHAP itself; bad values refused.
rset_err wrongValue $R.1.10.0 u 86401
rset $R.1.10.0 u 0
out=$($CLIENT login 127.0.0.1 "$RPORT" "$IQN:r1")
[ "$out" = "status 0x0201 address -" ] || sa_fail "login without CHAP, lifetime 0: $out"
rset $R.1.10.0 u 600

# ---- secrets are never logged nor read back ----
for f in "$SA_TMP"/*.log; do
	grep -qF -e "$SECRET" -e "$BOBSECRET" "$f" && sa_fail "a secret is in $f"
done
rget $CRED.3.2 | grep -q bob && sa_fail "bob's secret reads back"

# ---- a restart keeps the credentials (nonVolatile) and the mode ----
sa_stop_pid "$SA_AGENT_PID"
sa_start_agent
sa_wait_agent
sa_wait_for 10 sa_tcp_listening 127.0.0.1 "$RPORT" || sa_fail "portal not back after the restart"
[ "$(rget $AUTH)" = 2 ] || sa_fail "sanRedirPortalAuth after a restart: $(rget $AUTH)"
[ "$(rget $CRED.2.1)" = "\"$USER\"" ] || sa_fail "credential row 1 lost in the restart"
sa_wait_for 10 eval '[ "$($CLIENT chaplogin 127.0.0.1 $RPORT $IQN:r1 $USER $SECRET)" = "status 0x0101 address $S1" ]' ||
	sa_fail "CHAP login after the restart"
# destroy: the user is gone from the portal.
rset $CRED.6.1 i 6
out=$($CLIENT chaplogin 127.0.0.1 "$RPORT" "$IQN:r1" "$USER" "$SECRET")
[ "$out" = "status 0x0201 address -" ] || sa_fail "login with a destroyed credential: $out"
echo "PASS"
