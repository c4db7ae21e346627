#!/usr/bin/env bash
# sanlab_status.sh: a real `./sanlab up` in a private directory: its state directory is 0700 and the state file 0600,
# and `sanlab status` says FAIL for tgtd once the portals it expects are gone.
. "$(dirname "$0")/lib.sh"
sa_init sanlab-status
sa_built "$SA_BUILDDIR/sanagentd" sanagentd
sa_need open-isns-server isnsd
sa_need tgt tgtd tgtadm
LAB=$SA_TMP/lab
lab() { SANLAB_DIR=$LAB SANLAB_BUILD=$SA_BUILDDIR SANLAB_BUILT=1 "$SA_SRCDIR/sanlab" "$@"; }
trap 'rc=$?; lab down >/dev/null 2>&1; (exit $rc); sa_cleanup' EXIT

lab up >"$SA_TMP/up.out" 2>&1 || { cat "$SA_TMP/up.out"; sa_fail "sanlab up failed"; }
. "$LAB/env"
out=$(lab status) || sa_fail "sanlab status not ok after up: $out"
echo "$out"

# ---- the state directory and file: owner only ----
mode=$(stat -c %a "$LAB/state")
[ "$mode" = 700 ] || sa_fail "state directory $LAB/state has mode $mode, want 700"
# Anything persisted makes the agent write its state file (sanEngineAdminStatus of rediscover: up).
snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 2 -r 1 \
	"$SANLAB_SNMP" "$SA_OID.1.2.1.3.4" i 1 >/dev/null || sa_fail "SET sanEngineAdminStatus.4 failed"
state=$SANLAB_STATE_FILE
sa_wait_for 5 test -f "$state" || sa_fail "no state file $state"
fmode=$(stat -c %a "$state")
echo "state: $(stat -c '%a %n' "$LAB/state") / $fmode $state"
[ "$fmode" = 600 ] || sa_fail "state file has mode $fmode, want 600"
[ "$(dirname "$state")" = "$LAB/state" ] || sa_fail "state file $state is not in $LAB/state"

# ---- status lists the portals it expects ----
echo "$out" | grep "tgtd" | grep -q "ok: .*portals $SANLAB_TGT_PORTALS" || sa_fail "status does not list the portals"
for p in $SANLAB_TGT_PORTALS; do
	tgtadm -C "$SANLAB_TGT_CONTROL" --lld iscsi --op delete --mode portal --param "portal=$p" ||
		sa_fail "cannot delete portal $p"
done
out=$(lab status) && sa_fail "sanlab status says ok with the portals deleted: $out"
echo "$out"
echo "$out" | grep "tgtd" | grep -q "FAIL: portals missing: $SANLAB_TGT_PORTALS" || sa_fail "status does not name the missing portals"
echo PASS
