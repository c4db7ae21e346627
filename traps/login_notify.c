/* login_notify.c: sanLoginFailed, sent once per failure episode of a login row. */
#include <config.h>

#include <string.h>

#include "handlers/login.h"
#include "common/bus.h"
#include "common/log.h"
#include "traps/notify.h"

static const oid snmptrapoid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
static const oid login_entry_oid[] = {SA_OID_LOGIN_TABLE, 1};

static int login_sub; /* bus handle, 0: not subscribed */

static void send_failed(uint32_t index)
{
	static const unsigned int cols[] = {H_LOGIN_TARGET, H_LOGIN_LAST_RESULT, H_LOGIN_LAST_STATUS};
	oid trap_oid[] = {SA_OID_SESSION_NOTIFICATIONS, H_LOGIN_NOTIFY_FAILED};
	size_t elen = OID_LENGTH(login_entry_oid);
	netsnmp_variable_list *vars = NULL;
	oid nm[MAX_OID_LEN];

	if (!snmp_varlist_add_variable(&vars, snmptrapoid_oid, OID_LENGTH(snmptrapoid_oid), ASN_OBJECT_ID, trap_oid,
	                               sizeof(trap_oid)))
		goto fail;
	memcpy(nm, login_entry_oid, sizeof(login_entry_oid));
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		netsnmp_variable_list *vb;

		nm[elen] = cols[i];
		nm[elen + 1] = index;
		vb = snmp_varlist_add_variable(&vars, nm, elen + 2, ASN_NULL, NULL, 0);
		if (!vb || h_login_get(index, cols[i], vb) != SNMP_ERR_NOERROR)
			goto fail;
	}
	sa_notify_send(vars, SA_LOG_DEBUG, "sanLoginFailed for login %u", (unsigned int)index);
	return;
fail:
	snmp_free_varbind(vars);
	sa_log(SA_LOG_ERR, "notify", "cannot build sanLoginFailed for login %u", (unsigned int)index);
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
