/* storTargetTable.c: sanStorTargetTable, tgt's targets with their counters, and targets created over SNMP (RowStatus).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handlers/table.h"
#include "handlers/storTables.h"

static const oid target_table_oid[] = {SA_OID_STOR_TARGET_TABLE};

static const struct h_column target_cols[] = {
    {H_STGT_TID, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_STGT_NAME, H_RC, H_SYN_ISCSI_NAME, H_COL_NOT_ACTIVE, 5, STOR_NAME_MAX - 1},
    {H_STGT_LUNS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_STGT_SESSIONS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_STGT_READ_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_STGT_WRITE_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_STGT_READ_CMDS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_STGT_WRITE_CMDS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_STGT_ALIAS, H_RC, H_SYN_ADMIN_STRING, 0, 0, STOR_ALIAS_MAX - 1},
    {H_STGT_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_STGT_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
    {H_STGT_FORCE, H_RC, H_SYN_TRUTH, H_COL_WITH_DESTROY, 0, 0},
};

struct tgt_image {
	char name[STOR_NAME_MAX];
	char alias[STOR_ALIAS_MAX];
	int storage;
	int force; /* 1: a destroy in the same request may end the target's sessions */
};

static int tgt_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_target *t = stor_target_find(idx[0]);
	const struct stor_conf *c = stor_conf_find(STOR_K_TARGET, idx[0], 0);

	if (!t && !c)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_STGT_NAME: h_set_str(vb, c ? c->name : t->name, STOR_NAME_MAX); break;
	case H_STGT_LUNS: h_set_u32(vb, ASN_UNSIGNED, t ? (uint32_t)t->nluns : 0); break;
	case H_STGT_SESSIONS: h_set_u32(vb, ASN_UNSIGNED, t ? (uint32_t)t->nsessions : 0); break;
	case H_STGT_READ_BYTES: h_set_u64(vb, t ? t->ctr.rd_bytes : 0); break;
	case H_STGT_WRITE_BYTES: h_set_u64(vb, t ? t->ctr.wr_bytes : 0); break;
	case H_STGT_READ_CMDS: h_set_u64(vb, t ? t->ctr.rd_cmds : 0); break;
	case H_STGT_WRITE_CMDS: h_set_u64(vb, t ? t->ctr.wr_cmds : 0); break;
	case H_STGT_ALIAS: h_set_str(vb, c ? c->text : "", STOR_ALIAS_MAX); break;
	case H_STGT_STORAGE: h_set_int(vb, c ? c->storage : STOR_ST_OTHER); break;
	/* Configured but not (yet, or no longer) in tgt: the agent is applying it. */
	case H_STGT_ROW_STATUS: h_set_int(vb, !c || c->active ? RS_ACTIVE : RS_NOTINSERVICE); break;
	case H_STGT_FORCE: h_set_int(vb, 2); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int tgt_next(const uint32_t *after, uint32_t *out)
{
	return stor_target_row_next(!after, after ? after[0] : 0, &out[0]);
}

static int tgt_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct tgt_image *w = image;

	switch (col) {
	case H_STGT_NAME: h_set_str(vb, w->name, sizeof(w->name)); break;
	case H_STGT_ALIAS: h_set_str(vb, w->alias, sizeof(w->alias)); break;
	case H_STGT_STORAGE: h_set_int(vb, w->storage); break;
	case H_STGT_FORCE: h_set_int(vb, w->force ? 1 : 2); break;
	case H_STGT_LUNS:
	case H_STGT_SESSIONS: h_set_u32(vb, ASN_UNSIGNED, 0); break;
	case H_STGT_READ_BYTES:
	case H_STGT_WRITE_BYTES:
	case H_STGT_READ_CMDS:
	case H_STGT_WRITE_CMDS: h_set_u64(vb, 0); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int tgt_load(const uint32_t *idx, void *image)
{
	const struct stor_target *t = stor_target_find(idx[0]);
	const struct stor_conf *c = stor_conf_find(STOR_K_TARGET, idx[0], 0);
	struct tgt_image *w = image;

	if (!t && !c)
		return -ENOENT;
	snprintf(w->name, sizeof(w->name), "%s", c ? c->name : t->name);
	snprintf(w->alias, sizeof(w->alias), "%s", c ? c->text : "");
	w->storage = c ? c->storage : STOR_ST_OTHER;
	w->force = 0;
	return 0;
}

static void tgt_defaults(void *image, const uint32_t *idx)
{
	struct tgt_image *w = image;

	(void)idx;
	w->storage = STOR_ST_NONVOLATILE;
}

static int tgt_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct tgt_image *w = image;

	switch (col) {
	case H_STGT_NAME: return h_put_str(w->name, sizeof(w->name), vb);
	case H_STGT_ALIAS: return h_put_str(w->alias, sizeof(w->alias), vb);
	case H_STGT_STORAGE: return h_put_int(&w->storage, vb);
	case H_STGT_FORCE: return h_put_bool(&w->force, vb);
	default: return 0;
	}
}

static int tgt_ready(const void *image)
{
	return ((const struct tgt_image *)image)->name[0] != '\0';
}

static void tgt_conf(const struct h_row *row, struct stor_conf *c)
{
	const struct tgt_image *w = row->work;

	memset(c, 0, sizeof(*c));
	c->kind = STOR_K_TARGET;
	c->k[0] = row->idx[0];
	c->storage = w->storage;
	snprintf(c->name, sizeof(c->name), "%s", w->name);
	snprintf(c->text, sizeof(c->text), "%s", w->alias);
}

static int tgt_check(struct h_row *row, struct h_txn *txn)
{
	const struct tgt_image *w = row->work, *o = row->old;
	struct stor_conf c;

	(void)txn;
	switch (row->op) {
	case H_OP_CREATE: tgt_conf(row, &c); return stor_conf_validate(&c, 0);
	case H_OP_DESTROY: return stor_conf_validate_destroy(STOR_K_TARGET, row->idx[0], 0, w->force);
	case H_OP_UPDATE:
		/* Only the alias of an active row changes; the force flag is read by a destroy only. */
		if (strcmp(w->alias, o->alias) != 0 && !stor_conf_find(STOR_K_TARGET, row->idx[0], 0))
			return -EPERM;
		return strpbrk(w->alias, "\t\r\n") ? -EINVAL : 0;
	default: return 0;
	}
}

static int tgt_action(struct h_row *row, struct h_txn *txn)
{
	const struct tgt_image *w = row->work, *o = row->old;
	struct stor_conf c;
	int rc = 0;

	(void)txn;
	if (row->op == H_OP_CREATE) {
		tgt_conf(row, &c);
		if ((rc = stor_conf_create(&c)) == 0)
			row->done |= 1;
	} else if (row->op == H_OP_UPDATE && strcmp(w->alias, o->alias) != 0) {
		if ((rc = stor_conf_set_alias(row->idx[0], w->alias)) == 0)
			row->done |= 2;
	}
	return rc;
}

static int tgt_undo(struct h_row *row)
{
	const struct tgt_image *o = row->old;
	int rc = 0;

	/* Nothing reached tgt yet: the jobs run after the request. */
	if (row->done & 1)
		rc = stor_conf_destroy(STOR_K_TARGET, row->idx[0], 0, 0);
	if (row->done & 2)
		rc = stor_conf_set_alias(row->idx[0], o->alias);
	row->done = 0;
	return rc;
}

static int tgt_commit(struct h_row *row)
{
	const struct tgt_image *w = row->work;

	if (row->op != H_OP_DESTROY)
		return 0;
	return stor_conf_destroy(STOR_K_TARGET, row->idx[0], 0, w->force);
}

static const struct h_table_ops target_ops = {
    .next = tgt_next,
    .get = tgt_get,
    .get_work = tgt_get_work,
    .load = tgt_load,
    .defaults = tgt_defaults,
    .store = tgt_store,
    .ready = tgt_ready,
    .check = tgt_check,
    .action = tgt_action,
    .undo = tgt_undo,
    .commit = tgt_commit,
};

struct h_table h_stor_target_table = {
    .name = "sanStorTargetTable",
    .root = target_table_oid,
    .root_len = OID_LENGTH(target_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = target_cols,
    .ncols = sizeof(target_cols) / sizeof(target_cols[0]),
    .rowstatus_col = H_STGT_ROW_STATUS,
    .storage_col = H_STGT_STORAGE,
    .rank = 0,
    .image_size = sizeof(struct tgt_image),
    .writable = 1,
    .ops = &target_ops,
};

int h_stor_target_tables_init(void)
{
	int rc;

	if ((rc = h_table_register(&h_stor_target_table)) < 0 || (rc = h_stor_lun_table_init()) < 0 ||
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
	h_table_unregister(&h_stor_target_table);
}
