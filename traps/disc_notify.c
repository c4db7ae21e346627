/* disc_notify.c: the discovery engine's notifications (sanTargetDiscovered, sanTargetLost, sanPortalUnreachable). */
#include <config.h>

#include <string.h>
#include <time.h>

#include "handlers/disc.h"
#include "common/bus.h"
#include "common/log.h"
#include "traps/notify.h"

static const oid snmptrapoid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
static const oid source_entry_oid[] = {SA_OID_DISC_SOURCE_TABLE, 1};
static const oid target_entry_oid[] = {SA_OID_DISC_TARGET_TABLE, 1};

/* A first SendTargets against a portal with 10,000 targets would send
 * 10,000 notifications at once; past this many per second and kind they
 * are counted and summarised in the log instead (the table has them all). */
#define DISC_NOTIFY_PER_SEC 200

static int disc_sub, active; /* disc_sub: bus handle, 0 until subscribed */
static struct sa_notify_rate rate[H_DISC_NOTIFY_UNREACHABLE + 1] = {
    [H_DISC_NOTIFY_DISCOVERED] = {.what = "sanTargetDiscovered", .per_sec = DISC_NOTIFY_PER_SEC},
    [H_DISC_NOTIFY_LOST] = {.what = "sanTargetLost", .per_sec = DISC_NOTIFY_PER_SEC},
    [H_DISC_NOTIFY_UNREACHABLE] = {.what = "sanPortalUnreachable", .per_sec = DISC_NOTIFY_PER_SEC},
};

static void send_event(unsigned int which, const char *name, const oid *entry, size_t elen, const unsigned int *cols,
                       size_t ncols, uint32_t index, int (*get)(uint32_t, unsigned int, netsnmp_variable_list *))
{
	oid trap_oid[] = {SA_OID_SESSION_NOTIFICATIONS, which};
	netsnmp_variable_list *vars = NULL;
	oid nm[MAX_OID_LEN];

	if (!sa_notify_allow(&rate[which]))
		return;
	if (!snmp_varlist_add_variable(&vars, snmptrapoid_oid, OID_LENGTH(snmptrapoid_oid), ASN_OBJECT_ID, trap_oid,
	                               sizeof(trap_oid)))
		goto fail;
	memcpy(nm, entry, elen * sizeof(oid));
	for (size_t i = 0; i < ncols; i++) {
		netsnmp_variable_list *vb;

		nm[elen] = cols[i];
		nm[elen + 1] = index;
		vb = snmp_varlist_add_variable(&vars, nm, elen + 2, ASN_NULL, NULL, 0);
		if (!vb || get(index, cols[i], vb) != SNMP_ERR_NOERROR)
			goto fail;
	}
	sa_notify_send(vars, SA_LOG_DEBUG, "%s", name);
	return;
fail:
	snmp_free_varbind(vars);
	sa_log(SA_LOG_ERR, "notify", "cannot build %s for row %u", name, (unsigned int)index);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct disc_event *ev = data;
	static const unsigned int found[] = {H_DTGT_NAME, H_DTGT_MECHANISM, H_DTGT_PORTALS};
	static const unsigned int lost[] = {H_DTGT_NAME, H_DTGT_LAST_SEEN};
	static const unsigned int unreach[] = {H_DSRC_MECHANISM, H_DSRC_ADDR_TYPE, H_DSRC_ADDR, H_DSRC_PORT,
	                                       H_DSRC_LAST_ERROR};

	(void)topic;
	(void)arg;
	if (!active)
		return;
	switch (ev->type) {
	case DISC_EV_TARGET_DISCOVERED:
		send_event(H_DISC_NOTIFY_DISCOVERED, "sanTargetDiscovered", target_entry_oid,
		           OID_LENGTH(target_entry_oid), found, 3, ev->a, h_disc_target_get);
		break;
	case DISC_EV_TARGET_LOST:
		send_event(H_DISC_NOTIFY_LOST, "sanTargetLost", target_entry_oid, OID_LENGTH(target_entry_oid), lost, 2,
		           ev->a, h_disc_target_get);
		break;
	case DISC_EV_PORTAL_UNREACHABLE:
		send_event(H_DISC_NOTIFY_UNREACHABLE, "sanPortalUnreachable", source_entry_oid,
		           OID_LENGTH(source_entry_oid), unreach, 5, ev->a, h_disc_source_get);
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
