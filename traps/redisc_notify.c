/* redisc_notify.c: sanRediscoveryTriggered and sanTargetReaddressed from the rediscover engine's decision events. */
#include <config.h>

#include "engines/rediscover/rediscover.h"
#include "common/bus.h"
#include "common/log.h"
#include "traps/notify.h"

static const oid entry_oid[] = {REDISC_OID_DECISION_ENTRY};

static int sub, active; /* sub: bus handle, 0 until subscribed */
/* Cooldowns and the hourly cap keep decisions rare; the budget only guards against a cap set very high. */
static struct sa_notify_rate rate = {.what = "sanRediscoveryTriggered", .per_sec = 20};
static struct sa_notify_rate rate_moved = {.what = "sanTargetReaddressed", .per_sec = 20};

/* The OBJECTS clauses: the decision row's columns, with the row's index as instance. */
static void send_row(uint32_t index, unsigned int n, const unsigned int *cols, unsigned int what, const char *name)
{
	oid trap_oid[] = {REDISC_OID_NOTIFICATIONS, what};
	netsnmp_variable_list *vars;

	if (!(vars = sa_notify_start(trap_oid, OID_LENGTH(trap_oid))))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (sa_notify_add_column(&vars, entry_oid, OID_LENGTH(entry_oid), cols[i], index,
		                         sa_notify_tables->redisc_decision) < 0)
			goto fail;
	sa_notify_send(vars, CM_LOG_INFO, "%s for decision %u", name, (unsigned int)index);
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build %s for decision %u", name, (unsigned int)index);
}

static void send_readdressed(uint32_t index)
{
	static const unsigned int cols[] = {REDISC_D_TARGET,   REDISC_D_OLD_TYPE, REDISC_D_OLD_ADDR, REDISC_D_OLD_PORT,
	                                    REDISC_D_NEW_TYPE, REDISC_D_NEW_ADDR, REDISC_D_NEW_PORT};

	if (sa_notify_allow(&rate_moved))
		send_row(index, sizeof(cols) / sizeof(cols[0]), cols, REDISC_N_READDRESSED, "sanTargetReaddressed");
}

static void send_triggered(uint32_t index)
{
	static const unsigned int cols[] = {REDISC_D_TRIGGER,  REDISC_D_TARGET,   REDISC_D_OLD_TYPE, REDISC_D_OLD_ADDR,
	                                    REDISC_D_OLD_PORT, REDISC_D_OFFENDER, REDISC_D_MODE,     REDISC_D_STATE};
	oid trap_oid[] = {REDISC_OID_NOTIFICATIONS, REDISC_N_TRIGGERED};
	netsnmp_variable_list *vars;

	if (!sa_notify_allow(&rate))
		return;
	if (!(vars = sa_notify_start(trap_oid, OID_LENGTH(trap_oid))))
		goto fail;
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (sa_notify_add_column(&vars, entry_oid, OID_LENGTH(entry_oid), cols[i], index,
		                         sa_notify_tables->redisc_decision) < 0)
			goto fail;
	sa_notify_send(vars, CM_LOG_INFO, "sanRediscoveryTriggered for decision %u", (unsigned int)index);
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build sanRediscoveryTriggered for decision %u", (unsigned int)index);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct redisc_event *ev = data;

	(void)topic;
	(void)arg;
	if (!active || !sa_notify_tables || !sa_notify_tables->redisc_decision)
		return;
	if (ev->type == REDISC_EV_DECISION)
		send_triggered(ev->index);
	else if (ev->type == REDISC_EV_MOVED)
		send_readdressed(ev->index);
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
