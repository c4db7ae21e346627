/* iscsiLogins.c: ISCSI-MIB login and logout statistics, read-only: per initiator name from the state changes the
 * session owners report (instance 1), per tgt target from the sessions the storage side saw begin and end
 * (instance 2). */
#include <config.h>

#include <errno.h>

#include "engines/sessions.h"
#include "engines/storage/storage.h"
#include "handlers/iscsiTables.h"
#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid tgt_login_oid[] = {SA_OID_ISCSI_TGT_LOGIN_TABLE};
static const oid tgt_logout_oid[] = {SA_OID_ISCSI_TGT_LOGOUT_TABLE};
static const oid intr_attr_oid[] = {SA_OID_ISCSI_INTR_ATTR_TABLE};
static const oid intr_login_oid[] = {SA_OID_ISCSI_INTR_LOGIN_TABLE};
static const oid intr_logout_oid[] = {SA_OID_ISCSI_INTR_LOGOUT_TABLE};

/* The iscsiInitiatorLoginStatsTable column a failure with this status counted in (iscsiIntrLastFailureType). */
static unsigned int last_failure_col(unsigned int status)
{
	if (status == 0x0201)
		return H_ISCSI_INTR_LOGIN_AUTH_FAILS;
	if (status == 0x0202)
		return H_ISCSI_INTR_LOGIN_AUTHORIZE_FAILS;
	if ((status >> 8) == 1)
		return H_ISCSI_INTR_LOGIN_REDIRECTS;
	return H_ISCSI_INTR_LOGIN_OTHER_FAILS;
}

/* ---- target login and logout statistics: sessions tgt began and ended listing -------------------------------- */

static const struct h_column tgt_login_cols[] = {{H_ISCSI_TGT_LOGIN_ACCEPTS, H_RO, H_SYN_ANY, 0, 0, 0}};
static const struct h_column tgt_logout_cols[] = {{H_ISCSI_TGT_LOGOUT_NORMALS, H_RO, H_SYN_ANY, 0, 0, 0}};

static int tgt_stats_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb, int logout)
{
	const struct stor_target *t = idx[0] == H_ISCSI_INST_TARGET && stor_running() ? stor_target_find(idx[1]) : NULL;

	if (!t)
		return SNMP_NOSUCHINSTANCE;
	if (col != 1)
		return SNMP_NOSUCHOBJECT;
	h_set_u32(vb, ASN_COUNTER, logout ? t->logouts : t->logins);
	return SNMP_ERR_NOERROR;
}

static int tgt_login_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return tgt_stats_get(idx, col, vb, 0);
}

static int tgt_logout_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return tgt_stats_get(idx, col, vb, 1);
}

static const struct h_table_ops tgt_login_ops = {.next = h_iscsi_tgt_node_next, .get = tgt_login_get};
static const struct h_table_ops tgt_logout_ops = {.next = h_iscsi_tgt_node_next, .get = tgt_logout_get};
static struct h_table tgt_login_table = {
    .name = "iscsiTargetLoginStatsTable",
    .root = tgt_login_oid,
    .root_len = OID_LENGTH(tgt_login_oid),
    .nindex = 2,
    .cols = tgt_login_cols,
    .ncols = 1,
    .ops = &tgt_login_ops,
};
static struct h_table tgt_logout_table = {
    .name = "iscsiTargetLogoutStatsTable",
    .root = tgt_logout_oid,
    .root_len = OID_LENGTH(tgt_logout_oid),
    .nindex = 2,
    .cols = tgt_logout_cols,
    .ncols = 1,
    .ops = &tgt_logout_ops,
};

/* ---- initiator attributes, login and logout statistics: the session registry's counts per initiator name ----- */

static const struct h_column intr_attr_cols[] = {
    {H_ISCSI_INTR_LOGIN_FAILURES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LAST_FAILURE_TIME, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LAST_FAILURE_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LAST_TGT_NAME, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LAST_TGT_ADDR_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LAST_TGT_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LAST_TGT_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
};
static const struct h_column intr_login_cols[] = {
    {H_ISCSI_INTR_LOGIN_ACCEPTS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LOGIN_OTHER_FAILS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LOGIN_REDIRECTS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LOGIN_AUTH_FAILS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INTR_LOGIN_AUTHORIZE_FAILS, H_RO, H_SYN_ANY, 0, 0, 0},
};
static const struct h_column intr_logout_cols[] = {{H_ISCSI_INTR_LOGOUT_NORMALS, H_RO, H_SYN_ANY, 0, 0, 0}};

static const struct sess_login_stats *intr_stats(const uint32_t *idx)
{
	const struct sess_node_view *n = idx[0] == H_ISCSI_INST_INITIATOR ? sess_node_find(idx[1]) : NULL;

	return n ? &n->st : NULL;
}

static int intr_attr_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct sess_login_stats *st = intr_stats(idx);

	if (!st)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_ISCSI_INTR_LOGIN_FAILURES: h_set_u32(vb, ASN_COUNTER, st->login_failures); break;
	case H_ISCSI_INTR_LAST_FAILURE_TIME:
		h_set_u32(vb, ASN_TIMETICKS, (uint32_t)h_iscsi_timestamp(st->last_failure));
		break;
	case H_ISCSI_INTR_LAST_FAILURE_TYPE:
		if (st->login_failures) {
			oid type[] = {SA_OID_ISCSI_INTR_LOGIN_TABLE, 1, last_failure_col(st->last_status)};

			snmp_set_var_typed_value(vb, ASN_OBJECT_ID, type, sizeof(type));
		} else {
			h_iscsi_set_null_oid(vb);
		}
		break;
	case H_ISCSI_INTR_LAST_TGT_NAME: h_set_str(vb, st->last_target, SESS_NAME_MAX); break;
	case H_ISCSI_INTR_LAST_TGT_ADDR_TYPE: h_stor_set_addr(vb, st->last_addr, 1); break;
	case H_ISCSI_INTR_LAST_TGT_ADDR: h_stor_set_addr(vb, st->last_addr, 0); break;
	case H_ISCSI_INTR_LAST_TGT_PORT: h_set_u32(vb, ASN_UNSIGNED, st->last_port); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* The failures not counted by the status-specific columns. */
static uint32_t other_fails(const struct sess_login_stats *st)
{
	return st->login_failures - st->auth_fails - st->authorize_fails - st->redirects;
}

static int intr_login_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct sess_login_stats *st = intr_stats(idx);
	uint32_t v;

	if (!st)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_ISCSI_INTR_LOGIN_ACCEPTS: v = st->accepts; break;
	case H_ISCSI_INTR_LOGIN_OTHER_FAILS: v = other_fails(st); break;
	case H_ISCSI_INTR_LOGIN_REDIRECTS: v = st->redirects; break;
	case H_ISCSI_INTR_LOGIN_AUTH_FAILS: v = st->auth_fails; break;
	case H_ISCSI_INTR_LOGIN_AUTHORIZE_FAILS: v = st->authorize_fails; break;
	default: return SNMP_NOSUCHOBJECT;
	}
	h_set_u32(vb, ASN_COUNTER, v);
	return SNMP_ERR_NOERROR;
}

static int intr_logout_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct sess_login_stats *st = intr_stats(idx);

	if (!st)
		return SNMP_NOSUCHINSTANCE;
	if (col != H_ISCSI_INTR_LOGOUT_NORMALS)
		return SNMP_NOSUCHOBJECT;
	h_set_u32(vb, ASN_COUNTER, st->logout_normals);
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops intr_attr_ops = {.next = h_iscsi_intr_node_next, .get = intr_attr_get};
static const struct h_table_ops intr_login_ops = {.next = h_iscsi_intr_node_next, .get = intr_login_get};
static const struct h_table_ops intr_logout_ops = {.next = h_iscsi_intr_node_next, .get = intr_logout_get};
static struct h_table intr_attr_table = {
    .name = "iscsiInitiatorAttributesTable",
    .root = intr_attr_oid,
    .root_len = OID_LENGTH(intr_attr_oid),
    .nindex = 2,
    .cols = intr_attr_cols,
    .ncols = sizeof(intr_attr_cols) / sizeof(intr_attr_cols[0]),
    .ops = &intr_attr_ops,
};
static struct h_table intr_login_table = {
    .name = "iscsiInitiatorLoginStatsTable",
    .root = intr_login_oid,
    .root_len = OID_LENGTH(intr_login_oid),
    .nindex = 2,
    .cols = intr_login_cols,
    .ncols = sizeof(intr_login_cols) / sizeof(intr_login_cols[0]),
    .ops = &intr_login_ops,
};
static struct h_table intr_logout_table = {
    .name = "iscsiInitiatorLogoutStatsTable",
    .root = intr_logout_oid,
    .root_len = OID_LENGTH(intr_logout_oid),
    .nindex = 2,
    .cols = intr_logout_cols,
    .ncols = 1,
    .ops = &intr_logout_ops,
};

static struct h_table *const tables[] = {
    &tgt_login_table, &tgt_logout_table, &intr_attr_table, &intr_login_table, &intr_logout_table,
};

void h_iscsi_logins_shutdown(void)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		h_table_unregister(tables[i]);
}

int h_iscsi_logins_init(void)
{
	int rc;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if ((rc = h_table_register(tables[i])) < 0) {
			h_iscsi_logins_shutdown();
			return rc;
		}
	}
	return 0;
}
