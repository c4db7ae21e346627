/* redirector.c: SANAGENT-REDIRECTOR-MIB registration and the GET/GETNEXT and RowStatus SET plumbing its tables share.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/registry.h"
#include "handlers/redir.h"
#include "handlers/stateTxn.h"
#include "common/bus.h"
#include "common/log.h"

void h_redir_set_u64(netsnmp_variable_list *vb, u_char type, uint64_t v)
{
	struct counter64 c;

	c.high = (u_long)(v >> 32);
	c.low = (u_long)(v & 0xffffffffu);
	snmp_set_var_typed_value(vb, type, &c, sizeof(c));
}

void h_redir_set_u32(netsnmp_variable_list *vb, u_char type, uint32_t v)
{
	u_long u = v;

	snmp_set_var_typed_value(vb, type, &u, sizeof(u));
}

void h_redir_set_int(netsnmp_variable_list *vb, long v)
{
	snmp_set_var_typed_value(vb, ASN_INTEGER, &v, sizeof(v));
}

void h_redir_set_str(netsnmp_variable_list *vb, const char *s, size_t max)
{
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, s, strnlen(s, max));
}

void h_redir_set_time(netsnmp_variable_list *vb, time_t t)
{
	u_char dt[H_DATE_AND_TIME_LEN];

	h_date_and_time(t, dt);
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, dt, sizeof(dt));
}

/* Returns the InetAddressType (1 ipv4, 2 ipv6) or 0 (unknown, empty). */
int h_redir_host_addr(int family, const char *host, u_char out[16], size_t *len)
{
	*len = 0;
	if (family == AF_INET && inet_pton(AF_INET, host, out) == 1) {
		*len = 4;
		return 1;
	}
	if (family == AF_INET6 && inet_pton(AF_INET6, host, out) == 1) {
		*len = 16;
		return 2;
	}
	/* A host without its family still has a printable address. */
	if (inet_pton(AF_INET, host, out) == 1) {
		*len = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, host, out) == 1) {
		*len = 16;
		return 2;
	}
	return 0;
}

int h_redir_parse(const struct h_redir_table *t, const netsnmp_variable_list *vb, unsigned int *col,
                  uint32_t *index)
{
	size_t n = t->root_len;

	if (vb->name_length != n + 3 || snmp_oid_compare(vb->name, n, t->root, n) != 0 || vb->name[n] != 1)
		return -1;
	if (vb->name[n + 1] > UINT32_MAX || vb->name[n + 2] < 1 || vb->name[n + 2] > UINT32_MAX)
		return -1;
	*col = (unsigned int)vb->name[n + 1];
	*index = (uint32_t)vb->name[n + 2];
	return 0;
}

static void do_get(struct h_redir_table *t, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	size_t n = t->root_len;
	unsigned int col;
	uint32_t index;

	if (vb->name_length < n + 2 || vb->name[n] != 1 || vb->name[n + 1] < t->min_col ||
	    vb->name[n + 1] > t->max_col || !t->readable((unsigned int)vb->name[n + 1])) {
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
		return;
	}
	if (h_redir_parse(t, vb, &col, &index) < 0 || t->get(index, col, vb) != SNMP_ERR_NOERROR)
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
}

/* The next instance after vb's OID in column-major order: each step is
 * one *_next call, so a walk costs O(log n) per varbind. */
static void do_getnext(struct h_redir_table *t, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	size_t n = t->root_len;
	oid out[MAX_OID_LEN];
	unsigned int col = t->min_col;
	uint32_t after = 0;

	if (snmp_oid_compare(vb->name, vb->name_length, t->root, n) > 0) {
		/* Inside the table (the master only hands us OIDs in our subtree or before it). */
		if (vb->name_length == n)
			; /* the table itself: start at the first column */
		else if (vb->name[n] > 1)
			return; /* past the entry: nothing of ours follows */
		else if (vb->name[n] == 1 && vb->name_length > n + 1) {
			if (vb->name[n + 1] > t->max_col)
				return;
			if (vb->name[n + 1] >= t->min_col) {
				col = (unsigned int)vb->name[n + 1];
				if (vb->name_length > n + 2) {
					if (vb->name[n + 2] >= UINT32_MAX) {
						col++;
					} else {
						/* x.col.i and x.col.i.more both continue after i. */
						after = (uint32_t)vb->name[n + 2];
					}
				}
			}
		}
	}

	for (; col <= t->max_col; col++, after = 0) {
		uint32_t index;

		if (!t->readable(col))
			continue;
		for (index = t->next(after); index; index = t->next(index)) {
			/* A row that vanished between next and get is skipped. */
			if (t->get(index, col, vb) == SNMP_ERR_NOERROR)
				break;
		}
		if (!index)
			continue;
		memcpy(out, t->root, n * sizeof(oid));
		out[n] = 1;
		out[n + 1] = col;
		out[n + 2] = index;
		snmp_set_var_objid(vb, out, n + 3);
		return;
	}
	/* Nothing left: the varbind stays untouched and the agent moves on
	 * to the next registered subtree. */
}

static int table_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                         netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct h_redir_table *t = handler->myvoid;
	netsnmp_request_info *r;

	(void)reginfo;
	switch (reqinfo->mode) {
	case MODE_GET:
		for (r = requests; r; r = r->next)
			if (!r->processed)
				do_get(t, reqinfo, r);
		return SNMP_ERR_NOERROR;
	case MODE_GETNEXT:
		for (r = requests; r; r = r->next)
			if (!r->processed)
				do_getnext(t, r);
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

int h_redir_table_register(struct h_redir_table *t)
{
	netsnmp_handler_registration *reg;
	int rc;

	if (t->reg)
		return 0;
	/* Without HANDLER_CAN_GETBULK, net-snmp puts bulk_to_next in front. */
	reg = netsnmp_create_handler_registration(t->name, table_handler, t->root, t->root_len,
	                                          t->writable ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	reg->handler->myvoid = t; /* before the injection puts another handler first */
	if (t->writable && h_stxn_inject(reg) < 0) {
		netsnmp_handler_registration_free(reg);
		return -ENOMEM;
	}
	rc = netsnmp_register_handler(reg);
	if (rc != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register %s (%d)", t->name, rc);
		return -EEXIST;
	}
	t->reg = reg;
	return 0;
}

void h_redir_table_unregister(struct h_redir_table *t)
{
	if (t->reg) {
		netsnmp_unregister_handler(t->reg);
		t->reg = NULL;
	}
}

/* The module's objects exist only while the redirect engine runs, so a
 * walk of an agent without a redirect section shows none of them (and the
 * controls never read as the zeros of an engine that was never set up). */
static int redir_registered, redir_wanted, engines_sub; /* engines_sub: bus handle, 0 until subscribed */

static void redir_unregister(void)
{
	h_redir_plan_table_shutdown();
	h_redir_client_table_shutdown();
	h_redir_resource_table_shutdown();
	h_redir_server_table_shutdown();
	h_redir_scalars_shutdown();
	redir_registered = 0;
}

static int redir_register(void)
{
	int rc;

	if (redir_registered)
		return 0;
	if ((rc = h_redir_scalars_init()) < 0 || (rc = h_redir_server_table_init()) < 0 ||
	    (rc = h_redir_resource_table_init()) < 0 || (rc = h_redir_client_table_init()) < 0 ||
	    (rc = h_redir_plan_table_init()) < 0) {
		redir_unregister();
		return rc;
	}
	redir_registered = 1;
	return 0;
}

static void redir_sync(void)
{
	const struct sa_engine *e = sa_engine_get(SA_ENGINE_REDIRECT + 1);
	int up = redir_wanted && e && e->oper == SA_OPER_UP;
	int rc;

	if (up && !redir_registered) {
		if ((rc = redir_register()) < 0)
			sa_log(SA_LOG_ERR, "handlers", "cannot register SANAGENT-REDIRECTOR-MIB: %s", strerror(-rc));
	} else if (!up && redir_registered) {
		redir_unregister();
	}
}

static void on_engine(int topic, const void *data, void *arg)
{
	const struct sa_engine *e = data;

	(void)topic;
	(void)arg;
	if (e->index == SA_ENGINE_REDIRECT + 1)
		redir_sync();
}

int h_redir_init(void)
{
	int rc;

	if (!engines_sub) {
		if ((rc = bus_subscribe(BUS_ENGINES, on_engine, NULL)) < 0)
			return rc;
		engines_sub = rc;
	}
	redir_wanted = 1;
	redir_sync();
	return 0;
}

void h_redir_shutdown(void)
{
	redir_wanted = 0;
	if (engines_sub)
		bus_unsubscribe(engines_sub);
	engines_sub = 0;
	redir_unregister();
}
