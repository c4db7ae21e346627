/* storTargetTable.c: sanStorTargetTable, sanStorLunTable and sanStorSessionTable (tgt's targets, LUNs, sessions). */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "handlers/redir.h"
#include "handlers/table.h"
#include "handlers/stor.h"
#include "common/log.h"

static const oid target_table_oid[] = {SA_OID_STOR_TARGET_TABLE};
static const oid lun_table_oid[] = {SA_OID_STOR_LUN_TABLE};
static const oid session_table_oid[] = {SA_OID_STOR_SESSION_TABLE};

/* ---- targets: one index, the redirector's live-table plumbing ----------- */

static int tgt_get(uint32_t tid, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_target *t = stor_target_find(tid);

	if (!t)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_STGT_NAME: h_redir_set_str(vb, t->name, sizeof(t->name)); break;
	case H_STGT_LUNS: h_redir_set_u32(vb, ASN_UNSIGNED, (uint32_t)t->nluns); break;
	case H_STGT_SESSIONS: h_redir_set_u32(vb, ASN_UNSIGNED, (uint32_t)t->nsessions); break;
	case H_STGT_READ_BYTES: h_redir_set_u64(vb, ASN_COUNTER64, t->ctr.rd_bytes); break;
	case H_STGT_WRITE_BYTES: h_redir_set_u64(vb, ASN_COUNTER64, t->ctr.wr_bytes); break;
	case H_STGT_READ_CMDS: h_redir_set_u64(vb, ASN_COUNTER64, t->ctr.rd_cmds); break;
	case H_STGT_WRITE_CMDS: h_redir_set_u64(vb, ASN_COUNTER64, t->ctr.wr_cmds); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int tgt_readable(unsigned int col)
{
	return col >= H_STGT_NAME && col <= H_STGT_WRITE_CMDS;
}

static uint32_t tgt_next(uint32_t after)
{
	const struct stor_target *t = stor_target_next(after);

	return t ? t->tid : 0;
}

static struct h_redir_table target_table = {
    .name = "sanStorTargetTable",
    .root = target_table_oid,
    .root_len = OID_LENGTH(target_table_oid),
    .min_col = H_STGT_NAME,
    .max_col = H_STGT_WRITE_CMDS,
    .readable = tgt_readable,
    .next = tgt_next,
    .get = tgt_get,
};

/* ---- LUNs ----------------------------------------------------------------- */

static int lun_next(const struct stor_target *t, int64_t after, uint32_t *sub)
{
	const struct stor_lun *l = stor_lun_next(t, after);

	if (!l)
		return -1;
	*sub = l->lun;
	return 0;
}

static int lun_get(uint32_t tid, uint32_t lun, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_target *t = stor_target_find(tid);
	const struct stor_lun *l = t ? stor_lun_find(t, lun) : NULL;

	if (!l)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SLUN_TYPE: h_redir_set_str(vb, l->type, sizeof(l->type)); break;
	case H_SLUN_SIZE: h_redir_set_u32(vb, ASN_UNSIGNED, l->size_mib); break;
	case H_SLUN_BACKING: h_redir_set_str(vb, l->backing, sizeof(l->backing)); break;
	case H_SLUN_SERIAL: h_redir_set_str(vb, l->serial, sizeof(l->serial)); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static struct h_stor_table2 lun_table = {
    .name = "sanStorLunTable",
    .root = lun_table_oid,
    .root_len = OID_LENGTH(lun_table_oid),
    .min_col = H_SLUN_TYPE,
    .max_col = H_SLUN_SERIAL,
    .next = lun_next,
    .get = lun_get,
};

/* ---- sessions ------------------------------------------------------------- */

static int ses_next(const struct stor_target *t, int64_t after, uint32_t *sub)
{
	const struct stor_session *s = stor_session_next(t, after);

	if (!s)
		return -1;
	*sub = s->sid;
	return 0;
}

static int ses_get(uint32_t tid, uint32_t sid, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_target *t = stor_target_find(tid);
	const struct stor_session *s = t ? stor_session_find(t, sid) : NULL;

	if (!s)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SSES_INITIATOR: h_redir_set_str(vb, s->initiator, sizeof(s->initiator)); break;
	case H_SSES_ADDR_TYPE: h_stor_set_addr(vb, s->addr, 1); break;
	case H_SSES_ADDR: h_stor_set_addr(vb, s->addr, 0); break;
	case H_SSES_TARGET: h_redir_set_str(vb, t->name, sizeof(t->name)); break;
	case H_SSES_READ_BYTES: h_redir_set_u64(vb, ASN_COUNTER64, s->ctr.rd_bytes); break;
	case H_SSES_WRITE_BYTES: h_redir_set_u64(vb, ASN_COUNTER64, s->ctr.wr_bytes); break;
	case H_SSES_READ_CMDS: h_redir_set_u64(vb, ASN_COUNTER64, s->ctr.rd_cmds); break;
	case H_SSES_WRITE_CMDS: h_redir_set_u64(vb, ASN_COUNTER64, s->ctr.wr_cmds); break;
	case H_SSES_CONNECTIONS: h_redir_set_u32(vb, ASN_UNSIGNED, (uint32_t)s->nconns); break;
	case H_SSES_END: h_redir_set_int(vb, H_SSES_END_NONE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* sanStorSessionEnd: checked in RESERVE1; the end (irreversible, and
 * asynchronous anyway) runs in COMMIT, which cannot fail. */
static int ses_set(struct h_stor_table2 *t, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	netsnmp_request_info *r;

	for (r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;
		unsigned int col;
		uint32_t tid, sid;
		int rc;

		if (r->processed)
			continue;
		switch (reqinfo->mode) {
		case MODE_SET_RESERVE1:
			if (h_stor_table2_parse(t, vb, &col, &tid, &sid) < 0 || col < H_SSES_ID || col > H_SSES_END) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOCREATION);
				return SNMP_ERR_NOERROR;
			}
			if (col != H_SSES_END) {
				netsnmp_set_request_error(reqinfo, r,
				                          col == H_SSES_ID ? SNMP_ERR_NOACCESS : SNMP_ERR_NOTWRITABLE);
				return SNMP_ERR_NOERROR;
			}
			if ((rc = netsnmp_check_vb_int_range(vb, H_SSES_END_NONE, H_SSES_END_END))) {
				netsnmp_set_request_error(reqinfo, r, rc);
				return SNMP_ERR_NOERROR;
			}
			rc = stor_session_validate_end(tid, sid);
			if (rc < 0) {
				/* A session that is not there cannot be created by a SET. */
				netsnmp_set_request_error(
				    reqinfo, r, rc == -ENOENT ? SNMP_ERR_NOCREATION : h_table_err(rc, H_PHASE_CHECK));
				return SNMP_ERR_NOERROR;
			}
			break;
		case MODE_SET_COMMIT:
			if (h_stor_table2_parse(t, vb, &col, &tid, &sid) < 0 || *vb->val.integer != H_SSES_END_END)
				break;
			if ((rc = stor_session_end(tid, sid)) < 0)
				sa_log(SA_LOG_WARNING, "handlers", "storage session %u/%u: cannot end: %s",
				       (unsigned int)tid, (unsigned int)sid, strerror(-rc));
			break;
		default: break;
		}
	}
	return SNMP_ERR_NOERROR;
}

static struct h_stor_table2 session_table = {
    .name = "sanStorSessionTable",
    .root = session_table_oid,
    .root_len = OID_LENGTH(session_table_oid),
    .min_col = H_SSES_INITIATOR,
    .max_col = H_SSES_END,
    .next = ses_next,
    .get = ses_get,
    .set = ses_set,
};

int h_stor_target_tables_init(void)
{
	int rc;

	if ((rc = h_redir_table_register(&target_table)) < 0 || (rc = h_stor_table2_register(&lun_table)) < 0 ||
	    (rc = h_stor_table2_register(&session_table)) < 0) {
		h_stor_target_tables_shutdown();
		return rc;
	}
	return 0;
}

void h_stor_target_tables_shutdown(void)
{
	h_stor_table2_unregister(&session_table);
	h_stor_table2_unregister(&lun_table);
	h_redir_table_unregister(&target_table);
}
