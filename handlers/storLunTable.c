/* storLunTable.c: sanStorLunTable, the LUNs of tgt's targets, indexed by target and LUN number (read-only, live). */
#include <config.h>

#include <errno.h>

#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid lun_table_oid[] = {SA_OID_STOR_LUN_TABLE};

static const struct h_column lun_cols[] = {
    {H_SLUN_NUMBER, H_NA, H_SYN_ANY, 0, 0, 0},   {H_SLUN_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_SIZE, H_RO, H_SYN_ANY, 0, 0, 0},     {H_SLUN_BACKING, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_SERIAL, H_RO, H_SYN_ANY, 0, 0, 0},   {H_SLUN_DESIGNATOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_VENDOR, H_RO, H_SYN_ANY, 0, 0, 0},   {H_SLUN_MODEL, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SLUN_CAPACITY, H_RO, H_SYN_ANY, 0, 0, 0}, {H_SLUN_ID_STATUS, H_RO, H_SYN_ANY, 0, 0, 0},
};

/* (tid, lun) after `after`: one target search plus one search in that target. */
static int lun_next(const uint32_t *after, uint32_t *out)
{
	const struct stor_target *t = after ? stor_target_find(after[0]) : NULL;
	const struct stor_lun *l = t ? stor_lun_next(t, after[1]) : NULL;

	if (!l)
		t = stor_target_next(after ? after[0] : 0);
	while (t && !l) {
		l = stor_lun_next(t, -1);
		if (!l)
			t = stor_target_next(t->tid);
	}
	if (!t || !l)
		return -ENOENT;
	out[0] = t->tid;
	out[1] = l->lun;
	return 0;
}

static int lun_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_target *t = stor_target_find(idx[0]);
	const struct stor_lun *l = t ? stor_lun_find(t, idx[1]) : NULL;

	if (!l)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SLUN_TYPE: h_set_str(vb, l->type, sizeof(l->type)); break;
	case H_SLUN_SIZE: h_set_u32(vb, ASN_UNSIGNED, l->size_mib); break;
	case H_SLUN_BACKING: h_set_str(vb, l->backing, sizeof(l->backing)); break;
	case H_SLUN_SERIAL: h_set_str(vb, l->serial, sizeof(l->serial)); break;
	case H_SLUN_DESIGNATOR: h_set_octets(vb, l->designator, l->designator_len); break;
	case H_SLUN_VENDOR: h_set_str(vb, l->vendor, sizeof(l->vendor)); break;
	case H_SLUN_MODEL: h_set_str(vb, l->model, sizeof(l->model)); break;
	case H_SLUN_CAPACITY: h_set_u64(vb, l->capacity); break;
	case H_SLUN_ID_STATUS: h_set_int(vb, stor_lun_identity(l)); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops lun_ops = {.next = lun_next, .get = lun_get};

static struct h_table lun_table = {
    .name = "sanStorLunTable",
    .root = lun_table_oid,
    .root_len = OID_LENGTH(lun_table_oid),
    .nindex = 2,
    .cols = lun_cols,
    .ncols = sizeof(lun_cols) / sizeof(lun_cols[0]),
    .ops = &lun_ops,
};

int h_stor_lun_table_init(void)
{
	return h_table_register(&lun_table);
}

void h_stor_lun_table_shutdown(void)
{
	h_table_unregister(&lun_table);
}
