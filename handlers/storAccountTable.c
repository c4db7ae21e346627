/* storAccountTable.c: sanStorAccountNextIndex and sanStorAccountTable, tgt's CHAP accounts with write-only secrets. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid account_table_oid[] = {SA_OID_STOR_ACCOUNT_TABLE};
static const oid account_next_oid[] = {SA_OID_STOR_ACCOUNT_NEXT};

static const struct h_column account_cols[] = {
    {H_SACC_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_SACC_USER, H_RC, H_SYN_ADMIN_STRING, H_COL_NOT_ACTIVE, 1, STOR_USER_MAX - 1},
    /* Write-only: a GET never tells a secret, nor whether there is one. */
    {H_SACC_SECRET, H_WO, H_SYN_OCTETS, H_COL_NOT_ACTIVE, STOR_SECRET_MIN, STOR_SECRET_MAX},
    {H_SACC_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_SACC_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct acc_image {
	char user[STOR_USER_MAX];
	char secret[STOR_SECRET_MAX + 1];
	int storage;
};

static int acc_next(const uint32_t *after, uint32_t *out)
{
	const struct stor_conf *c = stor_conf_next(STOR_K_ACCOUNT, !after, after ? after[0] : 0, UINT32_MAX);

	if (!c)
		return -ENOENT;
	out[0] = c->k[0];
	return 0;
}

static int acc_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_conf *c = stor_conf_find(STOR_K_ACCOUNT, idx[0], 0);

	if (!c)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SACC_USER: h_set_str(vb, c->name, STOR_USER_MAX); break;
	case H_SACC_SECRET: h_set_str(vb, "", 0); break;
	case H_SACC_STORAGE: h_set_int(vb, c->storage); break;
	case H_SACC_ROW_STATUS: h_set_int(vb, c->active ? RS_ACTIVE : RS_NOTINSERVICE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int acc_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct acc_image *w = image;

	switch (col) {
	case H_SACC_USER: h_set_str(vb, w->user, sizeof(w->user)); break;
	case H_SACC_SECRET: h_set_str(vb, "", 0); break;
	case H_SACC_STORAGE: h_set_int(vb, w->storage); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int acc_load(const uint32_t *idx, void *image)
{
	const struct stor_conf *c = stor_conf_find(STOR_K_ACCOUNT, idx[0], 0);
	struct acc_image *w = image;

	if (!c)
		return -ENOENT;
	snprintf(w->user, sizeof(w->user), "%.*s", (int)sizeof(w->user) - 1, c->name);
	snprintf(w->secret, sizeof(w->secret), "%s", c->secret);
	w->storage = c->storage;
	return 0;
}

static void acc_defaults(void *image, const uint32_t *idx)
{
	struct acc_image *w = image;

	(void)idx;
	w->storage = STOR_ST_NONVOLATILE;
}

static int acc_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct acc_image *w = image;

	switch (col) {
	case H_SACC_USER: return h_put_str(w->user, sizeof(w->user), vb);
	case H_SACC_SECRET: return h_put_str(w->secret, sizeof(w->secret), vb);
	case H_SACC_STORAGE: return h_put_int(&w->storage, vb);
	default: return 0;
	}
}

static int acc_ready(const void *image)
{
	const struct acc_image *w = image;

	return w->user[0] && w->secret[0];
}

static void acc_conf(const struct h_row *row, struct stor_conf *c)
{
	const struct acc_image *w = row->work;

	memset(c, 0, sizeof(*c));
	c->kind = STOR_K_ACCOUNT;
	c->k[0] = row->idx[0];
	c->storage = w->storage;
	snprintf(c->name, sizeof(c->name), "%s", w->user);
	snprintf(c->secret, sizeof(c->secret), "%s", w->secret);
}

static int acc_check(struct h_row *row, struct h_txn *txn)
{
	struct stor_conf c;
	int rc;

	(void)txn;
	switch (row->op) {
	case H_OP_CREATE:
		acc_conf(row, &c);
		rc = stor_conf_validate(&c, 0);
		explicit_bzero(c.secret, sizeof(c.secret));
		return rc;
	case H_OP_DESTROY: return stor_conf_validate_destroy(STOR_K_ACCOUNT, row->idx[0], 0, 0);
	default: return 0;
	}
}

static int acc_action(struct h_row *row, struct h_txn *txn)
{
	struct stor_conf c;
	int rc;

	(void)txn;
	if (row->op != H_OP_CREATE)
		return 0;
	acc_conf(row, &c);
	if ((rc = stor_conf_create(&c)) == 0)
		row->done = 1;
	explicit_bzero(c.secret, sizeof(c.secret));
	return rc;
}

static int acc_undo(struct h_row *row)
{
	int rc = row->done ? stor_conf_destroy(STOR_K_ACCOUNT, row->idx[0], 0, 0) : 0;

	row->done = 0;
	return rc;
}

static int acc_commit(struct h_row *row)
{
	if (row->op != H_OP_DESTROY)
		return 0;
	return stor_conf_destroy(STOR_K_ACCOUNT, row->idx[0], 0, 0);
}

static const struct h_table_ops account_ops = {
    .next = acc_next,
    .get = acc_get,
    .get_work = acc_get_work,
    .load = acc_load,
    .defaults = acc_defaults,
    .store = acc_store,
    .ready = acc_ready,
    .check = acc_check,
    .action = acc_action,
    .undo = acc_undo,
    .commit = acc_commit,
};

struct h_table h_stor_account_table = {
    .name = "sanStorAccountTable",
    .root = account_table_oid,
    .root_len = OID_LENGTH(account_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = account_cols,
    .ncols = sizeof(account_cols) / sizeof(account_cols[0]),
    .rowstatus_col = H_SACC_ROW_STATUS,
    .storage_col = H_SACC_STORAGE,
    .rank = 0,
    .image_size = sizeof(struct acc_image),
    .writable = 1,
    .ops = &account_ops,
};

static uint32_t account_next_index(void)
{
	static uint32_t high = 1; /* indexes are not handed out again while the agent runs */
	const struct stor_conf *last = NULL;
	uint32_t v;

	for (const struct stor_conf *c = stor_conf_next(STOR_K_ACCOUNT, 1, 0, 0); c;
	     c = stor_conf_next(STOR_K_ACCOUNT, 0, c->k[0], UINT32_MAX))
		last = c;
	if (last && last->k[0] < UINT32_MAX && last->k[0] + 1 > high)
		high = last->k[0] + 1;
	v = high;
	while (h_table_pending_has(&h_stor_account_table, &v) || stor_conf_find(STOR_K_ACCOUNT, v, 0))
		v++;
	return v;
}

static struct h_next_index next_index = {
    .name = "sanStorAccountNextIndex",
    .root = account_next_oid,
    .root_len = OID_LENGTH(account_next_oid),
    .value = account_next_index,
};

int h_stor_account_table_init(void)
{
	int rc;

	if ((rc = h_next_index_register(&next_index)) < 0)
		return rc;
	return h_table_register(&h_stor_account_table);
}

void h_stor_account_table_shutdown(void)
{
	h_table_unregister(&h_stor_account_table);
	h_next_index_unregister(&next_index);
}
