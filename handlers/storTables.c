/* storTables.c: storage-side MIB registration (while the module runs) and the address values its tables share. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "handlers/redirTables.h"
#include "handlers/storTables.h"
#include "handlers/table.h"
#include "common/bus.h"
#include "common/log.h"

void h_stor_set_addr(netsnmp_variable_list *vb, const char *host, int want_type)
{
	u_char a[16];
	size_t len = 0;
	int type = host[0] ? h_redir_host_addr(0, host, a, &len) : 0;

	if (want_type)
		h_set_int(vb, type);
	else
		h_set_octets(vb, a, type ? len : 0);
}

/* ---- registration: the objects exist only while the storage side runs ---- */

static int registered, wanted;

int h_stor_txn_creates(struct h_txn *txn, struct h_table *t, uint32_t index)
{
	uint32_t idx[1] = {index};
	const struct h_row *r = h_txn_find(txn, t, idx);

	return r && r->op == H_OP_CREATE;
}

static void stor_unregister(void)
{
	h_stor_isns_shutdown();
	h_stor_acl_table_shutdown();
	h_stor_bind_table_shutdown();
	h_stor_account_table_shutdown();
	h_stor_feedback_shutdown();
	h_stor_target_tables_shutdown();
	h_stor_portal_table_shutdown();
	registered = 0;
}

static void stor_sync(int running)
{
	int rc;

	if (running && wanted && !registered) {
		if ((rc = h_stor_portal_table_init()) < 0 || (rc = h_stor_target_tables_init()) < 0 ||
		    (rc = h_stor_feedback_init()) < 0 || (rc = h_stor_account_table_init()) < 0 ||
		    (rc = h_stor_bind_table_init()) < 0 || (rc = h_stor_acl_table_init()) < 0 ||
		    (rc = h_stor_isns_init()) < 0) {
			cm_log(CM_LOG_ERR, "handlers", "cannot register the storage-side tables: %s", strerror(-rc));
			stor_unregister();
			return;
		}
		registered = 1;
	} else if ((!running || !wanted) && registered) {
		stor_unregister();
	}
}

static int stor_sub; /* bus handle, 0: not subscribed */

static void on_storage(int topic, const void *data, void *arg)
{
	const struct stor_event *ev = data;

	(void)topic;
	(void)arg;
	if (ev->type == STOR_EV_STATE)
		stor_sync(ev->running);
}

int h_stor_init(void)
{
	int rc;

	if (!stor_sub) {
		if ((rc = bus_subscribe(BUS_STORAGE, on_storage, NULL)) < 0)
			return rc;
		stor_sub = rc;
	}
	wanted = 1;
	stor_sync(stor_running());
	return 0;
}

void h_stor_shutdown(void)
{
	wanted = 0;
	if (stor_sub)
		bus_unsubscribe(stor_sub);
	stor_sub = 0;
	stor_sync(0);
}
