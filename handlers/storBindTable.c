/* storBindTable.c: sanStorAccountBindTable, which CHAP account a target asks for (incoming) or answers with (outgoing).
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid bind_table_oid[] = {SA_OID_STOR_BIND_TABLE};

static const struct h_column bind_cols[] = {
    {H_SBND_DIRECTION, H_RC, H_SYN_INT, H_COL_NOT_ACTIVE, STOR_BIND_IN, STOR_BIND_OUT},
    {H_SBND_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_SBND_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct bind_image {
	int direction;
	int storage;
};

static int bind_next(const uint32_t *after, uint32_t *out)
{
	const struct stor_conf *c = stor_conf_next(STOR_K_BIND, !after, after ? after[0] : 0, after ? after[1] : 0);

	if (!c)
		return -ENOENT;
	out[0] = c->k[0];
	out[1] = c->k[1];
	return 0;
}

static int bind_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_conf *c = stor_conf_find(STOR_K_BIND, idx[0], idx[1]);

	if (!c)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SBND_DIRECTION: h_set_int(vb, c->flag); break;
	case H_SBND_STORAGE: h_set_int(vb, c->storage); break;
	case H_SBND_ROW_STATUS: h_set_int(vb, c->active ? RS_ACTIVE : RS_NOTINSERVICE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int bind_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct bind_image *w = image;

	switch (col) {
	case H_SBND_DIRECTION: h_set_int(vb, w->direction); break;
	case H_SBND_STORAGE: h_set_int(vb, w->storage); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int bind_load(const uint32_t *idx, void *image)
{
	const struct stor_conf *c = stor_conf_find(STOR_K_BIND, idx[0], idx[1]);
	struct bind_image *w = image;

	if (!c)
		return -ENOENT;
	w->direction = c->flag;
	w->storage = c->storage;
	return 0;
}

static void bind_defaults(void *image, const uint32_t *idx)
{
	struct bind_image *w = image;

	(void)idx;
	w->direction = STOR_BIND_IN;
	w->storage = STOR_ST_NONVOLATILE;
}

static int bind_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct bind_image *w = image;

	switch (col) {
	case H_SBND_DIRECTION: return h_put_int(&w->direction, vb);
	case H_SBND_STORAGE: return h_put_int(&w->storage, vb);
	default: return 0;
	}
}

static int bind_ready(const void *image)
{
	(void)image;
	return 1;
}

static void bind_conf(const struct h_row *row, struct stor_conf *c)
{
	const struct bind_image *w = row->work;

	memset(c, 0, sizeof(*c));
	c->kind = STOR_K_BIND;
	c->k[0] = row->idx[0];
	c->k[1] = row->idx[1];
	c->storage = w->storage;
	c->flag = w->direction;
}

static int bind_check(struct h_row *row, struct h_txn *txn)
{
	struct stor_conf c;

	switch (row->op) {
	case H_OP_CREATE:
		bind_conf(row, &c);
		/* The target and the account may come in the same request: then they are checked there. */
		if (h_stor_txn_creates(txn, &h_stor_target_table, row->idx[0]) ||
		    h_stor_txn_creates(txn, &h_stor_account_table, row->idx[1]))
			return stor_conf_validate(&c, 1);
		return stor_conf_validate(&c, 0);
	case H_OP_DESTROY: return stor_conf_validate_destroy(STOR_K_BIND, row->idx[0], row->idx[1], 0);
	default: return 0;
	}
}

static int bind_action(struct h_row *row, struct h_txn *txn)
{
	struct stor_conf c;
	int rc;

	(void)txn;
	if (row->op != H_OP_CREATE)
		return 0;
	bind_conf(row, &c);
	if ((rc = stor_conf_create(&c)) == 0)
		row->done = 1;
	return rc;
}

static int bind_undo(struct h_row *row)
{
	int rc = row->done ? stor_conf_destroy(STOR_K_BIND, row->idx[0], row->idx[1], 0) : 0;

	row->done = 0;
	return rc;
}

static int bind_commit(struct h_row *row)
{
	if (row->op != H_OP_DESTROY)
		return 0;
	return stor_conf_destroy(STOR_K_BIND, row->idx[0], row->idx[1], 0);
}

static const struct h_table_ops bind_ops = {
    .next = bind_next,
    .get = bind_get,
    .get_work = bind_get_work,
    .load = bind_load,
    .defaults = bind_defaults,
    .store = bind_store,
    .ready = bind_ready,
    .check = bind_check,
    .action = bind_action,
    .undo = bind_undo,
    .commit = bind_commit,
};

static struct h_table bind_table = {
    .name = "sanStorAccountBindTable",
    .root = bind_table_oid,
    .root_len = OID_LENGTH(bind_table_oid),
    .nindex = 2,
    .index_min = 1,
    .cols = bind_cols,
    .ncols = sizeof(bind_cols) / sizeof(bind_cols[0]),
    .rowstatus_col = H_SBND_ROW_STATUS,
    .storage_col = H_SBND_STORAGE,
    .rank = 2,
    .image_size = sizeof(struct bind_image),
    .writable = 1,
    .ops = &bind_ops,
};

int h_stor_bind_table_init(void)
{
	return h_table_register(&bind_table);
}

void h_stor_bind_table_shutdown(void)
{
	h_table_unregister(&bind_table);
}
