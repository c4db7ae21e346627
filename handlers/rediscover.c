/* rediscover.c: SANAGENT-REDISCOVER-MIB registration; its tables read the rediscover engine live (empty while off). */
#include <config.h>

#include <string.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/handlers.h"
#include "handlers/redisc.h"
#include "handlers/table.h"

void h_redisc_set_addr(netsnmp_variable_list *vb, const struct redisc_addr *a)
{
	h_set_octets(vb, a->a, redisc_addr_len(a));
}

void h_redisc_portal_load(struct h_redisc_portal *p, const struct redisc_addr *a)
{
	p->type = a->type;
	p->len = redisc_addr_len(a);
	memcpy(p->addr, a->a, p->len);
	p->port = a->port;
}

int h_redisc_portal_ready(const struct h_redisc_portal *p)
{
	return (p->type == 1 && p->len == 4) || (p->type == 2 && p->len == 16);
}

void h_redisc_portal_to_addr(const struct h_redisc_portal *p, struct redisc_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = (int)p->type;
	memcpy(a->a, p->addr, p->len);
	a->port = (uint16_t)p->port;
}

int h_redisc_init(void)
{
	int rc;

	if ((rc = h_redisc_scalars_init()) < 0 || (rc = h_redisc_threshold_table_init()) < 0 ||
	    (rc = h_redisc_session_table_init()) < 0 || (rc = h_redisc_decision_table_init()) < 0 ||
	    (rc = h_redisc_controls_init()) < 0 || (rc = h_redisc_group_table_init()) < 0 ||
	    (rc = h_redisc_pool_table_init()) < 0 || (rc = h_redisc_agent_table_init()) < 0 ||
	    (rc = h_redisc_react_init()) < 0)
		return rc;
	return 0;
}

void h_redisc_shutdown(void)
{
	h_redisc_react_shutdown();
	h_redisc_agent_table_shutdown();
	h_redisc_pool_table_shutdown();
	h_redisc_group_table_shutdown();
	h_redisc_controls_shutdown();
	h_redisc_decision_table_shutdown();
	h_redisc_session_table_shutdown();
	h_redisc_threshold_table_shutdown();
	h_redisc_scalars_shutdown();
}
