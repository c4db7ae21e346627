/* discPortalTable.c: sanDiscPortalTable, the portals of each discovered target, indexed by target and portal. */
#include <config.h>

#include <errno.h>

#include "handlers/discTables.h"
#include "handlers/redirTables.h"
#include "handlers/table.h"

static const oid portal_table_oid[] = {SA_OID_DISC_PORTAL_TABLE};

static const struct h_column portal_cols[] = {
    {H_DPOR_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},      {H_DPOR_ADDR_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DPOR_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},       {H_DPOR_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DPOR_TPGT, H_RO, H_SYN_ANY, 0, 0, 0},       {H_DPOR_MECHANISM, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DPOR_FIRST_SEEN, H_RO, H_SYN_ANY, 0, 0, 0}, {H_DPOR_LAST_SEEN, H_RO, H_SYN_ANY, 0, 0, 0},
};

/* (target, portal) after `after` in index order: one target search plus a
 * walk of that target's few portals. */
static int portal_next(const uint32_t *after, uint32_t *out)
{
	const struct disc_target *t = after ? disc_target_find(after[0]) : NULL;
	const struct disc_portal *p = t ? disc_portal_next(t, after[1]) : NULL;

	if (!p)
		t = disc_target_next(after ? after[0] : 0);
	while (t && !p) {
		p = disc_portal_next(t, 0);
		if (!p)
			t = disc_target_next(t->index);
	}
	if (!t || !p)
		return -ENOENT;
	out[0] = t->index;
	out[1] = p->index;
	return 0;
}

static int portal_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct disc_target *t = disc_target_find(idx[0]);
	const struct disc_portal *p = t ? disc_portal_find(t, idx[1]) : NULL;

	if (!p)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_DPOR_ADDR_TYPE: h_disc_set_addr(vb, p->family, p->host, 1); break;
	case H_DPOR_ADDR: h_disc_set_addr(vb, p->family, p->host, 0); break;
	case H_DPOR_PORT: h_set_u32(vb, ASN_UNSIGNED, p->port); break;
	case H_DPOR_TPGT: h_set_u32(vb, ASN_UNSIGNED, p->tpgt); break;
	case H_DPOR_MECHANISM: h_set_int(vb, p->mechanism); break;
	case H_DPOR_FIRST_SEEN: h_redir_set_time(vb, p->first_seen); break;
	case H_DPOR_LAST_SEEN: h_redir_set_time(vb, p->last_seen); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops portal_ops = {.next = portal_next, .get = portal_get};

static struct h_table portal_table = {
    .name = "sanDiscPortalTable",
    .root = portal_table_oid,
    .root_len = OID_LENGTH(portal_table_oid),
    .nindex = 2,
    .cols = portal_cols,
    .ncols = sizeof(portal_cols) / sizeof(portal_cols[0]),
    .ops = &portal_ops,
};

int h_disc_portal_table_init(void)
{
	return h_table_register(&portal_table);
}

void h_disc_portal_table_shutdown(void)
{
	h_table_unregister(&portal_table);
}
