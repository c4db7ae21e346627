/* redirect_notify.c: the redirect engine's notifications (sanServerDown/Up, sanResourceRemapped, sanRebalanced). */
#include <config.h>

#include <string.h>

#include "traps/notify.h"
#include "handlers/redir.h"
#include "common/bus.h"
#include "common/log.h"

static const oid snmptrapoid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
static const oid server_entry_oid[] = {SA_OID_REDIR_SERVER_TABLE, 1};
static const oid resource_entry_oid[] = {SA_OID_REDIR_RESOURCE_TABLE, 1};
static const oid plan_entry_oid[] = {SA_OID_REDIR_PLAN_TABLE, 1};

static int redir_sub; /* bus handle while the handlers are registered, else 0 */

/* Adds entry.col.index with the value a GET of it returns. */
static int add_column(netsnmp_variable_list **vars, const oid *entry, size_t len, unsigned int col, uint32_t index,
                      int (*get)(uint32_t, unsigned int, netsnmp_variable_list *))
{
	oid name[MAX_OID_LEN];
	netsnmp_variable_list *vb;

	memcpy(name, entry, len * sizeof(oid));
	name[len] = col;
	name[len + 1] = index;
	vb = snmp_varlist_add_variable(vars, name, len + 2, ASN_NULL, NULL, 0);
	if (!vb)
		return -1;
	return get(index, col, vb) == SNMP_ERR_NOERROR ? 0 : -1;
}

static netsnmp_variable_list *start(unsigned int which)
{
	oid trap_oid[] = {SA_OID_REDIR_NOTIFICATIONS, which};
	netsnmp_variable_list *vars = NULL;

	if (!snmp_varlist_add_variable(&vars, snmptrapoid_oid, OID_LENGTH(snmptrapoid_oid), ASN_OBJECT_ID, trap_oid,
	                               sizeof(trap_oid)))
		return NULL;
	return vars;
}

static void server_event(unsigned int which, const char *name, uint32_t index)
{
	static const unsigned int cols[] = {H_SRV_NAME, H_SRV_ADDR_TYPE, H_SRV_ADDR, H_SRV_PORT, H_SRV_OPER};
	netsnmp_variable_list *vars = start(which);
	size_t i;

	if (!vars)
		goto fail;
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (add_column(&vars, server_entry_oid, OID_LENGTH(server_entry_oid), cols[i], index,
		               h_redir_server_get) < 0)
			goto fail;
	sa_log(SA_LOG_NOTICE, "notify", "redirector server %u is %s", (unsigned int)index,
	       which == H_REDIR_NOTIFY_SERVER_DOWN ? "down" : "up");
	sa_notify_send(vars, SA_LOG_INFO, "%s", name);
	return;
fail:
	snmp_free_varbind(vars);
	sa_log(SA_LOG_ERR, "notify", "cannot build %s for server %u", name, (unsigned int)index);
}

/* A failed server may carry tens of thousands of resources: one trap each
 * would keep the agent sending for seconds (and bury the sanServerDown). */
static struct sa_notify_rate remap_rate = {.what = "sanResourceRemapped", .per_sec = 100};

static void remapped_event(uint32_t res, uint32_t old_srv, uint32_t new_srv)
{
	oid name[MAX_OID_LEN];
	size_t len = OID_LENGTH(resource_entry_oid);
	netsnmp_variable_list *vars, *vb;

	if (!sa_notify_allow(&remap_rate))
		return;
	vars = start(H_REDIR_NOTIFY_REMAPPED);

	if (!vars || add_column(&vars, resource_entry_oid, len, H_RES_TARGET, res, h_redir_resource_get) < 0)
		goto fail;
	/* The event's servers, not a later GET: the trap tells this remap. */
	memcpy(name, resource_entry_oid, len * sizeof(oid));
	name[len + 1] = res;
	name[len] = H_RES_PREV_SERVER;
	vb = snmp_varlist_add_variable(&vars, name, len + 2, ASN_NULL, NULL, 0);
	if (!vb)
		goto fail;
	h_redir_set_u32(vb, ASN_UNSIGNED, old_srv);
	name[len] = H_RES_SERVER;
	vb = snmp_varlist_add_variable(&vars, name, len + 2, ASN_NULL, NULL, 0);
	if (!vb)
		goto fail;
	h_redir_set_u32(vb, ASN_UNSIGNED, new_srv);
	sa_notify_send(vars, SA_LOG_INFO, "sanResourceRemapped");
	return;
fail:
	snmp_free_varbind(vars);
	sa_log(SA_LOG_ERR, "notify", "cannot build sanResourceRemapped for resource %u", (unsigned int)res);
}

static void rebalanced_event(uint32_t plan)
{
	/* No Counter64 (the plan's loads): SNMPv1 sinks could not take the
	 * notification, and snmpd warns about every one (MIB text). */
	static const unsigned int cols[] = {H_PLAN_TRIGGER, H_PLAN_MOVES};
	netsnmp_variable_list *vars = start(H_REDIR_NOTIFY_REBALANCED);
	size_t i;

	if (!vars)
		goto fail;
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (add_column(&vars, plan_entry_oid, OID_LENGTH(plan_entry_oid), cols[i], plan, h_redir_plan_get) < 0)
			goto fail;
	sa_notify_send(vars, SA_LOG_INFO, "sanRebalanced");
	return;
fail:
	snmp_free_varbind(vars);
	sa_log(SA_LOG_ERR, "notify", "cannot build sanRebalanced for plan %u", (unsigned int)plan);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct redir_event *ev = data;

	(void)topic;
	(void)arg;
	switch (ev->type) {
	case REDIR_EV_SERVER_DOWN: server_event(H_REDIR_NOTIFY_SERVER_DOWN, "sanServerDown", ev->a); break;
	case REDIR_EV_SERVER_UP: server_event(H_REDIR_NOTIFY_SERVER_UP, "sanServerUp", ev->a); break;
	case REDIR_EV_RESOURCE_REMAPPED: remapped_event(ev->a, ev->b, ev->c); break;
	case REDIR_EV_REBALANCED: rebalanced_event(ev->a); break;
	default: break; /* row events: the tables read the engine live */
	}
}

int sa_redirect_notify_init(void)
{
	int h;

	if (redir_sub)
		return 0;
	if ((h = bus_subscribe(BUS_REDIRECT, on_event, NULL)) < 0)
		return h;
	redir_sub = h;
	return 0;
}

void sa_redirect_notify_shutdown(void)
{
	if (!redir_sub)
		return;
	bus_unsubscribe(redir_sub);
	redir_sub = 0;
}
