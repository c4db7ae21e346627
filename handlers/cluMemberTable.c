/* cluMemberTable.c: sanCluMemberTable, the cluster's hosts and units (RowStatus; rows of the config file are
 * read-only). */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "engines/cluster/clu_mib.h"
#include "engines/cluster/cluster.h"
#include "handlers/cluTables.h"
#include "handlers/table.h"

static const oid member_table_oid[] = {CLU_OID_MEMBER_TABLE};

static const struct h_column member_cols[] = {
    {CLU_M_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {CLU_M_TYPE, H_RC, H_SYN_INT, 0, CLU_HOST, CLU_UNIT},
    {CLU_M_GUID, H_RC, H_SYN_OCTETS, 0, 8, 8},
    {CLU_M_ADDRESS, H_RC, H_SYN_ADMIN_STRING, 0, 1, CLU_ADDR_MAX - 1},
    {CLU_M_NAME, H_RC, H_SYN_ADMIN_STRING, 0, 0, CLU_NAME_MAX - 1},
    {CLU_M_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct member_image {
	struct clu_member m;
	size_t guid_len;
};

static int member_next(const uint32_t *after, uint32_t *out)
{
	return clu_member_next(after ? after[0] : 0, out);
}

int h_clu_member_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct clu_member *m = clu_member_get(index);

	if (!m)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case CLU_M_TYPE: h_set_int(vb, m->type); break;
	case CLU_M_GUID: h_set_octets(vb, m->guid, sizeof(m->guid)); break;
	case CLU_M_ADDRESS: h_set_str(vb, m->address, CLU_ADDR_MAX - 1); break;
	case CLU_M_NAME: h_set_str(vb, m->name, CLU_NAME_MAX - 1); break;
	default: return SNMP_NOSUCHOBJECT; /* RowStatus: an engine row is active */
	}
	return SNMP_ERR_NOERROR;
}

static int member_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_clu_member_get(idx[0], col, vb);
}

static int member_load(const uint32_t *idx, void *image)
{
	const struct clu_member *m = clu_member_get(idx[0]);
	struct member_image *w = image;

	if (!m)
		return -ENOENT;
	w->m = *m;
	w->guid_len = sizeof(m->guid);
	return 0;
}

static void member_defaults(void *image, const uint32_t *idx)
{
	struct member_image *w = image;

	w->m.index = idx[0];
}

static int member_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct member_image *w = image;

	switch (col) {
	case CLU_M_TYPE: return h_put_int(&w->m.type, vb);
	case CLU_M_GUID: return h_put_octets(w->m.guid, &w->guid_len, sizeof(w->m.guid), vb);
	case CLU_M_ADDRESS: return h_put_str(w->m.address, sizeof(w->m.address), vb);
	case CLU_M_NAME: return h_put_str(w->m.name, sizeof(w->m.name), vb);
	default: return 0;
	}
}

static int member_ready(const void *image)
{
	const struct member_image *w = image;

	return w->m.type && w->guid_len == 8 && w->m.address[0];
}

static int member_check(struct h_row *row, struct h_txn *txn)
{
	const struct member_image *w = row->work;

	(void)txn;
	if (!clu_running())
		return -ENODEV;
	switch (row->op) {
	case H_OP_PENDING: return -EINVAL; /* createAndWait is not supported: wrongValue */
	case H_OP_DESTROY: return clu_member_check(&w->m, 1);
	case H_OP_CREATE:
	case H_OP_UPDATE: return clu_member_check(&w->m, 0);
	default: return 0;
	}
}

static int member_action(struct h_row *row, struct h_txn *txn)
{
	const struct member_image *w = row->work;
	int rc;

	(void)txn;
	if ((rc = clu_member_put(&w->m)) == 0)
		row->done = 1;
	return rc;
}

static int member_undo(struct h_row *row)
{
	const struct member_image *old = row->old;
	int rc = 0;

	if (row->done)
		rc = row->op == H_OP_CREATE ? clu_member_del(row->idx[0]) : clu_member_put(&old->m);
	row->done = 0;
	return rc;
}

static int member_commit(struct h_row *row)
{
	return row->op == H_OP_DESTROY ? clu_member_del(row->idx[0]) : 0;
}

static const struct h_table_ops member_ops = {
    .next = member_next,
    .get = member_get,
    .load = member_load,
    .defaults = member_defaults,
    .store = member_store,
    .ready = member_ready,
    .check = member_check,
    .action = member_action,
    .undo = member_undo,
    .commit = member_commit,
};

static struct h_table member_table = {
    .name = "sanCluMemberTable",
    .root = member_table_oid,
    .root_len = OID_LENGTH(member_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = member_cols,
    .ncols = sizeof(member_cols) / sizeof(member_cols[0]),
    .rowstatus_col = CLU_M_ROW_STATUS,
    .rank = 1,
    .image_size = sizeof(struct member_image),
    .writable = 1,
    .ops = &member_ops,
};

int h_clu_member_table_init(void)
{
	return h_table_register(&member_table);
}

void h_clu_member_table_shutdown(void)
{
	h_table_unregister(&member_table);
}
