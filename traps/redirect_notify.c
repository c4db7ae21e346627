/* redirect_notify.c: the redirect engine's notifications (sanServerDown/Up, sanResourceRemapped, sanRebalanced,
 * sanResourceStranded). */
#include <config.h>

#include <string.h>

#include "common/bus.h"
#include "common/log.h"
#include "engines/redirect/redirect.h"
#include "traps/notifications.h"
#include "traps/notify.h"

static const oid server_entry_oid[] = {SA_NOTIFY_OID_SERVER_ENTRY};
static const oid resource_entry_oid[] = {SA_NOTIFY_OID_RESOURCE_ENTRY};
static const oid plan_entry_oid[] = {SA_NOTIFY_OID_PLAN_ENTRY};

static int redir_sub; /* bus handle while the handlers are registered, else 0 */

static netsnmp_variable_list *start(unsigned int which)
{
	oid trap_oid[] = {SA_NOTIFY_OID_REDIR, which};

	return sa_notify_start(trap_oid, OID_LENGTH(trap_oid));
}

static void server_event(unsigned int which, const char *name, uint32_t index)
{
	static const unsigned int cols[] = {SA_NOTIFY_COL_SRV_NAME, SA_NOTIFY_COL_SRV_ADDR_TYPE, SA_NOTIFY_COL_SRV_ADDR,
	                                    SA_NOTIFY_COL_SRV_PORT, SA_NOTIFY_COL_SRV_OPER};
	netsnmp_variable_list *vars = start(which);
	size_t i;

	if (!vars)
		goto fail;
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (sa_notify_add_column(&vars, server_entry_oid, OID_LENGTH(server_entry_oid), cols[i], index,
		                         sa_notify_tables->redir_server) < 0)
			goto fail;
	cm_log(CM_LOG_NOTICE, "notify", "redirector server %u is %s", (unsigned int)index,
	       which == SA_NOTIFY_SERVER_DOWN ? "down" : "up");
	sa_notify_send(vars, CM_LOG_INFO, "%s", name);
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build %s for server %u", name, (unsigned int)index);
}

/* A failed server may carry tens of thousands of resources: one trap each
 * would keep the agent sending for seconds (and bury the sanServerDown). */
static struct sa_notify_rate remap_rate = {.what = "sanResourceRemapped", .per_sec = 100};

static void remapped_event(uint32_t res, uint32_t old_srv, uint32_t new_srv)
{
	oid name[MAX_OID_LEN];
	size_t len = OID_LENGTH(resource_entry_oid);
	u_long old_u = old_srv, new_u = new_srv; /* the width net-snmp's integer varbinds take */
	netsnmp_variable_list *vars, *vb;

	if (!sa_notify_allow(&remap_rate))
		return;
	vars = start(SA_NOTIFY_RESOURCE_REMAPPED);

	if (!vars || sa_notify_add_column(&vars, resource_entry_oid, len, SA_NOTIFY_COL_RES_TARGET, res,
	                                  sa_notify_tables->redir_resource) < 0)
		goto fail;
	/* The event's servers, not a later GET: the trap tells this remap. */
	memcpy(name, resource_entry_oid, len * sizeof(oid));
	name[len + 1] = res;
	name[len] = SA_NOTIFY_COL_RES_PREV_SERVER;
	vb = snmp_varlist_add_variable(&vars, name, len + 2, ASN_UNSIGNED, &old_u, sizeof(old_u));
	if (!vb)
		goto fail;
	name[len] = SA_NOTIFY_COL_RES_SERVER;
	vb = snmp_varlist_add_variable(&vars, name, len + 2, ASN_UNSIGNED, &new_u, sizeof(new_u));
	if (!vb)
		goto fail;
	sa_notify_send(vars, CM_LOG_INFO, "sanResourceRemapped");
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build sanResourceRemapped for resource %u", (unsigned int)res);
}

/* One per resource left behind; a failed server may hold many. */
static struct sa_notify_rate stranded_rate = {.what = "sanResourceStranded", .per_sec = 100};

static void stranded_event(uint32_t res)
{
	static const unsigned int cols[] = {SA_NOTIFY_COL_RES_TARGET, SA_NOTIFY_COL_RES_SERVER,
	                                    SA_NOTIFY_COL_RES_SERVER_STATUS, SA_NOTIFY_COL_RES_FAIL_POLICY};
	netsnmp_variable_list *vars;
	size_t i;

	if (!sa_notify_allow(&stranded_rate))
		return;
	if (!(vars = start(SA_NOTIFY_RESOURCE_STRANDED)))
		goto fail;
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (sa_notify_add_column(&vars, resource_entry_oid, OID_LENGTH(resource_entry_oid), cols[i], res,
		                         sa_notify_tables->redir_resource) < 0)
			goto fail;
	sa_notify_send(vars, CM_LOG_INFO, "sanResourceStranded");
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build sanResourceStranded for resource %u", (unsigned int)res);
}

static void rebalanced_event(uint32_t plan)
{
	/* No Counter64 (the plan's loads): SNMPv1 sinks could not take the
	 * notification, and snmpd warns about every one (MIB text). */
	static const unsigned int cols[] = {SA_NOTIFY_COL_PLAN_TRIGGER, SA_NOTIFY_COL_PLAN_MOVES};
	netsnmp_variable_list *vars = start(SA_NOTIFY_REBALANCED);
	size_t i;

	if (!vars)
		goto fail;
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (sa_notify_add_column(&vars, plan_entry_oid, OID_LENGTH(plan_entry_oid), cols[i], plan,
		                         sa_notify_tables->redir_plan) < 0)
			goto fail;
	sa_notify_send(vars, CM_LOG_INFO, "sanRebalanced");
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build sanRebalanced for plan %u", (unsigned int)plan);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct redir_event *ev = data;

	(void)topic;
	(void)arg;
	if (!sa_notify_tables)
		return;
	switch (ev->type) {
	case REDIR_EV_SERVER_DOWN: server_event(SA_NOTIFY_SERVER_DOWN, "sanServerDown", ev->a); break;
	case REDIR_EV_SERVER_UP: server_event(SA_NOTIFY_SERVER_UP, "sanServerUp", ev->a); break;
	case REDIR_EV_RESOURCE_REMAPPED: remapped_event(ev->a, ev->b, ev->c); break;
	case REDIR_EV_REBALANCED: rebalanced_event(ev->a); break;
	case REDIR_EV_RESOURCE_STRANDED: stranded_event(ev->a); break;
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
