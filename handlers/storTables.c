/* storTables.c: storage-side MIB registration (while the module runs) and the walker of its (tid, sub) tables. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "handlers/redir.h"
#include "handlers/stor.h"
#include "handlers/stateTxn.h"
#include "common/bus.h"
#include "common/log.h"

void h_stor_set_addr(netsnmp_variable_list *vb, const char *host, int want_type)
{
	u_char a[16];
	size_t len = 0;
	int type = host[0] ? h_redir_host_addr(0, host, a, &len) : 0;

	if (want_type)
		h_redir_set_int(vb, type);
	else
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, a, type ? len : 0);
}

int h_stor_table2_parse(const struct h_stor_table2 *t, const netsnmp_variable_list *vb, unsigned int *col,
                        uint32_t *tid, uint32_t *sub)
{
	size_t n = t->root_len;

	if (vb->name_length != n + 4 || snmp_oid_compare(vb->name, n, t->root, n) != 0 || vb->name[n] != 1)
		return -1;
	if (vb->name[n + 1] > UINT32_MAX || vb->name[n + 2] > UINT32_MAX || vb->name[n + 3] > UINT32_MAX)
		return -1;
	*col = (unsigned int)vb->name[n + 1];
	*tid = (uint32_t)vb->name[n + 2];
	*sub = (uint32_t)vb->name[n + 3];
	return 0;
}

static void t2_get(struct h_stor_table2 *t, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	size_t n = t->root_len;
	unsigned int col;
	uint32_t tid, sub;

	if (vb->name_length < n + 2 || vb->name[n] != 1 || vb->name[n + 1] < t->min_col ||
	    vb->name[n + 1] > t->max_col) {
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
		return;
	}
	if (h_stor_table2_parse(t, vb, &col, &tid, &sub) < 0 || t->get(tid, sub, col, vb) != SNMP_ERR_NOERROR)
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
}

/* Column-major order over (tid, sub): one target search plus one search in
 * that target per step, so a walk costs O(log n) per varbind. */
static void t2_getnext(struct h_stor_table2 *t, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	size_t n = t->root_len;
	unsigned int col = t->min_col;
	uint32_t at = 0;
	int64_t as = -1;
	int have_at = 0; /* continue in target at, after sub as */
	oid out[MAX_OID_LEN];

	if (snmp_oid_compare(vb->name, vb->name_length, t->root, n) > 0 && vb->name_length > n) {
		if (vb->name[n] > 1)
			return;
		if (vb->name_length > n + 1) {
			if (vb->name[n + 1] > t->max_col)
				return;
			if (vb->name[n + 1] >= t->min_col) {
				col = (unsigned int)vb->name[n + 1];
				if (vb->name_length > n + 2) {
					if (vb->name[n + 2] > UINT32_MAX) {
						col++;
					} else {
						at = (uint32_t)vb->name[n + 2];
						have_at = 1;
						/* x.col.t alone comes before every (t, sub). */
						if (vb->name_length > n + 3)
							as = vb->name[n + 3] > UINT32_MAX ? (int64_t)UINT32_MAX
							                                  : (int64_t)vb->name[n + 3];
					}
				}
			}
		}
	}
	for (; col <= t->max_col; col++, have_at = 0, as = -1) {
		const struct stor_target *tg = have_at ? stor_target_find(at) : stor_target_next(0);
		uint32_t sub = 0;
		int found = 0;

		if (have_at && !tg) {
			tg = stor_target_next(at);
			as = -1;
		}
		while (tg) {
			int64_t after = as;

			as = -1;
			while (t->next(tg, after, &sub) == 0) {
				if (t->get(tg->tid, sub, col, vb) == SNMP_ERR_NOERROR) {
					found = 1;
					break;
				}
				after = sub;
			}
			if (found)
				break;
			tg = stor_target_next(tg->tid);
		}
		if (!found)
			continue;
		memcpy(out, t->root, n * sizeof(oid));
		out[n] = 1;
		out[n + 1] = col;
		out[n + 2] = tg->tid;
		out[n + 3] = sub;
		snmp_set_var_objid(vb, out, n + 4);
		return;
	}
}

static int t2_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                      netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct h_stor_table2 *t = handler->myvoid;
	netsnmp_request_info *r;

	(void)reginfo;
	switch (reqinfo->mode) {
	case MODE_GET:
		for (r = requests; r; r = r->next)
			if (!r->processed)
				t2_get(t, reqinfo, r);
		return SNMP_ERR_NOERROR;
	case MODE_GETNEXT:
		for (r = requests; r; r = r->next)
			if (!r->processed)
				t2_getnext(t, r);
		return SNMP_ERR_NOERROR;
	default:
		if (!t->set) {
			for (r = requests; r; r = r->next)
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
			return SNMP_ERR_NOERROR;
		}
		return t->set(t, reqinfo, requests);
	}
}

int h_stor_table2_register(struct h_stor_table2 *t)
{
	netsnmp_handler_registration *reg;

	if (t->reg)
		return 0;
	reg = netsnmp_create_handler_registration(t->name, t2_handler, t->root, t->root_len,
	                                          t->set ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	reg->handler->myvoid = t; /* before the injection puts another handler first */
	if (t->set && h_stxn_inject(reg) < 0) {
		netsnmp_handler_registration_free(reg);
		return -ENOMEM;
	}
	if (netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register %s", t->name);
		return -EEXIST;
	}
	t->reg = reg;
	return 0;
}

void h_stor_table2_unregister(struct h_stor_table2 *t)
{
	if (t->reg) {
		netsnmp_unregister_handler(t->reg);
		t->reg = NULL;
	}
}

/* ---- registration: the objects exist only while the storage side runs ---- */

static int registered, wanted;

static void stor_unregister(void)
{
	h_stor_target_tables_shutdown();
	h_stor_portal_table_shutdown();
	registered = 0;
}

static void stor_sync(int running)
{
	int rc;

	if (running && wanted && !registered) {
		if ((rc = h_stor_portal_table_init()) < 0 || (rc = h_stor_target_tables_init()) < 0) {
			sa_log(SA_LOG_ERR, "handlers", "cannot register the storage-side tables: %s", strerror(-rc));
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
