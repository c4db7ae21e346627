/* storSessionTable.c: sanStorSessionTable, the sessions on tgt's targets (tid, sid), live; sanStorSessionEnd ends one.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid session_table_oid[] = {SA_OID_STOR_SESSION_TABLE};

static const struct h_column session_cols[] = {
    {H_SSES_ID, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_SSES_INITIATOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_ADDR_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_TARGET, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_READ_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_WRITE_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_READ_CMDS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_WRITE_CMDS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_CONNECTIONS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_END, H_RW, H_SYN_INT, 0, H_SSES_END_NONE, H_SSES_END_END},
    {H_SSES_PORTAL_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_PORTAL_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_PORTAL_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_TX_MAX, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_TX_MIN, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SSES_TX_AVG, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int ses_next(const uint32_t *after, uint32_t *out)
{
	const struct stor_target *t = after ? stor_target_find(after[0]) : NULL;
	const struct stor_session *s = t ? stor_session_next(t, after[1]) : NULL;

	if (!s)
		t = stor_target_next(after ? after[0] : 0);
	while (t && !s) {
		s = stor_session_next(t, -1);
		if (!s)
			t = stor_target_next(t->tid);
	}
	if (!t || !s)
		return -ENOENT;
	out[0] = t->tid;
	out[1] = s->sid;
	return 0;
}

static int ses_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_target *t = stor_target_find(idx[0]);
	const struct stor_session *s = t ? stor_session_find(t, idx[1]) : NULL;

	if (!s)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SSES_INITIATOR: h_set_str(vb, s->initiator, sizeof(s->initiator)); break;
	case H_SSES_ADDR_TYPE: h_stor_set_addr(vb, s->addr, 1); break;
	case H_SSES_ADDR: h_stor_set_addr(vb, s->addr, 0); break;
	case H_SSES_TARGET: h_set_str(vb, t->name, sizeof(t->name)); break;
	case H_SSES_READ_BYTES: h_set_u64(vb, s->ctr.rd_bytes); break;
	case H_SSES_WRITE_BYTES: h_set_u64(vb, s->ctr.wr_bytes); break;
	case H_SSES_READ_CMDS: h_set_u64(vb, s->ctr.rd_cmds); break;
	case H_SSES_WRITE_CMDS: h_set_u64(vb, s->ctr.wr_cmds); break;
	case H_SSES_CONNECTIONS: h_set_u32(vb, ASN_UNSIGNED, (uint32_t)s->nconns); break;
	case H_SSES_END: h_set_int(vb, H_SSES_END_NONE); break;
	case H_SSES_PORTAL_TYPE: h_stor_set_addr(vb, s->portal, 1); break;
	case H_SSES_PORTAL_ADDR: h_stor_set_addr(vb, s->portal, 0); break;
	case H_SSES_PORTAL_PORT: h_set_u32(vb, ASN_UNSIGNED, s->portal[0] ? s->portal_port : 0); break;
	case H_SSES_TX_MAX: h_set_u32(vb, ASN_GAUGE, s->rates.max_kib); break;
	case H_SSES_TX_MIN: h_set_u32(vb, ASN_GAUGE, s->rates.min_kib); break;
	case H_SSES_TX_AVG: h_set_u32(vb, ASN_GAUGE, s->rates.avg_kib); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* The row image: the one writable column. A session that is not there
 * cannot be created by a SET. */
struct ses_image {
	int end;
};

static int ses_load(const uint32_t *idx, void *image)
{
	const struct stor_target *t = stor_target_find(idx[0]);

	((struct ses_image *)image)->end = H_SSES_END_NONE;
	return t && stor_session_find(t, idx[1]) ? 0 : -ENOENT;
}

static int ses_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	return col == H_SSES_END ? h_put_int(&((struct ses_image *)image)->end, vb) : 0;
}

static int ses_check(struct h_row *row, struct h_txn *txn)
{
	(void)txn;
	return ((const struct ses_image *)row->work)->end == H_SSES_END_END
	           ? stor_session_validate_end(row->idx[0], row->idx[1])
	           : 0;
}

static int ses_action(struct h_row *row, struct h_txn *txn)
{
	(void)row;
	(void)txn;
	return 0; /* the end runs in COMMIT */
}

/* The end is irreversible (and asynchronous anyway): COMMIT, which cannot fail. */
static int ses_commit(struct h_row *row)
{
	int rc;

	if (((const struct ses_image *)row->work)->end != H_SSES_END_END)
		return 0;
	if ((rc = stor_session_end(row->idx[0], row->idx[1])) < 0)
		cm_log(CM_LOG_WARNING, "handlers", "storage session %u/%u: cannot end: %s", (unsigned int)row->idx[0],
		       (unsigned int)row->idx[1], strerror(-rc));
	return rc;
}

static const struct h_table_ops session_ops = {
    .next = ses_next,
    .get = ses_get,
    .load = ses_load,
    .store = ses_store,
    .check = ses_check,
    .action = ses_action,
    .commit = ses_commit,
};

static struct h_table session_table = {
    .name = "sanStorSessionTable",
    .root = session_table_oid,
    .root_len = OID_LENGTH(session_table_oid),
    .nindex = 2,
    .cols = session_cols,
    .ncols = sizeof(session_cols) / sizeof(session_cols[0]),
    .image_size = sizeof(struct ses_image),
    .writable = 1,
    .ops = &session_ops,
};

int h_stor_session_table_init(void)
{
	return h_table_register(&session_table);
}

void h_stor_session_table_shutdown(void)
{
	h_table_unregister(&session_table);
}
