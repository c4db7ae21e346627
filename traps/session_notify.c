/* session_notify.c: sanSessionUp and sanSessionDown from the session registry's events. */
#include <config.h>

#include <string.h>
#include <time.h>

#include "engines/sessions.h"
#include "common/bus.h"
#include "common/log.h"
#include "traps/notifications.h"
#include "traps/notify.h"

static const oid entry_oid[] = {SA_NOTIFY_OID_SESSION_ENTRY};

/* A team of many paths that comes up, or a flapping path, sends a burst;
 * past this many per second they are counted and summarised in the log
 * (the table has every session). */
#define SESS_NOTIFY_PER_SEC 100

static int sess_sub, active; /* sess_sub: bus handle, 0 until subscribed */
static struct sa_notify_rate rate = {.what = "session", .per_sec = SESS_NOTIFY_PER_SEC};

static void send_session(unsigned int which, const char *name, uint32_t id)
{
	static const unsigned int cols[] = {SA_NOTIFY_COL_SESS_TARGET, SA_NOTIFY_COL_SESS_PORTAL_TYPE,
	                                    SA_NOTIFY_COL_SESS_PORTAL_ADDR, SA_NOTIFY_COL_SESS_TYPE,
	                                    SA_NOTIFY_COL_SESS_STATE};
	oid trap_oid[] = {SA_NOTIFY_OID_SESSION, which};
	netsnmp_variable_list *vars;

	if (!sa_notify_allow(&rate))
		return;
	if (!(vars = sa_notify_start(trap_oid, OID_LENGTH(trap_oid))))
		goto fail;
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (sa_notify_add_column(&vars, entry_oid, OID_LENGTH(entry_oid), cols[i], id,
		                         sa_notify_tables->session) < 0)
			goto fail;
	sa_notify_send(vars, CM_LOG_DEBUG, "%s for session %u", name, (unsigned int)id);
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build %s for session %u", name, (unsigned int)id);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct sess_event *ev = data;

	(void)topic;
	(void)arg;
	/* The redirector's health probes log in and out every few seconds by
	 * design: a notification each time would bury the real ones. */
	if (!active || !sa_notify_tables || ev->s->info.owner == SESS_OWNER_PROBE)
		return;
	if (ev->type == SESS_EV_UP)
		send_session(SA_NOTIFY_SESSION_UP, "sanSessionUp", ev->id);
	else if (ev->type == SESS_EV_DOWN)
		send_session(SA_NOTIFY_SESSION_DOWN, "sanSessionDown", ev->id);
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
