/* core.c: start-up, reload and shutdown shared by sanagentd and the dlmod plug-in. */
#include <config.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/balance/engine.h"
#include "engines/balance/sessfeed.h"
#include "engines/cluster/cluster.h"
#include "engines/cluster/clu_ops.h"
#include "engines/cluster/clu_probe.h"
#include "engines/discovery/discovery.h"
#include "engines/discovery/login.h"
#include "engines/redirect/redirect.h"
#include "engines/rediscover/rediscover.h"
#include "iscsi/isns_worker.h"
#include "engines/rediscover/redisc_poll.h"
#include "engines/storage/storage.h"
#include "engines/registry.h"
#include "engines/sessions.h"
#include "handlers/cluTables.h"
#include "handlers/discTables.h"
#include "handlers/handlers.h"
#include "handlers/redisc.h"
#include "handlers/loginTables.h"
#include "handlers/pathTables.h"
#include "handlers/redirTables.h"
#include "handlers/sessionTables.h"
#include "handlers/stateTxn.h"
#include "handlers/table.h"
#include "subagent/core.h"
#include "subagent/login_teams.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/snmp_client.h"
#include "traps/notifications.h"
#include "traps/notify.h"
#include "traps/receiver.h"

struct sa_core sa_core;

static void sa_engine_admin_key(char *key, size_t len, int index)
{
	snprintf(key, len, "engine.%s.admin", sa_engine_names[index - 1]);
}

/* SNMP-set admin overrides outlive restarts: they are nonVolatile rows. */
static void sa_core_restore_engines(void)
{
	char key[64];

	for (int i = 1; i <= sa_engine_count(); i++) {
		const char *v;

		sa_engine_admin_key(key, sizeof(key), i);
		v = sa_core.state ? cm_state_get(sa_core.state, key) : NULL;
		if (!v)
			continue;
		if (strcmp(v, "up") == 0)
			sa_engine_get(i)->admin_override = SA_ADMIN_UP;
		else if (strcmp(v, "down") == 0)
			sa_engine_get(i)->admin_override = SA_ADMIN_DOWN;
		else
			cm_log(CM_LOG_WARNING, "state", "%s: ignoring bad value for %s", sa_core.cfg->state_file, key);
	}
}

static void sa_core_open_state(void)
{
	int corrupt = 0;
	int rc = cm_state_open(sa_core.cfg->state_file, &sa_core.state, &corrupt);

	if (rc < 0) {
		sa_core.state = NULL;
		cm_log(CM_LOG_ERR, "state", "%s: cannot open: %s; SNMP-created rows will not persist",
		       sa_core.cfg->state_file, strerror(-rc));
	} else if (corrupt) {
		cm_log(CM_LOG_ERR, "state", "%s: was corrupt and has been kept aside; starting empty",
		       sa_core.cfg->state_file);
	}
}

/* ---- plugging the parts together ------------------------------------------------ */

static time_t sa_core_start_time(void)
{
	return sa_core.start_time;
}

static const char *sa_core_config_path(void)
{
	return sa_core.config_path;
}

static const struct h_agent_ops sa_core_handler_ops = {
    .start_time = sa_core_start_time,
    .config_path = sa_core_config_path,
    .set_engine_admin = sa_core_set_engine_admin,
    .commit_state = sa_core_commit_state,
    .trap_counters = sa_trap_receiver_counters,
};

/* The redirect engine reads the storage servers' agents through the agent's own SNMP client. */
static const struct redir_agent_ops sa_core_redir_agent_ops = {
    .walk = cm_snmpc_walk,
    .set_int = cm_snmpc_set_int,
    .cancel_all = cm_snmpc_cancel_all,
};

/* The rediscover engine polls the storage agents' session tables through the same client. */
static const struct redisc_poll_ops sa_core_redisc_poll_ops = {
    .walk = cm_snmpc_walk,
};

/* The rediscover engine's moves write the storage agents' tables through the same client. */
static const struct redisc_move_ops sa_core_redisc_move_ops = {
    .walk = cm_snmpc_walk,
    .set = cm_snmpc_set,
    .isns_move = redisc_isns_move,
};

/* The rediscover engine's messages go out as informs through the same client. */
static const struct redisc_msg_ops sa_core_redisc_msg_ops = {
    .inform = cm_snmpc_inform,
};

/* The cluster engine probes units and syncs with its peers through the same client. */
static const struct clu_net_ops sa_core_clu_net_ops = {
    .walk = cm_snmpc_walk,
    .set = cm_snmpc_set,
    .inform = cm_snmpc_inform,
    .cancel_all = cm_snmpc_cancel_all,
};

/* The notifications read the tables' rows through the handlers' getters, so a trap carries what a GET returns. */
static const struct sa_notify_tables sa_core_notify_tables = {
    .config_file = h_agent_config_file,
    .disc_source = h_disc_source_get,
    .disc_target = h_disc_target_get,
    .login = h_login_get,
    .session = h_session_get,
    .redir_server = h_redir_server_get,
    .redir_resource = h_redir_resource_get,
    .redir_plan = h_redir_plan_get,
    .redisc_decision = h_redisc_decision_get,
    .clu_res = h_clu_res_get,
    .clu_member = h_clu_member_get,
    .clu_peer = h_clu_peer_get,
    .clu_conflict = h_clu_conflict_get,
};

/* traps/notifications.h names the columns each notification carries, handlers/ the tables' columns: both come
 * from the same MIB texts and must agree. */
_Static_assert((int)SA_NOTIFY_COL_DSRC_MECHANISM == (int)H_DSRC_MECHANISM &&
                   (int)SA_NOTIFY_COL_DSRC_ADDR_TYPE == (int)H_DSRC_ADDR_TYPE &&
                   (int)SA_NOTIFY_COL_DSRC_ADDR == (int)H_DSRC_ADDR &&
                   (int)SA_NOTIFY_COL_DSRC_PORT == (int)H_DSRC_PORT &&
                   (int)SA_NOTIFY_COL_DSRC_LAST_ERROR == (int)H_DSRC_LAST_ERROR,
               "sanDiscSourceEntry columns");
_Static_assert((int)SA_NOTIFY_COL_DTGT_NAME == (int)H_DTGT_NAME &&
                   (int)SA_NOTIFY_COL_DTGT_MECHANISM == (int)H_DTGT_MECHANISM &&
                   (int)SA_NOTIFY_COL_DTGT_PORTALS == (int)H_DTGT_PORTALS &&
                   (int)SA_NOTIFY_COL_DTGT_LAST_SEEN == (int)H_DTGT_LAST_SEEN,
               "sanDiscTargetEntry columns");
_Static_assert((int)SA_NOTIFY_COL_LOGIN_TARGET == (int)H_LOGIN_TARGET &&
                   (int)SA_NOTIFY_COL_LOGIN_LAST_RESULT == (int)H_LOGIN_LAST_RESULT &&
                   (int)SA_NOTIFY_COL_LOGIN_LAST_STATUS == (int)H_LOGIN_LAST_STATUS,
               "sanLoginEntry columns");
_Static_assert((int)SA_NOTIFY_COL_SESS_TARGET == (int)H_SESS_TARGET &&
                   (int)SA_NOTIFY_COL_SESS_PORTAL_TYPE == (int)H_SESS_PORTAL_TYPE &&
                   (int)SA_NOTIFY_COL_SESS_PORTAL_ADDR == (int)H_SESS_PORTAL_ADDR &&
                   (int)SA_NOTIFY_COL_SESS_TYPE == (int)H_SESS_TYPE &&
                   (int)SA_NOTIFY_COL_SESS_STATE == (int)H_SESS_STATE,
               "sanSessionEntry columns");
_Static_assert((int)SA_NOTIFY_COL_TEAM_NAME == (int)H_TEAM_NAME && (int)SA_NOTIFY_COL_TEAM_ALGO == (int)H_TEAM_ALGO &&
                   (int)SA_NOTIFY_COL_TEAM_STATE == (int)H_TEAM_STATE,
               "sanTeamEntry columns");
_Static_assert((int)SA_NOTIFY_COL_PATH_ADDRESS_TYPE == (int)H_PATH_ADDRESS_TYPE &&
                   (int)SA_NOTIFY_COL_PATH_ADDRESS == (int)H_PATH_ADDRESS &&
                   (int)SA_NOTIFY_COL_PATH_PORT == (int)H_PATH_PORT &&
                   (int)SA_NOTIFY_COL_PATH_ROLE == (int)H_PATH_ROLE &&
                   (int)SA_NOTIFY_COL_PATH_STATE == (int)H_PATH_STATE &&
                   (int)SA_NOTIFY_COL_PATH_ACTUAL_READ_SHARE == (int)H_PATH_ACTUAL_READ_SHARE &&
                   (int)SA_NOTIFY_COL_PATH_ACTUAL_WRITE_SHARE == (int)H_PATH_ACTUAL_WRITE_SHARE,
               "sanPathEntry columns");
_Static_assert((int)SA_NOTIFY_COL_SRV_NAME == (int)H_SRV_NAME &&
                   (int)SA_NOTIFY_COL_SRV_ADDR_TYPE == (int)H_SRV_ADDR_TYPE &&
                   (int)SA_NOTIFY_COL_SRV_ADDR == (int)H_SRV_ADDR && (int)SA_NOTIFY_COL_SRV_PORT == (int)H_SRV_PORT &&
                   (int)SA_NOTIFY_COL_SRV_OPER == (int)H_SRV_OPER,
               "sanRedirServerEntry columns");
_Static_assert((int)SA_NOTIFY_COL_RES_TARGET == (int)H_RES_TARGET &&
                   (int)SA_NOTIFY_COL_RES_SERVER == (int)H_RES_SERVER &&
                   (int)SA_NOTIFY_COL_RES_PREV_SERVER == (int)H_RES_PREV_SERVER &&
                   (int)SA_NOTIFY_COL_RES_FAIL_POLICY == (int)H_RES_FAIL_POLICY &&
                   (int)SA_NOTIFY_COL_RES_SERVER_STATUS == (int)H_RES_SERVER_STATUS &&
                   (int)SA_NOTIFY_COL_PLAN_TRIGGER == (int)H_PLAN_TRIGGER &&
                   (int)SA_NOTIFY_COL_PLAN_MOVES == (int)H_PLAN_MOVES,
               "sanRedirResourceEntry and sanRedirPlanEntry columns");
_Static_assert((int)SA_NOTIFY_COL_INFO_VERSION == (int)H_INFO_VERSION &&
                   (int)SA_NOTIFY_COL_INFO_CONFIG_FILE == (int)H_INFO_CONFIG_FILE,
               "sanAgentInfo scalars");

static unsigned int sa_core_session_timer;

/* The session registry's clock: a reload may change the window, the balance
 * feed refreshes its paths, then every session takes its sample. */
static void sa_core_session_tick(unsigned int id, void *arg)
{
	struct timespec ts;
	int w = sa_core.cfg ? sa_core.cfg->discovery.session_window : 0;

	(void)id;
	(void)arg;
	if (w && (unsigned int)w != sess_window() && sess_set_window((unsigned int)w) < 0)
		cm_log(CM_LOG_WARNING, "core", "session_window %d out of range, keeping %u", w, sess_window());
	bal_sessfeed_sync();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sess_tick((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

/* Notifications read their values through the tables, so they start after
 * the handlers registered and stop before the handlers go. */
static int sa_core_notifications_start(void)
{
	int rc;

	sa_notify_tables_register(&sa_core_notify_tables);
	if ((rc = sa_redirect_notify_init()) < 0 || (rc = sa_path_notify_init()) < 0 ||
	    (rc = sa_disc_notify_init()) < 0 || (rc = sa_login_notify_init()) < 0 ||
	    (rc = sa_session_notify_init()) < 0 || (rc = sa_redisc_notify_init()) < 0 ||
	    (rc = sa_feedback_notify_init()) < 0 || (rc = sa_clu_notify_init()) < 0)
		return rc;
	return 0;
}

static void sa_core_notifications_stop(void)
{
	sa_clu_notify_shutdown();
	sa_feedback_notify_shutdown();
	sa_redisc_notify_shutdown();
	sa_session_notify_shutdown();
	sa_login_notify_shutdown();
	sa_disc_notify_shutdown();
	sa_path_notify_shutdown();
	sa_redirect_notify_shutdown();
}

static int sa_core_wire(void)
{
	int rc;

	redir_agent_ops_register(&sa_core_redir_agent_ops);
	redisc_poll_ops_register(&sa_core_redisc_poll_ops);
	redisc_move_ops_register(&sa_core_redisc_move_ops);
	redisc_msg_ops_register(&sa_core_redisc_msg_ops);
	clu_net_ops_register(&sa_core_clu_net_ops);
	{
		/* A cluster config without a guid derives this agent's from its SNMP engine ID. */
		u_char id[32];
		size_t n = snmpv3_get_engineID(id, sizeof(id));

		if (n > 0)
			clu_engine_id_set(id, n);
	}
	if ((rc = sa_login_teams_start()) < 0) {
		cm_log(CM_LOG_ERR, "core", "cannot plug the balance engine into the connection manager: %s",
		       strerror(-rc));
		return rc;
	}
	if ((rc = sa_core_notifications_start()) < 0) {
		cm_log(CM_LOG_ERR, "core", "cannot start notifications: %s", strerror(-rc));
		return rc;
	}
	if (!sa_core_session_timer && !(sa_core_session_timer = cm_ev_timer(1000, 1, sa_core_session_tick, NULL)))
		return -ENOMEM;
	sa_core_session_tick(0, NULL);
	if ((rc = bal_sessfeed_start()) < 0)
		cm_log(CM_LOG_ERR, "core", "cannot feed the balance engine's paths to the sessions table: %s",
		       strerror(-rc));
	return rc;
}

void sa_core_unregister(void)
{
	if (sa_core_session_timer) {
		cm_ev_cancel(sa_core_session_timer);
		sa_core_session_timer = 0;
	}
	bal_sessfeed_stop();
	sa_login_teams_stop();
	sa_core_notifications_stop();
	h_all_shutdown();
}

/* The registry knows no config file: each engine gets whether it is on and its own section. */
static const struct sa_engine_config *sa_core_engine_configs(const struct sa_config *cfg,
                                                             struct sa_engine_config out[SA_ENGINE_COUNT])
{
	if (!cfg)
		return NULL;
	for (int i = 0; i < SA_ENGINE_COUNT; i++)
		out[i] = (struct sa_engine_config){.enabled = cfg->engine_enabled[i]};
	out[SA_ENGINE_DISCOVERY].section = &cfg->discovery;
	out[SA_ENGINE_BALANCE].section = &cfg->balance;
	out[SA_ENGINE_REDIRECT].section = &cfg->redirect;
	out[SA_ENGINE_REDISCOVER].section = &cfg->rediscover;
	out[SA_ENGINE_CLUSTER].section = &cfg->cluster;
	return out;
}

static void sa_core_apply(const struct sa_config *cfg)
{
	struct sa_engine_config ecfg[SA_ENGINE_COUNT];
	char err[256] = "";

	h_table_set_pending_limits((unsigned int)cfg->max_pending_rows, (unsigned int)cfg->pending_row_age);
	sa_path_notify_set_interval(cfg->balance.shares_notify_interval);
	sa_feedback_notify_set_interval(cfg->discovery.feedback_interval);
	if (sa_trap_receiver_apply(&cfg->trap_receiver, err, sizeof(err)) < 0)
		cm_log(CM_LOG_ERR, "traprecv", "not started: %s", err[0] ? err : "unknown error");
	/* A cluster unit applies its target ACLs in the tgtd of the storage section. */
	clu_acl_tgt_control(cfg->storage.tgt_control);
	sa_engines_apply(sa_core_engine_configs(cfg, ecfg));
	/* The storage side is not an engine of the registry: its section alone starts it. */
	if (stor_apply(&cfg->storage) < 0)
		cm_log(CM_LOG_ERR, "storage", "not started: out of memory");
}

int sa_core_start(struct sa_config *cfg)
{
	int rc;

	sa_core.cfg = cfg;
	sa_core.start_time = time(NULL);
	/* Absolute, so a reload after a daemon's chdir("/") still finds it. */
	if (!sa_core.config_path)
		sa_core.config_path = realpath(cfg->path, NULL);
	if (!sa_core.config_path)
		sa_core.config_path = strdup(cfg->path);
	if (!sa_core.config_path)
		return -ENOMEM;
	sa_core_open_state();
	h_stxn_set_state(sa_core.state);
	sa_engines_set_state(sa_core.state);
	sa_core_restore_engines();
	h_agent_ops_register(&sa_core_handler_ops);
	if ((rc = h_agent_scalars_init()) < 0 || (rc = h_engine_table_init()) < 0 ||
	    (rc = h_trap_counters_init()) < 0 || (rc = h_redir_init()) < 0 || (rc = h_path_init()) < 0 ||
	    (rc = h_disc_init()) < 0 || (rc = h_login_init()) < 0 || (rc = h_session_init()) < 0 ||
	    (rc = h_stor_init()) < 0 || (rc = h_redisc_init()) < 0 || (rc = h_clu_init()) < 0 ||
	    (rc = h_iscsi_init()) < 0) {
		cm_log(CM_LOG_ERR, "core", "cannot register MIB handlers: %s", strerror(-rc));
		return rc;
	}
	if ((rc = sa_core_wire()) < 0)
		return rc;
	sa_engine_set_ops(SA_ENGINE_REDIRECT + 1, &redir_engine_ops);
	sa_engine_set_ops(SA_ENGINE_BALANCE + 1, &bal_engine_ops);
	sa_engine_set_ops(SA_ENGINE_DISCOVERY + 1, &disc_engine_ops);
	sa_engine_set_ops(SA_ENGINE_REDISCOVER + 1, &redisc_engine_ops);
	sa_engine_set_ops(SA_ENGINE_CLUSTER + 1, &clu_engine_ops);
	sa_core_apply(cfg);
	/* Logins work with discovery off: the connection manager starts with the agent, after the balance engine. */
	if ((rc = disc_conn_start(&cfg->discovery)) < 0)
		cm_log(CM_LOG_ERR, "core", "connection manager not started: %s", strerror(-rc));
	cm_log(CM_LOG_NOTICE, "core", "sanagent %s started with %s", PACKAGE_VERSION, cfg->path);
	return 0;
}

static void sa_core_keep(char **fresh, char **old, const char *what)
{
	char *tmp;

	if (strcmp(*fresh, *old) != 0)
		cm_log(CM_LOG_WARNING, "config", "%s change takes effect at the next start", what);
	tmp = *fresh;
	*fresh = *old;
	*old = tmp;
}

int sa_core_reload(void)
{
	struct sa_config *cfg = NULL, *old = sa_core.cfg;
	char err[512];
	int rc = sa_config_load(sa_core.config_path, &cfg, err, sizeof(err));

	if (rc < 0) {
		cm_log(CM_LOG_ERR, "config", "reload rejected, old config stays in force: %s", err);
		return rc;
	}
	/* Settings fixed at start (and possibly set by options) keep their old values. */
	sa_core_keep(&cfg->state_file, &old->state_file, "state_file");
	sa_core_keep(&cfg->agentx_socket, &old->agentx_socket, "agentx_socket");
	sa_core_keep(&cfg->pid_file, &old->pid_file, "pid_file");
	sa_core.cfg = cfg;
	sa_core_apply(cfg);
	disc_conn_reload(&cfg->discovery);
	sa_config_free(old);
	cm_log(CM_LOG_NOTICE, "config", "reloaded %s", sa_core.config_path);
	sa_notify_config_reloaded();
	return 0;
}

void sa_core_stop(void)
{
	if (!sa_core.cfg)
		return;
	sa_notify_agent_stop();
	disc_conn_stop();
	sa_engines_stop_all();
	isns_work_shutdown(); /* after the engines: what they queued for libisns is dropped */
	stor_stop();
	sa_trap_receiver_stop();
	sa_engines_set_state(NULL);
	/* What the engines queued while stopping comes after sanAgentStop. */
	sa_notify_drop_queued();
	h_stxn_set_state(NULL);
	if (sa_core.state)
		cm_state_close(sa_core.state);
	sa_core.state = NULL;
	sa_config_free(sa_core.cfg);
	sa_core.cfg = NULL;
	free(sa_core.config_path);
	sa_core.config_path = NULL;
}

int sa_core_commit_state(void)
{
	if (!sa_core.state)
		return -EIO;
	return cm_state_commit(sa_core.state);
}

int sa_core_set_engine_admin(int index, int admin)
{
	struct sa_engine_config ecfg[SA_ENGINE_COUNT];
	char key[64], *old = NULL;
	const char *prev;
	int rc = sa_engine_validate_admin(index, admin);

	if (rc < 0)
		return rc;
	if (!sa_core.state)
		return -EIO;
	sa_engine_admin_key(key, sizeof(key), index);
	prev = cm_state_get(sa_core.state, key);
	if (prev && !(old = strdup(prev)))
		return -ENOMEM;
	rc = cm_state_set(sa_core.state, key, admin == SA_ADMIN_UP ? "up" : "down");
	if (rc == 0)
		rc = cm_state_commit(sa_core.state);
	if (rc < 0) {
		/* Persist first, apply second: a failed write changes nothing. */
		if (old)
			cm_state_set(sa_core.state, key, old);
		else
			cm_state_del(sa_core.state, key);
		free(old);
		cm_log(CM_LOG_ERR, "state", "cannot persist %s: %s", key, strerror(-rc));
		return rc;
	}
	free(old);
	return sa_engine_set_admin(index, admin, sa_core_engine_configs(sa_core.cfg, ecfg));
}
