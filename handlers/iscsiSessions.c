/* iscsiSessions.c: ISCSI-MIB sessions, their statistics and connections, read-only, from the session registry
 * (outbound, instance 1) and tgt's I_T nexuses (inbound, instance 2). */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "engines/sessions.h"
#include "engines/storage/storage.h"
#include "handlers/iscsiTables.h"
#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid ssn_oid[] = {SA_OID_ISCSI_SSN_TABLE};
static const oid ssn_stats_oid[] = {SA_OID_ISCSI_SSN_STATS_TABLE};
static const oid ssn_err_oid[] = {SA_OID_ISCSI_SSN_ERR_TABLE};
static const oid cxn_oid[] = {SA_OID_ISCSI_CXN_TABLE};

/* ---- row order ------------------------------------------------------------------------------------------------ */

/* Instance 1: nodes are initiator names, sessions the registry's ids under each (sess_node_session_next). */
static int intr_next(uint32_t node, uint32_t after, uint32_t *out)
{
	const struct sess_view *s = sess_node_session_next(node, after);
	const struct sess_node_view *n;

	for (n = s ? NULL : sess_node_next(node); !s && n; n = sess_node_next(n->index))
		s = sess_node_session_next(n->index, 0);
	if (!s)
		return -ENOENT;
	out[0] = H_ISCSI_INST_INITIATOR;
	out[1] = s->node;
	out[2] = s->id;
	return 0;
}

/* Instance 2: nodes are tgt's targets (tid), sessions their I_T nexuses (sid). */
static int tgt_next(uint32_t tid, int64_t after, uint32_t *out)
{
	const struct stor_target *t = stor_target_find(tid);
	const struct stor_session *s = t ? stor_session_next(t, after) : NULL;

	for (t = s ? t : stor_target_next(tid); !s && t; t = s ? t : stor_target_next(t->tid))
		s = stor_session_next(t, -1);
	if (!s)
		return -ENOENT;
	out[0] = H_ISCSI_INST_TARGET;
	out[1] = t->tid;
	out[2] = s->sid;
	return 0;
}

int h_iscsi_ssn_next(const uint32_t *after, uint32_t *out)
{
	uint32_t inst = after ? after[0] : 0;

	if (inst <= H_ISCSI_INST_INITIATOR && intr_next(inst == H_ISCSI_INST_INITIATOR ? after[1] : 0,
	                                                inst == H_ISCSI_INST_INITIATOR ? after[2] : 0, out) == 0)
		return 0;
	if (inst <= H_ISCSI_INST_INITIATOR)
		return tgt_next(0, -1, out);
	if (inst == H_ISCSI_INST_TARGET)
		return tgt_next(after[1], after[2], out);
	return -ENOENT;
}

/* The row at idx: one of the two, or neither. */
struct ssn_row {
	const struct sess_view *o;    /* outbound */
	const struct stor_target *t;  /* inbound: its target... */
	const struct stor_session *i; /* ...and its nexus */
};

static int ssn_find(const uint32_t *idx, struct ssn_row *r)
{
	memset(r, 0, sizeof(*r));
	if (idx[0] == H_ISCSI_INST_INITIATOR) {
		r->o = sess_find(idx[2]);
		if (r->o && r->o->node != idx[1])
			r->o = NULL;
		return r->o ? 0 : -ENOENT;
	}
	if (idx[0] == H_ISCSI_INST_TARGET && (r->t = stor_target_find(idx[1])))
		r->i = stor_session_find(r->t, idx[2]);
	return r->i ? 0 : -ENOENT;
}

/* ---- iscsiSessionAttributesTable ------------------------------------------------------------------------------ */

static const struct h_column ssn_cols[] = {
    {H_ISCSI_SSN_DIRECTION, H_RO, H_SYN_ANY, 0, 0, 0},   {H_ISCSI_SSN_INITIATOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_SSN_TARGET, H_RO, H_SYN_ANY, 0, 0, 0},      {H_ISCSI_SSN_TSIH, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_SSN_ISID, H_RO, H_SYN_ANY, 0, 0, 0},        {H_ISCSI_SSN_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_SSN_CONNECTIONS, H_RO, H_SYN_ANY, 0, 0, 0}, {H_ISCSI_SSN_DISCONTINUITY, H_RO, H_SYN_ANY, 0, 0, 0},
};

/* Connections a session has now: an outbound session holds its one connection while it logs in and is logged in. */
static uint32_t ssn_conns(const struct ssn_row *r)
{
	if (r->i)
		return (uint32_t)r->i->nconns;
	return r->o->info.state == SESS_LOGGED_IN || r->o->info.state == SESS_LOGGING_IN;
}

static int ssn_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	struct ssn_row r;

	if (ssn_find(idx, &r) < 0)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_ISCSI_SSN_DIRECTION: h_set_int(vb, r.o ? H_ISCSI_SSN_OUTBOUND : H_ISCSI_SSN_INBOUND); break;
	/* The MIB names the remote end only: the initiator of an inbound session, the target of an outbound one. */
	case H_ISCSI_SSN_INITIATOR: h_set_str(vb, r.i ? r.i->initiator : "", STOR_NAME_MAX); break;
	case H_ISCSI_SSN_TARGET: h_set_str(vb, r.o ? r.o->info.target : "", SESS_NAME_MAX); break;
	case H_ISCSI_SSN_TSIH:
		/* tgt does not list TSIHs; an outbound session knows its own once logged in. */
		if (!r.o || !(r.o->info.tsih & 0xffffu))
			return SNMP_NOSUCHOBJECT;
		h_set_u32(vb, ASN_UNSIGNED, r.o->info.tsih & 0xffffu);
		break;
	case H_ISCSI_SSN_ISID:
		if (!r.o)
			return SNMP_NOSUCHOBJECT;
		h_set_octets(vb, r.o->info.isid, sizeof(r.o->info.isid));
		break;
	case H_ISCSI_SSN_TYPE: h_set_int(vb, r.o ? r.o->info.type : SESS_TYPE_NORMAL); break;
	case H_ISCSI_SSN_CONNECTIONS: h_set_u32(vb, ASN_GAUGE, ssn_conns(&r)); break;
	case H_ISCSI_SSN_DISCONTINUITY:
		/* Counters start with the session: its login.  tgt does not say when a nexus began. */
		if (!r.o)
			return SNMP_NOSUCHOBJECT;
		h_set_u32(vb, ASN_TIMETICKS, (uint32_t)h_iscsi_timestamp(r.o->info.login_time));
		break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops ssn_ops = {.next = h_iscsi_ssn_next, .get = ssn_get};

static struct h_table ssn_table = {
    .name = "iscsiSessionAttributesTable",
    .root = ssn_oid,
    .root_len = OID_LENGTH(ssn_oid),
    .nindex = 3,
    .cols = ssn_cols,
    .ncols = sizeof(ssn_cols) / sizeof(ssn_cols[0]),
    .ops = &ssn_ops,
};

/* ---- iscsiSessionStatsTable ----------------------------------------------------------------------------------- */

static const struct h_column stats_cols[] = {
    {H_ISCSI_SSN_CMD_PDUS, H_RO, H_SYN_ANY, 0, 0, 0},     {H_ISCSI_SSN_TX_OCTETS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_SSN_RX_OCTETS, H_RO, H_SYN_ANY, 0, 0, 0},    {H_ISCSI_SSN_LC_TX_OCTETS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_SSN_LC_RX_OCTETS, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int stats_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	struct ssn_row r;
	uint64_t tx, rx, cmds;

	if (ssn_find(idx, &r) < 0)
		return SNMP_NOSUCHINSTANCE;
	if (r.o) {
		tx = r.o->c.tx_bytes;
		rx = r.o->c.rx_bytes;
		cmds = r.o->c.cmds;
	} else {
		/* The target transmits what initiators read and receives what they write. */
		tx = r.i->ctr.rd_bytes;
		rx = r.i->ctr.wr_bytes;
		cmds = r.i->ctr.rd_cmds + r.i->ctr.wr_cmds;
	}
	switch (col) {
	case H_ISCSI_SSN_CMD_PDUS: h_set_u32(vb, ASN_COUNTER, (uint32_t)cmds); break;
	case H_ISCSI_SSN_TX_OCTETS: h_set_u64(vb, tx); break;
	case H_ISCSI_SSN_RX_OCTETS: h_set_u64(vb, rx); break;
	case H_ISCSI_SSN_LC_TX_OCTETS: h_set_u32(vb, ASN_COUNTER, (uint32_t)tx); break;
	case H_ISCSI_SSN_LC_RX_OCTETS: h_set_u32(vb, ASN_COUNTER, (uint32_t)rx); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops stats_ops = {.next = h_iscsi_ssn_next, .get = stats_get};

static struct h_table stats_table = {
    .name = "iscsiSessionStatsTable",
    .root = ssn_stats_oid,
    .root_len = OID_LENGTH(ssn_stats_oid),
    .nindex = 3,
    .cols = stats_cols,
    .ncols = sizeof(stats_cols) / sizeof(stats_cols[0]),
    .ops = &stats_ops,
};

/* ---- iscsiSessionCxnErrorStatsTable: the data plane counts digest and timeout errors; tgt does not --------- */

static const struct h_column err_cols[] = {
    {H_ISCSI_SSN_DIGEST_ERRORS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_SSN_TIMEOUT_ERRORS, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int err_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	struct ssn_row r;

	if (ssn_find(idx, &r) < 0)
		return SNMP_NOSUCHINSTANCE;
	if (!r.o)
		return SNMP_NOSUCHOBJECT;
	switch (col) {
	case H_ISCSI_SSN_DIGEST_ERRORS: h_set_u32(vb, ASN_COUNTER, r.o->c.digest_errors); break;
	case H_ISCSI_SSN_TIMEOUT_ERRORS: h_set_u32(vb, ASN_COUNTER, r.o->c.timeout_errors); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* Only outbound sessions have these values: walk instance 1 alone. */
static int err_next(const uint32_t *after, uint32_t *out)
{
	if (after && after[0] > H_ISCSI_INST_INITIATOR)
		return -ENOENT;
	if (h_iscsi_ssn_next(after, out) < 0 || out[0] != H_ISCSI_INST_INITIATOR)
		return -ENOENT;
	return 0;
}

static const struct h_table_ops err_ops = {.next = err_next, .get = err_get};

static struct h_table err_table = {
    .name = "iscsiSessionCxnErrorStatsTable",
    .root = ssn_err_oid,
    .root_len = OID_LENGTH(ssn_err_oid),
    .nindex = 3,
    .cols = err_cols,
    .ncols = sizeof(err_cols) / sizeof(err_cols[0]),
    .ops = &err_ops,
};

/* ---- iscsiConnectionAttributesTable --------------------------------------------------------------------------- */

static const struct h_column cxn_cols[] = {
    {H_ISCSI_CXN_CID, H_RO, H_SYN_ANY, 0, 0, 0},         {H_ISCSI_CXN_STATE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_CXN_ADDR_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},   {H_ISCSI_CXN_LOCAL_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_CXN_PROTOCOL, H_RO, H_SYN_ANY, 0, 0, 0},    {H_ISCSI_CXN_LOCAL_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_CXN_REMOTE_ADDR, H_RO, H_SYN_ANY, 0, 0, 0}, {H_ISCSI_CXN_REMOTE_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
};

/* Connections are numbered 1.. within their session: tgt's in its order, an outbound session's one as 1. */
static int cxn_next(const uint32_t *after, uint32_t *out)
{
	uint32_t cur[3], c = after ? after[3] : 0;
	struct ssn_row r;

	if (after) {
		memcpy(cur, after, sizeof(cur));
		if (ssn_find(cur, &r) == 0 && c < ssn_conns(&r)) {
			memcpy(out, cur, sizeof(cur));
			out[3] = c + 1;
			return 0;
		}
	}
	for (const uint32_t *from = after; h_iscsi_ssn_next(from, cur) == 0; from = cur) {
		if (ssn_find(cur, &r) == 0 && ssn_conns(&r) > 0) {
			memcpy(out, cur, sizeof(cur));
			out[3] = 1;
			return 0;
		}
	}
	return -ENOENT;
}

static int cxn_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	struct ssn_row r;
	const char *local, *remote;
	unsigned int lport, rport;

	if (ssn_find(idx, &r) < 0 || idx[3] < 1 || idx[3] > ssn_conns(&r))
		return SNMP_NOSUCHINSTANCE;
	if (r.o) {
		local = r.o->info.src_addr;
		lport = r.o->info.src_port;
		remote = r.o->info.portal_addr;
		rport = r.o->info.portal_port;
	} else {
		/* The local end is the portal the nexus came in on (found in the kernel's socket table, "" unknown);
		 * tgt lists the initiator's address but not its port. */
		local = r.i->portal;
		lport = r.i->portal[0] ? r.i->portal_port : 0;
		remote = r.i->addr;
		rport = 0;
	}
	switch (col) {
	case H_ISCSI_CXN_CID:
		if (!r.i)
			return SNMP_NOSUCHOBJECT; /* libiscsi does not report its CID */
		h_set_u32(vb, ASN_UNSIGNED, r.i->cids[idx[3] - 1]);
		break;
	case H_ISCSI_CXN_STATE:
		h_set_int(vb, r.o && r.o->info.state == SESS_LOGGING_IN ? H_ISCSI_CXN_LOGIN : H_ISCSI_CXN_FULL);
		break;
	case H_ISCSI_CXN_ADDR_TYPE: h_stor_set_addr(vb, remote, 1); break;
	case H_ISCSI_CXN_LOCAL_ADDR:
		if (!local[0])
			return SNMP_NOSUCHOBJECT;
		h_stor_set_addr(vb, local, 0);
		break;
	case H_ISCSI_CXN_PROTOCOL: h_set_u32(vb, ASN_UNSIGNED, H_ISCSI_PROTO_TCP); break;
	case H_ISCSI_CXN_LOCAL_PORT:
		if (!lport)
			return SNMP_NOSUCHOBJECT;
		h_set_u32(vb, ASN_UNSIGNED, lport);
		break;
	case H_ISCSI_CXN_REMOTE_ADDR: h_stor_set_addr(vb, remote, 0); break;
	case H_ISCSI_CXN_REMOTE_PORT:
		if (!rport)
			return SNMP_NOSUCHOBJECT;
		h_set_u32(vb, ASN_UNSIGNED, rport);
		break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops cxn_ops = {.next = cxn_next, .get = cxn_get};

static struct h_table cxn_table = {
    .name = "iscsiConnectionAttributesTable",
    .root = cxn_oid,
    .root_len = OID_LENGTH(cxn_oid),
    .nindex = 4,
    .cols = cxn_cols,
    .ncols = sizeof(cxn_cols) / sizeof(cxn_cols[0]),
    .ops = &cxn_ops,
};

/* ---- registration --------------------------------------------------------------------------------------------- */

static struct h_table *const tables[] = {&ssn_table, &stats_table, &err_table, &cxn_table};

void h_iscsi_sessions_shutdown(void)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		h_table_unregister(tables[i]);
}

int h_iscsi_sessions_init(void)
{
	int rc;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if ((rc = h_table_register(tables[i])) < 0) {
			h_iscsi_sessions_shutdown();
			return rc;
		}
	}
	return 0;
}
