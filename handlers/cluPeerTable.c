/* cluPeerTable.c: sanCluPeerTable (the sync's view of each other member) and sanCluConflictTable, read-only. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "engines/cluster/clu_mib.h"
#include "engines/cluster/cluster.h"
#include "handlers/cluTables.h"
#include "handlers/handlers.h"
#include "handlers/table.h"

static const oid peer_table_oid[] = {CLU_OID_PEER_TABLE};
static const oid conflict_table_oid[] = {CLU_OID_CONFLICT_TABLE};

static const struct h_column peer_cols[] = {
    {CLU_P_STATE, H_RO, H_SYN_ANY, 0, 0, 0},    {CLU_P_LAST_CONTACT, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_P_VERSION, H_RO, H_SYN_ANY, 0, 0, 0},  {CLU_P_VERSION_WRITER, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_P_FAILURES, H_RO, H_SYN_ANY, 0, 0, 0}, {CLU_P_LAST_ERROR, H_RO, H_SYN_ANY, 0, 0, 0},
};

static const struct h_column conflict_cols[] = {
    {CLU_K_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},        {CLU_K_TIME, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_K_LOST_VERSION, H_RO, H_SYN_ANY, 0, 0, 0}, {CLU_K_LOST_WRITER, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_K_WON_VERSION, H_RO, H_SYN_ANY, 0, 0, 0},  {CLU_K_WON_WRITER, H_RO, H_SYN_ANY, 0, 0, 0},
    {CLU_K_DETAIL, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int peer_next(const uint32_t *after, uint32_t *out)
{
	return clu_peer_next(after ? after[0] : 0, out);
}

int h_clu_peer_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct clu_peer *p = clu_peer_get(index);
	static const uint8_t zero[8];

	if (!p)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case CLU_P_STATE: h_set_int(vb, p->state ? p->state : CLU_PEER_UNKNOWN); break;
	case CLU_P_LAST_CONTACT:
		h_set_u32(vb, ASN_UNSIGNED, p->last_contact > 0 ? (uint32_t)p->last_contact : 0);
		break;
	case CLU_P_VERSION: h_set_u32(vb, ASN_UNSIGNED, p->version.counter); break;
	case CLU_P_VERSION_WRITER:
		/* Empty until the peer told us a version. */
		h_set_octets(vb, p->version.writer,
		             memcmp(p->version.writer, zero, 8) || p->version.counter ? sizeof(p->version.writer) : 0);
		break;
	case CLU_P_FAILURES: h_set_u32(vb, ASN_COUNTER, p->failures); break;
	case CLU_P_LAST_ERROR: h_set_str(vb, p->last_error, 127); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int peer_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_clu_peer_get(idx[0], col, vb);
}

static int conflict_next(const uint32_t *after, uint32_t *out)
{
	return clu_conflict_next(after ? after[0] : 0, out);
}

int h_clu_conflict_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct clu_conflict *k = clu_conflict_get(index);
	u_char dt[H_DATE_AND_TIME_LEN];

	if (!k)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case CLU_K_TIME:
		h_date_and_time(k->when, dt);
		h_set_octets(vb, dt, sizeof(dt));
		break;
	case CLU_K_LOST_VERSION: h_set_u32(vb, ASN_UNSIGNED, k->lost.counter); break;
	case CLU_K_LOST_WRITER: h_set_octets(vb, k->lost.writer, sizeof(k->lost.writer)); break;
	case CLU_K_WON_VERSION: h_set_u32(vb, ASN_UNSIGNED, k->won.counter); break;
	case CLU_K_WON_WRITER: h_set_octets(vb, k->won.writer, sizeof(k->won.writer)); break;
	case CLU_K_DETAIL: h_set_str(vb, k->detail, 127); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int conflict_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_clu_conflict_get(idx[0], col, vb);
}

static const struct h_table_ops peer_ops = {.next = peer_next, .get = peer_get};
static const struct h_table_ops conflict_ops = {.next = conflict_next, .get = conflict_get};

static struct h_table peer_table = {
    .name = "sanCluPeerTable",
    .root = peer_table_oid,
    .root_len = OID_LENGTH(peer_table_oid),
    .nindex = 1,
    .cols = peer_cols,
    .ncols = sizeof(peer_cols) / sizeof(peer_cols[0]),
    .ops = &peer_ops,
};

static struct h_table conflict_table = {
    .name = "sanCluConflictTable",
    .root = conflict_table_oid,
    .root_len = OID_LENGTH(conflict_table_oid),
    .nindex = 1,
    .cols = conflict_cols,
    .ncols = sizeof(conflict_cols) / sizeof(conflict_cols[0]),
    .ops = &conflict_ops,
};

int h_clu_peer_tables_init(void)
{
	int rc;

	if ((rc = h_table_register(&peer_table)) < 0)
		return rc;
	return h_table_register(&conflict_table);
}

void h_clu_peer_tables_shutdown(void)
{
	h_table_unregister(&conflict_table);
	h_table_unregister(&peer_table);
}

/* ---- the module -------------------------------------------------------------------------------------------- */

int h_clu_init(void)
{
	int rc;

	if ((rc = h_clu_scalars_init()) < 0 || (rc = h_clu_member_table_init()) < 0 ||
	    (rc = h_clu_res_tables_init()) < 0 || (rc = h_clu_peer_tables_init()) < 0)
		return rc;
	return 0;
}

void h_clu_shutdown(void)
{
	h_clu_peer_tables_shutdown();
	h_clu_res_tables_shutdown();
	h_clu_member_table_shutdown();
	h_clu_scalars_shutdown();
}
