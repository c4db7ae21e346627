/* etcd_sync.c: the redirect model's side of etcd: the mapping, server states, loads and admin states shared by
 * redirectors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engines/redirect/model.h"
#include "common/log.h"

#define TAG "redirect"

int redir_etcd_mode;

/* ---- etcd: the mapping and server states shared by redirectors ------------------ */

static char etcd_sig[1024]; /* the etcd config in use, to notice a change on reload */

static const char *oper_name(int o)
{
	return o == REDIR_OPER_UP ? "up" : o == REDIR_OPER_DOWN ? "down" : "unknown";
}

int redir_role(void)
{
	if (!redir_etcd_mode)
		return REDIR_ROLE_STANDALONE;
	return redir_etcd_is_leader() ? REDIR_ROLE_LEADER : REDIR_ROLE_FOLLOWER;
}

static void etcd_role(int leader)
{
	if (!redir_running)
		return;
	if (leader) {
		/* The model already holds what the previous leader wrote (we
		 * followed it); write it back whole, then take over the work. */
		for (size_t i = 0; i < redir_servers.n; i++)
			redir_etcd_put_server(SRV(i)->pub.name, oper_name(SRV(i)->pub.oper));
		for (size_t i = 0; i < redir_resources.n; i++) {
			const struct redir_server *s = redir_server_find(RES(i)->pub.server);

			if (s)
				redir_etcd_put_map(RES(i)->pub.target, s->name);
		}
		for (size_t i = 0; i < redir_resources.n; i++)
			RES(i)->shared_load_ok = 0;
		redir_etcd_publish_loads();
		redir_heal_orphans();
		redir_health_start(redir_cur_params.probe_interval_ms, redir_cur_params.probe_timeout_ms);
		redir_timers_start();
	} else {
		redir_timers_stop();
		redir_health_stop();
	}
}

/* A follower takes the leader's mapping as is: counts move incrementally
 * so reading a large map at start stays linear. */
static void etcd_map(const char *target, const char *server)
{
	struct redir_res *r;
	struct redir_srv *to, *from;

	if (!redir_running || !server || redir_etcd_is_leader())
		return;
	r = redir_res_by_target(target);
	to = redir_srv_by_name(server);
	if (!to)
		return;
	if (!r) {
		/* A target the leader learnt from a server's agent before this
		 * follower did: served from the leader's placement at once. */
		if (!redir_name_ok(target, REDIR_NAME_MAX) ||
		    !(r = redir_res_add(redir_idx_for(false, target), target, to->pub.index, 0, REDIR_ORIGIN_DISCOVERED,
		                        REDIR_ST_VOLATILE)))
			return;
		redir_idx_commit();
		r->agent_seen = time(NULL);
		to->pub.nresources++;
		redir_st_save_map(r);
		cm_log(CM_LOG_INFO, TAG, "shared mapping: new resource %s -> %s", target, server);
		redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, r->pub.index, 0);
		return;
	}
	if (r->pub.server == to->pub.index)
		return;
	from = redir_vec_find(&redir_servers, r->pub.server);
	if (from) {
		from->pub.nresources--;
		from->pub.load -= r->pub.load <= from->pub.load ? r->pub.load : from->pub.load;
	}
	to->pub.nresources++;
	to->pub.load += r->pub.load;
	r->pub.server = to->pub.index;
	r->pub.mapped_since = time(NULL);
	redir_st_save_map(r);
	cm_log(CM_LOG_INFO, TAG, "shared mapping: %s -> %s", target, server);
}

static void etcd_server(const char *name, const char *state)
{
	struct redir_srv *s;
	int oper;

	if (!redir_running || !state || redir_etcd_is_leader() || !(s = redir_srv_by_name(name)))
		return;
	oper = strcmp(state, "up") == 0     ? REDIR_OPER_UP
	       : strcmp(state, "down") == 0 ? REDIR_OPER_DOWN
	                                    : REDIR_OPER_UNKNOWN;
	if (s->pub.oper == oper)
		return;
	s->pub.oper = oper;
	s->pub.last_change = time(NULL);
	cm_log(CM_LOG_INFO, TAG, "shared state: server %s is %s", name, state);
}

/* A follower shows the leader's loads; the leader is their source. */
static void etcd_load(const char *target, const char *value)
{
	struct redir_res *r;
	struct redir_srv *s;
	char *end;
	unsigned long long v;

	if (!redir_running || !value || redir_etcd_is_leader() || !(r = redir_res_by_target(target)))
		return;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || end == value || *end)
		return;
	if ((s = redir_vec_find(&redir_servers, r->pub.server)))
		s->pub.load = s->pub.load - (r->pub.load <= s->pub.load ? r->pub.load : s->pub.load) + v;
	r->pub.load = v;
}

/* The leader writes the loads that changed since it last wrote them. */
void redir_etcd_publish_loads(void)
{
	char v[24];

	if (!redir_etcd_mode || !redir_etcd_is_leader())
		return;
	for (size_t i = 0; i < redir_resources.n; i++) {
		struct redir_res *r = RES(i);

		if (r->shared_load_ok && r->shared_load == r->pub.load)
			continue;
		snprintf(v, sizeof(v), "%llu", (unsigned long long)r->pub.load);
		redir_etcd_put_load(r->pub.target, v);
		r->shared_load = r->pub.load;
		r->shared_load_ok = 1;
	}
}

/* Any redirector may have taken the SET; every one applies it, and only
 * the leader remaps (redir_failover_server does nothing on a follower). */
static void etcd_admin(const char *name, const char *state)
{
	struct redir_srv *s;
	int admin = redir_admin_parse(state);

	if (!redir_running || !admin || !(s = redir_srv_by_name(name)) || s->pub.admin == admin)
		return;
	if (redir_admin_store(s, admin) < 0)
		cm_log(CM_LOG_WARNING, TAG, "server %s: cannot keep the shared admin state %s in the state file", name,
		       state);
	cm_log(CM_LOG_INFO, TAG, "shared admin state: server %s is %s", name, state);
	redir_srv_apply_admin(s, admin);
}

static void etcd_signature(const struct sa_redirect_config *rc, char *out, size_t len)
{
	size_t off;

	out[0] = '\0';
	if (!rc->etcd.present)
		return;
	off = (size_t)snprintf(out, len, "%s|%d", rc->etcd.cluster ? rc->etcd.cluster : "", rc->etcd.lease_ttl);
	for (size_t i = 0; i < rc->etcd.nendpoints && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "|%s", rc->etcd.endpoints[i]);
}

bool redir_etcd_config_changed(const struct sa_redirect_config *rc)
{
	char sig[sizeof(etcd_sig)];

	etcd_signature(rc, sig, sizeof(sig));
	return strcmp(sig, etcd_sig) != 0;
}

int redir_etcd_begin(const struct sa_redirect_config *rc, const char *listen, char *err, size_t errlen)
{
	static const struct redir_etcd_cbs cbs = {
	    .role = etcd_role, .map = etcd_map, .server = etcd_server, .load = etcd_load, .admin = etcd_admin};
	char self[320], host[128] = "";
	int r;

	gethostname(host, sizeof(host) - 1);
	snprintf(self, sizeof(self), "%s/%s", host, listen ? listen : "?");
	redir_etcd_mode = 1;
	if ((r = redir_etcd_start(&rc->etcd, self, &cbs, err, errlen)) < 0) {
		redir_etcd_mode = 0;
		return r;
	}
	etcd_signature(rc, etcd_sig, sizeof(etcd_sig));
	return 0;
}

void redir_etcd_end(void)
{
	redir_etcd_stop();
	redir_etcd_mode = 0;
	etcd_sig[0] = '\0';
}
