#!/usr/bin/env bash
# mib_lint.sh: every MIB in mibs/ is smilint -l 6 clean, and SANAGENT-MIB's OIDs match handlers/handlers.h.
# No daemons: only smilint and snmptranslate on the MIB texts.
set -u

SA_SRCDIR=${SA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
shared="$SA_SRCDIR/../shared/mibs"

[ -d "$shared" ] || { echo "SKIP: $shared absent"; exit 77; }
command -v smilint >/dev/null 2>&1 || { echo "SKIP: smilint not installed"; exit 77; }
command -v snmptranslate >/dev/null 2>&1 || { echo "SKIP: snmptranslate not installed"; exit 77; }
shared=$(cd "$shared" && pwd)

fail=0
nmibs=0
for mib in "$SA_SRCDIR"/mibs/*.txt; do
	[ -e "$mib" ] || continue
	nmibs=$((nmibs + 1))
	# smilint exits 0 even on errors: any output at all is a failure.
	out=$(SMIPATH="$SA_SRCDIR/mibs:$shared" smilint -l 6 -m "$mib" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL: smilint -l 6 $(basename "$mib"):"
		echo "$out"
		fail=1
	else
		echo "ok: smilint -l 6 $(basename "$mib")"
	fi
done
[ "$nmibs" -gt 0 ] || { echo "FAIL: no MIB in $SA_SRCDIR/mibs"; exit 1; }

# The numbers are written out here on purpose: they are what handlers.h
# compiles into the agent, and a MIB edit that moves an object must fail.
check_oid() {
	local name=$1 want=$2 got
	# Keep the user's and the system's snmp.conf and MIB lists out of it.
	got=$(SNMPCONFPATH=/nonexistent MIBS="" snmptranslate -M "$SA_SRCDIR/mibs:$shared" \
		-m +SANAGENT-MIB -On "SANAGENT-MIB::$name" 2>&1)
	if [ "$got" != "$want" ]; then
		echo "FAIL: SANAGENT-MIB::$name is '$got', handlers.h says $want"
		fail=1
	else
		echo "ok: SANAGENT-MIB::$name = $want"
	fi
}
check_oid sanAgentVersion.0 .1.3.6.1.4.1.32473.1.1.1.1.0
check_oid sanAgentStartTime.0 .1.3.6.1.4.1.32473.1.1.1.2.0
check_oid sanAgentConfigFile.0 .1.3.6.1.4.1.32473.1.1.1.3.0
check_oid sanEngineAdminStatus .1.3.6.1.4.1.32473.1.1.2.1.3
check_oid sanEngineLastChange .1.3.6.1.4.1.32473.1.1.2.1.6
check_oid sanTrapRecvReceived.0 .1.3.6.1.4.1.32473.1.1.3.1.0
check_oid sanTrapRecvDroppedMalformed.0 .1.3.6.1.4.1.32473.1.1.3.4.0
check_oid sanAgentStart .1.3.6.1.4.1.32473.1.0.1
check_oid sanAgentStop .1.3.6.1.4.1.32473.1.0.2
check_oid sanAgentConfigReloaded .1.3.6.1.4.1.32473.1.0.3
check_oid sanEngineMibs .1.3.6.1.4.1.32473.1.3

# net-snmp's own parser must read the module without complaint too
# (managers load it with -m, not with smilint).  Only our and the shared
# directories are searched, so the system's copies cause no duplicates.
warn=$(SNMPCONFPATH=/nonexistent MIBS="" snmptranslate -M "$SA_SRCDIR/mibs:$shared" \
	-m +SANAGENT-MIB -On SANAGENT-MIB::sanagentMIB 2>&1 >/dev/null)
if [ -n "$warn" ]; then
	echo "FAIL: net-snmp parser warnings for SANAGENT-MIB:"
	echo "$warn"
	fail=1
fi

# SANAGENT-REDIRECTOR-MIB: the numbers handlers/redir.h compiles in.
check_redir_oid() {
	local name=$1 want=$2 got
	got=$(SNMPCONFPATH=/nonexistent MIBS="" snmptranslate -M "$SA_SRCDIR/mibs:$shared" \
		-m +SANAGENT-REDIRECTOR-MIB -On "SANAGENT-REDIRECTOR-MIB::$name" 2>&1)
	if [ "$got" != "$want" ]; then
		echo "FAIL: SANAGENT-REDIRECTOR-MIB::$name is '$got', handlers/redir.h says $want"
		fail=1
	else
		echo "ok: SANAGENT-REDIRECTOR-MIB::$name = $want"
	fi
}
if [ -e "$SA_SRCDIR/mibs/SANAGENT-REDIRECTOR-MIB.txt" ]; then
	R=.1.3.6.1.4.1.32473.1.3.3
	check_redir_oid sanRedirectorMIB $R
	check_redir_oid sanServerDown $R.0.1
	check_redir_oid sanServerUp $R.0.2
	check_redir_oid sanResourceRemapped $R.0.3
	check_redir_oid sanRebalanced $R.0.4
	check_redir_oid sanRedirThreshold.0 $R.1.1.1.0
	check_redir_oid sanRedirRebalanceTrigger.0 $R.1.1.4.0
	check_redir_oid sanRedirPermanent.0 $R.1.1.8.0
	check_redir_oid sanRedirConnections.0 $R.1.2.1.0
	check_redir_oid sanRedirRefused.0 $R.1.2.6.0
	check_redir_oid sanRedirServerNextIndex.0 $R.1.3.0
	check_redir_oid sanRedirServerName $R.1.4.1.2
	check_redir_oid sanRedirServerRowStatus $R.1.4.1.17
	check_redir_oid sanRedirResourceNextIndex.0 $R.1.5.0
	check_redir_oid sanRedirResourceTarget $R.1.6.1.2
	check_redir_oid sanRedirResourceRowStatus $R.1.6.1.11
	check_redir_oid sanRedirResourcePrevServer $R.1.6.1.12
	check_redir_oid sanRedirClientInitiator $R.1.7.1.2
	check_redir_oid sanRedirClientLogins $R.1.7.1.12
	check_redir_oid sanRedirPlanTime $R.1.8.1.2
	check_redir_oid sanRedirPlanMoveList $R.1.8.1.7
	warn=$(SNMPCONFPATH=/nonexistent MIBS="" snmptranslate -M "$SA_SRCDIR/mibs:$shared" \
		-m +SANAGENT-REDIRECTOR-MIB -On SANAGENT-REDIRECTOR-MIB::sanRedirectorMIB 2>&1 >/dev/null)
	if [ -n "$warn" ]; then
		echo "FAIL: net-snmp parser warnings for SANAGENT-REDIRECTOR-MIB:"
		echo "$warn"
		fail=1
	fi
fi

# SANAGENT-PATH-MIB: the numbers handlers/pathmib.h compiles in.
check_path_oid() {
	local name=$1 want=$2 got
	got=$(SNMPCONFPATH=/nonexistent MIBS="" snmptranslate -M "$SA_SRCDIR/mibs:$shared" \
		-m +SANAGENT-PATH-MIB -On "SANAGENT-PATH-MIB::$name" 2>&1)
	if [ "$got" != "$want" ]; then
		echo "FAIL: SANAGENT-PATH-MIB::$name is '$got', handlers/pathmib.h says $want"
		fail=1
	else
		echo "ok: SANAGENT-PATH-MIB::$name = $want"
	fi
}
if [ -e "$SA_SRCDIR/mibs/SANAGENT-PATH-MIB.txt" ]; then
	M=.1.3.6.1.4.1.32473.1.3.2
	check_path_oid sanPathMIB $M
	check_path_oid sanPathDown $M.0.1
	check_path_oid sanPathUp $M.0.2
	check_path_oid sanTeamFailover $M.0.3
	check_path_oid sanTeamDegraded $M.0.4
	check_path_oid sanTeamFailed $M.0.5
	check_path_oid sanTeamSharesChanged $M.0.6
	check_path_oid sanTeamNextIndex.0 $M.1.1.0
	check_path_oid sanTeamName $M.1.2.1.2
	check_path_oid sanTeamLBChange $M.1.2.1.9
	check_path_oid sanTeamState $M.1.2.1.10
	check_path_oid sanTeamPortals $M.1.2.1.14
	check_path_oid sanTeamRowStatus $M.1.2.1.17
	check_path_oid sanPathAddressType $M.1.3.1.2
	check_path_oid sanPathState $M.1.3.1.7
	check_path_oid sanPathReadShare $M.1.3.1.8
	check_path_oid sanPathWriteShare $M.1.3.1.9
	check_path_oid sanPathActualReadShare $M.1.3.1.10
	check_path_oid sanPathErrors $M.1.3.1.16
	check_path_oid sanPathAvgLatency $M.1.3.1.18
	warn=$(SNMPCONFPATH=/nonexistent MIBS="" snmptranslate -M "$SA_SRCDIR/mibs:$shared" \
		-m +SANAGENT-PATH-MIB -On SANAGENT-PATH-MIB::sanPathMIB 2>&1 >/dev/null)
	if [ -n "$warn" ]; then
		echo "FAIL: net-snmp parser warnings for SANAGENT-PATH-MIB:"
		echo "$warn"
		fail=1
	fi
fi

# SANAGENT-SESSION-MIB: the numbers handlers/disc.h compiles in.
check_session_oid() {
	local name=$1 want=$2 got
	got=$(SNMPCONFPATH=/nonexistent MIBS="" snmptranslate -M "$SA_SRCDIR/mibs:$shared" \
		-m +SANAGENT-SESSION-MIB -On "SANAGENT-SESSION-MIB::$name" 2>&1)
	if [ "$got" != "$want" ]; then
		echo "FAIL: SANAGENT-SESSION-MIB::$name is '$got', handlers/disc.h says $want"
		fail=1
	else
		echo "ok: SANAGENT-SESSION-MIB::$name = $want"
	fi
}
if [ -e "$SA_SRCDIR/mibs/SANAGENT-SESSION-MIB.txt" ]; then
	S=.1.3.6.1.4.1.32473.1.3.1
	check_session_oid sanSessionMIB $S
	check_session_oid sanTargetDiscovered $S.0.1
	check_session_oid sanTargetLost $S.0.2
	check_session_oid sanPortalUnreachable $S.0.3
	check_session_oid sanDiscSendTargetsOk.0 $S.1.1.1.0
	check_session_oid sanDiscTargetsCurrent.0 $S.1.1.5.0
	check_session_oid sanDiscLastScanDuration.0 $S.1.1.8.0
	check_session_oid sanDiscSourceMechanism $S.1.2.1.2
	check_session_oid sanDiscSourceStatus $S.1.2.1.6
	check_session_oid sanDiscSourceLastError $S.1.2.1.12
	check_session_oid sanDiscTargetName $S.1.3.1.2
	check_session_oid sanDiscTargetMechanism $S.1.3.1.3
	check_session_oid sanDiscTargetLastSeen $S.1.3.1.7
	check_session_oid sanDiscPortalAddressType $S.1.4.1.2
	check_session_oid sanDiscPortalTpgt $S.1.4.1.5
	check_session_oid sanDiscPortalLastSeen $S.1.4.1.8
	warn=$(SNMPCONFPATH=/nonexistent MIBS="" snmptranslate -M "$SA_SRCDIR/mibs:$shared" \
		-m +SANAGENT-SESSION-MIB -On SANAGENT-SESSION-MIB::sanSessionMIB 2>&1 >/dev/null)
	if [ -n "$warn" ]; then
		echo "FAIL: net-snmp parser warnings for SANAGENT-SESSION-MIB:"
		echo "$warn"
		fail=1
	fi
fi

[ "$fail" = 0 ] && echo "PASS"
exit "$fail"
