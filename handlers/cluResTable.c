/* cluResTable.c: sanCluResTable, the CRT (rows come from membership and probes; their ownership is read-write),
 * and the one ownership change a SET request makes over it and sanCluOwnerTable together. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "engines/cluster/clu_mib.h"
#include "engines/cluster/cluster.h"
#include "handlers/cluTables.h"
#include "handlers/table.h"

static const oid res_table_oid[] = {CLU_OID_RES_TABLE};

static const struct h_column res_cols[] = {
    {CLU_R_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {CLU_R_GUID, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_ADDRESS, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_NUMBER, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_PARENT, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_OWNERSHIP, H_RW, H_SYN_INT, 0, CLU_UNALLOCATED, CLU_DEDICATED},
    {CLU_R_VERSION, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_NAME, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_VENDOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_MODEL, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_SIZE, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_VALID, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_R_PATHS, H_RO, H_SYN_ANY, 0, 0, 0},
};

struct res_image {
	int ownership;
};

static int res_next(const uint32_t *after, uint32_t *out)
{
	return clu_res_next(after ? after[0] : 0, out);
}

int h_clu_res_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct clu_res *r = clu_res_get(index);

	if (!r)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case CLU_R_GUID: h_set_octets(vb, r->guid, r->guid_len); break;
	case CLU_R_TYPE: h_set_int(vb, r->type); break;
	case CLU_R_ADDRESS: h_set_str(vb, r->address, CLU_ADDR_MAX - 1); break;
	case CLU_R_NUMBER: h_set_u32(vb, ASN_UNSIGNED, r->number); break;
	case CLU_R_PARENT: h_set_u32(vb, ASN_UNSIGNED, r->parent); break;
	case CLU_R_OWNERSHIP: h_set_int(vb, r->ownership); break;
	case CLU_R_VERSION: h_set_u32(vb, ASN_UNSIGNED, r->version); break;
	case CLU_R_NAME: h_set_str(vb, r->name, CLU_NAME_MAX - 1); break;
	case CLU_R_VENDOR: h_set_str(vb, r->vendor, sizeof(r->vendor) - 1); break;
	case CLU_R_MODEL: h_set_str(vb, r->model, sizeof(r->model) - 1); break;
	case CLU_R_SIZE: h_set_u64(vb, r->size); break;
	case CLU_R_VALID: h_set_int(vb, r->valid ? 1 : 2); break;
	case CLU_R_PATHS: h_set_u32(vb, ASN_UNSIGNED, r->paths); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* CounterBasedGauge64 travels as Counter64. */
static int res_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_clu_res_get(idx[0], col, vb);
}

static int res_load(const uint32_t *idx, void *image)
{
	const struct clu_res *r = clu_res_get(idx[0]);

	if (!r)
		return -ENOENT;
	((struct res_image *)image)->ownership = r->ownership;
	return 0;
}

static int res_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	return col == CLU_R_OWNERSHIP ? h_put_int(&((struct res_image *)image)->ownership, vb) : 0;
}

/* ---- one change per request, over both tables ---------------------------------------------------------- */

/* The request's change, computed when it is checked (RESERVE2) and applied once by whichever row's ACTION or
 * COMMIT comes first; what it replaced, for UNDO. */
static struct {
	struct clu_change *ch, *undo;
	size_t n, nundo;
	int valid, applied;
} cur;

static struct clu_change *change_for(struct clu_change **v, size_t *n, uint32_t index)
{
	const struct clu_res *r = clu_res_get(index);
	struct clu_change *nv, *c;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].index == index)
			return &(*v)[i];
	if (!r || !(nv = realloc(*v, (*n + 1) * sizeof(*nv))))
		return NULL;
	*v = nv;
	c = &nv[(*n)++];
	memset(c, 0, sizeof(*c));
	c->index = index;
	c->nowners = r->nowners;
	memcpy(c->owners, r->owners, r->nowners * sizeof(uint32_t));
	return c;
}

static int owners_add(struct clu_change *c, uint32_t h)
{
	for (size_t i = 0; i < c->nowners; i++)
		if (c->owners[i] == h)
			return 0;
	if (c->nowners == CLU_MAX_OWNERS)
		return -EINVAL;
	c->owners[c->nowners++] = h;
	return 0;
}

static void owners_del(struct clu_change *c, uint32_t h)
{
	for (size_t i = 0; i < c->nowners; i++)
		if (c->owners[i] == h) {
			memmove(&c->owners[i], &c->owners[i + 1], (c->nowners - i - 1) * sizeof(uint32_t));
			c->nowners--;
			return;
		}
}

static int creates_owner(struct h_txn *txn, uint32_t index)
{
	for (struct h_row *row = NULL; (row = h_txn_next(txn, &h_clu_owner_table, row));)
		if (row->op == H_OP_CREATE && row->idx[0] == index)
			return 1;
	return 0;
}

static int build(struct h_txn *txn, struct clu_change **out, size_t *nout)
{
	struct clu_change *v = NULL, *c;
	size_t n = 0;
	int rc = 0;

	for (struct h_row *row = NULL; (row = h_txn_next(txn, &h_clu_res_table, row));) {
		if (row->op != H_OP_UPDATE || !h_row_changed(row, CLU_R_OWNERSHIP))
			continue;
		if (!(c = change_for(&v, &n, row->idx[0]))) {
			rc = clu_res_get(row->idx[0]) ? -ENOMEM : -ENOENT;
			goto fail;
		}
		c->ownership = ((const struct res_image *)row->work)->ownership;
	}
	for (struct h_row *row = NULL; (row = h_txn_next(txn, &h_clu_owner_table, row));) {
		if (row->op == H_OP_PENDING) {
			rc = -EINVAL; /* createAndWait is not supported: wrongValue */
			goto fail;
		}
		if (row->op != H_OP_CREATE && row->op != H_OP_DESTROY)
			continue;
		if (!(c = change_for(&v, &n, row->idx[0]))) {
			rc = clu_res_get(row->idx[0]) ? -ENOMEM : -ENOENT;
			goto fail;
		}
		c->set_owners = 1;
		if (row->op == H_OP_DESTROY)
			owners_del(c, row->idx[1]);
		else if ((rc = owners_add(c, row->idx[1])) < 0)
			goto fail;
	}
	/* unallocated(1) alone drops the owner list; with owner rows created it is a contradiction the rules catch. */
	for (size_t i = 0; i < n; i++)
		if (v[i].ownership == CLU_UNALLOCATED && v[i].set_owners && !creates_owner(txn, v[i].index))
			v[i].set_owners = 0;
	*out = v;
	*nout = n;
	return 0;
fail:
	free(v);
	return rc;
}

/* The first row of the request that does something: the change is checked there, once. */
static const struct h_row *first_row(struct h_txn *txn)
{
	const struct h_table *t[] = {&h_clu_res_table, &h_clu_owner_table};

	for (size_t i = 0; i < 2; i++)
		for (struct h_row *row = NULL; (row = h_txn_next(txn, t[i], row));)
			if (row->op != H_OP_NONE)
				return row;
	return NULL;
}

int h_clu_txn_check(struct h_row *row, struct h_txn *txn)
{
	int rc;

	if (row->table == &h_clu_owner_table && row->op == H_OP_PENDING)
		return -EINVAL;
	if (row != first_row(txn))
		return 0;
	free(cur.ch);
	free(cur.undo);
	memset(&cur, 0, sizeof(cur));
	if (!clu_running())
		return -ENODEV;
	if ((rc = build(txn, &cur.ch, &cur.n)) < 0)
		return rc;
	if ((rc = clu_check(cur.ch, cur.n)) < 0)
		return rc;
	cur.valid = 1;
	return 0;
}

/* What the change replaces: its rows and, when devices follow their controller, the devices it carries. */
static int snapshot(void)
{
	size_t cap = cur.n;

	free(cur.undo);
	cur.nundo = 0;
	if (!(cur.undo = calloc(cap ? cap : 1, sizeof(*cur.undo))))
		return -ENOMEM;
	for (uint32_t i = 0; clu_res_next(i, &i) == 0;) {
		const struct clu_res *r = clu_res_get(i);
		int take = 0;

		for (size_t k = 0; k < cur.n && !take; k++)
			take = cur.ch[k].index == i || (clu_granularity() == CLU_GRAN_CONTROLLER &&
			                                r->type == CLU_DEVICE && r->parent == cur.ch[k].index);
		if (!take)
			continue;
		if (cur.nundo == cap) {
			struct clu_change *nv = realloc(cur.undo, (cap * 2 + 1) * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			cur.undo = nv;
			cap = cap * 2 + 1;
		}
		memset(&cur.undo[cur.nundo], 0, sizeof(cur.undo[0]));
		cur.undo[cur.nundo].index = i;
		cur.undo[cur.nundo].ownership = r->ownership;
		cur.undo[cur.nundo].set_owners = 1;
		cur.undo[cur.nundo].nowners = r->nowners;
		memcpy(cur.undo[cur.nundo].owners, r->owners, r->nowners * sizeof(uint32_t));
		cur.nundo++;
	}
	return 0;
}

static int apply_once(struct h_row *row)
{
	int rc;

	if (!cur.valid || cur.applied)
		return 0;
	if ((rc = snapshot()) < 0)
		return rc;
	if ((rc = clu_apply(cur.ch, cur.n)) < 0)
		return rc;
	cur.applied = 1;
	row->done = 1;
	return 0;
}

int h_clu_txn_action(struct h_row *row, struct h_txn *txn)
{
	(void)txn;
	return apply_once(row);
}

int h_clu_txn_undo(struct h_row *row)
{
	int rc = 0;

	if (row->done && cur.applied) {
		/* Back as it was: another version, so that peers that saw the change see it go. */
		rc = clu_apply(cur.undo, cur.nundo);
		cur.applied = 0;
	}
	row->done = 0;
	return rc;
}

/* A request of owner destroys only has no ACTION: the change goes in at its end (table.h: commit). */
int h_clu_txn_commit(struct h_row *row)
{
	int rc = apply_once(row);

	if (rc < 0)
		cm_log(CM_LOG_ERR, "handlers", "sanCluOwnerTable: change not applied: %s", strerror(-rc));
	return rc;
}

static const struct h_table_ops res_ops = {
    .next = res_next,
    .get = res_get,
    .load = res_load,
    .store = res_store,
    .check = h_clu_txn_check,
    .action = h_clu_txn_action,
    .undo = h_clu_txn_undo,
    .commit = h_clu_txn_commit,
};

struct h_table h_clu_res_table = {
    .name = "sanCluResTable",
    .root = res_table_oid,
    .root_len = OID_LENGTH(res_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = res_cols,
    .ncols = sizeof(res_cols) / sizeof(res_cols[0]),
    .rank = 2,
    .image_size = sizeof(struct res_image),
    .writable = 1,
    .ops = &res_ops,
};
