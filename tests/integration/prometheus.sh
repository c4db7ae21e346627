#!/bin/bash
# prometheus.sh: conf/prometheus/snmp.yml is the generator's output, and the real prometheus-snmp-exporter with it
# reads the lab over SNMPv3 authPriv: named series with the lab's values, bytes after an nbdcopy, a path taken down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mon_lab.bash"
sa_init prometheus
sa_need prometheus-snmp-exporter prometheus-snmp-exporter prometheus-snmp-generator
sa_need curl curl
sa_need python3 python3
sa_need_std_mibs
CONF=$SA_SRCDIR/conf/prometheus

# ---- the committed snmp.yml is what the generator makes of generator.yml and the MIBs ------------------
STD_MIBDIRS=$SA_STD_MIBDIRS "$CONF/generate.sh" "$SA_TMP/snmp.yml" 2>"$SA_TMP/generate.log" ||
	sa_fail "generate.sh failed: $(cat "$SA_TMP/generate.log")"
diff -u "$CONF/snmp.yml" "$SA_TMP/snmp.yml" >"$SA_TMP/snmp.yml.diff" ||
	sa_fail "conf/prometheus/snmp.yml differs from generate.sh's output (run conf/prometheus/generate.sh): $(head -20 "$SA_TMP/snmp.yml.diff")"
prometheus-snmp-exporter --dry-run --config.file="$CONF/snmp.yml" >"$SA_TMP/dryrun.log" 2>&1 ||
	sa_fail "the exporter refuses snmp.yml: $(cat "$SA_TMP/dryrun.log")"

# ---- the Grafana dashboard: JSON whose queries name only metrics snmp.yml makes -----------------------
python3 - "$CONF/grafana-sanagent.json" "$CONF/snmp.yml" <<'EOF' || sa_fail "grafana-sanagent.json: see above"
import json, re, sys
dash = json.load(open(sys.argv[1]))
yml = open(sys.argv[2]).read()
names = set(re.findall(r"^  - name: (\S+)$", yml, re.M))
labels = set(re.findall(r"labelname: (\S+)$", yml, re.M))
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
used = {m for e in exprs for m in re.findall(r"\b(san[A-Z][A-Za-z]*)\b", e)}
if not exprs or not used:
    sys.exit("no queries")
missing = sorted(used - names - labels)
if missing:
    sys.exit("metrics not in snmp.yml: %s" % missing)
EOF

# ---- the lab, and the exporter with the monitoring user's credentials -----------------------------------
mon_lab_start
sed -e "s/^    username: .*/    username: $MON_USER/" -e "s/^    password: .*/    password: $MON_AUTH/" \
	-e "s/^    priv_password: .*/    priv_password: $MON_PRIV/" "$CONF/snmp.yml" >"$SA_TMP/exporter.yml"
EP=$(sa_free_port tcp)
sa_bg prometheus-snmp-exporter --config.file="$SA_TMP/exporter.yml" --web.listen-address="127.0.0.1:$EP" \
	>"$SA_TMP/exporter.log" 2>&1
sa_wait_for 10 curl -sf "http://127.0.0.1:$EP/metrics" || sa_fail "exporter does not answer on 127.0.0.1:$EP"
TARGET=127.0.0.1:$SA_SNMP_PORT
scrape() { curl -sf "http://127.0.0.1:$EP/snmp?module=sanagent&target=$TARGET" >"$SA_TMP/scrape.txt"; }
# metric SERIES: the value of the series written exactly as the exporter writes it (labels in name order).
metric() { scrape && awk -v s="$1" '$1 == s { print $2; f = 1 } END { exit !f }' "$SA_TMP/scrape.txt"; }
# Prometheus writes large values as 1.6777216e+07: compare as numbers.
num() { awk -v v="$1" 'BEGIN { printf "%.0f\n", v }'; }
metric_is() { local v; v=$(metric "$1") && [ "$(num "$v")" = "$2" ]; }

scrape || sa_fail "scrape failed: $(curl -s "http://127.0.0.1:$EP/snmp?module=sanagent&target=$TARGET" | tail -3)"
grep -q '^snmp_scrape_pdus_returned [1-9]' "$SA_TMP/scrape.txt" || sa_fail "scrape returned no PDUs: $(tail -5 "$SA_TMP/scrape.txt")"

# ---- named series with the lab's values -------------------------------------------------------------------
LAB0='sanTeamName="lab0"'
pathseries() { echo "$1{sanPathAddress=\"127.0.0.$2\",sanPathIndex=\"$2\",sanPathPort=\"$P\",$LAB0}"; }
sa_wait_for 10 metric_is "sanTeamState{$LAB0}" 1 || sa_fail "sanTeamState{$LAB0} = $(metric "sanTeamState{$LAB0}")"
for n in 1 2; do
	sa_wait_for 5 metric_is "$(pathseries sanPathState $n)" 4 ||
		sa_fail "$(pathseries sanPathState $n) = $(metric "$(pathseries sanPathState $n)"); $(grep sanPathState "$SA_TMP/scrape.txt")"
	metric_is "$(pathseries sanPathReadShare $n)" 50 || sa_fail "$(pathseries sanPathReadShare $n) not 50"
done
for e in balance:1 redirect:1 discovery:2 cluster:2; do
	v=$(metric "sanEngineOperStatus{sanEngineName=\"${e%:*}\"}")
	[ "$v" = "${e#*:}" ] || sa_fail "sanEngineOperStatus of ${e%:*} = $v, the agent says $(sa_walk "$SA_OID.1.2.1.4")"
done
for s in s1 s2; do
	metric_is "sanRedirServerOperStatus{sanRedirServerName=\"$s\"}" 1 || sa_fail "server $s not up in the scrape"
done
metric "sanRedirServerCapacity{sanRedirServerName=\"s1\"}" >/dev/null || sa_fail "no sanRedirServerCapacity for s1"
metric sanRedirConnections >/dev/null || sa_fail "no sanRedirConnections"
metric sanTrapRecvReceived >/dev/null || sa_fail "no sanTrapRecvReceived"
# Sessions: lab0's two paths, each series labelled with its target IQN and portal, and the session id.
sessions_in() { scrape && [ "$(grep -c "^sanSessionState{.*sanSessionTargetName=\"$IQN\"} 2$" "$SA_TMP/scrape.txt")" = 2 ]; }
sa_wait_for 10 sessions_in || sa_fail "want lab0's 2 sessions logged in, labelled with $IQN: $(grep '^sanSessionState' "$SA_TMP/scrape.txt")"
grep -q "^sanSessionLatencyAvg{sanSessionId=\"[0-9]*\",sanSessionPortalAddress=\"127.0.0.2\",sanSessionTargetName=\"$IQN\"} " \
	"$SA_TMP/scrape.txt" || sa_fail "no sanSessionLatencyAvg for the session to 127.0.0.2: $(grep '^sanSessionLatencyAvg' "$SA_TMP/scrape.txt")"
# No series carries a bare team, engine or server index.
grep -E '^san[A-Za-z]*\{[^}]*(sanTeamIndex|sanEngineIndex|sanRedirServerIndex)=' "$SA_TMP/scrape.txt" &&
	sa_fail "series labelled with bare indexes (above)"
sa_log "scrape: lab0 optimal, paths active 50/50, engines, servers s1/s2 up, 2 sessions of $IQN"

# ---- sanTeamWriteBytes grows by what an nbdcopy wrote, and equals the agent's value -------------------
wb0=$(num "$(metric "sanTeamWriteBytes{$LAB0}")") || sa_fail "no sanTeamWriteBytes{$LAB0}"
[ "$wb0" = "$(sa_get "$TEAM.12.1")" ] || sa_fail "sanTeamWriteBytes: exporter $wb0, agent $(sa_get "$TEAM.12.1")"
sa_nbd_roundtrip "$URI" 16 "lab0's export"
grown() { local v; v=$(metric "sanTeamWriteBytes{$LAB0}") && [ "$(num "$v")" -ge $((wb0 + (16 << 20))) ]; }
sa_wait_for 5 grown || sa_fail "sanTeamWriteBytes{$LAB0} $(metric "sanTeamWriteBytes{$LAB0}"), want >= $wb0 + 16 MiB"
same() { [ "$(num "$(metric "sanTeamWriteBytes{$LAB0}")")" = "$(sa_get "$TEAM.12.1")" ]; }
sa_wait_for 5 same || sa_fail "sanTeamWriteBytes: exporter $(metric "sanTeamWriteBytes{$LAB0}"), agent $(sa_get "$TEAM.12.1")"
wb1=$(num "$(metric "sanTeamWriteBytes{$LAB0}")")
for n in 1 2; do
	v=$(num "$(metric "$(pathseries sanPathWriteBytes $n)")")
	[ "$v" -gt 0 ] || sa_fail "$(pathseries sanPathWriteBytes $n) = $v after the copy"
done
sa_log "nbdcopy 16 MiB: sanTeamWriteBytes $wb0 -> $wb1 (the agent's value), both paths wrote"

# ---- a path taken down shows its state, its team degraded, its server down ---------------------------------
mon_path_down 127.0.0.2
sa_wait_for 10 metric_is "$(pathseries sanPathState 2)" 5 ||
	sa_fail "path 2 after its portal went away: $(metric "$(pathseries sanPathState 2)"), want down(5)"
metric_is "$(pathseries sanPathState 1)" 4 || sa_fail "path 1 = $(metric "$(pathseries sanPathState 1)"), want active"
sa_wait_for 5 metric_is "sanTeamState{$LAB0}" 2 || sa_fail "sanTeamState{$LAB0} = $(metric "sanTeamState{$LAB0}"), want degraded(2)"
sa_wait_for 5 metric_is 'sanRedirServerOperStatus{sanRedirServerName="s2"}' 2 || sa_fail "server s2 not down in the scrape"
[ "$(sa_get "$PATHS.7.1.2")" = 5 ] || sa_fail "the agent says path 2 is $(sa_get "$PATHS.7.1.2")"
mon_path_up 127.0.0.2
sa_wait_for 15 metric_is "$(pathseries sanPathState 2)" 4 || sa_fail "path 2 did not come back active"
sa_log "path 2 down: sanPathState 5, lab0 degraded, s2 down; back active after its portal returned"

# ---- a wrong passphrase is an error in the scrape, not empty success --------------------------------------
sed -e "s/^    priv_password: .*/    priv_password: wrong-priv-pass/" "$SA_TMP/exporter.yml" >"$SA_TMP/bad.yml"
sed -i "s/^    password: .*/    password: wrong-auth-pass/" "$SA_TMP/bad.yml"
EP2=$(sa_free_port tcp)
sa_bg prometheus-snmp-exporter --config.file="$SA_TMP/bad.yml" --web.listen-address="127.0.0.1:$EP2" \
	>"$SA_TMP/exporter-bad.log" 2>&1
sa_wait_for 10 curl -sf "http://127.0.0.1:$EP2/metrics" || sa_fail "second exporter does not answer"
out=$(curl -s "http://127.0.0.1:$EP2/snmp?module=sanagent&target=$TARGET")
echo "$out" | grep -q '^sanTeamState' && sa_fail "a wrong passphrase still read the agent"
sa_log "wrong passphrase: no series ($(echo "$out" | head -1 | cut -c1-80))"
echo "PASS: prometheus"
exit 0
