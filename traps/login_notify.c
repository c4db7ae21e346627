/* login_notify.c: sanLoginFailed, sent once per failure episode of a login row. */
#include <config.h>

#include <string.h>

#include "common/bus.h"
#include "common/log.h"
#include "engines/discovery/login.h"
#include "traps/notifications.h"
#include "traps/notify.h"

static const oid login_entry_oid[] = {SA_NOTIFY_OID_LOGIN_ENTRY};

static int login_sub; /* bus handle, 0: not subscribed */

static void send_failed(uint32_t index)
{
	static const unsigned int cols[] = {SA_NOTIFY_COL_LOGIN_TARGET, SA_NOTIFY_COL_LOGIN_LAST_RESULT,
	                                    SA_NOTIFY_COL_LOGIN_LAST_STATUS};
	oid trap_oid[] = {SA_NOTIFY_OID_SESSION, SA_NOTIFY_LOGIN_FAILED};
	netsnmp_variable_list *vars = NULL;

	if (!sa_notify_tables || !(vars = sa_notify_start(trap_oid, OID_LENGTH(trap_oid))))
		goto fail;
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (sa_notify_add_column(&vars, login_entry_oid, OID_LENGTH(login_entry_oid), cols[i], index,
		                         sa_notify_tables->login) < 0)
			goto fail;
	sa_notify_send(vars, CM_LOG_DEBUG, "sanLoginFailed for login %u", (unsigned int)index);
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build sanLoginFailed for login %u", (unsigned int)index);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct disc_login_event *ev = data;

	(void)topic;
	(void)arg;
	if (ev->type == DISC_LOGIN_EV_FAILED)
		send_failed(ev->a);
}

int sa_login_notify_init(void)
{
	int rc;

	if (login_sub)
		return 0;
	if ((rc = bus_subscribe(BUS_LOGIN, on_event, NULL)) < 0)
		return rc;
	login_sub = rc;
	return 0;
}

void sa_login_notify_shutdown(void)
{
	if (login_sub)
		bus_unsubscribe(login_sub);
	login_sub = 0;
}
