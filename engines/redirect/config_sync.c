/* config_sync.c: the redirect engine's start, reload and stop: config rows and parameters merged with what SNMP set and
 * the state file kept. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/redirect/model.h"
#include "common/log.h"
#include "common/state.h"

#define TAG "redirect"

static struct redir_params cfg_params; /* what the config said, to spot changes on reload */
static char **listen_cfg;
static size_t nlisten_cfg;
static struct redir_portal_limits portal_lim;

static void params_from_cfg(const struct sa_redirect_config *rc, struct redir_params *p)
{
	p->threshold_pct = (unsigned)rc->threshold;
	p->interval_s = (unsigned)rc->interval;
	p->max_moves = (unsigned)rc->max_moves;
	p->probe_interval_ms = (unsigned)rc->probe_interval_ms;
	p->probe_timeout_ms = (unsigned)rc->probe_timeout_ms;
	p->load_interval_s = (unsigned)rc->load_interval;
	p->permanent = rc->permanent;
	p->auth_lifetime_s = (unsigned)rc->auth_lifetime;
	p->w_bytes = (unsigned)rc->weight_bytes;
	p->w_cmds = (unsigned)rc->weight_commands;
	p->w_cpu = (unsigned)rc->weight_cpu;
	p->w_mem = (unsigned)rc->weight_memory;
	p->auth = rc->auth && strcmp(rc->auth, "chap") == 0 ? REDIR_AUTH_CHAP : REDIR_AUTH_NONE;
}

/* Config values, then persisted SNMP overrides for the ones the config did not change. */
static void params_merge(const struct redir_params *ncfg, const struct redir_params *ocfg, struct redir_params *out)
{
	struct redir_params ov;

	*out = *ncfg;
	ov.threshold_pct = redir_st_uint("redir.param.threshold", ncfg->threshold_pct);
	ov.interval_s = redir_st_uint("redir.param.interval", ncfg->interval_s);
	ov.max_moves = redir_st_uint("redir.param.max_moves", ncfg->max_moves);
	ov.probe_interval_ms = redir_st_uint("redir.param.probe_interval_ms", ncfg->probe_interval_ms);
	ov.probe_timeout_ms = redir_st_uint("redir.param.probe_timeout_ms", ncfg->probe_timeout_ms);
	ov.load_interval_s = redir_st_uint("redir.param.load_interval", ncfg->load_interval_s);
	ov.permanent = (int)redir_st_uint("redir.param.permanent", (unsigned)ncfg->permanent);
	ov.w_bytes = redir_st_uint("redir.param.w_bytes", ncfg->w_bytes);
	ov.w_cmds = redir_st_uint("redir.param.w_cmds", ncfg->w_cmds);
	ov.w_cpu = redir_st_uint("redir.param.w_cpu", ncfg->w_cpu);
	ov.w_mem = redir_st_uint("redir.param.w_mem", ncfg->w_mem);
	ov.auth_lifetime_s = redir_st_uint("redir.param.auth_lifetime", ncfg->auth_lifetime_s);
	ov.auth = (int)redir_st_uint("redir.param.auth", (unsigned)ncfg->auth);
#define MERGE(f, key)                                                                                                  \
	do {                                                                                                           \
		if (ocfg && ocfg->f != ncfg->f) {                                                                      \
			if (redir_st())                                                                                \
				cm_state_del(redir_st(), key);                                                         \
		} else {                                                                                               \
			out->f = ov.f;                                                                                 \
		}                                                                                                      \
	} while (0)
	MERGE(threshold_pct, "redir.param.threshold");
	MERGE(interval_s, "redir.param.interval");
	MERGE(max_moves, "redir.param.max_moves");
	MERGE(probe_interval_ms, "redir.param.probe_interval_ms");
	MERGE(probe_timeout_ms, "redir.param.probe_timeout_ms");
	MERGE(load_interval_s, "redir.param.load_interval");
	MERGE(permanent, "redir.param.permanent");
	MERGE(auth, "redir.param.auth");
	MERGE(auth_lifetime_s, "redir.param.auth_lifetime");
	MERGE(w_bytes, "redir.param.w_bytes");
	MERGE(w_cmds, "redir.param.w_cmds");
	MERGE(w_cpu, "redir.param.w_cpu");
	MERGE(w_mem, "redir.param.w_mem");
#undef MERGE
	if (redir_params_validate(out) < 0)
		*out = *ncfg;
}

static int cfg_policy(const struct sa_redir_resource_cfg *c)
{
	return c->fail_policy && strcmp(c->fail_policy, "move") == 0 ? REDIR_FAIL_MOVE : REDIR_FAIL_STAY;
}

static int cfg_admin_of(const struct sa_redir_server_cfg *c)
{
	return redir_admin_parse(c->admin) ? redir_admin_parse(c->admin) : REDIR_ADMIN_UP;
}

static int sync_config(const struct sa_redirect_config *rc, bool initial)
{
	char k[128];

	for (size_t i = 0; i < redir_servers.n; i++)
		SRV(i)->seen = 0;
	for (size_t i = 0; i < rc->nservers; i++) {
		const struct sa_redir_server_cfg *c = &rc->servers[i];
		struct redir_srv *s = redir_srv_by_name(c->name);
		int cadm = cfg_admin_of(c);

		if (s && s->pub.origin != REDIR_ORIGIN_CONFIG) {
			cm_log(CM_LOG_WARNING, TAG, "config server %s: an SNMP-created server has that name; skipped",
			       c->name);
			continue;
		}
		if (!s) {
			const char *ov;

			s = redir_srv_add(redir_idx_for(true, c->name), c->name, c->address, (unsigned)c->port,
			                  (unsigned)c->capacity, cadm, c->tgt_control, REDIR_ORIGIN_CONFIG,
			                  REDIR_ST_READONLY);
			if (!s)
				return -ENOMEM;
			snprintf(k, sizeof(k), "redir.admin.%s", c->name);
			ov = redir_st() ? cm_state_get(redir_st(), k) : NULL;
			if (redir_admin_parse(ov)) {
				s->admin_override = redir_admin_parse(ov);
				s->pub.admin = s->admin_override;
			}
			s->seen = 1;
			if (!initial)
				redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_SERVER, s->pub.index, 0);
			continue;
		}
		s->seen = 1;
		if (strcmp(s->pub.host, c->address) || s->pub.port != c->port) {
			snprintf(s->pub.host, sizeof(s->pub.host), "%s", c->address);
			s->pub.family = redir_host_family(c->address);
			s->pub.port = (uint16_t)c->port;
			s->pub.oper = REDIR_OPER_UNKNOWN;
			s->pub.last_change = time(NULL);
		}
		s->pub.capacity = (uint32_t)c->capacity;
		if (s->pub.tgt_control != c->tgt_control) {
			s->pub.tgt_control = c->tgt_control;
			s->have_prev = 0;
		}
		if (cadm != s->cfg_admin) {
			s->cfg_admin = cadm;
			s->admin_override = 0;
			snprintf(k, sizeof(k), "redir.admin.%s", c->name);
			if (redir_st())
				cm_state_del(redir_st(), k);
		}
		redir_srv_apply_admin(s, s->admin_override ? s->admin_override : s->cfg_admin);
	}
	for (size_t i = 0; i < redir_servers.n;) {
		if (SRV(i)->pub.origin == REDIR_ORIGIN_CONFIG && !SRV(i)->seen) {
			cm_log(CM_LOG_NOTICE, TAG, "server %s left the config", SRV(i)->pub.name);
			redir_srv_remove(SRV(i)->pub.index);
			continue;
		}
		i++;
	}

	for (size_t i = 0; i < redir_resources.n; i++)
		RES(i)->seen = 0;
	for (size_t i = 0; i < rc->nresources; i++) {
		const struct sa_redir_resource_cfg *c = &rc->resources[i];
		struct redir_res *r = redir_res_by_target(c->target);
		struct redir_srv *home = c->server[0] ? redir_srv_by_name(c->server) : NULL;

		if (r && r->pub.origin != REDIR_ORIGIN_CONFIG) {
			cm_log(CM_LOG_WARNING, TAG,
			       "config resource %s: an SNMP-created resource has that target; skipped", c->target);
			continue;
		}
		if (!r) {
			/* Where the last failover or rebalance left it wins over
			 * the config's initial placement. */
			uint32_t server = redir_persisted_map(c->target);

			if (!server && home)
				server = home->pub.index;
			r = redir_res_add(redir_idx_for(false, c->target), c->target, server, c->pinned,
			                  REDIR_ORIGIN_CONFIG, REDIR_ST_READONLY);
			if (!r)
				return -ENOMEM;
			snprintf(r->cfg_server, sizeof(r->cfg_server), "%s", c->server);
			r->pub.fail_policy = cfg_policy(c);
			r->seen = 1;
			if (!initial)
				redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, r->pub.index, 0);
			continue;
		}
		r->seen = 1;
		r->pub.pinned = c->pinned;
		r->pub.fail_policy = cfg_policy(c);
		if (strcmp(r->cfg_server, c->server)) {
			/* The operator changed the placement in the config: honour it. */
			snprintf(r->cfg_server, sizeof(r->cfg_server), "%s", c->server);
			if (home && home->pub.index != r->pub.server) {
				uint32_t old = r->pub.server;

				r->pub.server = home->pub.index;
				r->pub.mapped_since = time(NULL);
				redir_st_save_map(r);
				redir_end_sessions(old, r->pub.target);
				redir_emit(REDIR_EV_RESOURCE_REMAPPED, r->pub.index, old, home->pub.index);
			}
		}
	}
	for (size_t i = 0; i < redir_resources.n;) {
		if (RES(i)->pub.origin == REDIR_ORIGIN_CONFIG && !RES(i)->seen) {
			redir_res_remove(RES(i)->pub.index);
			continue;
		}
		i++;
	}
	redir_recount();
	/* Resources whose server is gone or unknown, then those on servers that cannot take them. */
	for (size_t i = 0; i < redir_resources.n; i++) {
		if (RES(i)->pub.server && !redir_vec_find(&redir_servers, RES(i)->pub.server))
			RES(i)->pub.server = 0;
		if (!RES(i)->pub.server) {
			redir_place(RES(i));
			redir_st_save_map(RES(i));
		}
	}
	redir_recount();
	redir_heal_orphans();
	return 0;
}

static void listen_free(void)
{
	for (size_t i = 0; i < nlisten_cfg; i++)
		free(listen_cfg[i]);
	free(listen_cfg);
	listen_cfg = NULL;
	nlisten_cfg = 0;
}

static int listen_copy(const struct sa_redirect_config *rc)
{
	static char *const def[] = {"127.0.0.1:3260"};
	char *const *src = rc->nlisten ? rc->listen : def;
	size_t n = rc->nlisten ? rc->nlisten : 1;

	listen_free();
	listen_cfg = calloc(n, sizeof(char *));
	if (!listen_cfg)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(listen_cfg[i] = strdup(src[i]))) {
			nlisten_cfg = i;
			listen_free();
			return -ENOMEM;
		}
	}
	nlisten_cfg = n;
	return 0;
}

static bool listen_same(const struct sa_redirect_config *rc)
{
	static const char *const def[] = {"127.0.0.1:3260"};
	size_t n = rc->nlisten ? rc->nlisten : 1;

	if (n != nlisten_cfg)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(rc->nlisten ? rc->listen[i] : def[i], listen_cfg[i]))
			return false;
	return true;
}

static void limits_from_cfg(const struct sa_redirect_config *rc, struct redir_portal_limits *l)
{
	l->max_connections = (unsigned)rc->max_connections;
	l->max_per_source = (unsigned)rc->max_per_source;
	l->header_timeout_ms = (unsigned)rc->header_timeout * 1000u;
	l->login_timeout_ms = (unsigned)rc->login_timeout_ms;
	l->max_data_segment = (size_t)rc->max_data_segment;
}

static void redir_stop(void)
{
	if (!redir_running)
		return;
	redir_running = 0;
	redir_remote_stop();
	redir_etcd_end();
	redir_timers_stop();
	redir_health_stop();
	redir_portal_stop();
	tgtc_stop();
	redir_model_free(true);
	redir_creds_free();
	listen_free();
	redir_loads_reset();
	cm_log(CM_LOG_NOTICE, TAG, "stopped");
}

/* The schema fills defaults only when the section is present; an engine
 * switched on over SNMP without a section gets the same defaults here
 * (probe_interval_ms is never 0 in a parsed section). */
static const struct sa_redirect_config *cfg_or_defaults(const struct sa_redirect_config *cfg)
{
	static struct sa_redirect_config d;

	if (cfg && cfg->probe_interval_ms)
		return cfg;
	memset(&d, 0, sizeof(d));
	d.threshold = 50;
	d.max_moves = 2;
	d.probe_interval_ms = 300;
	d.probe_timeout_ms = 500;
	d.load_interval = 1;
	d.auth_lifetime = 600;
	d.weight_bytes = 1;
	d.max_connections = 256;
	d.max_per_source = 32;
	d.header_timeout = 2;
	d.login_timeout_ms = 5000;
	d.max_data_segment = 65536;
	return &d;
}

static int redir_start(const void *section, char *err, size_t errlen)
{
	const struct sa_redirect_config *rc = cfg_or_defaults(section);
	struct redir_params p;
	int r;

	if (redir_running)
		redir_stop();
	memset(&redir_portal_counters, 0, sizeof(redir_portal_counters));
	params_from_cfg(rc, &cfg_params);
	params_merge(&cfg_params, NULL, &p);
	redir_cur_params = p;
	redir_idx_load();
	redir_creds_load();
	redir_load_persisted_servers();
	redir_load_persisted_resources();
	if ((r = sync_config(rc, true)) < 0 || (r = listen_copy(rc)) < 0) {
		snprintf(err, errlen, "out of memory");
		redir_model_free(false);
		return r;
	}
	for (size_t i = 0; i < redir_resources.n; i++) {
		uint32_t m = redir_persisted_map(RES(i)->pub.target);

		if (m && RES(i)->pub.origin == REDIR_ORIGIN_SNMP)
			RES(i)->pub.server = m;
		else if (!RES(i)->pub.server)
			redir_place(RES(i));
	}
	redir_recount();
	limits_from_cfg(rc, &portal_lim);
	r = redir_portal_start(listen_cfg, nlisten_cfg, &portal_lim, err, errlen);
	if (r < 0) {
		redir_model_free(false);
		listen_free();
		return r;
	}
	if (rc->etcd.present && (r = redir_etcd_begin(rc, nlisten_cfg ? listen_cfg[0] : NULL, err, errlen)) < 0) {
		redir_portal_stop();
		redir_model_free(false);
		listen_free();
		return r;
	}
	redir_running = 1;
	for (size_t i = 0; i < redir_servers.n; i++)
		redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_SERVER, SRV(i)->pub.index, 0);
	for (size_t i = 0; i < redir_resources.n; i++)
		redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, RES(i)->pub.index, 0);
	/* A member of an etcd cluster waits for the lease before it probes. */
	if (!REDIR_PASSIVE()) {
		redir_health_start(redir_cur_params.probe_interval_ms, redir_cur_params.probe_timeout_ms);
		redir_timers_start();
	}
	redir_remote_start(rc);
	if (redir_st())
		redir_st_commit();
	cm_log(CM_LOG_NOTICE, TAG, "started: %zu servers, %zu resources, portal on %s%s", redir_servers.n,
	       redir_resources.n, listen_cfg[0], nlisten_cfg > 1 ? " and more" : "");
	return 0;
}

static int redir_reload(const void *section, char *err, size_t errlen)
{
	const struct sa_redirect_config *rc = cfg_or_defaults(section);
	struct redir_params ncfg, p;
	int r;

	if (!redir_running)
		return redir_start(section, err, errlen);
	if (!listen_same(rc)) {
		redir_portal_stop();
		if ((r = listen_copy(rc)) < 0)
			return r;
		limits_from_cfg(rc, &portal_lim);
		if ((r = redir_portal_start(listen_cfg, nlisten_cfg, &portal_lim, err, errlen)) < 0)
			return r;
	} else {
		limits_from_cfg(rc, &portal_lim);
		redir_portal_set_limits(&portal_lim);
	}
	params_from_cfg(rc, &ncfg);
	params_merge(&ncfg, &cfg_params, &p);
	cfg_params = ncfg;
	redir_params_apply(&p);
	if ((r = sync_config(rc, false)) < 0) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	if (redir_etcd_config_changed(rc)) {
		bool was = redir_etcd_mode;

		redir_etcd_end();
		if (rc->etcd.present) {
			if (!was) {
				redir_timers_stop();
				redir_health_stop();
			}
			if ((r = redir_etcd_begin(rc, nlisten_cfg ? listen_cfg[0] : NULL, err, errlen)) < 0)
				return r;
		} else if (was) {
			redir_health_start(redir_cur_params.probe_interval_ms, redir_cur_params.probe_timeout_ms);
			redir_timers_start();
		}
	}
	redir_remote_start(rc);
	if (redir_st())
		redir_st_commit();
	cm_log(CM_LOG_NOTICE, TAG, "reloaded: %zu servers, %zu resources", redir_servers.n, redir_resources.n);
	return 0;
}

const struct sa_engine_ops redir_engine_ops = {
    .start = redir_start,
    .reload = redir_reload,
    .stop = redir_stop,
};
