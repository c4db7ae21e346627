/* redirCredTable.c: sanRedirCredTable and sanRedirCredNextIndex: the portal's CHAP credentials, write-only secrets. */
#include <config.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "handlers/redirTables.h"
#include "handlers/table.h"

static const oid cred_table_oid[] = {SA_OID_REDIR_CRED_TABLE};
static const oid next_index_oid[] = {SA_OID_REDIR_CRED_NEXT};

static const struct h_column cred_cols[] = {
    {H_CRED_R_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_CRED_R_USER, H_RC, H_SYN_ADMIN_STRING, 0, 1, REDIR_CHAP_USER_MAX},
    /* Write-only: a GET never tells a secret, nor whether there is one. */
    {H_CRED_R_SECRET, H_WO, H_SYN_OCTETS, 0, REDIR_CHAP_SECRET_MIN, REDIR_CHAP_SECRET_MAX},
    {H_CRED_R_INITIATOR, H_RC, H_SYN_ADMIN_STRING, 0, 0, REDIR_NAME_MAX - 1},
    {H_CRED_R_STORAGE, H_RC, H_SYN_STORAGE, 0, 0, 0},
    {H_CRED_R_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

static int cred_next(const uint32_t *after, uint32_t *out)
{
	const struct redir_cred *c = redir_cred_next(after ? after[0] : 0);

	if (!c)
		return -ENOENT;
	out[0] = c->index;
	return 0;
}

static int cred_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redir_cred *c = redir_cred_find(idx[0]);

	if (!c)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_CRED_R_USER: h_set_str(vb, c->user, sizeof(c->user)); break;
	case H_CRED_R_SECRET: h_set_octets(vb, "", 0); break;
	case H_CRED_R_INITIATOR: h_set_str(vb, c->initiator, sizeof(c->initiator)); break;
	case H_CRED_R_STORAGE: h_set_int(vb, c->storage); break;
	case H_CRED_R_ROW_STATUS: h_set_int(vb, RS_ACTIVE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int cred_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redir_cred_spec *w = image;

	switch (col) {
	case H_CRED_R_USER: h_set_str(vb, w->user, sizeof(w->user)); break;
	case H_CRED_R_SECRET: h_set_octets(vb, "", 0); break;
	case H_CRED_R_INITIATOR: h_set_str(vb, w->initiator, sizeof(w->initiator)); break;
	case H_CRED_R_STORAGE: h_set_int(vb, w->storage); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int cred_load(const uint32_t *idx, void *image)
{
	return redir_cred_load(idx[0], image);
}

static void cred_defaults(void *image, const uint32_t *idx)
{
	struct redir_cred_spec *w = image;

	w->index = idx[0];
	w->storage = REDIR_ST_NONVOLATILE; /* DEFVAL { nonVolatile } */
}

static int cred_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct redir_cred_spec *w = image;

	switch (col) {
	case H_CRED_R_USER: return h_put_str(w->user, sizeof(w->user), vb);
	case H_CRED_R_SECRET: return h_put_str(w->secret, sizeof(w->secret), vb);
	case H_CRED_R_INITIATOR: return h_put_str(w->initiator, sizeof(w->initiator), vb);
	case H_CRED_R_STORAGE: return h_put_int(&w->storage, vb);
	default: return 0;
	}
}

static int cred_ready(const void *image)
{
	const struct redir_cred_spec *w = image;

	return w->user[0] && w->secret[0];
}

static int cred_check(struct h_row *row, struct h_txn *txn)
{
	struct redir_cred_spec *w = row->work;

	(void)txn;
	switch (row->op) {
	case H_OP_CREATE:
	case H_OP_UPDATE:
		w->index = row->idx[0];
		/* A secret SET with embedded NULs is cut short by h_put_str: refuse it rather than keep a prefix. */
		if (h_row_changed(row, H_CRED_R_SECRET) && strlen(w->secret) < REDIR_CHAP_SECRET_MIN)
			return -EINVAL;
		return redir_cred_validate(w);
	default: return 0;
	}
}

enum { DONE_PUT = 1u };

static int cred_action(struct h_row *row, struct h_txn *txn)
{
	int rc;

	(void)txn;
	if (row->op != H_OP_CREATE && row->op != H_OP_UPDATE)
		return 0;
	if ((rc = redir_cred_put(row->work)) < 0)
		return rc;
	row->done |= DONE_PUT;
	return 0;
}

static int cred_undo(struct h_row *row)
{
	int rc = 0;

	if (!(row->done & DONE_PUT))
		return 0;
	if (row->op == H_OP_CREATE)
		rc = redir_cred_delete(row->idx[0]);
	else
		rc = redir_cred_put(row->old);
	row->done = 0;
	return rc;
}

static int cred_commit(struct h_row *row)
{
	int rc = 0;

	if (row->op == H_OP_DESTROY)
		rc = redir_cred_delete(row->idx[0]);
	/* Secrets do not outlive the request in the handler's memory. */
	memset(((struct redir_cred_spec *)row->work)->secret, 0, REDIR_CHAP_SECRET_MAX + 1);
	return rc;
}

static const struct h_table_ops cred_ops = {
    .next = cred_next,
    .get = cred_get,
    .get_work = cred_get_work,
    .load = cred_load,
    .defaults = cred_defaults,
    .store = cred_store,
    .ready = cred_ready,
    .check = cred_check,
    .action = cred_action,
    .undo = cred_undo,
    .commit = cred_commit,
};

struct h_table h_redir_cred_table = {
    .name = "sanRedirCredTable",
    .root = cred_table_oid,
    .root_len = OID_LENGTH(cred_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = cred_cols,
    .ncols = sizeof(cred_cols) / sizeof(cred_cols[0]),
    .rowstatus_col = H_CRED_R_ROW_STATUS,
    .storage_col = H_CRED_R_STORAGE,
    .rank = 0,
    .image_size = sizeof(struct redir_cred_spec),
    .writable = 1,
    .ops = &cred_ops,
};

static struct h_next_index next_index = {
    .name = "sanRedirCredNextIndex",
    .root = next_index_oid,
    .root_len = OID_LENGTH(next_index_oid),
    .value = redir_cred_next_index,
    .table = &h_redir_cred_table,
};

int h_redir_cred_table_init(void)
{
	int rc;

	if (h_redir_cred_table.reg)
		return 0;
	if ((rc = h_table_register(&h_redir_cred_table)) < 0)
		return rc;
	if ((rc = h_next_index_register(&next_index)) < 0) {
		h_redir_cred_table_shutdown();
		return rc;
	}
	return 0;
}

void h_redir_cred_table_shutdown(void)
{
	h_next_index_unregister(&next_index);
	h_table_unregister(&h_redir_cred_table);
}
