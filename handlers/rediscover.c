/* rediscover.c: SANAGENT-REDISCOVER-MIB registration; its tables read the rediscover engine live (empty while off). */
#include <config.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/handlers.h"
#include "handlers/redisc.h"
#include "handlers/table.h"

void h_redisc_set_addr(netsnmp_variable_list *vb, const struct redisc_addr *a)
{
	h_set_octets(vb, a->a, redisc_addr_len(a));
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
