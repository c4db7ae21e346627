/* redirPlanTable.c: sanRedirPlanTable, the history of applied rebalance and failover plans (read-only, live). */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "handlers/redirTables.h"
#include "handlers/table.h"

static const oid plan_table_oid[] = {SA_OID_REDIR_PLAN_TABLE};

static const struct h_column plan_cols[] = {
    {H_PLAN_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},      {H_PLAN_TIME, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PLAN_TRIGGER, H_RO, H_SYN_ANY, 0, 0, 0},    {H_PLAN_MOVES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PLAN_MAX_BEFORE, H_RO, H_SYN_ANY, 0, 0, 0}, {H_PLAN_MAX_AFTER, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PLAN_MOVE_LIST, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int plan_next(const uint32_t *after, uint32_t *out)
{
	const struct redir_plan_record *p = redir_plan_next(after ? after[0] : 0);

	if (!p)
		return -ENOENT;
	out[0] = p->index;
	return 0;
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

static int plan_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_redir_plan_get(idx[0], col, vb);
}

static const struct h_table_ops plan_ops = {.next = plan_next, .get = plan_get};

static struct h_table plan_table = {
    .name = "sanRedirPlanTable",
    .root = plan_table_oid,
    .root_len = OID_LENGTH(plan_table_oid),
    .nindex = 1,
    .cols = plan_cols,
    .ncols = sizeof(plan_cols) / sizeof(plan_cols[0]),
    .ops = &plan_ops,
};

int h_redir_plan_table_init(void)
{
	return h_table_register(&plan_table);
}

void h_redir_plan_table_shutdown(void)
{
	h_table_unregister(&plan_table);
}
