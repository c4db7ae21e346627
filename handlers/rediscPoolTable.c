/* rediscPoolTable.c: sanRediscPoolNextIndex and sanRediscPoolTable, the replacement addresses (RowStatus). */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/redisc.h"
#include "handlers/table.h"

static const oid pool_table_oid[] = {REDISC_OID_POOL_TABLE};
static const oid pool_next_oid[] = {REDISC_OID_POOL_NEXT};

enum { POOL_FREE = 1, POOL_IN_USE = 2 };

static const struct h_column pool_cols[] = {
    {REDISC_PC_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {REDISC_PC_ADDR_TYPE, H_RC, H_SYN_INT, H_COL_NOT_ACTIVE, 1, 2},
    {REDISC_PC_ADDR, H_RC, H_SYN_INET_ADDR, H_COL_NOT_ACTIVE, 0, 0},
    {REDISC_PC_PORT, H_RC, H_SYN_UINT, H_COL_NOT_ACTIVE, 0, 65535},
    {REDISC_PC_IFACE, H_RC, H_SYN_ADMIN_STRING, H_COL_NOT_ACTIVE, 0, REDISC_IFACE_MAX - 1},
    {REDISC_PC_STATE, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_PC_DECISION, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_PC_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {REDISC_PC_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct pool_image {
	struct h_redisc_portal p;
	char iface[REDISC_IFACE_MAX];
	int storage;
};

static int pool_next(const uint32_t *after, uint32_t *out)
{
	const struct redisc_pool *e = redisc_pool_next(after ? after[0] : 0);

	if (!e)
		return -ENOENT;
	out[0] = e->index;
	return 0;
}

static int pool_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redisc_pool *e = redisc_pool_find(idx[0]);

	if (!e)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case REDISC_PC_ADDR_TYPE: h_set_int(vb, e->addr.type); break;
	case REDISC_PC_ADDR: h_redisc_set_addr(vb, &e->addr); break;
	case REDISC_PC_PORT: h_set_u32(vb, ASN_UNSIGNED, e->addr.port); break;
	case REDISC_PC_IFACE: h_set_str(vb, e->iface, REDISC_IFACE_MAX - 1); break;
	case REDISC_PC_STATE: h_set_int(vb, e->decision ? POOL_IN_USE : POOL_FREE); break;
	case REDISC_PC_DECISION: h_set_u32(vb, ASN_UNSIGNED, e->decision); break;
	case REDISC_PC_STORAGE: h_set_int(vb, e->storage); break;
	case REDISC_PC_ROW_STATUS: return SNMP_NOSUCHOBJECT; /* an engine row is active */
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int pool_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct pool_image *w = image;

	switch (col) {
	case REDISC_PC_ADDR_TYPE: h_set_int(vb, w->p.type); break;
	case REDISC_PC_ADDR: h_set_octets(vb, w->p.addr, w->p.len); break;
	case REDISC_PC_PORT: h_set_u32(vb, ASN_UNSIGNED, w->p.port); break;
	case REDISC_PC_IFACE: h_set_str(vb, w->iface, REDISC_IFACE_MAX - 1); break;
	case REDISC_PC_STATE: h_set_int(vb, POOL_FREE); break;
	case REDISC_PC_DECISION: h_set_u32(vb, ASN_UNSIGNED, 0); break;
	case REDISC_PC_STORAGE: h_set_int(vb, w->storage); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int pool_load(const uint32_t *idx, void *image)
{
	const struct redisc_pool *e = redisc_pool_find(idx[0]);
	struct pool_image *w = image;

	if (!e)
		return -ENOENT;
	h_redisc_portal_load(&w->p, &e->addr);
	snprintf(w->iface, sizeof(w->iface), "%s", e->iface);
	w->storage = e->storage;
	return 0;
}

static void pool_defaults(void *image, const uint32_t *idx)
{
	struct pool_image *w = image;

	(void)idx;
	w->storage = REDISC_ST_NONVOLATILE;
}

static int pool_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct pool_image *w = image;

	switch (col) {
	case REDISC_PC_ADDR_TYPE: return h_put_long(&w->p.type, vb);
	case REDISC_PC_ADDR: return h_put_octets(w->p.addr, &w->p.len, sizeof(w->p.addr), vb);
	case REDISC_PC_PORT: return h_put_u32(&w->p.port, vb);
	case REDISC_PC_IFACE: return h_put_str(w->iface, sizeof(w->iface), vb);
	case REDISC_PC_STORAGE: return h_put_int(&w->storage, vb);
	default: return 0;
	}
}

static int pool_ready(const void *image)
{
	const struct pool_image *w = image;

	return h_redisc_portal_ready(&w->p);
}

static int pool_check(struct h_row *row, struct h_txn *txn)
{
	const struct pool_image *w = row->work;
	struct redisc_addr a;

	(void)txn;
	if (row->op == H_OP_DESTROY)
		return redisc_pool_destroy_check(row->idx[0]);
	if (row->op != H_OP_CREATE)
		return 0; /* nothing of an active row changes but through destroy */
	h_redisc_portal_to_addr(&w->p, &a);
	return redisc_pool_validate(row->idx[0], &a, w->iface, w->storage);
}

static int pool_action(struct h_row *row, struct h_txn *txn)
{
	const struct pool_image *w = row->work;
	struct redisc_addr a;
	int rc;

	(void)txn;
	if (row->op != H_OP_CREATE)
		return 0;
	h_redisc_portal_to_addr(&w->p, &a);
	if ((rc = redisc_pool_create(row->idx[0], &a, w->iface, w->storage)) == 0)
		row->done = 1;
	return rc;
}

static int pool_undo(struct h_row *row)
{
	int rc = row->done ? redisc_pool_destroy(row->idx[0]) : 0;

	row->done = 0;
	return rc;
}

static int pool_commit(struct h_row *row)
{
	return row->op == H_OP_DESTROY ? redisc_pool_destroy(row->idx[0]) : 0;
}

static const struct h_table_ops pool_ops = {
    .next = pool_next,
    .get = pool_get,
    .get_work = pool_get_work,
    .load = pool_load,
    .defaults = pool_defaults,
    .store = pool_store,
    .ready = pool_ready,
    .check = pool_check,
    .action = pool_action,
    .undo = pool_undo,
    .commit = pool_commit,
};

static struct h_table pool_table = {
    .name = "sanRediscPoolTable",
    .root = pool_table_oid,
    .root_len = OID_LENGTH(pool_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = pool_cols,
    .ncols = sizeof(pool_cols) / sizeof(pool_cols[0]),
    .rowstatus_col = REDISC_PC_ROW_STATUS,
    .storage_col = REDISC_PC_STORAGE,
    .image_size = sizeof(struct pool_image),
    .writable = 1,
    .ops = &pool_ops,
};

static struct h_next_index next_index = {
    .name = "sanRediscPoolNextIndex",
    .root = pool_next_oid,
    .root_len = OID_LENGTH(pool_next_oid),
    .value = redisc_pool_next_index,
    .table = &pool_table,
};

int h_redisc_pool_table_init(void)
{
	int rc;

	if ((rc = h_next_index_register(&next_index)) < 0)
		return rc;
	return h_table_register(&pool_table);
}

void h_redisc_pool_table_shutdown(void)
{
	h_table_unregister(&pool_table);
	h_next_index_unregister(&next_index);
}
