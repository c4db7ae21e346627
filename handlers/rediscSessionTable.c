/* rediscSessionTable.c: sanRediscSessionTable, the sessions the rediscover engine knows and their metrics (read-only).
 */
#include <config.h>

#include <errno.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/redisc.h"
#include "handlers/table.h"

static const oid session_table_oid[] = {REDISC_OID_SESSION_TABLE};

static const struct h_column session_cols[] = {
    {REDISC_S_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},     {REDISC_S_INITIATOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_S_TARGET, H_RO, H_SYN_ANY, 0, 0, 0},    {REDISC_S_ADDR_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_S_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},      {REDISC_S_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_S_TX_MAX, H_RO, H_SYN_ANY, 0, 0, 0},    {REDISC_S_TX_MIN, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_S_TX_AVG, H_RO, H_SYN_ANY, 0, 0, 0},    {REDISC_S_ERRORS, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_S_LATENCY, H_RO, H_SYN_ANY, 0, 0, 0},   {REDISC_S_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_S_FEEDBACKS, H_RO, H_SYN_ANY, 0, 0, 0}, {REDISC_S_OUTSIDE_SINCE, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_S_SOURCE, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int session_next(const uint32_t *after, uint32_t *out)
{
	const struct redisc_session *s = redisc_session_next(after ? after[0] : 0);

	if (!s)
		return -ENOENT;
	out[0] = s->index;
	return 0;
}

static int session_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redisc_session *s = redisc_session_find(idx[0]);

	if (!s)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case REDISC_S_INITIATOR: h_set_str(vb, s->initiator, 223); break;
	case REDISC_S_TARGET: h_set_str(vb, s->target, 223); break;
	case REDISC_S_ADDR_TYPE: h_set_int(vb, s->portal.type); break;
	case REDISC_S_ADDR: h_redisc_set_addr(vb, &s->portal); break;
	case REDISC_S_PORT: h_set_u32(vb, ASN_UNSIGNED, s->portal.port); break;
	case REDISC_S_TX_MAX:
	case REDISC_S_TX_MIN:
	case REDISC_S_TX_AVG:
	case REDISC_S_ERRORS:
	case REDISC_S_LATENCY: h_set_u32(vb, ASN_GAUGE, s->m.v[col - REDISC_S_TX_MAX]); break;
	case REDISC_S_BYTES: h_set_u64(vb, s->bytes); break;
	case REDISC_S_FEEDBACKS: h_set_u64(vb, s->feedbacks); break;
	case REDISC_S_OUTSIDE_SINCE: h_set_u32(vb, ASN_GAUGE, redisc_session_outside_age(s)); break;
	case REDISC_S_SOURCE: h_set_str(vb, s->source, 63); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops session_ops = {.next = session_next, .get = session_get};

static struct h_table session_table = {
    .name = "sanRediscSessionTable",
    .root = session_table_oid,
    .root_len = OID_LENGTH(session_table_oid),
    .nindex = 1,
    .cols = session_cols,
    .ncols = sizeof(session_cols) / sizeof(session_cols[0]),
    .ops = &session_ops,
};

int h_redisc_session_table_init(void)
{
	return h_table_register(&session_table);
}

void h_redisc_session_table_shutdown(void)
{
	h_table_unregister(&session_table);
}
