#!/usr/bin/env bash
# login_source.sh: a login row's portal choice and source adapter against a real tgtd: every discovered portal
# (sanLoginPortalAddressType unknown) gives one path per portal, a source address binds each connection to it (tgtd
# sees the address), an interface name works, an address that is not local fails with connectionFailed, and bad
# adapters get wrongValue / wrongLength.
set -u
. "$(dirname "$0")/lib.sh"
sa_init login_source
sa_need_plugin nbdcopy
sa_built "$SA_BUILDDIR/.libs/sanpath-bind.so" "sanpath-bind.so (needs nbdkit-plugin-dev)"

S=$SA_OID.3.1
LOGIN=$S.1.8.1 # sanLoginEntry
TEAM=$SA_OID.3.2.1.2.1
DTGT=$S.1.3.1  # sanDiscTargetEntry
SRC_ADDR=127.0.0.3 # local (lo holds 127/8) but on no portal of tgtd

sa_start_tgtd 1 # portals 127.0.0.1:P and 127.0.0.2:P
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
sa_start_balance_agent "" "discovery = {
  portals = [ \"127.0.0.1:$P\", \"127.0.0.2:$P\" ];
  interval = 60;
  age_out = 600;
};"

col() { sa_get "$1"; }
is() { [ "$(col "$1")" = "$2" ]; }
# disc0's discovered row counts its portals (sanDiscTargetPortals); tgtd answers SendTargets with the portal it
# was asked on, so the engine asks on both.
disc0_portals() {
	local i
	for i in $(sa_walk "$DTGT.2" 2>/dev/null | grep -F "\"$IQN\"" | sed -n "s/^$DTGT\.2\.\([0-9]*\) .*/\1/p"); do
		col "$DTGT.5.$i"
	done
}
two_portals() { [ "$(disc0_portals)" = 2 ]; }
sa_wait_for 20 two_portals || sa_fail "disc0 not discovered on two portals: $(disc0_portals)"

# ---- bad adapters -------------------------------------------------------------------------------------
sa_set_err wrongValue "$LOGIN.2.1" s "$IQN" "$LOGIN.6.1" s "eth0;x" "$LOGIN.18.1" i 4
sa_set_err wrongLength "$LOGIN.2.1" s "$IQN" "$LOGIN.6.1" s "fd00:1111:2222:3333:4444:5555:6666:7777" "$LOGIN.18.1" i 4
[ -z "$(col "$LOGIN.18.1")" ] || sa_fail "a refused createAndGo left login 1 behind"

# connections of the target as tgtd lists them: "IP Address: A" per connection.
tgt_addrs() { sa_tgt_ctl --op show --mode target | sed -n 's/^ *IP Address: //p' | sort | tr '\n' ' '; }

# ---- every discovered portal, from a source address -----------------------------------------------------
# login N: portal type T (0 unknown = every discovered portal, 1 ipv4 with address A), adapter D, admin up.
mk_login() {
	local n=$1 t=$2 a=$3 d=$4
	if [ "$t" = 0 ]; then
		sa_set "$LOGIN.2.$n" s "$IQN" "$LOGIN.3.$n" i 0 "$LOGIN.6.$n" s "$d" "$LOGIN.8.$n" u 1 \
			"$LOGIN.10.$n" i 1 "$LOGIN.18.$n" i 4 >/dev/null
	else
		sa_set "$LOGIN.2.$n" s "$IQN" "$LOGIN.3.$n" i 1 "$LOGIN.4.$n" x "$a" "$LOGIN.5.$n" u "$P" \
			"$LOGIN.6.$n" s "$d" "$LOGIN.8.$n" u 1 "$LOGIN.10.$n" i 1 "$LOGIN.18.$n" i 4 >/dev/null
	fi
}
mk_login 1 0 "" "$SRC_ADDR" || sa_fail "cannot create login 1 (every portal, source $SRC_ADDR)"
sa_wait_for 20 is "$LOGIN.11.1" 1 ||
	sa_fail "login 1 not up: oper $(col "$LOGIN.11.1") result $(col "$LOGIN.12.1"); $(tail -5 "$RUN"/login1*.log 2>&1)"
[ "$(col "$LOGIN.16.1")" = 2 ] || sa_fail "login 1 has $(col "$LOGIN.16.1") paths, want 2 (one per discovered portal)"
[ "$(col "$LOGIN.6.1")" = "\"$SRC_ADDR\"" ] || sa_fail "sanLoginSourceAdapter.1 = $(col "$LOGIN.6.1")"
both_from_src() { [ "$(tgt_addrs)" = "$SRC_ADDR $SRC_ADDR " ]; }
sa_wait_for 20 both_from_src || sa_fail "tgtd's connections come from: $(tgt_addrs), want $SRC_ADDR twice"
team1=$(col "$LOGIN.15.1")
sock=$(col "$TEAM.13.$team1" | tr -d '"')
sa_nbd_roundtrip "nbd+unix:///?socket=$sock" 1 "login 1's export"
sa_log "login 1: every discovered portal -> 2 paths, both connections from $SRC_ADDR as tgtd sees them, 1 MiB intact"

# ---- an interface name on one portal; an address that is not local -------------------------------------
sa_set "$LOGIN.10.1" i 2 >/dev/null || sa_fail "cannot set login 1 down"
sa_wait_for 20 is "$LOGIN.15.1" 0 || sa_fail "login 1 kept team $(col "$LOGIN.15.1") after admin down"
mk_login 2 1 7F000002 lo || sa_fail "cannot create login 2 (127.0.0.2, interface lo)"
sa_wait_for 20 is "$LOGIN.11.2" 1 || sa_fail "login 2 (interface lo) not up: result $(col "$LOGIN.12.2")"
[ "$(col "$LOGIN.16.2")" = 1 ] || sa_fail "login 2 has $(col "$LOGIN.16.2") paths, want 1"
sa_wait_for 20 eval '[ "$(tgt_addrs)" = "127.0.0.1 " ]' ||
	sa_fail "login 2's connection comes from $(tgt_addrs), want 127.0.0.1 (lo's address towards 127.0.0.2)"
sa_set "$LOGIN.10.2" i 2 >/dev/null || sa_fail "cannot set login 2 down"
# 192.0.2.1 (TEST-NET-1) is on no interface here: bind() fails, the login must say so.
mk_login 3 1 7F000001 192.0.2.1 || sa_fail "cannot create login 3 (source 192.0.2.1)"
sa_wait_for 20 is "$LOGIN.12.3" 3 ||
	sa_fail "login 3 result $(col "$LOGIN.12.3"), want connectionFailed(3); oper $(col "$LOGIN.11.3")"
[ "$(col "$LOGIN.11.3")" = 2 ] || sa_fail "login 3 oper $(col "$LOGIN.11.3"), want down(2)"
sa_log "login 2: interface lo up (1 path); login 3 from a non-local 192.0.2.1: down, connectionFailed"
exit 0
