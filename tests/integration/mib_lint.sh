#!/usr/bin/env bash
# mib_lint.sh: every MIB in mibs/ is smilint -l 6 clean, and each module's OIDs match what its handlers compile in.
# No daemons: only smilint and snmptranslate on the MIB texts.
set -u

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
sa_need smitools smilint
sa_need snmp snmptranslate
sa_need_std_mibs
# Every standard MIB directory that exists (../shared/mibs, snmp-mibs-downloader's ietf and iana).
shared=
IFS=: read -r -a sa_dirs <<<"$SA_STD_MIBDIRS"
for d in "${sa_dirs[@]}"; do [ -d "$d" ] && shared="$shared${shared:+:}$(cd "$d" && pwd)"; done
# The net-snmp tools create DIR/cert_indexes on their first run and say so on stderr, which
# would end up in the first translated value on a fresh machine: give them a ready dir.
persist=$(mktemp -d)
trap 'rm -rf "$persist"' EXIT
mkdir -p "$persist/cert_indexes"
export SNMP_PERSISTENT_DIR=$persist

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

# The numbers are written out here on purpose: they are what the handlers
# compile into the agent, and a MIB edit that moves an object must fail.
# Only our and the shared directories are searched, and the user's and the
# system's snmp.conf and MIB lists are kept out.
translate() { SNMPCONFPATH=/nonexistent MIBS="" snmptranslate -M "$SA_SRCDIR/mibs:$shared" -m "+$1" -On "$1::$2"; }

# check_module MODULE HEADER ROOT [NAME OID]...: each name resolves to the OID
# the header compiles in, and net-snmp's own parser (what managers load with
# -m) reads the module without a warning.
check_module() {
	local mod=$1 hdr=$2 root=$3 got warn
	shift 3
	[ -e "$SA_SRCDIR/mibs/$mod.txt" ] || { echo "FAIL: mibs/$mod.txt missing"; fail=1; return; }
	while [ $# -ge 2 ]; do
		got=$(translate "$mod" "$1" 2>&1)
		if [ "$got" != "$2" ]; then
			echo "FAIL: $mod::$1 is '$got', $hdr says $2"
			fail=1
		else
			echo "ok: $mod::$1 = $2"
		fi
		shift 2
	done
	warn=$(translate "$mod" "$root" 2>&1 >/dev/null)
	if [ -n "$warn" ]; then
		echo "FAIL: net-snmp parser warnings for $mod:"
		echo "$warn"
		fail=1
	fi
}

check_module SANAGENT-MIB handlers/handlers.h sanagentMIB \
	sanAgentVersion.0 .1.3.6.1.4.1.32473.1.1.1.1.0 \
	sanAgentStartTime.0 .1.3.6.1.4.1.32473.1.1.1.2.0 \
	sanAgentConfigFile.0 .1.3.6.1.4.1.32473.1.1.1.3.0 \
	sanEngineAdminStatus .1.3.6.1.4.1.32473.1.1.2.1.3 \
	sanEngineLastChange .1.3.6.1.4.1.32473.1.1.2.1.6 \
	sanTrapRecvReceived.0 .1.3.6.1.4.1.32473.1.1.3.1.0 \
	sanTrapRecvDroppedMalformed.0 .1.3.6.1.4.1.32473.1.1.3.4.0 \
	sanAgentStart .1.3.6.1.4.1.32473.1.0.1 \
	sanAgentStop .1.3.6.1.4.1.32473.1.0.2 \
	sanAgentConfigReloaded .1.3.6.1.4.1.32473.1.0.3 \
	sanEngineMibs .1.3.6.1.4.1.32473.1.3

check_module SANAGENT-REDIRECTOR-MIB handlers/redirTables.h sanRedirectorMIB \
	sanRedirectorMIB .1.3.6.1.4.1.32473.1.3.3 \
	sanServerDown .1.3.6.1.4.1.32473.1.3.3.0.1 \
	sanServerUp .1.3.6.1.4.1.32473.1.3.3.0.2 \
	sanResourceRemapped .1.3.6.1.4.1.32473.1.3.3.0.3 \
	sanRebalanced .1.3.6.1.4.1.32473.1.3.3.0.4 \
	sanRedirThreshold.0 .1.3.6.1.4.1.32473.1.3.3.1.1.1.0 \
	sanRedirRebalanceTrigger.0 .1.3.6.1.4.1.32473.1.3.3.1.1.4.0 \
	sanRedirPermanent.0 .1.3.6.1.4.1.32473.1.3.3.1.1.8.0 \
	sanRedirConnections.0 .1.3.6.1.4.1.32473.1.3.3.1.2.1.0 \
	sanRedirRefused.0 .1.3.6.1.4.1.32473.1.3.3.1.2.6.0 \
	sanRedirServerNextIndex.0 .1.3.6.1.4.1.32473.1.3.3.1.3.0 \
	sanRedirServerName .1.3.6.1.4.1.32473.1.3.3.1.4.1.2 \
	sanRedirServerRowStatus .1.3.6.1.4.1.32473.1.3.3.1.4.1.17 \
	sanRedirServerAgent .1.3.6.1.4.1.32473.1.3.3.1.4.1.18 \
	sanRedirServerAgentStatus .1.3.6.1.4.1.32473.1.3.3.1.4.1.19 \
	sanRedirResourceNextIndex.0 .1.3.6.1.4.1.32473.1.3.3.1.5.0 \
	sanRedirResourceTarget .1.3.6.1.4.1.32473.1.3.3.1.6.1.2 \
	sanRedirResourceRowStatus .1.3.6.1.4.1.32473.1.3.3.1.6.1.11 \
	sanRedirResourcePrevServer .1.3.6.1.4.1.32473.1.3.3.1.6.1.12 \
	sanRedirResourceOrigin .1.3.6.1.4.1.32473.1.3.3.1.6.1.13 \
	sanRedirClientInitiator .1.3.6.1.4.1.32473.1.3.3.1.7.1.2 \
	sanRedirClientLogins .1.3.6.1.4.1.32473.1.3.3.1.7.1.12 \
	sanRedirPlanTime .1.3.6.1.4.1.32473.1.3.3.1.8.1.2 \
	sanRedirPlanMoveList .1.3.6.1.4.1.32473.1.3.3.1.8.1.7

check_module SANAGENT-PATH-MIB handlers/pathTables.h sanPathMIB \
	sanPathMIB .1.3.6.1.4.1.32473.1.3.2 \
	sanPathDown .1.3.6.1.4.1.32473.1.3.2.0.1 \
	sanPathUp .1.3.6.1.4.1.32473.1.3.2.0.2 \
	sanTeamFailover .1.3.6.1.4.1.32473.1.3.2.0.3 \
	sanTeamDegraded .1.3.6.1.4.1.32473.1.3.2.0.4 \
	sanTeamFailed .1.3.6.1.4.1.32473.1.3.2.0.5 \
	sanTeamSharesChanged .1.3.6.1.4.1.32473.1.3.2.0.6 \
	sanTeamNextIndex.0 .1.3.6.1.4.1.32473.1.3.2.1.1.0 \
	sanTeamName .1.3.6.1.4.1.32473.1.3.2.1.2.1.2 \
	sanTeamLBChange .1.3.6.1.4.1.32473.1.3.2.1.2.1.9 \
	sanTeamState .1.3.6.1.4.1.32473.1.3.2.1.2.1.10 \
	sanTeamPortals .1.3.6.1.4.1.32473.1.3.2.1.2.1.14 \
	sanTeamRowStatus .1.3.6.1.4.1.32473.1.3.2.1.2.1.17 \
	sanPathAddressType .1.3.6.1.4.1.32473.1.3.2.1.3.1.2 \
	sanPathState .1.3.6.1.4.1.32473.1.3.2.1.3.1.7 \
	sanPathReadShare .1.3.6.1.4.1.32473.1.3.2.1.3.1.8 \
	sanPathWriteShare .1.3.6.1.4.1.32473.1.3.2.1.3.1.9 \
	sanPathActualReadShare .1.3.6.1.4.1.32473.1.3.2.1.3.1.10 \
	sanPathErrors .1.3.6.1.4.1.32473.1.3.2.1.3.1.16 \
	sanPathAvgLatency .1.3.6.1.4.1.32473.1.3.2.1.3.1.18

check_module SANAGENT-SESSION-MIB handlers/discTables.h sanSessionMIB \
	sanSessionMIB .1.3.6.1.4.1.32473.1.3.1 \
	sanTargetDiscovered .1.3.6.1.4.1.32473.1.3.1.0.1 \
	sanTargetLost .1.3.6.1.4.1.32473.1.3.1.0.2 \
	sanPortalUnreachable .1.3.6.1.4.1.32473.1.3.1.0.3 \
	sanDiscSendTargetsOk.0 .1.3.6.1.4.1.32473.1.3.1.1.1.1.0 \
	sanDiscTargetsCurrent.0 .1.3.6.1.4.1.32473.1.3.1.1.1.5.0 \
	sanDiscLastScanDuration.0 .1.3.6.1.4.1.32473.1.3.1.1.1.8.0 \
	sanDiscSourceMechanism .1.3.6.1.4.1.32473.1.3.1.1.2.1.2 \
	sanDiscSourceStatus .1.3.6.1.4.1.32473.1.3.1.1.2.1.6 \
	sanDiscSourceLastError .1.3.6.1.4.1.32473.1.3.1.1.2.1.12 \
	sanDiscTargetName .1.3.6.1.4.1.32473.1.3.1.1.3.1.2 \
	sanDiscTargetMechanism .1.3.6.1.4.1.32473.1.3.1.1.3.1.3 \
	sanDiscTargetLastSeen .1.3.6.1.4.1.32473.1.3.1.1.3.1.7 \
	sanDiscPortalAddressType .1.3.6.1.4.1.32473.1.3.1.1.4.1.2 \
	sanDiscPortalTpgt .1.3.6.1.4.1.32473.1.3.1.1.4.1.5 \
	sanDiscPortalLastSeen .1.3.6.1.4.1.32473.1.3.1.1.4.1.8 \
	sanLoginFailed .1.3.6.1.4.1.32473.1.3.1.0.4 \
	sanSessionUp .1.3.6.1.4.1.32473.1.3.1.0.5 \
	sanSessionDown .1.3.6.1.4.1.32473.1.3.1.0.6 \
	sanCredNextIndex.0 .1.3.6.1.4.1.32473.1.3.1.1.5.0 \
	sanCredSecret .1.3.6.1.4.1.32473.1.3.1.1.6.1.3 \
	sanCredMutualSecret .1.3.6.1.4.1.32473.1.3.1.1.6.1.5 \
	sanCredRowStatus .1.3.6.1.4.1.32473.1.3.1.1.6.1.8 \
	sanLoginNextIndex.0 .1.3.6.1.4.1.32473.1.3.1.1.7.0 \
	sanLoginTargetName .1.3.6.1.4.1.32473.1.3.1.1.8.1.2 \
	sanLoginCredential .1.3.6.1.4.1.32473.1.3.1.1.8.1.7 \
	sanLoginAdminStatus .1.3.6.1.4.1.32473.1.3.1.1.8.1.10 \
	sanLoginLastResult .1.3.6.1.4.1.32473.1.3.1.1.8.1.12 \
	sanLoginRowStatus .1.3.6.1.4.1.32473.1.3.1.1.8.1.18 \
	sanSessionWindow.0 .1.3.6.1.4.1.32473.1.3.1.1.9.0 \
	sanSessionTargetName .1.3.6.1.4.1.32473.1.3.1.1.10.1.3 \
	sanSessionIsid .1.3.6.1.4.1.32473.1.3.1.1.10.1.9 \
	sanSessionTxBytes .1.3.6.1.4.1.32473.1.3.1.1.10.1.15 \
	sanSessionTxRateAvg .1.3.6.1.4.1.32473.1.3.1.1.10.1.23 \
	sanSessionLogout .1.3.6.1.4.1.32473.1.3.1.1.10.1.30 \
	sanStorPortalNextIndex.0 .1.3.6.1.4.1.32473.1.3.1.1.11.0 \
	sanStorPortalAddress .1.3.6.1.4.1.32473.1.3.1.1.12.1.3 \
	sanStorPortalRowStatus .1.3.6.1.4.1.32473.1.3.1.1.12.1.7 \
	sanStorTargetName .1.3.6.1.4.1.32473.1.3.1.1.13.1.2 \
	sanStorTargetReadBytes .1.3.6.1.4.1.32473.1.3.1.1.13.1.5 \
	sanStorLunSize .1.3.6.1.4.1.32473.1.3.1.1.14.1.3 \
	sanStorLunType .1.3.6.1.4.1.32473.1.3.1.1.14.1.2 \
	sanStorLunDesignator .1.3.6.1.4.1.32473.1.3.1.1.14.1.6 \
	sanStorLunVendor .1.3.6.1.4.1.32473.1.3.1.1.14.1.7 \
	sanStorLunModel .1.3.6.1.4.1.32473.1.3.1.1.14.1.8 \
	sanStorLunCapacity .1.3.6.1.4.1.32473.1.3.1.1.14.1.9 \
	sanStorLunIdentityStatus .1.3.6.1.4.1.32473.1.3.1.1.14.1.10 \
	sanStorSessionInitiatorName .1.3.6.1.4.1.32473.1.3.1.1.15.1.2 \
	sanStorSessionEnd .1.3.6.1.4.1.32473.1.3.1.1.15.1.11 \
	sanStorSessionPortalAddress .1.3.6.1.4.1.32473.1.3.1.1.15.1.13 \
	sanStorSessionTxRateAvg .1.3.6.1.4.1.32473.1.3.1.1.15.1.17 \
	sanStorRequestsSent.0 .1.3.6.1.4.1.32473.1.3.1.1.16.2.0

check_module ISCSI-MIB handlers/iscsiTables.h iscsiMibModule \
	iscsiMibModule .1.3.6.1.2.1.142 \
	iscsiInstSessionNumber .1.3.6.1.2.1.142.1.1.1.1.9 \
	iscsiPortalAddr .1.3.6.1.2.1.142.1.2.1.1.5 \
	iscsiTgtPortalTag .1.3.6.1.2.1.142.1.3.1.1.3 \
	iscsiNodeName .1.3.6.1.2.1.142.1.5.1.1.2 \
	iscsiTgtLoginAccepts .1.3.6.1.2.1.142.1.6.2.1.1 \
	iscsiTgtLogoutNormals .1.3.6.1.2.1.142.1.6.3.1.1 \
	iscsiIntrLoginFailures .1.3.6.1.2.1.142.1.8.1.1.1 \
	iscsiIntrLoginOtherFailRsps .1.3.6.1.2.1.142.1.8.2.1.2 \
	iscsiIntrLogoutNormals .1.3.6.1.2.1.142.1.8.3.1.1 \
	iscsiSsnDiscontinuityTime .1.3.6.1.2.1.142.1.10.1.1.21 \
	iscsiSsnTxDataOctets .1.3.6.1.2.1.142.1.10.2.1.3 \
	iscsiSsnCxnTimeoutErrors .1.3.6.1.2.1.142.1.10.3.1.2 \
	iscsiCxnRemotePort .1.3.6.1.2.1.142.1.11.1.1.9

check_module SANAGENT-REDISCOVER-MIB engines/rediscover/rediscover.h sanRediscoverMIB \
	sanRediscoverMIB .1.3.6.1.4.1.32473.1.3.4 \
	sanSessionFeedback .1.3.6.1.4.1.32473.1.3.4.0.1 \
	sanRediscoveryRequest .1.3.6.1.4.1.32473.1.3.4.0.2 \
	sanRediscoveryTriggered .1.3.6.1.4.1.32473.1.3.4.0.3 \
	sanTargetReaddressed .1.3.6.1.4.1.32473.1.3.4.0.4 \
	sanRediscover .1.3.6.1.4.1.32473.1.3.4.0.5 \
	sanRediscoverAlternative .1.3.6.1.4.1.32473.1.3.4.0.6 \
	sanRediscMode.0 .1.3.6.1.4.1.32473.1.3.4.1.1.1.0 \
	sanRediscSessionAgeOut.0 .1.3.6.1.4.1.32473.1.3.4.1.1.7.0 \
	sanRediscThresholdValue .1.3.6.1.4.1.32473.1.3.4.1.2.1.2 \
	sanRediscThresholdOutside .1.3.6.1.4.1.32473.1.3.4.1.2.1.5 \
	sanRediscFeedbackReceived.0 .1.3.6.1.4.1.32473.1.3.4.1.3.1.0 \
	sanRediscRequestsReceived.0 .1.3.6.1.4.1.32473.1.3.4.1.3.12.0 \
	sanRediscPollFailures.0 .1.3.6.1.4.1.32473.1.3.4.1.3.14.0 \
	sanRediscPoolNextIndex.0 .1.3.6.1.4.1.32473.1.3.4.1.4.0 \
	sanRediscPoolRowStatus .1.3.6.1.4.1.32473.1.3.4.1.5.1.9 \
	sanRediscAgentNextIndex.0 .1.3.6.1.4.1.32473.1.3.4.1.6.0 \
	sanRediscAgentRowStatus .1.3.6.1.4.1.32473.1.3.4.1.7.1.10 \
	sanRediscSessionSource .1.3.6.1.4.1.32473.1.3.4.1.8.1.15 \
	sanRediscGroupState .1.3.6.1.4.1.32473.1.3.4.1.9.1.9 \
	sanRediscDecisionTime .1.3.6.1.4.1.32473.1.3.4.1.10.1.2 \
	sanRediscDecisionError .1.3.6.1.4.1.32473.1.3.4.1.10.1.21 \
	sanRediscTrigger.0 .1.3.6.1.4.1.32473.1.3.4.1.11.6.0 \
	sanRediscFbInitiator.0 .1.3.6.1.4.1.32473.1.3.4.1.12.1.0 \
	sanRediscFbOldTarget.0 .1.3.6.1.4.1.32473.1.3.4.1.12.16.0 \
	sanRediscFbOldPort.0 .1.3.6.1.4.1.32473.1.3.4.1.12.19.0 \
	sanRediscReactReceived.0 .1.3.6.1.4.1.32473.1.3.4.1.13.1.0 \
	sanRediscReactLast.0 .1.3.6.1.4.1.32473.1.3.4.1.13.9.0

check_module SANAGENT-RESOURCE-MIB engines/cluster/clu_mib.h sanClusterMIB \
	sanClusterMIB .1.3.6.1.4.1.32473.1.3.5 \
	sanCluNewDevice .1.3.6.1.4.1.32473.1.3.5.0.1 \
	sanCluDeviceGone .1.3.6.1.4.1.32473.1.3.5.0.2 \
	sanCluCrtChanged .1.3.6.1.4.1.32473.1.3.5.0.3 \
	sanCluConflict .1.3.6.1.4.1.32473.1.3.5.0.4 \
	sanCluPeerUnreachable .1.3.6.1.4.1.32473.1.3.5.0.5 \
	sanCluOwnershipLost .1.3.6.1.4.1.32473.1.3.5.0.6 \
	sanCluVersion.0 .1.3.6.1.4.1.32473.1.3.5.1.1.1.0 \
	sanCluVersionWriter.0 .1.3.6.1.4.1.32473.1.3.5.1.1.2.0 \
	sanCluAllocLock.0 .1.3.6.1.4.1.32473.1.3.5.1.1.3.0 \
	sanCluGranularity.0 .1.3.6.1.4.1.32473.1.3.5.1.1.4.0 \
	sanCluSelfGuid.0 .1.3.6.1.4.1.32473.1.3.5.1.1.5.0 \
	sanCluResNextIndex.0 .1.3.6.1.4.1.32473.1.3.5.1.1.6.0 \
	sanCluMemberNextIndex.0 .1.3.6.1.4.1.32473.1.3.5.1.1.7.0 \
	sanCluOwnershipGrace.0 .1.3.6.1.4.1.32473.1.3.5.1.1.8.0 \
	sanCluRole.0 .1.3.6.1.4.1.32473.1.3.5.1.1.9.0 \
	sanCluMemberType .1.3.6.1.4.1.32473.1.3.5.1.2.1.2 \
	sanCluMemberRowStatus .1.3.6.1.4.1.32473.1.3.5.1.2.1.6 \
	sanCluResGuid .1.3.6.1.4.1.32473.1.3.5.1.3.1.2 \
	sanCluResOwnership .1.3.6.1.4.1.32473.1.3.5.1.3.1.7 \
	sanCluResSize .1.3.6.1.4.1.32473.1.3.5.1.3.1.12 \
	sanCluResPaths .1.3.6.1.4.1.32473.1.3.5.1.3.1.14 \
	sanCluOwnerRowStatus .1.3.6.1.4.1.32473.1.3.5.1.4.1.2 \
	sanCluPeerState .1.3.6.1.4.1.32473.1.3.5.1.5.1.1 \
	sanCluPeerLastError .1.3.6.1.4.1.32473.1.3.5.1.5.1.6 \
	sanCluChanges.0 .1.3.6.1.4.1.32473.1.3.5.1.6.1.0 \
	sanCluOwnershipsLost.0 .1.3.6.1.4.1.32473.1.3.5.1.6.14.0 \
	sanCluConflictTime .1.3.6.1.4.1.32473.1.3.5.1.7.1.2 \
	sanCluConflictDetail .1.3.6.1.4.1.32473.1.3.5.1.7.1.7

[ "$fail" = 0 ] && echo "PASS"
exit "$fail"
