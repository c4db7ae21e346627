/* redirPlanTable.c: sanRedirPlanTable, the history of applied rebalance and failover plans (read-only, live). */
#include <config.h>

#include <string.h>

#include "handlers/redir.h"

static const oid plan_table_oid[] = {SA_OID_REDIR_PLAN_TABLE};

static int plan_readable(unsigned int col)
{
	return col >= H_PLAN_TIME && col <= H_PLAN_MOVE_LIST;
}

static uint32_t plan_next(uint32_t after)
{
	const struct redir_plan_record *p = redir_plan_next(after);

	return p ? p->index : 0;
}

int h_redir_plan_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redir_plan_record *p = redir_plan_find(index);

	if (!p)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_PLAN_TIME: h_redir_set_time(vb, p->when); break;
	case H_PLAN_TRIGGER: h_redir_set_int(vb, p->trigger); break;
	case H_PLAN_MOVES: h_redir_set_u32(vb, ASN_UNSIGNED, p->nmoves); break;
	case H_PLAN_MAX_BEFORE: h_redir_set_u64(vb, ASN_COUNTER64, p->max_before); break;
	case H_PLAN_MAX_AFTER: h_redir_set_u64(vb, ASN_COUNTER64, p->max_after); break;
	case H_PLAN_MOVE_LIST: h_redir_set_str(vb, p->moves, 511); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int plan_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	return h_redir_plan_get(index, col, vb);
}

static struct h_redir_table plan_table = {
	.name = "sanRedirPlanTable",
	.root = plan_table_oid,
	.root_len = OID_LENGTH(plan_table_oid),
	.min_col = H_PLAN_TIME,
	.max_col = H_PLAN_MOVE_LIST,
	.readable = plan_readable,
	.next = plan_next,
	.get = plan_get,
};

int h_redir_plan_table_init(void)
{
	return h_redir_table_register(&plan_table);
}

void h_redir_plan_table_shutdown(void)
{
	h_redir_table_unregister(&plan_table);
}
