/* storTargetTable.c: sanStorTargetTable, tgt's targets with their counters (read-only, live). */
#include <config.h>

#include <errno.h>

#include "handlers/table.h"
#include "handlers/storTables.h"

static const oid target_table_oid[] = {SA_OID_STOR_TARGET_TABLE};

static const struct h_column target_cols[] = {
    {H_STGT_TID, H_NA, H_SYN_ANY, 0, 0, 0},        {H_STGT_NAME, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_STGT_LUNS, H_RO, H_SYN_ANY, 0, 0, 0},       {H_STGT_SESSIONS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_STGT_READ_BYTES, H_RO, H_SYN_ANY, 0, 0, 0}, {H_STGT_WRITE_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_STGT_READ_CMDS, H_RO, H_SYN_ANY, 0, 0, 0},  {H_STGT_WRITE_CMDS, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int tgt_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_target *t = stor_target_find(idx[0]);

	if (!t)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_STGT_NAME: h_set_str(vb, t->name, sizeof(t->name)); break;
	case H_STGT_LUNS: h_set_u32(vb, ASN_UNSIGNED, (uint32_t)t->nluns); break;
	case H_STGT_SESSIONS: h_set_u32(vb, ASN_UNSIGNED, (uint32_t)t->nsessions); break;
	case H_STGT_READ_BYTES: h_set_u64(vb, t->ctr.rd_bytes); break;
	case H_STGT_WRITE_BYTES: h_set_u64(vb, t->ctr.wr_bytes); break;
	case H_STGT_READ_CMDS: h_set_u64(vb, t->ctr.rd_cmds); break;
	case H_STGT_WRITE_CMDS: h_set_u64(vb, t->ctr.wr_cmds); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int tgt_next(const uint32_t *after, uint32_t *out)
{
	const struct stor_target *t = stor_target_next(after ? after[0] : 0);

	if (!t)
		return -ENOENT;
	out[0] = t->tid;
	return 0;
}

static const struct h_table_ops target_ops = {.next = tgt_next, .get = tgt_get};

static struct h_table target_table = {
    .name = "sanStorTargetTable",
    .root = target_table_oid,
    .root_len = OID_LENGTH(target_table_oid),
    .nindex = 1,
    .cols = target_cols,
    .ncols = sizeof(target_cols) / sizeof(target_cols[0]),
    .ops = &target_ops,
};

int h_stor_target_tables_init(void)
{
	int rc;

	if ((rc = h_table_register(&target_table)) < 0 || (rc = h_stor_lun_table_init()) < 0 ||
	    (rc = h_stor_session_table_init()) < 0) {
		h_stor_target_tables_shutdown();
		return rc;
	}
	return 0;
}

void h_stor_target_tables_shutdown(void)
{
	h_stor_session_table_shutdown();
	h_stor_lun_table_shutdown();
	h_table_unregister(&target_table);
}
