# mon_lab.bash: the lab the monitoring tests (prometheus.sh, check_sanagent.sh) read: source it after lib.sh.
# shellcheck disable=SC2034,SC2120 # variables and optional arguments for the tests that source it
# One tgtd with disk0..2 on the portals 127.0.0.1 and 127.0.0.2 (port $P); an agent whose balance engine runs team
# lab0 (disk0 LUN 1 over both portals, NBD export at $URI) and whose redirector fronts the two portals as servers
# s1 and s2 (disk1 on s1, disk2 on s2); snmpd with lib.sh's users plus a read-only SNMPv3 authPriv user $MON_USER,
# the kind of user a monitoring system gets.  mon_path_down/mon_path_up take a portal away and give it back.
MON_USER=sanmon
MON_AUTH=sanmon-auth-pass
MON_PRIV=sanmon-priv-pass
PM=$SA_OID.3.2
TEAM=$PM.1.2.1
PATHS=$PM.1.3.1

mon_lab_start() {
	sa_need_plugin nbdcopy
	sa_start_tgtd 3
	P=$SA_ISCSI_PORT
	IQN=$SA_IQN_PREFIX:disk0
	sa_start_snmptrapd
	sa_start_snmpd "createUser $MON_USER SHA \"$MON_AUTH\" AES \"$MON_PRIV\"" "rouser $MON_USER priv"
	RUN=$SA_TMP/run
	RPORT=$(sa_free_port tcp)
	mon_agent_conf
	sa_start_agent
	sa_wait_agent
	URI="nbd+unix:///?socket=$RUN/lab0.sock"
	sa_wait_for 20 mon_is "$TEAM.10.1" 1 || sa_fail "lab0 never optimal: $(sa_get "$TEAM.10.1"); $(tail -5 "$RUN/lab0.log" 2>&1)"
	sa_wait_for 10 mon_servers_up || sa_fail "redirector servers not up: $(sa_walk "$SA_OID.3.3.1.4.1.8")"
	sa_wait_for 10 mon_sessions 2 || sa_fail "lab0's sessions not listed: $(sa_walk "$SA_OID.3.1.1.10.1.13")"
}
# mon_sessions N: sanSessionTable lists N sessions logged in.
mon_sessions() { [ "$(sa_walk "$SA_OID.3.1.1.10.1.13" | grep -c 'INTEGER: 2$')" = "$1" ]; }

# mon_agent_conf [REDIRECT_LISTEN]: the agent's config (the redirector on 127.0.0.1:$RPORT unless given), with
# $MON_AGENT_EXTRA (more sections) when set.
mon_agent_conf() {
	sa_agent_conf "balance = {
  run_dir = \"$RUN\";
  plugin = \"$PLUGIN\";
  plugin_args = [ \"report_ms=200\" ];
  poll_interval_ms = 100;
  $(sa_lab0_teams)
};
redirect = {
  listen = [ \"${1:-127.0.0.1:$RPORT}\" ]; probe_interval_ms = 200; probe_timeout_ms = 500; load_interval = 1;
  servers = ( { name = \"s1\"; address = \"127.0.0.1\"; port = $P; tgt_control = $SA_TGT_CONTROL; },
              { name = \"s2\"; address = \"127.0.0.2\"; port = $P; tgt_control = $SA_TGT_CONTROL; } );
  resources = ( { target = \"$SA_IQN_PREFIX:disk1\"; server = \"s1\"; },
                { target = \"$SA_IQN_PREFIX:disk2\"; server = \"s2\"; } );
};
${MON_AGENT_EXTRA:-}"
}

mon_is() { [ "$(sa_get "$1")" = "$2" ]; }
mon_servers_up() { [ "$(sa_get1 "$SA_OID.3.3.1.4.1.8.1" "$SA_OID.3.3.1.4.1.8.2")" = "1 1" ]; }

# mon_path_down ADDR: tgt stops listening on ADDR:$P and drops lab0's connection through it, so that path goes
# down(5) and stays down (its reconnects are refused); the redirector's server on ADDR goes down too.
mon_path_down() {
	local sid n
	sa_tgt_ctl --lld iscsi --op delete --mode portal --param "portal=$1:$P" || sa_fail "cannot delete portal $1:$P"
	sid=$(sa_tgt_sid 1 "sanpath-lab0-p${1##*.}")
	[ -n "$sid" ] || sa_fail "no tgt session of lab0 through $1"
	sa_tgt_ctl --lld iscsi --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || sa_fail "cannot drop lab0's connection via $1"
}
mon_path_up() {
	sa_tgt_ctl --lld iscsi --op new --mode portal --param "portal=$1:$P" || sa_fail "cannot re-add portal $1:$P"
}
