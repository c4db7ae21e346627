/* disc_notify.c: the discovery engine's notifications (sanTargetDiscovered, sanTargetLost, sanPortalUnreachable). */
#include <config.h>

#include <string.h>
#include <time.h>

#include "common/bus.h"
#include "common/log.h"
#include "engines/discovery/discovery.h"
#include "traps/notifications.h"
#include "traps/notify.h"

static const oid source_entry_oid[] = {SA_NOTIFY_OID_DISC_SOURCE_ENTRY};
static const oid target_entry_oid[] = {SA_NOTIFY_OID_DISC_TARGET_ENTRY};

/* A first SendTargets against a portal with 10,000 targets would send
 * 10,000 notifications at once; past this many per second and kind they
 * are counted and summarised in the log instead (the table has them all). */
#define DISC_NOTIFY_PER_SEC 200

static int disc_sub, active; /* disc_sub: bus handle, 0 until subscribed */
static struct sa_notify_rate rate[SA_NOTIFY_PORTAL_UNREACHABLE + 1] = {
    [SA_NOTIFY_TARGET_DISCOVERED] = {.what = "sanTargetDiscovered", .per_sec = DISC_NOTIFY_PER_SEC},
    [SA_NOTIFY_TARGET_LOST] = {.what = "sanTargetLost", .per_sec = DISC_NOTIFY_PER_SEC},
    [SA_NOTIFY_PORTAL_UNREACHABLE] = {.what = "sanPortalUnreachable", .per_sec = DISC_NOTIFY_PER_SEC},
};

static void send_event(unsigned int which, const char *name, const oid *entry, size_t elen, const unsigned int *cols,
                       size_t ncols, uint32_t index, sa_notify_column_fn get)
{
	oid trap_oid[] = {SA_NOTIFY_OID_SESSION, which};
	netsnmp_variable_list *vars;

	if (!sa_notify_allow(&rate[which]))
		return;
	if (!(vars = sa_notify_start(trap_oid, OID_LENGTH(trap_oid))))
		goto fail;
	for (size_t i = 0; i < ncols; i++)
		if (sa_notify_add_column(&vars, entry, elen, cols[i], index, get) < 0)
			goto fail;
	sa_notify_send(vars, CM_LOG_DEBUG, "%s", name);
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build %s for row %u", name, (unsigned int)index);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct disc_event *ev = data;
	static const unsigned int found[] = {SA_NOTIFY_COL_DTGT_NAME, SA_NOTIFY_COL_DTGT_MECHANISM,
	                                     SA_NOTIFY_COL_DTGT_PORTALS};
	static const unsigned int lost[] = {SA_NOTIFY_COL_DTGT_NAME, SA_NOTIFY_COL_DTGT_LAST_SEEN};
	static const unsigned int unreach[] = {SA_NOTIFY_COL_DSRC_MECHANISM, SA_NOTIFY_COL_DSRC_ADDR_TYPE,
	                                       SA_NOTIFY_COL_DSRC_ADDR, SA_NOTIFY_COL_DSRC_PORT,
	                                       SA_NOTIFY_COL_DSRC_LAST_ERROR};

	(void)topic;
	(void)arg;
	if (!active || !sa_notify_tables)
		return;
	switch (ev->type) {
	case DISC_EV_TARGET_DISCOVERED:
		send_event(SA_NOTIFY_TARGET_DISCOVERED, "sanTargetDiscovered", target_entry_oid,
		           OID_LENGTH(target_entry_oid), found, 3, ev->a, sa_notify_tables->disc_target);
		break;
	case DISC_EV_TARGET_LOST:
		send_event(SA_NOTIFY_TARGET_LOST, "sanTargetLost", target_entry_oid, OID_LENGTH(target_entry_oid), lost,
		           2, ev->a, sa_notify_tables->disc_target);
		break;
	case DISC_EV_PORTAL_UNREACHABLE:
		send_event(SA_NOTIFY_PORTAL_UNREACHABLE, "sanPortalUnreachable", source_entry_oid,
		           OID_LENGTH(source_entry_oid), unreach, 5, ev->a, sa_notify_tables->disc_source);
		break;
	default: break;
	}
}

int sa_disc_notify_init(void)
{
	int rc;

	if (!disc_sub) {
		if ((rc = bus_subscribe(BUS_DISCOVERY, on_event, NULL)) < 0)
			return rc;
		disc_sub = rc;
	}
	active = 1;
	return 0;
}

void sa_disc_notify_shutdown(void)
{
	active = 0;
}
