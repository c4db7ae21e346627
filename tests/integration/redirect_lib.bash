# redirect_lib.bash: sourced by the redirector tests (after lib.sh and sa_init; not run by itself): the agent with a
# redirect section behind a private snmpd, and the reads and SETs those tests make through it.

# redir_up RPORT NSERVERS SECTION: writes the agent config with SECTION (the redirect section), starts snmpd and
# the agent and waits until the redirector listens on RPORT with NSERVERS servers.
redir_up() {
	sa_agent_conf "$3"
	sa_start_snmpd
	sa_start_agent
	sa_wait_agent
	sa_wait_redirector "$1" "$2"
}

# rget OID...: values only, numeric OIDs, enums as numbers; nothing for an absent instance.
rget() { snmpget -v2c -c "$SA_RO_COMMUNITY" -t 1 -r 1 -Oqv -On -Oe "127.0.0.1:$SA_SNMP_PORT" "$@" 2>/dev/null | grep -v '^No Such'; }
# rset ARGS...: the SET succeeds.
rset() { sa_set "$@" >/dev/null 2>"$SA_TMP/set.err" || sa_fail "SET $* failed: $(cat "$SA_TMP/set.err")"; }
# rset_err REASON ARGS...: the SET fails with that SNMP error.
rset_err() {
	local want=$1 out
	shift
	# -Ir: no client-side range checks, so the agent is the one to refuse.
	out=$(snmpset -Ir -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 2 -r 0 \
		"127.0.0.1:$SA_SNMP_PORT" "$@" 2>&1) && sa_fail "SET $* succeeded, wanted $want"
	echo "$out" | grep -q "Reason: $want" || sa_fail "SET $* answered '$out', wanted $want"
	sa_log "ok: $want for $*"
}
