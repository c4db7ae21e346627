/* rediscGroupTable.c: sanRediscGroupTable, the competing groups now (read-only, judged at each request). */
#include <config.h>

#include <errno.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/redisc.h"
#include "handlers/table.h"

static const oid group_table_oid[] = {REDISC_OID_GROUP_TABLE};

static const struct h_column group_cols[] = {
    {REDISC_GC_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},     {REDISC_GC_TARGET, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_GC_ADDR_TYPE, H_RO, H_SYN_ANY, 0, 0, 0}, {REDISC_GC_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_GC_PORT, H_RO, H_SYN_ANY, 0, 0, 0},      {REDISC_GC_INITIATORS, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_GC_OFFENDER, H_RO, H_SYN_ANY, 0, 0, 0},  {REDISC_GC_SHARE, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_GC_STATE, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int group_next(const uint32_t *after, uint32_t *out)
{
	const struct redisc_group *g = redisc_group_next(after ? after[0] : 0);

	if (!g)
		return -ENOENT;
	out[0] = g->index;
	return 0;
}

static int group_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redisc_group *g = redisc_group_find(idx[0]);
	struct redisc_group_view v;

	if (!g)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case REDISC_GC_TARGET: h_set_str(vb, g->target, 223); return SNMP_ERR_NOERROR;
	case REDISC_GC_ADDR_TYPE: h_set_int(vb, g->portal.type); return SNMP_ERR_NOERROR;
	case REDISC_GC_ADDR: h_redisc_set_addr(vb, &g->portal); return SNMP_ERR_NOERROR;
	case REDISC_GC_PORT: h_set_u32(vb, ASN_UNSIGNED, g->portal.port); return SNMP_ERR_NOERROR;
	default: break;
	}
	/* The live columns judge the group now. */
	if (redisc_group_view(g, &v) < 0)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case REDISC_GC_INITIATORS: h_set_str(vb, v.initiators, 255); break;
	case REDISC_GC_OFFENDER: h_set_str(vb, v.offender, 223); break;
	case REDISC_GC_SHARE: h_set_u32(vb, ASN_GAUGE, v.share_pct); break;
	case REDISC_GC_STATE: h_set_int(vb, v.state); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops group_ops = {.next = group_next, .get = group_get};

static struct h_table group_table = {
    .name = "sanRediscGroupTable",
    .root = group_table_oid,
    .root_len = OID_LENGTH(group_table_oid),
    .nindex = 1,
    .cols = group_cols,
    .ncols = sizeof(group_cols) / sizeof(group_cols[0]),
    .ops = &group_ops,
};

int h_redisc_group_table_init(void)
{
	return h_table_register(&group_table);
}

void h_redisc_group_table_shutdown(void)
{
	h_table_unregister(&group_table);
}
