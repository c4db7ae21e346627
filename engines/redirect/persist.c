/* persist.c: the redirect engine's rows, mapping, admin overrides, parameters and stable indexes in the state file. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/redirect/model.h"
#include "common/array.h"
#include "common/log.h"
#include "common/state.h"

#define TAG "redirect"

/* ---- persistence -------------------------------------------------------- */

struct cm_state *redir_st(void)
{
	return sa_engines_state();
}

void redir_st_setf(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void redir_st_setf(const char *key, const char *fmt, ...)
{
	char val[512];
	va_list ap;

	if (!redir_st())
		return;
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	cm_state_set(redir_st(), key, val);
}

int redir_st_commit(void)
{
	int rc;

	if (!redir_st())
		return -EIO;
	rc = cm_state_commit(redir_st());
	if (rc < 0)
		cm_log(CM_LOG_ERR, TAG, "cannot write the state file: %s", strerror(-rc));
	return rc;
}

/* ---- indexes that outlive restarts ------------------------------------------
 * Config rows (and targets learnt from the servers' agents) keep their index
 * by name across restarts, and no index is handed out twice: the highest one
 * ever given is persisted, so a manager that still holds an index from before
 * a restart never reaches a different row with it. */
static uint32_t hw_srv, hw_res;
static bool idx_dirty; /* a mark or a name's index changed since the last commit */

static void idx_key(char *k, size_t len, bool server, const char *name)
{
	snprintf(k, len, "redir.idx.%s.%s", server ? "server" : "resource", name);
}

/* A row got index; name: the key it keeps it by (NULL for SNMP rows). */
void redir_idx_note(bool server, uint32_t index, const char *name)
{
	char k[REDIR_NAME_MAX + 32], v[16];
	uint32_t *hw = server ? &hw_srv : &hw_res;
	const char *old;

	if (!redir_st())
		return;
	if (index > *hw) {
		*hw = index;
		redir_st_setf(server ? "redir.hw.server" : "redir.hw.resource", "%u", index);
		idx_dirty = true;
	}
	if (!name)
		return;
	idx_key(k, sizeof(k), server, name);
	snprintf(v, sizeof(v), "%u", index);
	old = cm_state_get(redir_st(), k);
	if (!old || strcmp(old, v)) {
		cm_state_set(redir_st(), k, v);
		idx_dirty = true;
	}
}

static uint32_t idx_parse(const char *v)
{
	char *end;
	unsigned long n = v ? strtoul(v, &end, 10) : 0;

	return v && *v && !*end && n <= UINT32_MAX ? (uint32_t)n : 0;
}

/* The index a named row had before, if it is free; else a new one. */
uint32_t redir_idx_for(bool server, const char *name)
{
	char k[REDIR_NAME_MAX + 32];
	uint32_t n;

	if (redir_st()) {
		idx_key(k, sizeof(k), server, name);
		n = idx_parse(cm_state_get(redir_st(), k));
		if (n && !redir_vec_find(server ? &redir_servers : &redir_resources, n))
			return n;
	}
	return server ? redir_server_next_index() : redir_resource_next_index();
}

/* At start: new indexes go above every one handed out before. */
void redir_idx_load(void)
{
	if (!redir_st())
		return;
	hw_srv = idx_parse(cm_state_get(redir_st(), "redir.hw.server"));
	hw_res = idx_parse(cm_state_get(redir_st(), "redir.hw.resource"));
	if (hw_srv >= redir_next_srv)
		redir_next_srv = hw_srv + 1;
	if (hw_res >= redir_next_res)
		redir_next_res = hw_res + 1;
}

/* Rows that are not persisted themselves still move the mark. */
void redir_idx_commit(void)
{
	if (idx_dirty && redir_st_commit() == 0)
		idx_dirty = false;
}

const char *redir_admin_name(int a)
{
	return a == REDIR_ADMIN_DRAIN   ? "drain"
	       : a == REDIR_ADMIN_DOWN  ? "down"
	       : a == REDIR_ADMIN_SPARE ? "spare"
	                                : "up";
}

int redir_admin_parse(const char *s)
{
	if (!s)
		return 0;
	if (strcmp(s, "up") == 0)
		return REDIR_ADMIN_UP;
	if (strcmp(s, "drain") == 0)
		return REDIR_ADMIN_DRAIN;
	if (strcmp(s, "down") == 0)
		return REDIR_ADMIN_DOWN;
	if (strcmp(s, "spare") == 0)
		return REDIR_ADMIN_SPARE;
	return 0;
}

void redir_st_save_server(const struct redir_srv *s)
{
	char k[96];

	snprintf(k, sizeof(k), "redir.server.%u.name", s->pub.index);
	cm_state_set(redir_st(), k, s->pub.name);
	snprintf(k, sizeof(k), "redir.server.%u.host", s->pub.index);
	cm_state_set(redir_st(), k, s->pub.host);
	snprintf(k, sizeof(k), "redir.server.%u.port", s->pub.index);
	redir_st_setf(k, "%u", s->pub.port);
	snprintf(k, sizeof(k), "redir.server.%u.capacity", s->pub.index);
	redir_st_setf(k, "%u", s->pub.capacity);
	snprintf(k, sizeof(k), "redir.server.%u.admin", s->pub.index);
	cm_state_set(redir_st(), k, redir_admin_name(s->pub.admin));
	snprintf(k, sizeof(k), "redir.server.%u.tgt", s->pub.index);
	redir_st_setf(k, "%d", s->pub.tgt_control);
}

void redir_st_save_resource(const struct redir_res *r)
{
	char k[96];

	snprintf(k, sizeof(k), "redir.resource.%u.target", r->pub.index);
	cm_state_set(redir_st(), k, r->pub.target);
	snprintf(k, sizeof(k), "redir.resource.%u.pinned", r->pub.index);
	cm_state_set(redir_st(), k, r->pub.pinned ? "1" : "0");
	snprintf(k, sizeof(k), "redir.resource.%u.policy", r->pub.index);
	redir_st_setf(k, "%d", r->pub.fail_policy);
}

/* The mapping of every resource, so a restart serves logins from where the
 * last failover or rebalance put them (the embedded single-redirector store). */
void redir_st_save_map(const struct redir_res *r)
{
	const struct redir_server *s = redir_server_find(r->pub.server);
	char k[REDIR_NAME_MAX + 16];

	if (redir_etcd_mode && s)
		redir_etcd_put_map(r->pub.target, s->name);
	if (!redir_st())
		return;
	snprintf(k, sizeof(k), "redir.map.%s", r->pub.target);
	if (s)
		cm_state_set(redir_st(), k, s->name);
	else
		cm_state_del(redir_st(), k);
}

struct del_ctx {
	char **keys;
	size_t n, cap;
};

static void collect_key(const char *key, const char *value, void *arg)
{
	struct del_ctx *d = arg;

	(void)value;
	if (cm_grow(&d->keys, &d->cap, d->n, sizeof(*d->keys), 16) < 0)
		return;
	if ((d->keys[d->n] = strdup(key)))
		d->n++;
}

void redir_st_del_prefix(const char *prefix)
{
	struct del_ctx d = {0};

	if (!redir_st())
		return;
	cm_state_foreach(redir_st(), prefix, collect_key, &d);
	for (size_t i = 0; i < d.n; i++) {
		cm_state_del(redir_st(), d.keys[i]);
		free(d.keys[i]);
	}
	free(d.keys);
}

/* Persists an admin state: an override of a config row's, or a SET row's own. */
int redir_admin_store(struct redir_srv *s, int admin)
{
	uint32_t index = s->pub.index;
	char k[128];
	int rc;

	if (s->pub.origin == REDIR_ORIGIN_CONFIG) {
		if (redir_st()) {
			snprintf(k, sizeof(k), "redir.admin.%s", s->pub.name);
			cm_state_set(redir_st(), k, redir_admin_name(admin));
			if ((rc = redir_st_commit()) < 0) {
				cm_state_del(redir_st(), k);
				return rc;
			}
		}
		s->admin_override = admin;
	} else if (s->pub.storage == REDIR_ST_NONVOLATILE) {
		if (!redir_st())
			return -EIO;
		snprintf(k, sizeof(k), "redir.server.%u.admin", index);
		cm_state_set(redir_st(), k, redir_admin_name(admin));
		if ((rc = redir_st_commit()) < 0) {
			cm_state_set(redir_st(), k, redir_admin_name(s->pub.admin));
			return rc;
		}
	}
	return 0;
}

void redir_params_save(const struct redir_params *p)
{
	redir_st_setf("redir.param.threshold", "%u", p->threshold_pct);
	redir_st_setf("redir.param.interval", "%u", p->interval_s);
	redir_st_setf("redir.param.max_moves", "%u", p->max_moves);
	redir_st_setf("redir.param.probe_interval_ms", "%u", p->probe_interval_ms);
	redir_st_setf("redir.param.probe_timeout_ms", "%u", p->probe_timeout_ms);
	redir_st_setf("redir.param.load_interval", "%u", p->load_interval_s);
	redir_st_setf("redir.param.permanent", "%d", p->permanent);
	redir_st_setf("redir.param.auth", "%d", p->auth);
	redir_st_setf("redir.param.auth_lifetime", "%u", p->auth_lifetime_s);
	redir_st_setf("redir.param.w_bytes", "%u", p->w_bytes);
	redir_st_setf("redir.param.w_cmds", "%u", p->w_cmds);
	redir_st_setf("redir.param.w_cpu", "%u", p->w_cpu);
	redir_st_setf("redir.param.w_mem", "%u", p->w_mem);
}

unsigned redir_st_uint(const char *key, unsigned def)
{
	const char *v = redir_st() ? cm_state_get(redir_st(), key) : NULL;
	char *end;
	unsigned long x;

	if (!v || !*v)
		return def;
	x = strtoul(v, &end, 10);
	return *end ? def : (unsigned)x;
}

struct st_rows {
	uint32_t *idx;
	size_t n, cap;
};

static void collect_index(const char *key, const char *value, void *arg)
{
	struct st_rows *r = arg;
	const char *p = strchr(key, '.');
	unsigned long x;
	char *end;

	(void)value;
	/* key: redir.<table>.<idx>.<field> */
	p = p ? strchr(p + 1, '.') : NULL;
	if (!p)
		return;
	x = strtoul(p + 1, &end, 10);
	if (*end != '.' || !x || x > UINT32_MAX)
		return;
	if (r->n && r->idx[r->n - 1] == x)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->idx[i] == x)
			return;
	if (cm_grow(&r->idx, &r->cap, r->n, sizeof(*r->idx), 16) < 0)
		return;
	r->idx[r->n++] = (uint32_t)x;
}

static const char *st_field(const char *table, uint32_t idx, const char *field)
{
	char k[96];

	snprintf(k, sizeof(k), "redir.%s.%u.%s", table, idx, field);
	return cm_state_get(redir_st(), k);
}

/* nonVolatile rows created over SNMP before the last stop. */
void redir_load_persisted_servers(void)
{
	struct st_rows rows = {0};

	if (!redir_st())
		return;
	cm_state_foreach(redir_st(), "redir.server.", collect_index, &rows);
	for (size_t i = 0; i < rows.n; i++) {
		const char *name = st_field("server", rows.idx[i], "name"),
		           *host = st_field("server", rows.idx[i], "host");
		unsigned port, cap;
		int admin, tgt;
		char k[48];

		snprintf(k, sizeof(k), "redir.server.%u.port", rows.idx[i]);
		port = redir_st_uint(k, 0);
		snprintf(k, sizeof(k), "redir.server.%u.capacity", rows.idx[i]);
		cap = redir_st_uint(k, 1);
		snprintf(k, sizeof(k), "redir.server.%u.tgt", rows.idx[i]);
		tgt = cm_state_get(redir_st(), k) ? atoi(cm_state_get(redir_st(), k)) : -1;
		admin = redir_admin_parse(st_field("server", rows.idx[i], "admin"));
		if (!name || !host || !redir_host_family(host) || !port || port > 65535 || !cap || !admin ||
		    redir_vec_find(&redir_servers, rows.idx[i]) || redir_srv_by_name(name)) {
			cm_log(CM_LOG_WARNING, TAG, "state: ignoring bad server row %u", rows.idx[i]);
			continue;
		}
		redir_srv_add(rows.idx[i], name, host, port, cap, admin, tgt, REDIR_ORIGIN_SNMP, REDIR_ST_NONVOLATILE);
	}
	free(rows.idx);
}

void redir_load_persisted_resources(void)
{
	struct st_rows rows = {0};

	if (!redir_st())
		return;
	cm_state_foreach(redir_st(), "redir.resource.", collect_index, &rows);
	for (size_t i = 0; i < rows.n; i++) {
		const char *t = st_field("resource", rows.idx[i], "target"),
		           *pin = st_field("resource", rows.idx[i], "pinned");

		if (!t || !redir_name_ok(t, REDIR_NAME_MAX) || redir_vec_find(&redir_resources, rows.idx[i]) ||
		    redir_res_by_target(t)) {
			cm_log(CM_LOG_WARNING, TAG, "state: ignoring bad resource row %u", rows.idx[i]);
			continue;
		}
		{
			const char *pol = st_field("resource", rows.idx[i], "policy");
			struct redir_res *r = redir_res_add(rows.idx[i], t, 0, pin && strcmp(pin, "1") == 0,
			                                    REDIR_ORIGIN_SNMP, REDIR_ST_NONVOLATILE);

			if (r && pol && atoi(pol) == REDIR_FAIL_MOVE)
				r->pub.fail_policy = REDIR_FAIL_MOVE;
		}
	}
	free(rows.idx);
}

/* The persisted mapping (by server name), when that server still exists. */
uint32_t redir_persisted_map(const char *target)
{
	char k[REDIR_NAME_MAX + 16];
	const char *v;
	struct redir_srv *s;

	if (!redir_st())
		return 0;
	snprintf(k, sizeof(k), "redir.map.%s", target);
	v = cm_state_get(redir_st(), k);
	s = v ? redir_srv_by_name(v) : NULL;
	return s ? s->pub.index : 0;
}
