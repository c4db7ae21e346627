/* loginTable.c: sanLoginTable and sanLoginNextIndex of SANAGENT-SESSION-MIB: the logins the connection manager keeps.
 */
#include <config.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"
#include "handlers/loginTables.h"
#include "handlers/table.h"

#define TAG "handlers"

static const oid login_table_oid[] = {SA_OID_LOGIN_TABLE};
static const oid next_index_oid[] = {SA_OID_LOGIN_NEXT_INDEX};

/* The engine keeps a row's RowStatus as the framework leaves it. */
_Static_assert(DISC_ROW_ACTIVE == RS_ACTIVE && DISC_ROW_NOT_IN_SERVICE == RS_NOTINSERVICE &&
                   DISC_ROW_NOT_READY == RS_NOTREADY,
               "enum disc_row holds RowStatus values");

static const struct h_column login_cols[] = {
    {H_LOGIN_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_LOGIN_TARGET, H_RC, H_SYN_ISCSI_NAME, 0, 0, DISC_LOGIN_TARGET_MAX},
    {H_LOGIN_ADDR_TYPE, H_RC, H_SYN_INT, 0, DISC_ADDR_UNKNOWN, DISC_ADDR_IPV6}, /* ipv4z, ipv6z, dns are no portals */
    {H_LOGIN_ADDR, H_RC, H_SYN_INET_ADDR, H_COL_EMPTY_OK, 0, 0},
    {H_LOGIN_PORT, H_RC, H_SYN_UINT, 0, 0, 65535},
    {H_LOGIN_ADAPTER, H_RC, H_SYN_OCTETS, 0, 0, DISC_LOGIN_ADAPTER_MAX},
    {H_LOGIN_CREDENTIAL, H_RC, H_SYN_UINT, 0, 0, UINT32_MAX},
    {H_LOGIN_LUN, H_RC, H_SYN_UINT, 0, 0, 16383},
    {H_LOGIN_PERSISTENT, H_RC, H_SYN_TRUTH, 0, 0, 0},
    {H_LOGIN_ADMIN, H_RC, H_SYN_INT, 0, SA_ADMIN_UP, SA_ADMIN_DOWN},
    {H_LOGIN_OPER, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_LOGIN_LAST_RESULT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_LOGIN_LAST_STATUS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_LOGIN_LAST_CHANGE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_LOGIN_TEAM, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_LOGIN_PATHS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_LOGIN_STORAGE_TYPE, H_RC, H_SYN_STORAGE, 0, 0, 0},
    {H_LOGIN_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
    {H_LOGIN_KIND, H_RC, H_SYN_INT, 0, DISC_LOGIN_NORMAL, DISC_LOGIN_INFORMATIONAL},
};

int h_login_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct disc_login *l = disc_login_find(index);
	u_char dt[H_DATE_AND_TIME_LEN];

	if (!l)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_LOGIN_TARGET: h_set_str(vb, l->c.target, sizeof(l->c.target)); break;
	case H_LOGIN_ADDR_TYPE: h_set_int(vb, l->c.addr_type); break;
	case H_LOGIN_ADDR: h_set_octets(vb, l->c.addr, l->c.addr_len); break;
	case H_LOGIN_PORT: h_set_u32(vb, ASN_UNSIGNED, l->c.port); break;
	case H_LOGIN_ADAPTER: h_set_str(vb, l->c.adapter, sizeof(l->c.adapter)); break;
	case H_LOGIN_CREDENTIAL: h_set_u32(vb, ASN_UNSIGNED, l->c.cred); break;
	case H_LOGIN_LUN: h_set_u32(vb, ASN_UNSIGNED, l->c.lun); break;
	case H_LOGIN_PERSISTENT: h_set_int(vb, l->c.persistent ? 1 : 2); break;
	case H_LOGIN_ADMIN: h_set_int(vb, l->c.admin); break;
	case H_LOGIN_OPER: h_set_int(vb, l->oper); break;
	case H_LOGIN_LAST_RESULT: h_set_int(vb, l->result); break;
	case H_LOGIN_LAST_STATUS: h_set_u32(vb, ASN_UNSIGNED, l->status_code); break;
	case H_LOGIN_LAST_CHANGE:
		h_date_and_time(l->last_change, dt);
		h_set_octets(vb, dt, sizeof(dt));
		break;
	case H_LOGIN_TEAM: h_set_u32(vb, ASN_UNSIGNED, l->team); break;
	case H_LOGIN_PATHS: h_set_u32(vb, ASN_UNSIGNED, l->npaths); break;
	case H_LOGIN_STORAGE_TYPE: h_set_int(vb, l->nonvolatile ? ST_NONVOLATILE : ST_VOLATILE); break;
	case H_LOGIN_ROW_STATUS: h_set_int(vb, l->row); break;
	case H_LOGIN_KIND:
		h_set_int(vb, l->c.kind == DISC_LOGIN_INFORMATIONAL ? DISC_LOGIN_INFORMATIONAL : DISC_LOGIN_NORMAL);
		break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int login_next(const uint32_t *after, uint32_t *out)
{
	const struct disc_login *l = disc_login_next(after ? after[0] : 0);

	if (!l)
		return -ENOENT;
	out[0] = l->index;
	return 0;
}

static int login_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_login_get(idx[0], col, vb);
}

/* The engine keeps logins in every state (the state file has them). */
static int login_status(const uint32_t *idx)
{
	const struct disc_login *l = disc_login_find(idx[0]);

	return l ? l->row : RS_ACTIVE;
}

static int login_load(const uint32_t *idx, void *image)
{
	const struct disc_login *l = disc_login_find(idx[0]);

	if (!l)
		return -ENOENT;
	*(struct disc_login *)image = *l;
	return 0;
}

/* A new row starts from the MIB's DEFVALs. */
static void login_defaults(void *image, const uint32_t *idx)
{
	struct disc_login *w = image;

	w->index = idx[0];
	w->nonvolatile = 1;
	w->c.port = DISC_LOGIN_DEFAULT_PORT;
	w->c.admin = SA_ADMIN_DOWN;
	w->c.kind = DISC_LOGIN_NORMAL;
}

static int put_uint(unsigned int *dst, const netsnmp_variable_list *vb)
{
	unsigned int v = (unsigned int)*vb->val.integer;
	int changed = *dst != v;

	*dst = v;
	return changed;
}

static int login_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct disc_login *w = image;
	int v;

	switch (col) {
	case H_LOGIN_TARGET: return h_put_str(w->c.target, sizeof(w->c.target), vb);
	case H_LOGIN_ADDR_TYPE: return h_put_int(&w->c.addr_type, vb);
	case H_LOGIN_ADDR: return h_put_octets(w->c.addr, &w->c.addr_len, sizeof(w->c.addr), vb);
	case H_LOGIN_PORT: return put_uint(&w->c.port, vb);
	case H_LOGIN_ADAPTER: return h_put_str(w->c.adapter, sizeof(w->c.adapter), vb);
	case H_LOGIN_KIND: return h_put_int(&w->c.kind, vb);
	case H_LOGIN_CREDENTIAL: return h_put_u32(&w->c.cred, vb);
	case H_LOGIN_LUN: return put_uint(&w->c.lun, vb);
	case H_LOGIN_PERSISTENT: return h_put_bool(&w->c.persistent, vb);
	case H_LOGIN_ADMIN: return h_put_int(&w->c.admin, vb);
	case H_LOGIN_STORAGE_TYPE:
		v = *vb->val.integer == ST_NONVOLATILE;
		if (v == w->nonvolatile)
			return 0;
		w->nonvolatile = v;
		return 1;
	default: return 0;
	}
}

/* Complete: a login needs its target only; the rest has DEFVALs. */
static int login_ready(const void *image)
{
	return ((const struct disc_login *)image)->c.target[0] != '\0';
}

/* The credential it names exists once the request is applied. */
static int cred_after(struct h_txn *txn, uint32_t cred)
{
	const struct h_row *r = h_txn_find(txn, &h_cred_table, &cred);

	return r ? r->status != 0 : disc_cred_find(cred) != NULL;
}

static int login_check(struct h_row *row, struct h_txn *txn)
{
	struct disc_login *w = row->work;
	struct disc_login_cfg tmp;
	char why[160];
	int rc;

	if (row->op != H_OP_CREATE && row->op != H_OP_UPDATE)
		return 0;
	if (h_row_changed(row, H_LOGIN_TARGET) && (rc = disc_login_check_target(w->c.target, strlen(w->c.target))) < 0)
		return rc;
	if (h_row_changed(row, H_LOGIN_ADAPTER) &&
	    (rc = disc_login_check_adapter(w->c.adapter, strlen(w->c.adapter))) < 0)
		return rc;
	if (w->c.cred && !cred_after(txn, w->c.cred))
		return -ENOENT;
	if (row->status == RS_ACTIVE) {
		/* The credential was checked against the request above. */
		tmp = w->c;
		tmp.cred = 0;
		if ((rc = disc_login_validate(&tmp, why, sizeof(why))) < 0) {
			cm_log(CM_LOG_INFO, TAG, "sanLoginTable.%u: refused: %s", (unsigned int)row->idx[0], why);
			return rc;
		}
	}
	return 0;
}

static int login_put(const void *image)
{
	return disc_login_put(image);
}

static const struct h_row_verbs login_verbs = {
    .put = login_put,
    .del = disc_login_delete,
    .status_off = offsetof(struct disc_login, row),
};

static int login_commit(struct h_row *row)
{
	return row->op == H_OP_DESTROY ? disc_login_delete(row->idx[0]) : 0;
}

static const struct h_table_ops login_ops = {
    .next = login_next,
    .get = login_get,
    .status = login_status,
    .load = login_load,
    .defaults = login_defaults,
    .store = login_store,
    .ready = login_ready,
    .check = login_check,
    .verbs = &login_verbs,
    .commit = login_commit,
};

struct h_table h_login_table = {
    .name = "sanLoginTable",
    .root = login_table_oid,
    .root_len = OID_LENGTH(login_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = login_cols,
    .ncols = sizeof(login_cols) / sizeof(login_cols[0]),
    .rowstatus_col = H_LOGIN_ROW_STATUS,
    .storage_col = H_LOGIN_STORAGE_TYPE,
    .rank = 1, /* after the credential it names */
    .image_size = sizeof(struct disc_login),
    .writable = 1,
    .ops = &login_ops,
};

static struct h_next_index next_index = {
    .name = "sanLoginNextIndex",
    .root = next_index_oid,
    .root_len = OID_LENGTH(next_index_oid),
    .value = disc_login_next_index,
};

int h_login_init(void)
{
	int rc;

	if (h_login_table.reg)
		return 0;
	if ((rc = h_cred_init()) < 0)
		return rc;
	if ((rc = h_table_register(&h_login_table)) < 0) {
		h_cred_shutdown();
		return rc;
	}
	if ((rc = h_next_index_register(&next_index)) < 0) {
		h_login_shutdown();
		return rc;
	}
	return 0;
}

void h_login_shutdown(void)
{
	h_next_index_unregister(&next_index);
	h_table_unregister(&h_login_table);
	h_cred_shutdown();
}
