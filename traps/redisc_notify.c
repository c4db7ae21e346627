/* redisc_notify.c: sanRediscoveryTriggered from the rediscover engine's decision events. */
#include <config.h>

#include <string.h>

#include "engines/rediscover/rediscover.h"
#include "common/bus.h"
#include "common/log.h"
#include "traps/notify.h"

static const oid snmptrapoid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
static const oid entry_oid[] = {REDISC_OID_DECISION_ENTRY};

static int sub, active; /* sub: bus handle, 0 until subscribed */
/* Cooldowns and the hourly cap keep decisions rare; the budget only guards against a cap set very high. */
static struct sa_notify_rate rate = {.what = "sanRediscoveryTriggered", .per_sec = 20};

/* Adds entry.col.index with the decision's value, typed as sanRediscDecisionTable serves it. */
static int add(netsnmp_variable_list **vars, unsigned int col, uint32_t index, u_char type, const void *val, size_t len)
{
	oid nm[MAX_OID_LEN];
	size_t elen = OID_LENGTH(entry_oid);

	memcpy(nm, entry_oid, sizeof(entry_oid));
	nm[elen] = col;
	nm[elen + 1] = index;
	return snmp_varlist_add_variable(vars, nm, elen + 2, type, val, len) ? 0 : -1;
}

static int add_int(netsnmp_variable_list **vars, unsigned int col, uint32_t index, long v)
{
	return add(vars, col, index, ASN_INTEGER, &v, sizeof(v));
}

static void send_triggered(uint32_t index)
{
	const struct redisc_decision *d = redisc_decision_find(index);
	oid trap_oid[] = {REDISC_OID_NOTIFICATIONS, REDISC_N_TRIGGERED};
	netsnmp_variable_list *vars = NULL;
	u_long port;

	if (!d || !sa_notify_allow(&rate))
		return;
	port = d->old_portal.port;
	if (!snmp_varlist_add_variable(&vars, snmptrapoid_oid, OID_LENGTH(snmptrapoid_oid), ASN_OBJECT_ID, trap_oid,
	                               sizeof(trap_oid)) ||
	    add_int(&vars, REDISC_D_TRIGGER, index, d->trigger) < 0 ||
	    add(&vars, REDISC_D_TARGET, index, ASN_OCTET_STR, d->target, strlen(d->target)) < 0 ||
	    add_int(&vars, REDISC_D_OLD_TYPE, index, d->old_portal.type) < 0 ||
	    add(&vars, REDISC_D_OLD_ADDR, index, ASN_OCTET_STR, d->old_portal.a, redisc_addr_len(&d->old_portal)) < 0 ||
	    add(&vars, REDISC_D_OLD_PORT, index, ASN_UNSIGNED, &port, sizeof(port)) < 0 ||
	    add(&vars, REDISC_D_OFFENDER, index, ASN_OCTET_STR, d->offender, strlen(d->offender)) < 0 ||
	    add_int(&vars, REDISC_D_MODE, index, d->mode) < 0 || add_int(&vars, REDISC_D_STATE, index, d->state) < 0) {
		snmp_free_varbind(vars);
		sa_log(SA_LOG_ERR, "notify", "cannot build sanRediscoveryTriggered for decision %u",
		       (unsigned int)index);
		return;
	}
	sa_notify_send(vars, SA_LOG_INFO, "sanRediscoveryTriggered for decision %u", (unsigned int)index);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct redisc_event *ev = data;

	(void)topic;
	(void)arg;
	if (active && ev->type == REDISC_EV_DECISION)
		send_triggered(ev->index);
}

int sa_redisc_notify_init(void)
{
	int rc;

	if (!sub) {
		if ((rc = bus_subscribe(BUS_REDISCOVER, on_event, NULL)) < 0)
			return rc;
		sub = rc;
	}
	active = 1;
	return 0;
}

void sa_redisc_notify_shutdown(void)
{
	active = 0;
}
