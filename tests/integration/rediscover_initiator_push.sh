#!/usr/bin/env bash
# rediscover_initiator_push.sh: an initiator agent sends sanSessionFeedback every discovery.feedback_interval
# seconds, one per logged-in data session of its sanSessionTable (the two paths of a team running I/O), with the
# table's window rates, error rate and latency; its snmpd forwards them (here to snmptrapd, as the lab forwards
# them to the name server).  The values are the row's: checked against a GET of the same session.
set -u
. "$(dirname "$0")/lib.sh"
sa_init rediscover_initiator_push
sa_need_plugin nbdcopy

FEEDBACK=.1.3.6.1.4.1.32473.1.3.4.0.1 # sanSessionFeedback
FB=.1.3.6.1.4.1.32473.1.3.4.1.12      # sanRediscNotifyObjects
S=$SA_OID.3.1.1.10.1                  # sanSessionEntry
TEAM=$SA_OID.3.2.1.2.1

sa_start_tgtd 1
P=$SA_ISCSI_PORT
IQN=$SA_IQN_PREFIX:disk0
sa_start_balance_agent "$(sa_lab0_teams)" "discovery = { feedback_interval = 2; session_window = 5; };"
sa_wait_for 15 eval '[ "$(sa_get "$TEAM.10.1")" = 1 ]' || sa_fail "lab0 never optimal"

# I/O through the team so the rates are not all zero.
truncate -s 8M "$SA_TMP/in.img"
URI="nbd+unix:///?socket=$RUN/lab0.sock"
load() { while :; do nbdcopy "$SA_TMP/in.img" "$URI" 2>/dev/null || sleep 0.2; done; }
sa_bg load
# snmptrapd writes one notification's varbinds on one line.
fb_lines() { grep -E "OID: $FEEDBACK([^0-9.]|$)" "$SA_TMP/snmptrapd.log" 2>/dev/null; }
feedbacks() { fb_lines | wc -l; }
enough() { [ "$(feedbacks)" -ge 6 ]; }
t0=$(sa_now_ms)
sa_wait_for 20 enough || sa_fail "$(feedbacks) sanSessionFeedback at snmptrapd after 20 s, want >= 6"
sa_log "$(feedbacks) sanSessionFeedback in $(sa_secs_since "$t0") s"
kill "$SA_LASTPID" 2>/dev/null

# Each carries initiator, target, portal (127.0.0.1 or .2 : P), and the seed's metrics (rates, errors, latency).
for a in 01 02; do
	n=$(fb_lines | grep -c "$FB.4.0 = Hex-STRING: 7F 00 00 $a")
	[ "$n" -ge 2 ] || sa_fail "$n feedback notifications for portal 127.0.0.$((10#$a)), want >= 2: $(fb_lines | tail -2)"
done
fb_lines | grep -v "$FB.2.0 = STRING: \"$IQN\"" | grep -q . && sa_fail "feedback without target $IQN: $(fb_lines | tail -1)"
fb_lines | grep -vE "$FB.5.0 = [A-Za-z0-9]+: $P([^0-9]|$)" | grep -q . && sa_fail "feedback without port $P: $(fb_lines | tail -1)"
for c in 1 6 7 8 9 10; do
	fb_lines | grep -v "$FB.$c.0 = " | grep -q . && sa_fail "column $c missing from a feedback: $(fb_lines | tail -1)"
done
# The I/O was seen: a non-zero average rate and latency in some feedback.
fb_lines | grep -qE "$FB.8.0 = Gauge32: [1-9]" || sa_fail "every feedback had a zero average rate: $(fb_lines | tail -1)"
fb_lines | grep -qE "$FB.10.0 = Gauge32: [1-9]" || sa_fail "every feedback had a zero latency: $(fb_lines | tail -1)"
ini=$(fb_lines | sed -n "s/.*$FB\.1\.0 = STRING: \"\([^\"]*\)\".*/\1/p" | sort -u)
[ "$(echo "$ini" | wc -l)" = 1 ] && [ -n "$ini" ] || sa_fail "initiators in the feedback: $ini"
id=$(sa_walk "$S.2" | sed -n "s/^$S\.2\.\([0-9]*\) = .*/\1/p" | head -1)
[ "$(sa_get "$S.2.$id")" = "\"$ini\"" ] || sa_fail "feedback initiator $ini is not sanSessionInitiatorName.$id"
last=$(fb_lines | tail -1 | grep -oE "$FB\.(8|10)\.0 = Gauge32: [0-9]+" | tr '\n' ' ')
sa_log "feedback from $ini for $IQN at 127.0.0.1:$P and 127.0.0.2:$P; last one: $last"
# Off again: discovery.feedback_interval = 0 on a reload stops them.
sed -i 's/feedback_interval = 2;/feedback_interval = 0;/' "$SA_TMP/sanagent.conf"
kill -HUP "$SA_AGENT_PID"
sleep_until_quiet() { local a b; a=$(feedbacks); sleep 3; b=$(feedbacks); [ "$a" = "$b" ]; }
sa_wait_for 15 sleep_until_quiet || sa_fail "feedback still sent after feedback_interval = 0"
echo PASS
