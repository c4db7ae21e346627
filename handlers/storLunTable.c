/* storLunTable.c: sanStorLunTable, the LUNs of tgt's targets by target and LUN number, and LUNs created over SNMP. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid lun_table_oid[] = {SA_OID_STOR_LUN_TABLE};

static const struct h_column lun_cols[] = {
    {H_SLUN_NUMBER, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_SIZE, H_RC, H_SYN_UINT, H_COL_NOT_ACTIVE, 0, STOR_SIZE_MAX},
    {H_SLUN_BACKING, H_RC, H_SYN_ADMIN_STRING, H_COL_NOT_ACTIVE, 1, STOR_PATH_MAX - 1},
    {H_SLUN_SERIAL, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_DESIGNATOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_VENDOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_MODEL, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_CAPACITY, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_ID_STATUS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_SLUN_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct lun_image {
	char path[STOR_PATH_MAX];
	uint32_t size_mib;
	int storage;
};

static int lun_next(const uint32_t *after, uint32_t *out)
{
	return stor_lun_row_next(!after, after ? after[0] : 0, after ? after[1] : 0, &out[0], &out[1]);
}

static int lun_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_target *t = stor_target_find(idx[0]);
	const struct stor_lun *l = t ? stor_lun_find(t, idx[1]) : NULL;
	const struct stor_conf *c = stor_conf_find(STOR_K_LUN, idx[0], idx[1]);

	if (!l && !c)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SLUN_TYPE: h_set_str(vb, l ? l->type : "disk", sizeof(l->type)); break;
	case H_SLUN_SIZE: h_set_u32(vb, ASN_UNSIGNED, l ? l->size_mib : c->size_mib); break;
	case H_SLUN_BACKING: h_set_str(vb, l ? l->backing : c->text, STOR_PATH_MAX); break;
	case H_SLUN_SERIAL: h_set_str(vb, l ? l->serial : "", sizeof(l->serial)); break;
	case H_SLUN_DESIGNATOR:
		h_set_octets(vb, l ? (const void *)l->designator : "", l ? l->designator_len : 0);
		break;
	case H_SLUN_VENDOR: h_set_str(vb, l ? l->vendor : "", sizeof(l->vendor)); break;
	case H_SLUN_MODEL: h_set_str(vb, l ? l->model : "", sizeof(l->model)); break;
	case H_SLUN_CAPACITY: h_set_u64(vb, l ? l->capacity : 0); break;
	case H_SLUN_ID_STATUS: h_set_int(vb, l ? stor_lun_identity(l) : STOR_ID_NOT_READ); break;
	case H_SLUN_STORAGE: h_set_int(vb, c ? c->storage : STOR_ST_OTHER); break;
	case H_SLUN_ROW_STATUS: h_set_int(vb, !c || c->active ? RS_ACTIVE : RS_NOTINSERVICE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int lun_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct lun_image *w = image;

	switch (col) {
	case H_SLUN_TYPE: h_set_str(vb, "disk", 4); break;
	case H_SLUN_SIZE: h_set_u32(vb, ASN_UNSIGNED, w->size_mib); break;
	case H_SLUN_BACKING: h_set_str(vb, w->path, sizeof(w->path)); break;
	case H_SLUN_STORAGE: h_set_int(vb, w->storage); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int lun_load(const uint32_t *idx, void *image)
{
	const struct stor_target *t = stor_target_find(idx[0]);
	const struct stor_lun *l = t ? stor_lun_find(t, idx[1]) : NULL;
	const struct stor_conf *c = stor_conf_find(STOR_K_LUN, idx[0], idx[1]);
	struct lun_image *w = image;

	if (!l && !c)
		return -ENOENT;
	snprintf(w->path, sizeof(w->path), "%s", c ? c->text : l->backing);
	w->size_mib = c ? c->size_mib : l->size_mib;
	w->storage = c ? c->storage : STOR_ST_OTHER;
	return 0;
}

static void lun_defaults(void *image, const uint32_t *idx)
{
	struct lun_image *w = image;

	(void)idx;
	w->storage = STOR_ST_NONVOLATILE;
}

static int lun_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct lun_image *w = image;

	switch (col) {
	case H_SLUN_SIZE: return h_put_u32(&w->size_mib, vb);
	case H_SLUN_BACKING: return h_put_str(w->path, sizeof(w->path), vb);
	case H_SLUN_STORAGE: return h_put_int(&w->storage, vb);
	default: return 0;
	}
}

static int lun_ready(const void *image)
{
	return ((const struct lun_image *)image)->path[0] != '\0';
}

static void lun_conf(const struct h_row *row, struct stor_conf *c)
{
	const struct lun_image *w = row->work;

	memset(c, 0, sizeof(*c));
	c->kind = STOR_K_LUN;
	c->k[0] = row->idx[0];
	c->k[1] = row->idx[1];
	c->storage = w->storage;
	c->size_mib = w->size_mib;
	snprintf(c->text, sizeof(c->text), "%s", w->path);
}

static int lun_check(struct h_row *row, struct h_txn *txn)
{
	struct stor_conf c;

	switch (row->op) {
	case H_OP_CREATE:
		lun_conf(row, &c);
		return stor_conf_validate(&c, h_stor_txn_creates(txn, &h_stor_target_table, row->idx[0]));
	case H_OP_DESTROY: return stor_conf_validate_destroy(STOR_K_LUN, row->idx[0], row->idx[1], 0);
	default: return 0;
	}
}

static int lun_action(struct h_row *row, struct h_txn *txn)
{
	struct stor_conf c;
	int rc;

	(void)txn;
	if (row->op != H_OP_CREATE)
		return 0;
	lun_conf(row, &c);
	if ((rc = stor_conf_create(&c)) == 0)
		row->done = 1;
	return rc;
}

static int lun_undo(struct h_row *row)
{
	int rc = row->done ? stor_conf_destroy(STOR_K_LUN, row->idx[0], row->idx[1], 0) : 0;

	row->done = 0;
	return rc;
}

static int lun_commit(struct h_row *row)
{
	if (row->op != H_OP_DESTROY)
		return 0;
	return stor_conf_destroy(STOR_K_LUN, row->idx[0], row->idx[1], 0);
}

static const struct h_table_ops lun_ops = {
    .next = lun_next,
    .get = lun_get,
    .get_work = lun_get_work,
    .load = lun_load,
    .defaults = lun_defaults,
    .store = lun_store,
    .ready = lun_ready,
    .check = lun_check,
    .action = lun_action,
    .undo = lun_undo,
    .commit = lun_commit,
};

static struct h_table lun_table = {
    .name = "sanStorLunTable",
    .root = lun_table_oid,
    .root_len = OID_LENGTH(lun_table_oid),
    .nindex = 2,
    .index_min = 1,
    .cols = lun_cols,
    .ncols = sizeof(lun_cols) / sizeof(lun_cols[0]),
    .rowstatus_col = H_SLUN_ROW_STATUS,
    .storage_col = H_SLUN_STORAGE,
    .rank = 1,
    .image_size = sizeof(struct lun_image),
    .writable = 1,
    .ops = &lun_ops,
};

int h_stor_lun_table_init(void)
{
	return h_table_register(&lun_table);
}

void h_stor_lun_table_shutdown(void)
{
	h_table_unregister(&lun_table);
}
