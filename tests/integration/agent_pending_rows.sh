#!/usr/bin/env bash
# agent_pending_rows.sh: agent.max_pending_rows caps the rows a table holds in notReady (createAndWait), one more
# gets resourceUnavailable; a SIGHUP raises the cap; agent.pending_row_age drops rows nobody SET for that long.
set -u
. "$(dirname "$0")/lib.sh"
sa_init pending_rows

SRV=.1.3.6.1.4.1.32473.1.3.3.1.4.1 # sanRedirServerEntry
RS=$SRV.17                         # sanRedirServerRowStatus
PORTAL_PORT=$(sa_free_port tcp)

# conf MAX AGE: the agent's config with these pending-row limits and an empty redirector.
conf() {
	cat >"$SA_TMP/sanagent.conf" <<CONF
agent = {
  agentx_socket = "unix:$SA_TMP/agentx.sock";
  agentx_ping_interval = 1;
  state_file = "$SA_TMP/state/sanagent.state";
  max_pending_rows = $1;
  pending_row_age = $2;
};
redirect = { listen = [ "127.0.0.1:$PORTAL_PORT" ]; };
CONF
}
reloads() { grep -c "\[config\] reloaded" "$SA_TMP/sanagentd.log" 2>/dev/null || true; }
reloaded_after() { [ "$(reloads)" -gt "$1" ]; }
# reload MAX AGE: rewrite the config, SIGHUP, wait until the agent says it took it.
reload() {
	local before
	before=$(reloads)
	conf "$1" "$2"
	kill -HUP "$SA_AGENT_PID"
	sa_wait_for 10 reloaded_after "$before" || sa_fail "reload to max_pending_rows=$1 pending_row_age=$2 not logged"
}
status() { sa_get "$RS.$1"; }
# Every row index given reads notReady(3).
all_not_ready() {
	local i
	for i in "$@"; do [ "$(status "$i")" = 3 ] || return 1; done
}
gone() { [ -z "$(status "$1")" ]; }

sa_start_snmpd
conf 2 600
sa_start_agent
sa_wait_agent
# sanRedirThreshold.0 is served once the redirect engine runs.
sa_wait_for 10 sa_get .1.3.6.1.4.1.32473.1.3.3.1.1.1.0 || sa_fail "redirect engine not serving"

sa_set "$RS.1" i 5 >/dev/null || sa_fail "createAndWait of server 1 refused"
sa_set "$RS.2" i 5 "$SRV.2.2" s two >/dev/null || sa_fail "createAndWait of server 2 refused"
all_not_ready 1 2 || sa_fail "rows 1 and 2 not notReady: $(status 1) $(status 2)"
sa_set_err resourceUnavailable "$RS.3" i 5
gone 3 || sa_fail "a refused createAndWait left row 3: $(status 3)"
sa_log "max_pending_rows = 2: a third createAndWait gets resourceUnavailable"

reload 3 600
sa_set "$RS.3" i 5 >/dev/null || sa_fail "createAndWait of server 3 refused after the cap went to 3"
sa_set_err resourceUnavailable "$RS.4" i 5
all_not_ready 1 2 3 || sa_fail "rows 1..3 not notReady after the reload"
sa_log "after SIGHUP with max_pending_rows = 3: a third row fits, a fourth does not"

# Ageing: a GET sweeps; with pending_row_age = 1 the three rows go within a few seconds.
reload 3 1
sa_wait_for 10 gone 1 || sa_fail "row 1 did not age out with pending_row_age = 1"
sa_wait_for 10 gone 3 || sa_fail "row 3 did not age out"
gone 2 || sa_fail "row 2 did not age out"
grep -q "a row not active for 1 s aged out" "$SA_TMP/sanagentd.log" || sa_fail "ageing not logged"
sa_set "$RS.4" i 5 >/dev/null || sa_fail "createAndWait refused after the rows aged out"
echo PASS
