#!/bin/bash
# stor_setup.sh: an array set up from an empty tgtd by snmpset alone (a target, a LUN on a sparse file the agent
# creates, CHAP accounts bound incoming and outgoing, initiator ACLs by name and by address, iSNS registration), seen by
# iscsi-ls, iscsi-readcapacity16 (mutual CHAP too) and isnsd; bad input refused with the precise errors; all of it back
# on a tgtd restarted empty and after an agent restart; a target with sessions destroyed only when forced.
. "$(dirname "$0")/lib.sh"
sa_init stor_setup
sa_need libiscsi-bin iscsi-ls
sa_need libiscsi-bin iscsi-readcapacity16
sa_need libiscsi-bin iscsi-perf
sa_need open-isns-server isnsd
sa_need open-isns-utils isnsadm

S=$SA_OID.3.1.1 # sanSessionObjects
TGT=$S.13.1
LUN=$S.14.1
ANEXT=$S.20.0
ACC=$S.21.1
BND=$S.22.1
ACL=$S.23.1
ISNS=$S.24

IQN=$SA_IQN_PREFIX:array1
GOOD=$SA_IQN_PREFIX:host-good
BAD=$SA_IQN_PREFIX:host-bad
USER=arrayuser
SECRET=Secret-0123456
LUNS=$SA_TMP/luns
mkdir -p "$LUNS" "$SA_TMP/elsewhere"

sa_start_snmpd
sa_start_tgtd 0 # empty: no targets, portals 127.0.0.1 and 127.0.0.2
P=$SA_ISCSI_PORT
sa_agent_conf "storage = { tgt_control = $SA_TGT_CONTROL; interval = 1; lun_dir = \"$LUNS\"; };"
sa_start_agent
sa_wait_agent
sa_wait_for 10 sh -c "snmpget -v2c -c $SA_RO_COMMUNITY -On 127.0.0.1:$SA_SNMP_PORT $ANEXT | grep -q Gauge32" ||
	sa_fail "sanStorAccountNextIndex not served"
[ -z "$(sa_walk "$TGT.2" | grep STRING)" ] || sa_fail "tgtd is not empty: $(sa_walk "$TGT.2")"

# ---- a target and its LUN in one PDU ---------------------------------------------------------------------
sa_set "$TGT.2.1" s "$IQN" "$TGT.9.1" s "array one" "$TGT.11.1" i 4 \
	"$LUN.4.1.1" s "$LUNS/lun1.img" "$LUN.3.1.1" u 64 "$LUN.12.1.1" i 4 >/dev/null ||
	sa_fail "createAndGo of target 1 with LUN 1 refused"
tgt_show() { sa_tgt_ctl --lld iscsi --op show --mode target; }
tgt_has() { tgt_show | grep -q -- "$1"; }
sa_wait_for 10 tgt_has "^Target 1: $IQN$" || sa_fail "tgt lacks target 1: $(tgt_show)"
sa_wait_for 10 tgt_has "Backing store path: $LUNS/lun1.img" || sa_fail "tgt lacks LUN 1: $(tgt_show)"
[ "$(stat -c %s "$LUNS/lun1.img")" = $((64 << 20)) ] || sa_fail "lun1.img: $(stat -c %s "$LUNS/lun1.img") bytes"
[ "$(stat -c %b "$LUNS/lun1.img")" -lt 1024 ] || sa_fail "lun1.img is not sparse: $(stat -c %b "$LUNS/lun1.img") blocks"
active() { [ "$(sa_get "$1")" = 1 ]; }
sa_wait_for 10 active "$TGT.11.1" || sa_fail "sanStorTargetRowStatus.1: $(sa_get "$TGT.11.1")"
sa_wait_for 10 active "$LUN.12.1.1" || sa_fail "sanStorLunRowStatus.1.1: $(sa_get "$LUN.12.1.1")"
row=$(sa_get1 "$TGT.2.1" "$TGT.9.1" "$TGT.10.1" "$TGT.3.1" "$LUN.3.1.1" "$LUN.4.1.1" "$LUN.11.1.1" "$LUN.11.1.0")
[ "$row" = "\"$IQN\" \"array one\" 3 2 64 \"$LUNS/lun1.img\" 3 1" ] ||
	sa_fail "target 1 (name alias storage luns) and LUN 1 (size path storage), LUN 0 storage: $row"
sa_state_dump | grep -q '^stor.cfg.t.1.0' || sa_fail "target 1 not persisted"
sa_state_dump | grep -q '^stor.cfg.l.1.1' || sa_fail "LUN 1.1 not persisted"
sa_log "target 1 $IQN with LUN 1 (64 MiB sparse file made by the agent) created in one PDU"

# ---- a CHAP account bound to it, ACLs ---------------------------------------------------------------------
A=$(sa_get "$ANEXT")
[ -n "$A" ] && [ "$A" -ge 1 ] || sa_fail "sanStorAccountNextIndex: '$A'"
sa_set "$ACC.2.$A" s "$USER" "$ACC.3.$A" s "$SECRET" "$ACC.5.$A" i 4 "$BND.1.1.$A" i 1 "$BND.3.1.$A" i 4 \
	"$ACL.2.1.1" i 1 "$ACL.3.1.1" s "$GOOD" "$ACL.5.1.1" i 4 \
	"$ACL.2.1.2" i 2 "$ACL.3.1.2" s 198.18.0.0/24 "$ACL.5.1.2" i 4 >/dev/null ||
	sa_fail "createAndGo of account $A, its binding and two ACLs refused"
sa_wait_for 10 tgt_has "^        $USER$" || sa_fail "tgt lacks the account binding: $(tgt_show)"
sa_wait_for 10 tgt_has "^        $GOOD$" || sa_fail "tgt lacks the ACL by name: $(tgt_show)"
sa_wait_for 10 tgt_has "^        198.18.0.0/24$" || sa_fail "tgt lacks the ACL by address: $(tgt_show)"
sa_wait_for 10 active "$BND.3.1.$A" || sa_fail "sanStorAccountBindRowStatus: $(sa_get "$BND.3.1.$A")"
row=$(sa_get1 "$ACC.2.$A" "$ACC.3.$A" "$ACC.4.$A" "$ACC.5.$A" "$BND.1.1.$A" "$ACL.2.1.1" "$ACL.3.1.1" "$ACL.5.1.2")
[ "$row" = "\"$USER\" \"\" 3 1 1 1 \"$GOOD\" 1" ] ||
	sa_fail "account (user, secret read back empty, storage, status), binding, ACLs: $row"
grep -q -- "$SECRET" "$SA_TMP/sanagentd.log" && sa_fail "the secret is in the agent's log"
sa_state_dump | grep -q -- "$SECRET" && sa_fail "the secret is in the state file in clear"
sa_log "account $A ($USER) bound incoming to target 1; ACLs $GOOD and 198.18.0.0/24"

# ---- what initiators see -----------------------------------------------------------------------------------
URL="iscsi://$USER%$SECRET@127.0.0.1:$P"
check_access() {
	iscsi-ls -i "$GOOD" -s "$URL" >"$SA_TMP/ls.out" 2>&1 || sa_fail "iscsi-ls with CHAP: $(cat "$SA_TMP/ls.out")"
	grep -q "Target:$IQN" "$SA_TMP/ls.out" || sa_fail "iscsi-ls does not see $IQN: $(cat "$SA_TMP/ls.out")"
	grep -q "^Lun:1 *Type:DIRECT_ACCESS" "$SA_TMP/ls.out" || sa_fail "iscsi-ls: no LUN 1: $(cat "$SA_TMP/ls.out")"
	out=$(iscsi-readcapacity16 -i "$GOOD" "$URL/$IQN/1" 2>&1) || sa_fail "readcapacity16 with CHAP as $GOOD: $out"
	echo "$out" | grep -q "LOGICAL BLOCK ADDRESS:131071$" || sa_fail "readcapacity16: want 131072 blocks of 512: $out"
	out=$(iscsi-readcapacity16 -i "$GOOD" "iscsi://127.0.0.1:$P/$IQN/1" 2>&1) && sa_fail "a login without CHAP got in: $out"
	out=$(iscsi-readcapacity16 -i "$GOOD" "iscsi://$USER%Wrong-0123456@127.0.0.1:$P/$IQN/1" 2>&1) &&
		sa_fail "a login with a wrong secret got in: $out"
	out=$(iscsi-readcapacity16 -i "$BAD" "$URL/$IQN/1" 2>&1) && sa_fail "$BAD, outside the ACLs, got in: $out"
	return 0
}
check_access
sa_log "iscsi-ls sees $IQN and its LUN through CHAP; no CHAP, a wrong secret and $BAD are refused"

# Mutual CHAP: a second account bound outgoing is what the target answers with; an initiator that asks for it
# checks the target's secret.
B=$(sa_get "$ANEXT")
[ -n "$B" ] && [ "$B" != "$A" ] || sa_fail "sanStorAccountNextIndex after $A: '$B'"
sa_set "$ACC.2.$B" s arraytarget "$ACC.3.$B" s Mutual-0123456 "$ACC.5.$B" i 4 \
	"$BND.1.1.$B" i 2 "$BND.3.1.$B" i 4 >/dev/null || sa_fail "createAndGo of the outgoing account $B refused"
sa_wait_for 10 tgt_has "^        arraytarget (outgoing)$" || sa_fail "tgt lacks the outgoing binding: $(tgt_show)"
check_mutual() {
	out=$(LIBISCSI_CHAP_TARGET_USERNAME=arraytarget LIBISCSI_CHAP_TARGET_PASSWORD=Mutual-0123456 \
		iscsi-readcapacity16 -i "$GOOD" "$URL/$IQN/1" 2>&1) || sa_fail "mutual CHAP login: $out"
	out=$(LIBISCSI_CHAP_TARGET_USERNAME=arraytarget LIBISCSI_CHAP_TARGET_PASSWORD=Wrong-01234567 \
		iscsi-readcapacity16 -i "$GOOD" "$URL/$IQN/1" 2>&1) && sa_fail "a target with the wrong secret was trusted: $out"
	return 0
}
check_mutual
sa_set_err inconsistentValue "$BND.1.1.$A" i 2 # an active binding's direction does not change
sa_log "mutual CHAP: account $B bound outgoing; the initiator checks the target's secret"

# An address rule lets any initiator from that address in; removing it shuts it out again.
sa_set "$ACL.2.1.3" i 2 "$ACL.3.1.3" s 127.0.0.1 "$ACL.5.1.3" i 4 >/dev/null || sa_fail "ACL 127.0.0.1 refused"
bad_in() { iscsi-readcapacity16 -i "$BAD" "$URL/$IQN/1"; }
sa_wait_for 10 bad_in || sa_fail "$BAD not let in by the address rule 127.0.0.1"
sa_set "$ACL.5.1.3" i 6 >/dev/null || sa_fail "destroy of ACL 1.3 refused"
bad_out() { ! bad_in; }
sa_wait_for 10 bad_out || sa_fail "$BAD still let in after the address rule went"
tgt_has "^        127.0.0.1$" && sa_fail "tgt still has the ACL 127.0.0.1"
sa_log "ACL by address: $BAD let in from 127.0.0.1, and out again after destroy"

# ---- iSNS: tgt registers its target with a real isnsd ----------------------------------------------------
# An isnsd of its own (sa_start_isnsd_storage would register tgt's portal itself).
ISNS_PORT=$(sa_free_port tcp)
mkdir -p "$SA_TMP/isnsdb"
printf 'SourceName = %s\nBindAddress = 127.0.0.1:%s\nPIDFile = %s\nControlSocket = %s\nDatabase = %s\nSecurity = 0\nDefaultDiscoveryDomain = 1\n' \
	"$SA_IQN_PREFIX:isns" "$ISNS_PORT" "$SA_TMP/isnsd.pid" "$SA_TMP/isnsctl" "$SA_TMP/isnsdb" >"$SA_TMP/isnsd.conf"
printf 'SourceName = %s\nServerAddress = 127.0.0.1:%s\nSecurity = 0\n' "$SA_IQN_PREFIX:admin" "$ISNS_PORT" \
	>"$SA_TMP/isnsadm.conf"
start_isnsd() {
	sa_bg isnsd -f -4 -c "$SA_TMP/isnsd.conf" >>"$SA_TMP/isnsd.log" 2>&1
	ISNSD_PID=$SA_LASTPID
	sa_wait_for 10 sa_isnsadm --list entities || sa_fail "isnsd did not answer on 127.0.0.1:$ISNS_PORT"
}
# open-isns 0.101's isnsd may exit when a tgtd that registered with it goes away: then it is started again (its
# database kept), as an administrator would.
isnsd_again() {
	kill -0 "$ISNSD_PID" 2>/dev/null && return 0
	sa_log "isnsd exited with tgtd ($(tail -c 300 "$SA_TMP/isnsd.log" | tr '\n' ' ')): starting it again"
	start_isnsd
}
start_isnsd
# tgt 1.0.85 registers all its portals in one DevAttrReg, which open-isns refuses (Invalid registration) when
# there are two: keep tgt's first one only.
sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=127.0.0.2:$P" || sa_fail "tgtadm: delete portal"
sa_set "$ISNS.2.0" i 1 "$ISNS.3.0" x 7F000001 "$ISNS.4.0" u "$ISNS_PORT" "$ISNS.1.0" i 1 >/dev/null ||
	sa_fail "SET of the iSNS server and iSNS on refused"
isns_lists() { sa_isnsadm --list nodes 2>/dev/null | grep -q -- "$IQN"; }
sa_wait_for 15 isns_lists || sa_fail "isnsd does not list $IQN: $(sa_isnsadm --list nodes 2>&1 | head -20); tgt: \
$(sa_tgt_ctl --op show --mode sys | sed -n '/iSNS/,$p')"
[ "$(sa_get1 "$ISNS.1.0" "$ISNS.2.0" "$ISNS.4.0")" = "1 1 $ISNS_PORT" ] ||
	sa_fail "sanStorIsns: $(sa_get1 "$ISNS.1.0" "$ISNS.2.0" "$ISNS.3.0" "$ISNS.4.0")"
sa_log "iSNS on: isnsd lists $IQN"

# ---- bad input: precise errors, nothing lost -------------------------------------------------------------
before=$(sa_walk "$S" | grep -c .)
sa_set_err wrongValue "$LUN.4.1.2" s "$SA_TMP/elsewhere/x.img" "$LUN.3.1.2" u 8 "$LUN.12.1.2" i 4
sa_set_err wrongValue "$LUN.4.1.2" s "$LUNS/../elsewhere/x.img" "$LUN.3.1.2" u 8 "$LUN.12.1.2" i 4
sa_set_err wrongValue "$LUN.4.1.2" s "lun2.img" "$LUN.3.1.2" u 8 "$LUN.12.1.2" i 4
ln -s "$SA_TMP/elsewhere" "$LUNS/link"
sa_set_err wrongValue "$LUN.4.1.2" s "$LUNS/link/x.img" "$LUN.3.1.2" u 8 "$LUN.12.1.2" i 4
[ -e "$SA_TMP/elsewhere/x.img" ] && sa_fail "a file was made outside storage.lun_dir"
sa_set_err inconsistentValue "$LUN.4.1.2" s "$LUNS/nosize.img" "$LUN.12.1.2" i 4
sa_set_err inconsistentValue "$LUN.4.9.1" s "$LUNS/l9.img" "$LUN.3.9.1" u 8 "$LUN.12.9.1" i 4
sa_set_err wrongLength "$LUN.4.1.2" s "$LUNS/$(printf 'x%.0s' {1..300})" "$LUN.12.1.2" i 4
sa_set_err inconsistentValue "$LUN.4.1.1" s "$LUNS/other.img"
sa_set_err wrongValue "$TGT.2.2" s "not-an-iscsi-name" "$TGT.11.2" i 4
sa_set_err inconsistentValue "$TGT.2.2" s "$IQN" "$TGT.11.2" i 4
sa_set_err wrongLength "$ACC.2.99" s u2 "$ACC.3.99" s short "$ACC.5.99" i 4
sa_set_err wrongLength "$ACC.2.99" s u2 "$ACC.3.99" s "$SECRET-much-too-long" "$ACC.5.99" i 4
sa_set_err wrongValue "$ACC.2.99" s "two words" "$ACC.3.99" s "$SECRET" "$ACC.5.99" i 4
sa_set_err inconsistentValue "$ACC.2.99" s "$USER" "$ACC.3.99" s "Other-0123456" "$ACC.5.99" i 4
sa_set_err wrongValue "$BND.1.1.99" i 3 "$BND.3.1.99" i 4
sa_set_err inconsistentValue "$BND.1.1.99" i 1 "$BND.3.1.99" i 4
sa_set_err wrongValue "$ACL.2.1.9" i 1 "$ACL.3.1.9" s 127.0.0.1 "$ACL.5.1.9" i 4
sa_set_err wrongValue "$ACL.2.1.9" i 2 "$ACL.3.1.9" s "$GOOD" "$ACL.5.1.9" i 4
sa_set_err wrongValue "$ACL.2.1.9" i 2 "$ACL.3.1.9" s 10.0.0.0/33 "$ACL.5.1.9" i 4
sa_set_err inconsistentValue "$ACL.2.1.9" i 1 "$ACL.3.1.9" s "$GOOD" "$ACL.5.1.9" i 4
sa_set_err inconsistentValue "$ISNS.1.0" i 1 "$ISNS.2.0" i 0 "$ISNS.3.0" s ""
sa_set_err wrongLength "$ISNS.2.0" i 1 "$ISNS.3.0" x 7F0000
after=$(sa_walk "$S" | grep -c .)
[ "$before" = "$after" ] || sa_fail "refused SETs changed the tables: $before varbinds before, $after after"
[ "$(ls "$LUNS")" = "$(printf 'link\nlun1.img')" ] || sa_fail "refused SETs left files: $(ls "$LUNS")"
sa_log "bad input refused: paths outside $LUNS (wrongValue), missing size or target (inconsistentValue), lengths"

# ---- tgtd restarted empty: everything is back ----------------------------------------------------------------
sa_stop_tgtd
isnsd_again
sa_bg tgtd -f -C "$SA_TGT_CONTROL" --iscsi "portal=127.0.0.1:$P" >>"$SA_TMP/tgtd.log" 2>&1
SA_TGTD_PID=$SA_LASTPID
sa_wait_for 10 sa_tgt_ctl --op show --mode sys || sa_fail "tgtd did not restart"
back() {
	tgt_has "^Target 1: $IQN$" && tgt_has "Backing store path: $LUNS/lun1.img" && tgt_has "^        $USER$" &&
		tgt_has "^        arraytarget (outgoing)$" &&
		tgt_has "^        $GOOD$" && tgt_has "^        198.18.0.0/24$" &&
		sa_tgt_ctl --op show --mode sys | grep -q "iSNS=On"
}
sa_wait_for 20 back || sa_fail "not all re-applied to the new tgtd: $(tgt_show); $(sa_tgt_ctl --op show --mode sys | sed -n '/iSNS/,$p')"
sa_wait_for 10 active "$BND.3.1.$A" || sa_fail "binding not active again: $(sa_get "$BND.3.1.$A")"
check_access
check_mutual
sa_wait_for 15 isns_lists || sa_fail "isnsd does not list $IQN after the tgtd restart (isnsd $(kill -0 "$ISNSD_PID" 2>/dev/null && echo runs || echo exited)): $(sa_tgt_ctl --op show --mode sys | sed -n '/iSNS/,$p')"
sa_log "tgtd restarted empty: target, LUN, account, binding, ACLs and iSNS re-applied; CHAP login works again"

# ---- and after an agent restart (persisted rows), against yet another empty tgtd ----------------------------
sa_stop_pid "$SA_AGENT_PID"
sa_stop_tgtd
isnsd_again
sa_bg tgtd -f -C "$SA_TGT_CONTROL" --iscsi "portal=127.0.0.1:$P" >>"$SA_TMP/tgtd.log" 2>&1
SA_TGTD_PID=$SA_LASTPID
sa_wait_for 10 sa_tgt_ctl --op show --mode sys || sa_fail "tgtd did not restart"
sa_start_agent
sa_wait_agent
sa_wait_for 20 back || sa_fail "not re-applied after an agent restart: $(tgt_show)"
check_access
[ "$(sa_get "$TGT.9.1")" = '"array one"' ] || sa_fail "alias after an agent restart: $(sa_get "$TGT.9.1")"
sa_log "agent restarted too: all of it back from its state file"

# ---- destroying a target with a session needs force ----------------------------------------------------------
sa_bg iscsi-perf -i "$GOOD" -x 0 -m 4 "$URL/$IQN/1" >"$SA_TMP/perf.log" 2>&1
has_session() { [ "$(sa_get "$TGT.4.1")" -ge 1 ] 2>/dev/null; }
sa_wait_for 10 has_session || sa_fail "no session on target 1: $(sa_get "$TGT.4.1"); $(cat "$SA_TMP/perf.log")"
sa_set_err inconsistentValue "$TGT.11.1" i 6
sa_set_err inconsistentValue "$TGT.11.1" i 6 "$TGT.12.1" i 2
tgt_has "^Target 1: $IQN$" || sa_fail "target 1 went on a refused destroy"
sa_set "$TGT.11.1" i 6 "$TGT.12.1" i 1 >/dev/null || sa_fail "destroy with sanStorTargetForceDestroy refused"
tgt_gone() { ! tgt_has "^Target 1:"; }
sa_wait_for 10 tgt_gone || sa_fail "target 1 still in tgt after a forced destroy"
row_gone() { [ -z "$(sa_get "$TGT.2.1")" ] && [ -z "$(sa_get "$LUN.4.1.1")" ] && [ -z "$(sa_get "$ACL.3.1.1")" ]; }
sa_wait_for 10 row_gone || sa_fail "rows of target 1 still there: $(sa_walk "$S.13")"
sa_state_dump | grep -q '^stor.cfg.[tlbc].1\.' && sa_fail "target 1's rows still persisted: $(sa_state_dump | grep stor.cfg)"
[ -f "$LUNS/lun1.img" ] || sa_fail "destroying the LUN removed its file"
[ "$(sa_get "$ACC.5.$A")" = 1 ] || sa_fail "the account went with the target: $(sa_get "$ACC.5.$A")"
sa_set "$ACC.5.$A" i 6 >/dev/null || sa_fail "destroy of account $A refused"
acct_gone() { ! sa_tgt_ctl --lld iscsi --op show --mode account | grep -q "$USER"; }
sa_wait_for 10 acct_gone || sa_fail "tgt still has account $USER"
sa_log "destroy with sessions refused (inconsistentValue) until forced; target, LUN, binding, ACLs and account gone"

echo "PASS: storage array set up over SNMP"
exit 0
