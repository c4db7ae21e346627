/* discSourceTable.c: sanDiscSourceTable, the discovery engine's SendTargets and iSNS sources, read live (read-only). */
#include <config.h>

#include <errno.h>

#include "handlers/discTables.h"
#include "handlers/redirTables.h"
#include "handlers/table.h"

static const oid source_table_oid[] = {SA_OID_DISC_SOURCE_TABLE};

static const struct h_column source_cols[] = {
    {H_DSRC_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},        {H_DSRC_MECHANISM, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_ADDR_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},    {H_DSRC_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_PORT, H_RO, H_SYN_ANY, 0, 0, 0},         {H_DSRC_STATUS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_TARGETS, H_RO, H_SYN_ANY, 0, 0, 0},      {H_DSRC_LAST_ATTEMPT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_LAST_SUCCESS, H_RO, H_SYN_ANY, 0, 0, 0}, {H_DSRC_ATTEMPTS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_FAILURES, H_RO, H_SYN_ANY, 0, 0, 0},     {H_DSRC_LAST_ERROR, H_RO, H_SYN_ANY, 0, 0, 0},
};

void h_disc_set_addr(netsnmp_variable_list *vb, int family, const char *host, int want_type)
{
	u_char a[16];
	size_t len;
	int type = h_redir_host_addr(family, host, a, &len);

	if (want_type)
		h_set_int(vb, type);
	else
		h_set_octets(vb, a, len);
}

int h_disc_source_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct disc_source *s = disc_source_find(index);

	if (!s)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_DSRC_MECHANISM: h_set_int(vb, s->mechanism); break;
	case H_DSRC_ADDR_TYPE: h_disc_set_addr(vb, s->family, s->host, 1); break;
	case H_DSRC_ADDR: h_disc_set_addr(vb, s->family, s->host, 0); break;
	case H_DSRC_PORT: h_set_u32(vb, ASN_UNSIGNED, s->port); break;
	case H_DSRC_STATUS: h_set_int(vb, s->status); break;
	case H_DSRC_TARGETS: h_set_u32(vb, ASN_GAUGE, s->ntargets); break;
	case H_DSRC_LAST_ATTEMPT: h_redir_set_time(vb, s->last_attempt); break;
	case H_DSRC_LAST_SUCCESS: h_redir_set_time(vb, s->last_success); break;
	case H_DSRC_ATTEMPTS: h_set_u32(vb, ASN_COUNTER, s->attempts); break;
	case H_DSRC_FAILURES: h_set_u32(vb, ASN_COUNTER, s->failures); break;
	case H_DSRC_LAST_ERROR: h_set_str(vb, s->last_error, sizeof(s->last_error)); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int src_next(const uint32_t *after, uint32_t *out)
{
	const struct disc_source *s = disc_source_next(after ? after[0] : 0);

	if (!s)
		return -ENOENT;
	out[0] = s->index;
	return 0;
}

static int src_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_disc_source_get(idx[0], col, vb);
}

static const struct h_table_ops source_ops = {.next = src_next, .get = src_get};

static struct h_table source_table = {
    .name = "sanDiscSourceTable",
    .root = source_table_oid,
    .root_len = OID_LENGTH(source_table_oid),
    .nindex = 1,
    .cols = source_cols,
    .ncols = sizeof(source_cols) / sizeof(source_cols[0]),
    .ops = &source_ops,
};

int h_disc_source_table_init(void)
{
	return h_table_register(&source_table);
}

void h_disc_source_table_shutdown(void)
{
	h_table_unregister(&source_table);
}
