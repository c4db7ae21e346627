/* verbs.c: the redirect engine's verbs and their validate functions (servers, resources, parameters). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/redirect/model.h"
#include "common/log.h"
#include "common/state.h"

#define TAG "redirect"

/* ---- verbs: servers ------------------------------------------------------------ */

int redir_server_validate(uint32_t index, const struct redir_server_spec *spec)
{
	if (!index || !spec)
		return -EINVAL;
	if (redir_vec_find(&redir_servers, index))
		return -EEXIST;
	if (!spec->name[0] || !memchr(spec->name, '\0', sizeof(spec->name)))
		return -EINVAL;
	if (redir_srv_by_name(spec->name))
		return -EEXIST;
	if (!memchr(spec->host, '\0', sizeof(spec->host)) || !redir_host_family(spec->host))
		return -EINVAL;
	if (!spec->port)
		return -EINVAL;
	if (spec->capacity < 1 || spec->capacity > 1000000)
		return -ERANGE;
	if (spec->admin < REDIR_ADMIN_UP || spec->admin > REDIR_ADMIN_SPARE)
		return -EINVAL;
	if (spec->storage != REDIR_ST_VOLATILE && spec->storage != REDIR_ST_NONVOLATILE)
		return -EINVAL;
	if (spec->tgt_control < -1 || spec->tgt_control > 65535)
		return -ERANGE;
	return 0;
}

int redir_server_create(uint32_t index, const struct redir_server_spec *spec)
{
	struct redir_srv *s;
	int rc = redir_server_validate(index, spec);

	if (rc < 0)
		return rc;
	s = redir_srv_add(index, spec->name, spec->host, spec->port, spec->capacity, spec->admin, spec->tgt_control,
	                  REDIR_ORIGIN_SNMP, spec->storage);
	if (!s)
		return -ENOMEM;
	if (spec->storage == REDIR_ST_NONVOLATILE) {
		if (!redir_st()) {
			redir_vec_remove_pos(&redir_servers, redir_vec_pos(&redir_servers, index));
			return -EIO;
		}
		redir_st_save_server(s);
		if ((rc = redir_st_commit()) < 0) {
			char pfx[48];

			snprintf(pfx, sizeof(pfx), "redir.server.%u.", index);
			redir_st_del_prefix(pfx);
			redir_vec_remove_pos(&redir_servers, redir_vec_pos(&redir_servers, index));
			return rc;
		}
	}
	redir_idx_commit();
	cm_log(CM_LOG_INFO, TAG, "server %s (%s:%u) created over SNMP", spec->name, spec->host, spec->port);
	redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_SERVER, index, 0);
	/* A new server may take resources that had nowhere to go. */
	redir_heal_orphans();
	for (size_t i = 0; i < redir_resources.n; i++)
		if (!RES(i)->pub.server)
			redir_place(RES(i));
	return 0;
}

void redir_srv_remove(uint32_t index)
{
	size_t p = redir_vec_pos(&redir_servers, index);
	struct redir_srv *s;

	if (p >= redir_servers.n || SRV(p)->pub.index != index)
		return;
	s = SRV(p);
	/* Its resources go elsewhere first; those that cannot become unmapped. */
	if (redir_srv_rb_state(s) == REDIR_SRV_UP) {
		s->pub.admin = REDIR_ADMIN_DOWN;
	}
	redir_failover_server(index, REDIR_TRIG_FAILOVER);
	for (size_t i = 0; i < redir_resources.n; i++) {
		if (RES(i)->pub.server == index) {
			RES(i)->pub.server = 0;
			redir_st_save_map(RES(i));
		}
	}
	p = redir_vec_pos(&redir_servers, index);
	free(SRV(p)->prev);
	redir_vec_remove_pos(&redir_servers, p);
	redir_recount();
	redir_emit(REDIR_EV_ROW_REMOVED, REDIR_T_SERVER, index, 0);
}

int redir_server_validate_destroy(uint32_t index)
{
	struct redir_srv *s = redir_vec_find(&redir_servers, index);

	if (!s)
		return -ENOENT;
	/* Config rows come and go with the config file only. */
	if (s->pub.origin == REDIR_ORIGIN_CONFIG || s->pub.storage == REDIR_ST_READONLY)
		return -EPERM;
	return 0;
}

int redir_server_destroy(uint32_t index)
{
	struct redir_srv *s = redir_vec_find(&redir_servers, index);
	char pfx[48];
	int rc = redir_server_validate_destroy(index);

	if (rc < 0)
		return rc;
	if (s->pub.storage == REDIR_ST_NONVOLATILE && redir_st()) {
		snprintf(pfx, sizeof(pfx), "redir.server.%u.", index);
		redir_st_del_prefix(pfx);
	}
	redir_srv_remove(index);
	if (redir_st())
		redir_st_commit();
	return 0;
}

int redir_server_validate_admin(uint32_t index, int admin)
{
	if (!redir_vec_find(&redir_servers, index))
		return -ENOENT;
	if (admin < REDIR_ADMIN_UP || admin > REDIR_ADMIN_SPARE)
		return -EINVAL;
	/* A follower takes it too: it goes to the leader through etcd. */
	return 0;
}

void redir_srv_apply_admin(struct redir_srv *s, int admin)
{
	uint32_t index = s->pub.index;

	if (s->pub.admin == admin)
		return;
	cm_log(CM_LOG_NOTICE, TAG, "server %s: admin %s -> %s", s->pub.name, redir_admin_name(s->pub.admin),
	       redir_admin_name(admin));
	s->pub.admin = admin;
	s->pub.last_change = time(NULL);
	/* A server made a spare hands its resources on, as for a drain. */
	if (admin == REDIR_ADMIN_SPARE)
		redir_failover_server(index, REDIR_TRIG_DRAIN);
	else if (admin != REDIR_ADMIN_UP)
		redir_failover_server(index, admin == REDIR_ADMIN_DRAIN ? REDIR_TRIG_DRAIN : REDIR_TRIG_FAILOVER);
	else
		redir_heal_orphans();
}

/* Admin is the one column SNMP may change on a config row too: draining a
 * server for maintenance must not need a config edit.  The override lasts
 * until the config's own admin value for that server changes. */

int redir_server_set_admin(uint32_t index, int admin)
{
	struct redir_srv *s;
	int rc = redir_server_validate_admin(index, admin);

	if (rc < 0)
		return rc;
	s = redir_vec_find(&redir_servers, index);
	if ((rc = redir_admin_store(s, admin)) < 0)
		return rc;
	/* With etcd every redirector, the leader first, applies it from the
	 * watch; applying it here too shows it at once (a follower does not
	 * remap: the leader does, and shares the new mapping). */
	if (redir_etcd_mode)
		redir_etcd_put_admin(s->pub.name, redir_admin_name(admin));
	redir_srv_apply_admin(s, admin);
	return 0;
}

int redir_server_validate_capacity(uint32_t index, uint32_t capacity)
{
	struct redir_srv *s = redir_vec_find(&redir_servers, index);

	if (!s)
		return -ENOENT;
	if (s->pub.origin == REDIR_ORIGIN_CONFIG)
		return -EPERM;
	if (capacity < 1 || capacity > 1000000)
		return -ERANGE;
	return 0;
}

int redir_server_set_capacity(uint32_t index, uint32_t capacity)
{
	struct redir_srv *s;
	char k[96];
	int rc = redir_server_validate_capacity(index, capacity);

	if (rc < 0)
		return rc;
	s = redir_vec_find(&redir_servers, index);
	if (s->pub.storage == REDIR_ST_NONVOLATILE) {
		if (!redir_st())
			return -EIO;
		snprintf(k, sizeof(k), "redir.server.%u.capacity", index);
		redir_st_setf(k, "%u", capacity);
		if ((rc = redir_st_commit()) < 0) {
			redir_st_setf(k, "%u", s->pub.capacity);
			return rc;
		}
	}
	s->pub.capacity = capacity;
	return 0;
}

/* ---- verbs: resources ------------------------------------------------------------ */

int redir_resource_validate(uint32_t index, const struct redir_resource_spec *spec)
{
	return redir_resource_validate_in(index, spec, NULL);
}

int redir_resource_validate_in(uint32_t index, const struct redir_resource_spec *spec,
                               const struct redir_txn_view *view)
{
	if (!index || !spec)
		return -EINVAL;
	if (redir_vec_find(&redir_resources, index))
		return -EEXIST;
	if (!redir_name_ok(spec->target, sizeof(spec->target)))
		return -EINVAL;
	if (redir_res_by_target(spec->target))
		return -EEXIST;
	if (spec->server && !redir_vec_find(&redir_servers, spec->server) &&
	    !(view && view->server_created(spec->server, view->arg)))
		return -ENOENT;
	if (spec->pinned != 0 && spec->pinned != 1)
		return -EINVAL;
	if (spec->fail_policy && spec->fail_policy != REDIR_FAIL_STAY && spec->fail_policy != REDIR_FAIL_MOVE)
		return -EINVAL;
	if (spec->storage != REDIR_ST_VOLATILE && spec->storage != REDIR_ST_NONVOLATILE)
		return -EINVAL;
	return 0;
}

int redir_resource_create(uint32_t index, const struct redir_resource_spec *spec)
{
	struct redir_res *r;
	int rc = redir_resource_validate(index, spec);

	if (rc < 0)
		return rc;
	if (spec->storage == REDIR_ST_NONVOLATILE && !redir_st())
		return -EIO;
	r = redir_res_add(index, spec->target, spec->server, spec->pinned, REDIR_ORIGIN_SNMP, spec->storage);
	if (!r)
		return -ENOMEM;
	if (spec->fail_policy)
		r->pub.fail_policy = spec->fail_policy;
	if (!r->pub.server)
		redir_place(r);
	redir_recount();
	if (spec->storage == REDIR_ST_NONVOLATILE) {
		redir_st_save_resource(r);
		redir_st_save_map(r);
		if ((rc = redir_st_commit()) < 0) {
			char pfx[48], k[REDIR_NAME_MAX + 16];

			snprintf(pfx, sizeof(pfx), "redir.resource.%u.", index);
			redir_st_del_prefix(pfx);
			snprintf(k, sizeof(k), "redir.map.%s", spec->target);
			cm_state_del(redir_st(), k);
			redir_vec_remove_pos(&redir_resources, redir_vec_pos(&redir_resources, index));
			redir_res_hash_rebuild();
			redir_recount();
			return rc;
		}
	}
	redir_idx_commit();
	redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, index, 0);
	return 0;
}

void redir_res_remove(uint32_t index)
{
	size_t p = redir_vec_pos(&redir_resources, index);
	char k[REDIR_NAME_MAX + 16];

	if (p >= redir_resources.n || RES(p)->pub.index != index)
		return;
	if (redir_st()) {
		snprintf(k, sizeof(k), "redir.map.%s", RES(p)->pub.target);
		cm_state_del(redir_st(), k);
	}
	if (redir_etcd_mode && redir_etcd_is_leader()) {
		redir_etcd_put_map(RES(p)->pub.target, NULL);
		redir_etcd_put_load(RES(p)->pub.target, NULL);
	}
	redir_vec_remove_pos(&redir_resources, p);
	redir_res_hash_rebuild();
	redir_emit(REDIR_EV_ROW_REMOVED, REDIR_T_RESOURCE, index, 0);
}

int redir_resource_validate_destroy(uint32_t index)
{
	struct redir_res *r = redir_vec_find(&redir_resources, index);

	if (!r)
		return -ENOENT;
	if (r->pub.origin == REDIR_ORIGIN_CONFIG || r->pub.storage == REDIR_ST_READONLY)
		return -EPERM;
	return 0;
}

int redir_resource_destroy(uint32_t index)
{
	struct redir_res *r = redir_vec_find(&redir_resources, index);
	char pfx[48];
	int rc = redir_resource_validate_destroy(index);

	if (rc < 0)
		return rc;
	if (redir_st()) {
		char k[REDIR_NAME_MAX + 16];

		snprintf(pfx, sizeof(pfx), "redir.resource.%u.", index);
		redir_st_del_prefix(pfx);
		/* The target's remembered mapping goes with the row. */
		snprintf(k, sizeof(k), "redir.map.%s", r->pub.target);
		cm_state_del(redir_st(), k);
	}
	redir_res_remove(index);
	redir_recount();
	if (redir_st())
		redir_st_commit();
	return 0;
}

int redir_resource_validate_move(uint32_t index, uint32_t server)
{
	struct redir_res *r = redir_vec_find(&redir_resources, index);
	struct redir_srv *s = redir_vec_find(&redir_servers, server);

	if (!r || !s)
		return -ENOENT;
	if (r->pub.server == server)
		return 0;
	if (REDIR_PASSIVE())
		return -EAGAIN; /* a follower's mapping comes from the leader */
	if (redir_srv_rb_state(s) != REDIR_SRV_UP)
		return -EBUSY;
	return 0;
}

int redir_resource_move(uint32_t index, uint32_t server)
{
	struct redir_res *r;
	uint32_t old;
	int rc = redir_resource_validate_move(index, server);

	if (rc < 0)
		return rc;
	r = redir_vec_find(&redir_resources, index);
	old = r->pub.server;
	if (old == server)
		return 0;
	r->pub.server = server;
	r->pub.mapped_since = time(NULL);
	if (redir_st()) {
		redir_st_save_map(r);
		redir_st_commit();
	}
	redir_recount();
	redir_end_sessions(old, r->pub.target);
	cm_log(CM_LOG_INFO, TAG, "manual: %s moved from server %u to %u", r->pub.target, old, server);
	redir_emit(REDIR_EV_RESOURCE_REMAPPED, index, old, server);
	return 0;
}

int redir_resource_set_load(uint32_t index, uint64_t load)
{
	struct redir_res *r = redir_vec_find(&redir_resources, index);

	if (!r)
		return -ENOENT;
	r->pub.load = load;
	r->pub.load_set = 1;
	redir_recount();
	redir_etcd_publish_loads();
	return 0;
}

int redir_resource_set_pinned(uint32_t index, int pinned)
{
	struct redir_res *r = redir_vec_find(&redir_resources, index);
	char k[96];

	if (!r)
		return -ENOENT;
	if (pinned != 0 && pinned != 1)
		return -EINVAL;
	if (r->pub.origin == REDIR_ORIGIN_SNMP && r->pub.storage == REDIR_ST_NONVOLATILE && redir_st()) {
		int rc;

		snprintf(k, sizeof(k), "redir.resource.%u.pinned", index);
		cm_state_set(redir_st(), k, pinned ? "1" : "0");
		if ((rc = redir_st_commit()) < 0) {
			cm_state_set(redir_st(), k, r->pub.pinned ? "1" : "0");
			return rc;
		}
	}
	r->pub.pinned = pinned;
	return 0;
}

/* ---- verbs: parameters ------------------------------------------------------------ */

int redir_params_validate(const struct redir_params *p)
{
	if (!p)
		return -EINVAL;
	if (p->threshold_pct < 1 || p->threshold_pct > 1000 || p->interval_s > 86400 || p->max_moves > 1000000 ||
	    p->probe_interval_ms < 50 || p->probe_interval_ms > 600000 || p->probe_timeout_ms < 50 ||
	    p->probe_timeout_ms > 600000 || p->load_interval_s < 1 || p->load_interval_s > 3600)
		return -ERANGE;
	if (p->permanent != 0 && p->permanent != 1)
		return -EINVAL;
	if (p->auth != REDIR_AUTH_NONE && p->auth != REDIR_AUTH_CHAP)
		return -EINVAL;
	if (p->auth_lifetime_s > 86400)
		return -ERANGE;
	if (p->w_bytes > REDIR_WEIGHT_MAX || p->w_cmds > REDIR_WEIGHT_MAX || p->w_cpu > REDIR_WEIGHT_MAX ||
	    p->w_mem > REDIR_WEIGHT_MAX)
		return -ERANGE;
	return 0;
}

void redir_params_apply(const struct redir_params *p)
{
	bool probes = p->probe_interval_ms != redir_cur_params.probe_interval_ms ||
	              p->probe_timeout_ms != redir_cur_params.probe_timeout_ms;
	bool weights = p->w_bytes != redir_cur_params.w_bytes || p->w_cmds != redir_cur_params.w_cmds ||
	               p->w_cpu != redir_cur_params.w_cpu || p->w_mem != redir_cur_params.w_mem;
	bool timers =
	    p->interval_s != redir_cur_params.interval_s || p->load_interval_s != redir_cur_params.load_interval_s;

	if (p->auth != redir_cur_params.auth || p->auth_lifetime_s != redir_cur_params.auth_lifetime_s)
		redir_portal_auth_forget();
	redir_cur_params = *p;
	if (weights)
		redir_reweigh();
	if (!redir_running || REDIR_PASSIVE())
		return;
	if (timers)
		redir_timers_start();
	if (probes) {
		redir_health_stop();
		redir_health_start(redir_cur_params.probe_interval_ms, redir_cur_params.probe_timeout_ms);
	}
}

/* SNMP-set parameters persist and win over the config until the config's
 * own value for that parameter changes. */
int redir_params_set(const struct redir_params *p)
{
	int rc = redir_params_validate(p);

	if (rc < 0)
		return rc;
	if (redir_st()) {
		redir_params_save(p);
		if ((rc = redir_st_commit()) < 0) {
			redir_params_save(&redir_cur_params);
			return rc;
		}
	}
	redir_params_apply(p);
	return 0;
}

int redir_resource_validate_fail_policy(uint32_t index, int policy)
{
	if (!redir_vec_find(&redir_resources, index))
		return -ENOENT;
	if (policy != REDIR_FAIL_STAY && policy != REDIR_FAIL_MOVE)
		return -EINVAL;
	return 0;
}

/* Like the pin, the policy is an operational column: a config row takes it
 * too, and keeps it until the config is reloaded. */
int redir_resource_set_fail_policy(uint32_t index, int policy)
{
	struct redir_res *r = redir_vec_find(&redir_resources, index);
	struct redir_srv *s;
	char k[96];
	int rc = redir_resource_validate_fail_policy(index, policy);

	if (rc < 0)
		return rc;
	if (r->pub.origin == REDIR_ORIGIN_SNMP && r->pub.storage == REDIR_ST_NONVOLATILE && redir_st()) {
		snprintf(k, sizeof(k), "redir.resource.%u.policy", index);
		redir_st_setf(k, "%d", policy);
		if ((rc = redir_st_commit()) < 0) {
			redir_st_setf(k, "%d", r->pub.fail_policy);
			return rc;
		}
	}
	r->pub.fail_policy = policy;
	/* Stranded on a failed server and now allowed to move: move it now. */
	s = redir_vec_find(&redir_servers, r->pub.server);
	if (policy == REDIR_FAIL_MOVE && r->pub.pinned && s && redir_srv_rb_state(s) == REDIR_SRV_DOWN)
		redir_failover_server(s->pub.index, REDIR_TRIG_FAILOVER);
	return 0;
}
