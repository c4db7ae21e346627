/* session_notify.c: sanSessionUp and sanSessionDown from the session registry's events. */
#include <config.h>

#include <string.h>
#include <time.h>

#include "engines/sessions.h"
#include "handlers/sessmib.h"
#include "common/bus.h"
#include "common/log.h"
#include "traps/notify.h"

static const oid snmptrapoid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
static const oid entry_oid[] = {SA_OID_SESS_TABLE, 1};

/* A team of many paths that comes up, or a flapping path, sends a burst;
 * past this many per second they are counted and summarised in the log
 * (the table has every session). */
#define SESS_NOTIFY_PER_SEC 100

static int sess_sub, active; /* sess_sub: bus handle, 0 until subscribed */
static struct sa_notify_rate rate = {.what = "session", .per_sec = SESS_NOTIFY_PER_SEC};

static void send_session(unsigned int which, const char *name, uint32_t id)
{
	static const unsigned int cols[] = {H_SESS_TARGET, H_SESS_PORTAL_TYPE, H_SESS_PORTAL_ADDR, H_SESS_TYPE,
	                                    H_SESS_STATE};
	oid trap_oid[] = {SA_OID_SESSION_NOTIFICATIONS, which};
	netsnmp_variable_list *vars = NULL;
	size_t elen = OID_LENGTH(entry_oid);
	oid nm[MAX_OID_LEN];

	if (!sa_notify_allow(&rate))
		return;
	if (!snmp_varlist_add_variable(&vars, snmptrapoid_oid, OID_LENGTH(snmptrapoid_oid), ASN_OBJECT_ID, trap_oid,
	                               sizeof(trap_oid)))
		goto fail;
	memcpy(nm, entry_oid, sizeof(entry_oid));
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		netsnmp_variable_list *vb;

		nm[elen] = cols[i];
		nm[elen + 1] = id;
		vb = snmp_varlist_add_variable(&vars, nm, elen + 2, ASN_NULL, NULL, 0);
		if (!vb || h_session_get(id, cols[i], vb) != SNMP_ERR_NOERROR)
			goto fail;
	}
	sa_notify_send(vars, SA_LOG_DEBUG, "%s for session %u", name, (unsigned int)id);
	return;
fail:
	snmp_free_varbind(vars);
	sa_log(SA_LOG_ERR, "notify", "cannot build %s for session %u", name, (unsigned int)id);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct sess_event *ev = data;

	(void)topic;
	(void)arg;
	/* The redirector's health probes log in and out every few seconds by
	 * design: a notification each time would bury the real ones. */
	if (!active || ev->s->info.owner == SESS_OWNER_PROBE)
		return;
	if (ev->type == SESS_EV_UP)
		send_session(H_SESS_NOTIFY_UP, "sanSessionUp", ev->id);
	else if (ev->type == SESS_EV_DOWN)
		send_session(H_SESS_NOTIFY_DOWN, "sanSessionDown", ev->id);
}

int sa_session_notify_init(void)
{
	int rc;

	if (!sess_sub) {
		if ((rc = bus_subscribe(BUS_SESSIONS, on_event, NULL)) < 0)
			return rc;
		sess_sub = rc;
	}
	active = 1;
	return 0;
}

void sa_session_notify_shutdown(void)
{
	active = 0;
}
