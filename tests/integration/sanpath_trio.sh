#!/bin/bash
# sanpath_trio.sh: a libsanpath team run from the caller's own poll() loop (sp_team_get_fd / which_events / service)
# against a real tgtd LU over two portals: every byte written comes back, and both paths carried reads and writes.
. "$(dirname "$0")/lib.sh"
sa_init sanpath-trio
TRIO=$SA_BUILDDIR/tests/integration/sanpath_trio
sa_built "$TRIO" sanpath_trio
sa_start_tgtd 1
P=$SA_ISCSI_PORT

timeout 90 "$TRIO" "$SA_IQN_PREFIX:disk0" 1 "127.0.0.1:$P" "127.0.0.2:$P" >"$SA_TMP/trio.out" 2>"$SA_TMP/trio.log" ||
	sa_fail "sanpath_trio failed ($?): $(cat "$SA_TMP/trio.out") $(tail -5 "$SA_TMP/trio.log")"
line=$(grep '^trio: ' "$SA_TMP/trio.out") || sa_fail "no result line: $(cat "$SA_TMP/trio.out")"
case $line in *" mismatches=0 "*) ;; *) sa_fail "bytes differ: $line" ;; esac
sa_log "$line"
echo "PASS: sanpath trio"
exit 0
