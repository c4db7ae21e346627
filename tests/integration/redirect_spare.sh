#!/usr/bin/env bash
# redirect_spare.sh: a hot spare (seed 003 [0088]) takes no resources, not even from the rebalancer, until a server
# fails, then all of its resources; pinned resources on a failed server stay (row down, sanResourceStranded at
# snmptrapd) or move by their failure policy; SET errors.
set -u
. "$(dirname "$0")/lib.sh"
# shellcheck source=redirect_lib.bash
. "$(dirname "$0")/redirect_lib.bash"
sa_init redirect_spare
sa_need libiscsi-bin iscsi-inq
sa_need python3 python3
CLIENT="python3 $SA_SRCDIR/tests/integration/redir_client.py"
IQN=$SA_TGT_IQN
R=$SA_OID.3.3 # SANAGENT-REDIRECTOR-MIB
O=$R.1        # sanRedirObjects
SRV=$O.4.1    # sanRedirServerEntry
RES=$O.6.1    # sanRedirResourceEntry

# s1..s3 serve, s4 is the spare; r1,r2 on s1; r3,r4 on s2; r5,r6 on s3, both pinned.
sa_start_tgt_servers 4 7
ADMIN=(up up up spare)
RPORT=$(sa_free_port tcp)
res="{ target = \"$IQN:r1\"; server = \"s1\"; }, { target = \"$IQN:r2\"; server = \"s1\"; },
 { target = \"$IQN:r3\"; server = \"s2\"; }, { target = \"$IQN:r4\"; server = \"s2\"; },
 { target = \"$IQN:r5\"; server = \"s3\"; pinned = true; }, { target = \"$IQN:r6\"; server = \"s3\"; pinned = true; }"
sa_start_snmptrapd
# probe_timeout_ms: the test kills servers (refused at once); a loaded machine must not time probes out.
redir_up "$RPORT" 4 "redirect = { listen = [ \"127.0.0.1:$RPORT\" ]; probe_timeout_ms = 5000; threshold = 10; max_moves = 4;
 servers = ( $(sa_tgt_servers_conf ADMIN) ); resources = ( $res ); };"

addr() { echo "${SA_TGT_ADDR[$1]}:${SA_TGT_PORT[$1]},1"; }
login() { $CLIENT login 127.0.0.1 "$RPORT" "$IQN:$1"; }

[ "$(rget $SRV.7.4)" = 4 ] || sa_fail "s4's admin status is not spare(4)"
sa_wait_for 5 eval '[ "$(rget $SRV.8.4)" = 1 ]' || sa_fail "the spare is not probed up"
[ "$(rget $SRV.10.4)" = 0 ] || sa_fail "the spare holds resources at start"
[ "$(rget $RES.14.5)" = 1 ] || sa_fail "sanRedirResourceFailPolicy.5 is not stay(1) by default"

# ---- bad input: the precise error, nothing changed ----
rset_err wrongValue $SRV.7.4 i 5
rset_err wrongValue $SRV.7.4 i 0
rset_err wrongType $SRV.7.4 s spare
rset_err wrongValue $RES.14.6 i 3
rset_err wrongType $RES.14.6 u 2
rset_err notWritable $RES.15.6 i 1
rset_err noCreation $RES.14.99 i 2
[ "$(rget $SRV.7.4)" = 4 ] && [ "$(rget $RES.14.6)" = 1 ] || sa_fail "a refused SET changed a row"
rset $RES.14.6 i 2
[ "$(rget $RES.14.6)" = 2 ] || sa_fail "sanRedirResourceFailPolicy.6 did not take moveWhenFailed(2)"

# ---- not balanced onto first: a rebalance and a new resource leave the idle spare alone ----
for i in 1 2 3 4 5 6; do rset $RES.4.$i u $((i * 1000000)); done
rset $O.1.4.0 i 1 # sanRedirRebalanceTrigger
sa_wait_for 5 eval '[ -n "$(rget $O.8.1.4.1)" ]' || sa_fail "the manual rebalance left no plan row"
echo "# plan: $(rget $O.8.1.7.1)"
rget $O.8.1.7.1 | grep -q -- "->4" && sa_fail "the rebalancer moved a resource onto the spare"
rset $RES.11.7 i 4 $RES.2.7 s "$IQN:r7"
[ "$(rget $RES.3.7)" != 4 ] || sa_fail "a new resource was placed on the spare"
[ "$(rget $SRV.10.4)" = 0 ] || sa_fail "the spare holds $(rget $SRV.10.4) resources before any failure"
rset $RES.11.7 i 6
for i in 1 2 3 4 5 6; do rset $RES.4.$i u 0; done
# Back to the configured mapping before the failure (the rebalance may have moved r1..r4).
for i in 1 2; do rset $RES.3.$i u 1; done
for i in 3 4; do rset $RES.3.$i u 2; done

# ---- s1 fails: the spare takes both of its resources, nothing else moves ----
kill -9 "${SA_TGT_PID[0]}"
sa_wait_for 5 eval '[ "$(rget $SRV.10.4)" = 2 ]' || sa_fail "the spare did not take s1's two resources"
[ "$(rget $RES.3.1)" = 4 ] && [ "$(rget $RES.3.2)" = 4 ] || sa_fail "r1/r2 on $(rget $RES.3.1)/$(rget $RES.3.2), want the spare"
[ "$(rget $SRV.20.4)" = 1 ] || sa_fail "sanRedirServerSpareFor.4 = $(rget $SRV.20.4), want 1"
[ "$(login r1)" = "status 0x0101 address $(addr 3)" ] || sa_fail "login r1 after s1 failed: $(login r1)"
[ "$(login r3)" = "status 0x0101 address $(addr 1)" ] || sa_fail "r3 moved although s2 is up"
grep -q "spare s4 takes over 2 resources of s1" "$SA_TMP/sanagentd.log" || sa_fail "no takeover in the log"
iscsi-inq -i "$IQN:inq" "iscsi://127.0.0.1:$RPORT/$IQN:r1/1" | grep -q DIRECT_ACCESS || sa_fail "iscsi-inq r1 via the spare"

# ---- s3 fails: pinned r5 (stay) stays and says so; pinned r6 (moveWhenFailed) moves ----
kill -9 "${SA_TGT_PID[2]}"
sa_wait_for 5 eval '[ "$(rget $RES.15.5)" = 2 ]' || sa_fail "sanRedirResourceServerStatus.5 = $(rget $RES.15.5), want down(2)"
[ "$(rget $RES.3.5)" = 3 ] || sa_fail "pinned r5 (stay) moved to $(rget $RES.3.5)"
sa_wait_for 5 eval '[ "$(rget $RES.3.6)" != 3 ]' || sa_fail "pinned r6 (moveWhenFailed) stayed on s3"
[ "$(rget $RES.7.6)" = 1 ] || sa_fail "r6 is no longer pinned after its move"
[ "$(rget $RES.15.6)" = 1 ] || sa_fail "r6's server is not up after its move"
[ "$(login r5)" = "status 0x0301 address -" ] || sa_fail "login r5 on its failed server: $(login r5)"
sa_wait_for 5 sa_trap_seen "$R.0.5" || sa_fail "sanResourceStranded did not reach snmptrapd"
grep -F -- "$R.0.5" "$SA_TMP/snmptrapd.log" | grep -q "$RES.2.5 = STRING: \"$IQN:r5\"" ||
	sa_fail "sanResourceStranded does not name r5: $(grep -F -- "$R.0.5" "$SA_TMP/snmptrapd.log")"
grep -F -- "$R.0.5" "$SA_TMP/snmptrapd.log" | grep -q "$IQN:r6" && sa_fail "sanResourceStranded for r6, which moved"
[ "$(grep -cF -- "$R.0.5" "$SA_TMP/snmptrapd.log")" = 1 ] || sa_fail "more than one sanResourceStranded"
# Its policy changed to moveWhenFailed: it moves at once.
rset $RES.14.5 i 2
sa_wait_for 5 eval '[ "$(rget $RES.15.5)" = 1 ]' || sa_fail "r5 did not move when its policy changed"
[ "$(login r5)" != "status 0x0301 address -" ] || sa_fail "r5 still unreachable"
echo "PASS"
