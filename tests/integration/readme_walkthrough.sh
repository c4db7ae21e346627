#!/usr/bin/env bash
# readme_walkthrough.sh: README's walkthrough, run as it stands. Its marked blocks (<!-- walkthrough:NAME -->
# before a fenced block) are taken from README.md and run in order against a lab: an empty tgtd with an
# snmpd + sanagentd as storage agent beside it, and an snmpd + sanagentd as initiator agent. Only the values of the
# walkthrough's first block (snmpd addresses, SNMPv3 user, portal, port, lun_dir) are the lab's; the config
# blocks get the lab's tgt control port, lun_dir, run_dir and plug-in. After each block the test checks what the
# administrator sees: the block's own output, values read back through each snmpd, tgt's view, iscsi-ls with
# CHAP, the team's two paths up and 8 MiB written and read back intact. A README block edited so that it no longer
# works fails here. SA_README=FILE runs another copy (to see the test fail on a broken one).
set -u
. "$(dirname "$0")/lib.sh"
sa_init readme_walkthrough
sa_need libiscsi-bin iscsi-ls
sa_need libiscsi-bin iscsi-readcapacity16
sa_need_plugin nbdcopy

README=${SA_README:-$SA_SRCDIR/README.md}
ADMIN=$SA_TMP/admin # the administrator's working directory and shell variables
mkdir -p "$ADMIN"

# wt_block NAME: the fenced block after <!-- walkthrough:NAME -->, exactly one.
wt_block() {
	local n
	n=$(grep -c -- "^<!-- walkthrough:$1 -->$" "$README")
	[ "$n" = 1 ] || sa_fail "README has $n walkthrough:$1 markers, want 1"
	awk -v m="<!-- walkthrough:$1 -->" '
		$0 == m { on = 1; next }
		on == 1 && /^```/ { on = 2; next }
		on == 2 && /^```/ { exit }
		on == 2 { print }' "$README"
}

# The values the lab gives the walkthrough's variables; each must be one the README declares.
S=$SA_OID.3.1.1 # sanSessionObjects
TGT=$S.13.1
LUN=$S.14.1
ACC=$S.21.1
BND=$S.22.1
ACL=$S.23.1
DTGT=$S.3.1
DSRC=$S.2.1
LOGIN=$S.8.1
TEAM=$SA_OID.3.2.1.2.1
PATHS=$SA_OID.3.2.1.3.1
LUNS=$SA_TMP/luns
mkdir -p "$LUNS"
VARS=$(wt_block vars)
for v in ARRAY_SNMP HOST_SNMP SNMP PORTAL1 PORTAL2 ISCSI_PORT LUNS TARGET HOST_IQN CHAP_USER CHAP_SECRET; do
	echo "$VARS" | grep -Eq "(^| )$v=" || sa_fail "the walkthrough's first block no longer declares $v"
done
# The README's own values of the names the lab keeps.
readme_var() { bash -c "$VARS"$'\n'"echo \"\$$1\""; }
R_LUNS=$(readme_var LUNS)
TARGET=$(readme_var TARGET)
HOST_IQN=$(readme_var HOST_IQN)
CHAP_USER=$(readme_var CHAP_USER)
CHAP_SECRET=$(readme_var CHAP_SECRET)

# ---- the lab: an empty tgtd (portals 127.0.0.1 and 127.0.0.2), the storage agent beside it -----------------
sa_start_tgtd 0
P=$SA_ISCSI_PORT
[ -z "$(sa_tgt_ctl --lld iscsi --op show --mode target)" ] || sa_fail "tgtd is not empty"
ACONF=$(wt_block array-conf | sed -e "s|tgt_control = 0;|tgt_control = $SA_TGT_CONTROL;|" -e "s|\"$R_LUNS\"|\"$LUNS\"|")
case $ACONF in *"tgt_control = $SA_TGT_CONTROL;"*"\"$LUNS\""*) ;;
*) sa_fail "README's storage config no longer has tgt_control = 0 and lun_dir \"$R_LUNS\": $(wt_block array-conf)" ;;
esac
sa_ns_snmpd
echo "$ACONF" | sa_ns_agent_conf
sa_ns_start_agent

# ---- the initiator agent ----------------------------------------------------------------------------------
RUN=$SA_TMP/run
HCONF=$(wt_block host-conf | sed "s|run_dir = \"/run/sanagent\";|run_dir = \"$RUN\"; plugin = \"$PLUGIN\";|")
case $HCONF in *"plugin = \"$PLUGIN\""*) ;;
*) sa_fail "README's initiator config no longer has run_dir = \"/run/sanagent\": $(wt_block host-conf)" ;;
esac
sa_start_snmpd
sa_agent_conf "$HCONF"
sa_start_agent
sa_wait_agent

LAB_VARS=$(printf '%s=%q\n' ARRAY_SNMP "127.0.0.1:$NS_PORT" HOST_SNMP "127.0.0.1:$SA_SNMP_PORT" \
	SNMP "-v3 -l authPriv -u $SA_V3_USER -a SHA -A $SA_V3_AUTH -x AES -X $SA_V3_PRIV" \
	PORTAL1 127.0.0.1 PORTAL2 127.0.0.2 ISCSI_PORT "$P" LUNS "$LUNS")

# run NAME: the block as the administrator pastes it into a shell that has run the blocks before it (their
# variables in $ADMIN/env.sh). Fails on the first command that fails; its output is $ADMIN/NAME.out.
run() {
	local f=$ADMIN/$1.sh
	{
		echo 'set -e'
		echo '__before=$(compgen -v | sort)'
		# The variables this block and those before it set, kept for the next block.
		echo "trap '__rc=\$?; declare -p \$(comm -13 <(echo \"\$__before\") <(compgen -v | sort) |" \
			"grep -Ev \"^(__|BASH|PIPESTATUS|FUNCNAME|LINENO|_$)\") >env.sh 2>/dev/null; exit \$__rc' EXIT"
		echo "$VARS"
		echo "$LAB_VARS"
		echo '[ ! -f env.sh ] || . ./env.sh'
		wt_block "$1"
	} >"$f"
	(cd "$ADMIN" && bash "$f" >"$1.out" 2>"$1.err") ||
		sa_fail "README block walkthrough:$1 failed: $(cat "$ADMIN/$1.err") $(cat "$ADMIN/$1.out")"
	sa_log "walkthrough:$1 ran: $(tr '\n' ' ' <"$ADMIN/$1.out" | cut -c1-400)"
}
admin_var() { (cd "$ADMIN" && . ./env.sh && eval echo "\"\$$1\""); }
out_has() { grep -Eq -- "$2" "$ADMIN/$1.out" || sa_fail "walkthrough:$1 does not show /$2/: $(cat "$ADMIN/$1.out")"; }

# ---- from empty: no targets, accounts or ACLs on the array; no credentials, sources or logins on the host ------
for o in "$TGT.2" "$ACC.2" "$ACL.3"; do
	[ -z "$(ns_walk "$o" | grep "^$o\.")" ] || sa_fail "the storage agent starts with rows: $(ns_walk "$o")"
done
for o in "$S.6.1.2" "$DSRC.2" "$LOGIN.2" "$TEAM.2"; do
	[ -z "$(sa_walk "$o" | grep "^$o\.")" ] || sa_fail "the initiator agent starts with rows: $(sa_walk "$o")"
done

# ---- the array -------------------------------------------------------------------------------------------
run array
A=$(admin_var A)
[ -n "$A" ] || sa_fail "the array block set no account index"
active() { [ "$(ns_get "$1")" = 1 ]; }
for o in "$TGT.11.1" "$LUN.12.1.1" "$ACC.5.$A" "$BND.3.1.$A" "$ACL.5.1.1"; do
	sa_wait_for 20 active "$o" || sa_fail "$o not active: $(ns_get "$o")"
done
row=$(ns_get1 "$TGT.2.1" "$LUN.4.1.1" "$LUN.3.1.1" "$ACC.2.$A" "$ACC.3.$A" "$BND.1.1.$A" "$ACL.2.1.1" "$ACL.3.1.1")
[ "$row" = "\"$TARGET\" \"$LUNS/lun1.img\" 64 \"$CHAP_USER\" \"\" 1 1 \"$HOST_IQN\"" ] ||
	sa_fail "the storage agent reads back (target, LUN path and size, user, secret, binding, ACL kind and rule): $row"
tgt=$(sa_tgt_ctl --lld iscsi --op show --mode target)
for want in "^Target 1: $TARGET$" "Backing store path: $LUNS/lun1.img$" "^        $CHAP_USER$" "^        $HOST_IQN$"; do
	echo "$tgt" | grep -q -- "$want" || sa_fail "tgt lacks /$want/: $tgt"
done
[ "$(stat -c %s "$LUNS/lun1.img")" = $((64 << 20)) ] || sa_fail "lun1.img is $(stat -c %s "$LUNS/lun1.img") bytes"
sa_log "array: target 1 $TARGET, LUN 1 (64 MiB in lun_dir), account $A $CHAP_USER bound incoming, ACL $HOST_IQN"

run array-check
out_has array-check "Target:$TARGET"
out_has array-check "^Lun:1 +Type:DIRECT_ACCESS"
out=$(iscsi-readcapacity16 -i "$HOST_IQN" "iscsi://127.0.0.1:$P/$TARGET/1" 2>&1) &&
	sa_fail "the target let $HOST_IQN in without CHAP: $out"
sa_log "iscsi-ls with CHAP sees $TARGET and LUN 1; without CHAP the login is refused"

# ---- the host: credential and discovery source -------------------------------------------------------------
run host-discover
C=$(admin_var C)
[ "$(sa_get1 "$S.6.1.2.$C" "$S.6.1.3.$C" "$S.6.1.8.$C")" = "\"$CHAP_USER\" \"\" 1" ] ||
	sa_fail "credential $C (user, secret read back empty, status): $(sa_get1 "$S.6.1.2.$C" "$S.6.1.3.$C" "$S.6.1.8.$C")"
# Both sources idle with one target each, the target on two portals.
srcs() { sa_walk "$DSRC.17" | grep -c 'INTEGER: 1$'; }
src_targets() { sa_walk "$DSRC.7" | grep -c ': 1$'; }
tgt_row() { sa_walk "$DTGT.2" | grep -F "\"$TARGET\"" | sed -n "s/^$DTGT\.2\.\([0-9]*\) .*/\1/p"; }
discovered() { [ "$(srcs) $(src_targets)" = "2 2" ] && [ -n "$(tgt_row)" ] && [ "$(sa_get "$DTGT.5.$(tgt_row)")" = 2 ]; }
sa_wait_for 20 discovered || sa_fail "the host does not discover $TARGET on two portals: $(sa_walk "$DSRC" | grep -E "\.(6|7|12|17)\.")"
run host-targets
[ "$(grep -c 'sanDiscSourceState\.[0-9]* = INTEGER: idle(1)$' "$ADMIN/host-targets.out")" = 2 ] ||
	sa_fail "walkthrough:host-targets does not show two sources idle: $(cat "$ADMIN/host-targets.out")"
[ "$(grep -Ec 'sanDiscSourceTargets\.[0-9]+ = [A-Za-z0-9]+: 1$' "$ADMIN/host-targets.out")" = 2 ] ||
	sa_fail "walkthrough:host-targets does not show one target per source: $(cat "$ADMIN/host-targets.out")"
out_has host-targets "sanDiscTargetName\.[0-9]+ = STRING: \"?$TARGET\"?$"
out_has host-targets "sanDiscTargetPortals\.[0-9]+ = [A-Za-z0-9]+: 2$"
sa_log "host: credential $C; sources at 127.0.0.1:$P and 127.0.0.2:$P discover $TARGET on two portals"

# ---- the host: a login, its two-path team, I/O ---------------------------------------------------------------
run host-login
L=$(admin_var L)
up() { [ "$(sa_get1 "$LOGIN.11.$L" "$LOGIN.16.$L")" = "1 2" ]; }
sa_wait_for 30 up || sa_fail "login $L (oper, paths): $(sa_get1 "$LOGIN.11.$L" "$LOGIN.16.$L"), result $(sa_get "$LOGIN.12.$L")"
T=$(sa_get "$LOGIN.15.$L")
optimal() { [ "$(sa_get1 "$TEAM.10.$T" "$PATHS.20.$T.1" "$PATHS.20.$T.2")" = "1 1 1" ]; }
sa_wait_for 20 optimal || sa_fail "team $T (state, paths' oper status): $(sa_get1 "$TEAM.10.$T" "$PATHS.20.$T.1" "$PATHS.20.$T.2")"
sessions=$(sa_tgt_ctl --lld iscsi --op show --mode target | grep -c "Initiator: $HOST_IQN")
[ "$sessions" = 2 ] || sa_fail "tgt has $sessions sessions from $HOST_IQN, want 2"
run host-io
[ "$(admin_var T)" = "$T" ] || sa_fail "the walkthrough reads team $(admin_var T), the login's is $T"
out_has host-io "sanPathPortal\.$T\.1 = STRING: \"?127\.0\.0\.[12]:$P\"?$"
out_has host-io "sanPathPortal\.$T\.2 = STRING: \"?127\.0\.0\.[12]:$P\"?$"
[ "$(grep -c 'sanPathOperStatus.* = INTEGER: up(1)$' "$ADMIN/host-io.out")" = 2 ] ||
	sa_fail "walkthrough:host-io does not show two paths up: $(cat "$ADMIN/host-io.out")"
out_has host-io "^8 MiB read back intact$"
cmp -n $((8 << 20)) "$ADMIN/data.in" "$ADMIN/data.out" || sa_fail "data read back differs"
[ "$(stat -c %s "$ADMIN/data.in")" = $((8 << 20)) ] || sa_fail "the walkthrough wrote $(stat -c %s "$ADMIN/data.in") bytes"
wrote() { [ "$(sa_get "$PATHS.13.$T.1")" -gt 0 ] && [ "$(sa_get "$PATHS.13.$T.2")" -gt 0 ]; }
sa_wait_for 10 wrote || sa_fail "not both paths carried writes: $(sa_get1 "$PATHS.13.$T.1" "$PATHS.13.$T.2")"
sa_log "host: login $L, team $T with two paths up, 8 MiB through its export over both paths and back intact"

# What README says of a source that names the credential: against this array it fails with "authentication
# failure" (the storage agent binds no account to discovery sessions). Source 1, asked again with credential C.
sa_set "$DSRC.15.1" u "$C" "$DSRC.16.1" i 2 >/dev/null || sa_fail "cannot name credential $C on source 1"
auth_failed() { [ "$(sa_get1 "$DSRC.17.1" "$DSRC.12.1")" = '4 "authentication failure"' ]; }
sa_wait_for 10 auth_failed || sa_fail "source 1 with credential $C: $(sa_get1 "$DSRC.17.1" "$DSRC.12.1"); README says failed"
sa_set "$DSRC.15.1" u 0 "$DSRC.16.1" i 2 >/dev/null || sa_fail "cannot clear source 1's credential"
src1_idle() { [ "$(sa_get "$DSRC.17.1")" = 1 ]; }
sa_wait_for 10 src1_idle || sa_fail "source 1 without a credential again: $(sa_get1 "$DSRC.17.1" "$DSRC.12.1")"
sa_log "a source naming credential $C fails with authentication failure against this array, as README says"

! grep -qF -- "$CHAP_SECRET" "$SA_TMP/sanagentd.log" "$SA_TMP/ns-sanagentd.log" || sa_fail "a secret is in an agent's log"
echo "PASS: README walkthrough"
