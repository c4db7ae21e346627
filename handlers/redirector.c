/* redirector.c: SANAGENT-REDIRECTOR-MIB registration (while the redirect engine runs) and the values its tables share.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/registry.h"
#include "handlers/redirTables.h"
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

/* The module's objects exist only while the redirect engine runs, so a
 * walk of an agent without a redirect section shows none of them (and the
 * controls never read as the zeros of an engine that was never set up). */
static int redir_registered, redir_wanted, engines_sub; /* engines_sub: bus handle, 0 until subscribed */

static void redir_unregister(void)
{
	h_redir_cred_table_shutdown();
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
	    (rc = h_redir_plan_table_init()) < 0 || (rc = h_redir_cred_table_init()) < 0) {
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
			cm_log(CM_LOG_ERR, "handlers", "cannot register SANAGENT-REDIRECTOR-MIB: %s", strerror(-rc));
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
