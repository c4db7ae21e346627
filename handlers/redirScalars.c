/* redirScalars.c: the redirector's controls (rebalance, health checks), portal counters, role and NextIndex scalars.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "handlers/redirTables.h"
#include "handlers/scalars.h"

static const oid controls_oid[] = {SA_OID_REDIR_CONTROLS};
static const oid counters_oid[] = {SA_OID_REDIR_COUNTERS};
static const oid srv_next_oid[] = {SA_OID_REDIR_SERVER_NEXT};
static const oid res_next_oid[] = {SA_OID_REDIR_RESOURCE_NEXT};
static const oid role_oid[] = {SA_OID_REDIR_OBJECTS, 9}; /* sanRedirRole */

/* ---- sanRedirControls ------------------------------------------------------------------------------------ */

static const struct h_column control_objs[] = {
    {H_REDIR_THRESHOLD, H_RW, H_SYN_UINT, 0, 1, 1000},
    {H_REDIR_INTERVAL, H_RW, H_SYN_UINT, 0, 0, 86400},
    {H_REDIR_MAX_MOVES, H_RW, H_SYN_UINT, 0, 0, 1000000},
    {H_REDIR_TRIGGER, H_RW, H_SYN_INT, 0, 0, 1},
    {H_REDIR_PROBE_INTERVAL, H_RW, H_SYN_UINT, 0, 50, 600000},
    {H_REDIR_PROBE_TIMEOUT, H_RW, H_SYN_UINT, 0, 50, 600000},
    {H_REDIR_LOAD_INTERVAL, H_RW, H_SYN_UINT, 0, 1, 3600},
    {H_REDIR_PERMANENT, H_RW, H_SYN_TRUTH, 0, 0, 0},
    {H_REDIR_PORTAL_AUTH, H_RW, H_SYN_INT, 0, REDIR_AUTH_NONE, REDIR_AUTH_CHAP},
    {H_REDIR_AUTH_LIFETIME, H_RW, H_SYN_UINT, 0, 0, 86400},
    {H_REDIR_WEIGHT_BYTES, H_RW, H_SYN_UINT, 0, 0, REDIR_WEIGHT_MAX},
    {H_REDIR_WEIGHT_COMMANDS, H_RW, H_SYN_UINT, 0, 0, REDIR_WEIGHT_MAX},
    {H_REDIR_WEIGHT_CPU, H_RW, H_SYN_UINT, 0, 0, REDIR_WEIGHT_MAX},
    {H_REDIR_WEIGHT_MEMORY, H_RW, H_SYN_UINT, 0, 0, REDIR_WEIGHT_MAX},
};

struct controls_image {
	struct redir_params p;
	int trigger; /* 1: run the rebalancer at COMMIT */
};

static const struct redir_params *params_or_zero(void)
{
	static const struct redir_params zero;
	const struct redir_params *p = redir_params();

	/* The engine may be off: the controls read as zero then. */
	return p ? p : &zero;
}

static int control_get(unsigned int sub, netsnmp_variable_list *vb)
{
	const struct redir_params *p = params_or_zero();

	switch (sub) {
	case H_REDIR_THRESHOLD: h_set_u32(vb, ASN_UNSIGNED, p->threshold_pct); break;
	case H_REDIR_INTERVAL: h_set_u32(vb, ASN_UNSIGNED, p->interval_s); break;
	case H_REDIR_MAX_MOVES: h_set_u32(vb, ASN_UNSIGNED, p->max_moves); break;
	case H_REDIR_TRIGGER: h_set_int(vb, 0); break;
	case H_REDIR_PROBE_INTERVAL: h_set_u32(vb, ASN_UNSIGNED, p->probe_interval_ms); break;
	case H_REDIR_PROBE_TIMEOUT: h_set_u32(vb, ASN_UNSIGNED, p->probe_timeout_ms); break;
	case H_REDIR_LOAD_INTERVAL: h_set_u32(vb, ASN_UNSIGNED, p->load_interval_s); break;
	case H_REDIR_PERMANENT: h_set_int(vb, p->permanent ? 1 : 2); break;
	case H_REDIR_PORTAL_AUTH: h_set_int(vb, p->auth ? p->auth : REDIR_AUTH_NONE); break;
	case H_REDIR_AUTH_LIFETIME: h_set_u32(vb, ASN_UNSIGNED, p->auth_lifetime_s); break;
	case H_REDIR_WEIGHT_BYTES: h_set_u32(vb, ASN_UNSIGNED, p->w_bytes); break;
	case H_REDIR_WEIGHT_COMMANDS: h_set_u32(vb, ASN_UNSIGNED, p->w_cmds); break;
	case H_REDIR_WEIGHT_CPU: h_set_u32(vb, ASN_UNSIGNED, p->w_cpu); break;
	case H_REDIR_WEIGHT_MEMORY: h_set_u32(vb, ASN_UNSIGNED, p->w_mem); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static void control_load(void *image)
{
	struct controls_image *w = image;

	w->p = *params_or_zero();
}

static int control_store(void *image, unsigned int sub, const netsnmp_variable_list *vb)
{
	struct controls_image *w = image;

	switch (sub) {
	case H_REDIR_THRESHOLD: return h_put_u32(&w->p.threshold_pct, vb);
	case H_REDIR_INTERVAL: return h_put_u32(&w->p.interval_s, vb);
	case H_REDIR_MAX_MOVES: return h_put_u32(&w->p.max_moves, vb);
	case H_REDIR_TRIGGER: return h_put_int(&w->trigger, vb);
	case H_REDIR_PROBE_INTERVAL: return h_put_u32(&w->p.probe_interval_ms, vb);
	case H_REDIR_PROBE_TIMEOUT: return h_put_u32(&w->p.probe_timeout_ms, vb);
	case H_REDIR_LOAD_INTERVAL: return h_put_u32(&w->p.load_interval_s, vb);
	case H_REDIR_PERMANENT: return h_put_bool(&w->p.permanent, vb);
	case H_REDIR_PORTAL_AUTH: return h_put_int(&w->p.auth, vb);
	case H_REDIR_AUTH_LIFETIME: return h_put_u32(&w->p.auth_lifetime_s, vb);
	case H_REDIR_WEIGHT_BYTES: return h_put_u32(&w->p.w_bytes, vb);
	case H_REDIR_WEIGHT_COMMANDS: return h_put_u32(&w->p.w_cmds, vb);
	case H_REDIR_WEIGHT_CPU: return h_put_u32(&w->p.w_cpu, vb);
	case H_REDIR_WEIGHT_MEMORY: return h_put_u32(&w->p.w_mem, vb);
	default: return 0;
	}
}

static int params_changed(const struct h_scalar_txn *x)
{
	return memcmp(&((const struct controls_image *)x->work)->p, &((const struct controls_image *)x->old)->p,
	              sizeof(struct redir_params)) != 0;
}

static int control_check(struct h_scalar_txn *x)
{
	const struct controls_image *w = x->work;

	/* Without the engine there is nothing to set or trigger; values it already has are no change. */
	if ((params_changed(x) || w->trigger) && !redir_params())
		return -ENODEV;
	return params_changed(x) ? redir_params_validate(&w->p) : 0;
}

static int control_apply(struct h_scalar_txn *x)
{
	int rc;

	if (!params_changed(x))
		return 0;
	if ((rc = redir_params_set(&((const struct controls_image *)x->work)->p)) == 0)
		x->done = 1;
	return rc;
}

static int control_undo(struct h_scalar_txn *x)
{
	return x->done ? redir_params_set(&((const struct controls_image *)x->old)->p) : 0;
}

/* The rebalance runs after the answer: it cannot be undone, so it waits until every other varbind has succeeded. */
static void control_commit(struct h_scalar_txn *x)
{
	int rc;

	if (((const struct controls_image *)x->work)->trigger && (rc = redir_rebalance_now()) < 0)
		cm_log(CM_LOG_WARNING, "handlers", "redirector: manual rebalance not started: %s", strerror(-rc));
}

static const struct h_scalar_ops control_ops = {
    .get = control_get,
    .load = control_load,
    .store = control_store,
    .check = control_check,
    .apply = control_apply,
    .undo = control_undo,
    .commit = control_commit,
};

static struct h_scalar_group controls = {
    .name = "sanRedirControls",
    .root = controls_oid,
    .root_len = OID_LENGTH(controls_oid),
    .objs = control_objs,
    .nobjs = sizeof(control_objs) / sizeof(control_objs[0]),
    .image_size = sizeof(struct controls_image),
    .writable = 1,
    .ops = &control_ops,
};

/* ---- sanRedirCounters ------------------------------------------------------------------------------------ */

static const struct h_column counter_objs[] = {
    {H_REDIR_CONNECTIONS, H_RO, H_SYN_ANY, 0, 0, 0}, {H_REDIR_REDIRECTS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_REDIR_DISCOVERY, H_RO, H_SYN_ANY, 0, 0, 0},   {H_REDIR_REJECTS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_REDIR_MALFORMED, H_RO, H_SYN_ANY, 0, 0, 0},   {H_REDIR_REFUSED, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_REDIR_EVICTED, H_RO, H_SYN_ANY, 0, 0, 0},     {H_REDIR_AUTH_FAILURES, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int counter_get(unsigned int sub, netsnmp_variable_list *vb)
{
	static const struct redir_counters zero;
	const struct redir_counters *c = redir_counters();

	if (!c)
		c = &zero;
	switch (sub) {
	case H_REDIR_CONNECTIONS: h_set_u64(vb, c->connections); break;
	case H_REDIR_REDIRECTS: h_set_u64(vb, c->redirects); break;
	case H_REDIR_DISCOVERY: h_set_u64(vb, c->discovery_sessions); break;
	case H_REDIR_REJECTS: h_set_u64(vb, c->rejects); break;
	case H_REDIR_MALFORMED: h_set_u64(vb, c->malformed); break;
	case H_REDIR_REFUSED: h_set_u64(vb, c->refused); break;
	case H_REDIR_EVICTED: h_set_u64(vb, c->evicted); break;
	case H_REDIR_AUTH_FAILURES: h_set_u64(vb, c->auth_failures); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops counter_ops = {.get = counter_get};
static struct h_scalar_group counters = {
    .name = "sanRedirCounters",
    .root = counters_oid,
    .root_len = OID_LENGTH(counters_oid),
    .objs = counter_objs,
    .nobjs = sizeof(counter_objs) / sizeof(counter_objs[0]),
    .ops = &counter_ops,
};

/* ---- sanRedirRole: read-only, what this agent is in an etcd group ---------------------------------------- */

static const struct h_column role_objs[] = {{0, H_RO, H_SYN_ANY, 0, 0, 0}};

static int role_get(unsigned int sub, netsnmp_variable_list *vb)
{
	(void)sub;
	h_set_int(vb, redir_role());
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops role_ops = {.get = role_get};
static struct h_scalar_group role = {
    .name = "sanRedirRole",
    .root = role_oid,
    .root_len = OID_LENGTH(role_oid),
    .objs = role_objs,
    .nobjs = 1,
    .ops = &role_ops,
};

/* ---- NextIndex ------------------------------------------------------------------------------------------- */

static struct h_next_index srv_next = {
    .name = "sanRedirServerNextIndex",
    .root = srv_next_oid,
    .root_len = OID_LENGTH(srv_next_oid),
    .value = redir_server_next_index,
    .table = &h_redir_server_table,
};

static struct h_next_index res_next = {
    .name = "sanRedirResourceNextIndex",
    .root = res_next_oid,
    .root_len = OID_LENGTH(res_next_oid),
    .value = redir_resource_next_index,
    .table = &h_redir_resource_table,
};

int h_redir_scalars_init(void)
{
	int rc;

	if ((rc = h_scalar_register(&controls)) < 0 || (rc = h_scalar_register(&counters)) < 0 ||
	    (rc = h_next_index_register(&srv_next)) < 0 || (rc = h_next_index_register(&res_next)) < 0 ||
	    (rc = h_scalar_register(&role)) < 0)
		return rc;
	return 0;
}

void h_redir_scalars_shutdown(void)
{
	h_next_index_unregister(&srv_next);
	h_next_index_unregister(&res_next);
	h_scalar_unregister(&controls);
	h_scalar_unregister(&counters);
	h_scalar_unregister(&role);
}
