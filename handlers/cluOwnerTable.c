/* cluOwnerTable.c: sanCluOwnerTable, the owner list of every CRT row (createAndGo / destroy), changed together with
 * sanCluResOwnership as one change (cluResTable.c). */
#include <config.h>

#include <errno.h>

#include "engines/cluster/clu_mib.h"
#include "engines/cluster/cluster.h"
#include "handlers/cluTables.h"
#include "handlers/table.h"

static const oid owner_table_oid[] = {CLU_OID_OWNER_TABLE};

static const struct h_column owner_cols[] = {
    {CLU_O_HOST, H_NA, H_SYN_ANY, 0, 0, 0},
    {CLU_O_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct owner_image {
	int unused;
};

static int has_owner(const struct clu_res *r, uint32_t h)
{
	for (size_t i = 0; i < r->nowners; i++)
		if (r->owners[i] == h)
			return 1;
	return 0;
}

/* The smallest owner of r greater than after (0: none). */
static uint32_t owner_after(const struct clu_res *r, uint32_t after)
{
	uint32_t best = 0;

	for (size_t i = 0; i < r->nowners; i++)
		if (r->owners[i] > after && (!best || r->owners[i] < best))
			best = r->owners[i];
	return best;
}

static int owner_next(const uint32_t *after, uint32_t *out)
{
	uint32_t res = after ? after[0] : 0, host = after ? after[1] : 0;
	const struct clu_res *r;

	if (after && (r = clu_res_get(res)) && (out[1] = owner_after(r, host))) {
		out[0] = res;
		return 0;
	}
	while (clu_res_next(res, &res) == 0) {
		r = clu_res_get(res);
		if ((out[1] = owner_after(r, 0))) {
			out[0] = res;
			return 0;
		}
	}
	return -ENOENT;
}

static int owner_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct clu_res *r = clu_res_get(idx[0]);

	(void)vb;
	(void)col;
	if (!r || !has_owner(r, idx[1]))
		return SNMP_NOSUCHINSTANCE;
	return SNMP_NOSUCHOBJECT; /* RowStatus of an engine row: active */
}

static int owner_load(const uint32_t *idx, void *image)
{
	const struct clu_res *r = clu_res_get(idx[0]);

	(void)image;
	return r && has_owner(r, idx[1]) ? 0 : -ENOENT;
}

static int owner_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	(void)image;
	(void)col;
	(void)vb;
	return 0;
}

static const struct h_table_ops owner_ops = {
    .next = owner_next,
    .get = owner_get,
    .load = owner_load,
    .store = owner_store,
    .check = h_clu_txn_check,
    .action = h_clu_txn_action,
    .undo = h_clu_txn_undo,
    .commit = h_clu_txn_commit,
};

struct h_table h_clu_owner_table = {
    .name = "sanCluOwnerTable",
    .root = owner_table_oid,
    .root_len = OID_LENGTH(owner_table_oid),
    .nindex = 2,
    .index_min = 1,
    .cols = owner_cols,
    .ncols = sizeof(owner_cols) / sizeof(owner_cols[0]),
    .rowstatus_col = CLU_O_ROW_STATUS,
    .rank = 3,
    .image_size = sizeof(struct owner_image),
    .writable = 1,
    .ops = &owner_ops,
};

int h_clu_res_tables_init(void)
{
	int rc;

	if ((rc = h_table_register(&h_clu_res_table)) < 0)
		return rc;
	return h_table_register(&h_clu_owner_table);
}

void h_clu_res_tables_shutdown(void)
{
	h_table_unregister(&h_clu_owner_table);
	h_table_unregister(&h_clu_res_table);
}
