/* storAclTable.c: sanStorAclTable, the initiators a target lets in, by name or by address (tgt's ACLs). */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid acl_table_oid[] = {SA_OID_STOR_ACL_TABLE};

static const struct h_column acl_cols[] = {
    {H_SACL_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_SACL_KIND, H_RC, H_SYN_INT, H_COL_NOT_ACTIVE, STOR_ACL_NAME, STOR_ACL_ADDRESS},
    {H_SACL_RULE, H_RC, H_SYN_ADMIN_STRING, H_COL_NOT_ACTIVE, 1, STOR_NAME_MAX - 1},
    {H_SACL_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_SACL_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct acl_image {
	int kind;
	char rule[STOR_NAME_MAX];
	int storage;
};

static int acl_next(const uint32_t *after, uint32_t *out)
{
	const struct stor_conf *c = stor_conf_next(STOR_K_ACL, !after, after ? after[0] : 0, after ? after[1] : 0);

	if (!c)
		return -ENOENT;
	out[0] = c->k[0];
	out[1] = c->k[1];
	return 0;
}

static int acl_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_conf *c = stor_conf_find(STOR_K_ACL, idx[0], idx[1]);

	if (!c)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SACL_KIND: h_set_int(vb, c->flag); break;
	case H_SACL_RULE: h_set_str(vb, c->name, STOR_NAME_MAX); break;
	case H_SACL_STORAGE: h_set_int(vb, c->storage); break;
	case H_SACL_ROW_STATUS: h_set_int(vb, c->active ? RS_ACTIVE : RS_NOTINSERVICE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int acl_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct acl_image *w = image;

	switch (col) {
	case H_SACL_KIND: h_set_int(vb, w->kind); break;
	case H_SACL_RULE: h_set_str(vb, w->rule, sizeof(w->rule)); break;
	case H_SACL_STORAGE: h_set_int(vb, w->storage); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int acl_load(const uint32_t *idx, void *image)
{
	const struct stor_conf *c = stor_conf_find(STOR_K_ACL, idx[0], idx[1]);
	struct acl_image *w = image;

	if (!c)
		return -ENOENT;
	w->kind = c->flag;
	snprintf(w->rule, sizeof(w->rule), "%s", c->name);
	w->storage = c->storage;
	return 0;
}

static void acl_defaults(void *image, const uint32_t *idx)
{
	struct acl_image *w = image;

	(void)idx;
	w->kind = STOR_ACL_NAME;
	w->storage = STOR_ST_NONVOLATILE;
}

static int acl_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct acl_image *w = image;

	switch (col) {
	case H_SACL_KIND: return h_put_int(&w->kind, vb);
	case H_SACL_RULE: return h_put_str(w->rule, sizeof(w->rule), vb);
	case H_SACL_STORAGE: return h_put_int(&w->storage, vb);
	default: return 0;
	}
}

static int acl_ready(const void *image)
{
	return ((const struct acl_image *)image)->rule[0] != '\0';
}

static void acl_conf(const struct h_row *row, struct stor_conf *c)
{
	const struct acl_image *w = row->work;

	memset(c, 0, sizeof(*c));
	c->kind = STOR_K_ACL;
	c->k[0] = row->idx[0];
	c->k[1] = row->idx[1];
	c->storage = w->storage;
	c->flag = w->kind;
	snprintf(c->name, sizeof(c->name), "%s", w->rule);
}

static int acl_check(struct h_row *row, struct h_txn *txn)
{
	struct stor_conf c;

	switch (row->op) {
	case H_OP_CREATE:
		acl_conf(row, &c);
		return stor_conf_validate(&c, h_stor_txn_creates(txn, &h_stor_target_table, row->idx[0]));
	case H_OP_DESTROY: return stor_conf_validate_destroy(STOR_K_ACL, row->idx[0], row->idx[1], 0);
	default: return 0;
	}
}

static int acl_action(struct h_row *row, struct h_txn *txn)
{
	struct stor_conf c;
	int rc;

	(void)txn;
	if (row->op != H_OP_CREATE)
		return 0;
	acl_conf(row, &c);
	if ((rc = stor_conf_create(&c)) == 0)
		row->done = 1;
	return rc;
}

static int acl_undo(struct h_row *row)
{
	int rc = row->done ? stor_conf_destroy(STOR_K_ACL, row->idx[0], row->idx[1], 0) : 0;

	row->done = 0;
	return rc;
}

static int acl_commit(struct h_row *row)
{
	if (row->op != H_OP_DESTROY)
		return 0;
	return stor_conf_destroy(STOR_K_ACL, row->idx[0], row->idx[1], 0);
}

static const struct h_table_ops acl_ops = {
    .next = acl_next,
    .get = acl_get,
    .get_work = acl_get_work,
    .load = acl_load,
    .defaults = acl_defaults,
    .store = acl_store,
    .ready = acl_ready,
    .check = acl_check,
    .action = acl_action,
    .undo = acl_undo,
    .commit = acl_commit,
};

static struct h_table acl_table = {
    .name = "sanStorAclTable",
    .root = acl_table_oid,
    .root_len = OID_LENGTH(acl_table_oid),
    .nindex = 2,
    .index_min = 1,
    .cols = acl_cols,
    .ncols = sizeof(acl_cols) / sizeof(acl_cols[0]),
    .rowstatus_col = H_SACL_ROW_STATUS,
    .storage_col = H_SACL_STORAGE,
    .rank = 2,
    .image_size = sizeof(struct acl_image),
    .writable = 1,
    .ops = &acl_ops,
};

int h_stor_acl_table_init(void)
{
	return h_table_register(&acl_table);
}

void h_stor_acl_table_shutdown(void)
{
	h_table_unregister(&acl_table);
}
