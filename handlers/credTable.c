/* credTable.c: sanCredTable and sanCredNextIndex of SANAGENT-SESSION-MIB: CHAP credentials with write-only secrets. */
#include <config.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "engines/discovery/discovery.h"
#include "handlers/discTables.h"
#include "handlers/loginTables.h"
#include "handlers/scalars.h"
#include "handlers/table.h"

static const oid cred_table_oid[] = {SA_OID_CRED_TABLE};
static const oid next_index_oid[] = {SA_OID_CRED_NEXT_INDEX};
static const oid default_cred_oid[] = {SA_OID_DEFAULT_CRED};

static const struct h_column cred_cols[] = {
    {H_CRED_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_CRED_USER, H_RC, H_SYN_ADMIN_STRING, 0, 1, DISC_CRED_STR_MAX},
    /* Write-only: a GET never tells a secret, nor whether there is one. */
    {H_CRED_SECRET, H_WO, H_SYN_OCTETS, 0, 0, DISC_CRED_STR_MAX},
    {H_CRED_MUTUAL_USER, H_RC, H_SYN_ADMIN_STRING, 0, 0, DISC_CRED_STR_MAX},
    {H_CRED_MUTUAL_SECRET, H_WO, H_SYN_OCTETS, 0, 0, DISC_CRED_STR_MAX},
    {H_CRED_USERS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_CRED_STORAGE_TYPE, H_RC, H_SYN_STORAGE, 0, 0, 0},
    {H_CRED_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

static int cred_next(const uint32_t *after, uint32_t *out)
{
	const struct disc_cred *c = disc_cred_next(after ? after[0] : 0);

	if (!c)
		return -ENOENT;
	out[0] = c->index;
	return 0;
}

static int cred_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct disc_cred *c = disc_cred_find(idx[0]);

	if (!c)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_CRED_USER: h_set_str(vb, c->user, sizeof(c->user)); break;
	case H_CRED_MUTUAL_USER: h_set_str(vb, c->mutual_user, sizeof(c->mutual_user)); break;
	case H_CRED_SECRET:
	case H_CRED_MUTUAL_SECRET: h_set_octets(vb, "", 0); break;
	case H_CRED_USERS: h_set_u32(vb, ASN_UNSIGNED, c->users); break;
	case H_CRED_STORAGE_TYPE: h_set_int(vb, c->nonvolatile ? ST_NONVOLATILE : ST_VOLATILE); break;
	case H_CRED_ROW_STATUS: h_set_int(vb, c->row); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* The engine keeps credentials in every state (the state file has them). */
static int cred_status(const uint32_t *idx)
{
	const struct disc_cred *c = disc_cred_find(idx[0]);

	return c ? c->row : RS_ACTIVE;
}

static int cred_load(const uint32_t *idx, void *image)
{
	const struct disc_cred *c = disc_cred_find(idx[0]);

	if (!c)
		return -ENOENT;
	*(struct disc_cred *)image = *c;
	return 0;
}

static void cred_defaults(void *image, const uint32_t *idx)
{
	struct disc_cred *w = image;

	w->index = idx[0];
	w->nonvolatile = 1; /* DEFVAL { nonVolatile } */
}

static int cred_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct disc_cred *w = image;
	int v;

	switch (col) {
	case H_CRED_USER: return h_put_str(w->user, sizeof(w->user), vb);
	case H_CRED_SECRET: return h_put_str(w->secret, sizeof(w->secret), vb);
	case H_CRED_MUTUAL_USER: return h_put_str(w->mutual_user, sizeof(w->mutual_user), vb);
	case H_CRED_MUTUAL_SECRET: return h_put_str(w->mutual_secret, sizeof(w->mutual_secret), vb);
	case H_CRED_STORAGE_TYPE:
		v = *vb->val.integer == ST_NONVOLATILE;
		if (v == w->nonvolatile)
			return 0;
		w->nonvolatile = v;
		return 1;
	default: return 0;
	}
}

static int cred_ready(const void *image)
{
	return disc_cred_complete(image);
}

/* Login rows that name cred once the request is applied. */
unsigned int h_cred_users_after(struct h_txn *txn, uint32_t cred)
{
	unsigned int n = 0;

	for (const struct disc_login *l = disc_login_next(0); l; l = disc_login_next(l->index)) {
		const struct h_row *r = h_txn_find(txn, &h_login_table, &l->index);

		if (r ? r->status && ((const struct disc_login *)r->work)->c.cred == cred : l->c.cred == cred)
			n++;
	}
	for (const struct h_row *r = h_txn_next(txn, &h_login_table, NULL); r; r = h_txn_next(txn, &h_login_table, r))
		if (!r->in_engine && r->status && ((const struct disc_login *)r->work)->c.cred == cred)
			n++;
	return n;
}

static int cred_check(struct h_row *row, struct h_txn *txn)
{
	struct disc_cred *w = row->work;
	int rc;

	switch (row->op) {
	case H_OP_CREATE:
	case H_OP_UPDATE:
		/* A credential in use stays usable: change it in place instead. */
		if (row->status != RS_ACTIVE && row->was == H_WAS_ACTIVE && h_cred_users_after(txn, row->idx[0]))
			return -EBUSY;
		if (h_row_changed(row, H_CRED_SECRET) &&
		    (rc = disc_cred_check_secret(w->secret, strlen(w->secret), 0)) < 0)
			return rc;
		if (h_row_changed(row, H_CRED_MUTUAL_SECRET) &&
		    (rc = disc_cred_check_secret(w->mutual_secret, strlen(w->mutual_secret), 1)) < 0)
			return rc;
		w->row = row->status;
		return disc_cred_validate(w);
	case H_OP_DESTROY:
		/* Nor while a discovery source or the initiator-wide default names it. */
		return h_cred_users_after(txn, row->idx[0]) || disc_source_uses_cred(row->idx[0]) ||
		               disc_default_cred() == row->idx[0]
		           ? -EBUSY
		           : 0;
	default: return 0;
	}
}

static int cred_put(const void *image)
{
	return disc_cred_put(image);
}

static const struct h_row_verbs cred_verbs = {
    .put = cred_put,
    .del = disc_cred_delete,
    .status_off = offsetof(struct disc_cred, row),
};

static int cred_commit(struct h_row *row)
{
	struct disc_cred *w = row->work;

	if (row->op != H_OP_DESTROY) {
		/* Secrets do not outlive the request in memory. */
		memset(w->secret, 0, sizeof(w->secret));
		memset(w->mutual_secret, 0, sizeof(w->mutual_secret));
		return 0;
	}
	return disc_cred_delete(row->idx[0]);
}

static const struct h_table_ops cred_ops = {
    .next = cred_next,
    .get = cred_get,
    .status = cred_status,
    .load = cred_load,
    .defaults = cred_defaults,
    .store = cred_store,
    .ready = cred_ready,
    .check = cred_check,
    .verbs = &cred_verbs,
    .commit = cred_commit,
};

struct h_table h_cred_table = {
    .name = "sanCredTable",
    .root = cred_table_oid,
    .root_len = OID_LENGTH(cred_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = cred_cols,
    .ncols = sizeof(cred_cols) / sizeof(cred_cols[0]),
    .rowstatus_col = H_CRED_ROW_STATUS,
    .storage_col = H_CRED_STORAGE_TYPE,
    .rank = 0, /* before the logins that use it; destroyed after them */
    .image_size = sizeof(struct disc_cred),
    .writable = 1,
    .ops = &cred_ops,
};

static struct h_next_index next_index = {
    .name = "sanCredNextIndex",
    .root = next_index_oid,
    .root_len = OID_LENGTH(next_index_oid),
    .value = disc_cred_next_index,
};

/* ---- sanDefaultCredential: the credential of logins and sources that name none ------------------------- */

static const struct h_column default_objs[] = {
    {0, H_RW, H_SYN_UINT, 0, 0, 4294967295L},
};

static int default_get(unsigned int sub, netsnmp_variable_list *vb)
{
	(void)sub;
	h_set_u32(vb, ASN_UNSIGNED, disc_default_cred());
	return SNMP_ERR_NOERROR;
}

static void default_load(void *image)
{
	*(uint32_t *)image = disc_default_cred();
}

static int default_store(void *image, unsigned int sub, const netsnmp_variable_list *vb)
{
	(void)sub;
	return h_put_u32(image, vb);
}

static int default_check(struct h_scalar_txn *x)
{
	/* The credential must exist already (created by an earlier request). */
	return disc_default_cred_check(*(const uint32_t *)x->work);
}

static int default_apply(struct h_scalar_txn *x)
{
	return disc_default_cred_set(*(const uint32_t *)x->work);
}

static int default_undo(struct h_scalar_txn *x)
{
	return disc_default_cred_set(*(const uint32_t *)x->old);
}

static const struct h_scalar_ops default_ops = {
    .get = default_get,
    .load = default_load,
    .store = default_store,
    .check = default_check,
    .apply = default_apply,
    .undo = default_undo,
};

static struct h_scalar_group default_group = {
    .name = "sanDefaultCredential",
    .root = default_cred_oid,
    .root_len = OID_LENGTH(default_cred_oid),
    .objs = default_objs,
    .nobjs = 1,
    .image_size = sizeof(uint32_t),
    .writable = 1,
    .ops = &default_ops,
};

int h_cred_init(void)
{
	int rc;

	if (h_cred_table.reg)
		return 0;
	if ((rc = h_table_register(&h_cred_table)) < 0)
		return rc;
	if ((rc = h_next_index_register(&next_index)) < 0 || (rc = h_scalar_register(&default_group)) < 0) {
		h_cred_shutdown();
		return rc;
	}
	return 0;
}

void h_cred_shutdown(void)
{
	h_scalar_unregister(&default_group);
	h_next_index_unregister(&next_index);
	h_table_unregister(&h_cred_table);
}
