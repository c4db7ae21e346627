/* rowCommon.c: what the table_container tables (team, path, credential, login) and the NextIndex scalars share, so
 * each table file holds only its columns and its engine's verbs. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/rowCommon.h"
#include "handlers/stateTxn.h"
#include "common/log.h"

void h_row_set_int(netsnmp_variable_list *vb, u_char type, long v)
{
	snmp_set_var_typed_value(vb, type, &v, sizeof(v));
}

void h_row_set_c64(netsnmp_variable_list *vb, uint64_t v)
{
	struct counter64 c = {.high = (u_long)(v >> 32), .low = (u_long)(v & 0xffffffffu)};

	snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
}

int h_row_check_uint(const netsnmp_variable_list *vb, unsigned long min, unsigned long max)
{
	int rc = netsnmp_check_vb_type_and_size(vb, ASN_UNSIGNED, sizeof(u_long));

	if (rc != SNMP_ERR_NOERROR)
		return rc;
	if (*vb->val.integer < 0 || (unsigned long)*vb->val.integer < min || (unsigned long)*vb->val.integer > max)
		return SNMP_ERR_WRONGVALUE;
	return SNMP_ERR_NOERROR;
}

/* ---- RowStatus (RS_*) and StorageType (ST_*) of net-snmp's snmp.h --------- */

int h_row_check_rowstatus(const netsnmp_variable_list *vb, int exists)
{
	int rc = netsnmp_check_vb_int_range(vb, RS_ACTIVE, RS_DESTROY);

	if (rc != SNMP_ERR_NOERROR)
		return rc;
	switch (*vb->val.integer) {
	case RS_NOTREADY: return SNMP_ERR_WRONGVALUE; /* a state, never a verb */
	case RS_ACTIVE:
	case RS_NOTINSERVICE: return exists ? SNMP_ERR_NOERROR : SNMP_ERR_INCONSISTENTVALUE;
	case RS_CREATEANDGO:
	case RS_CREATEANDWAIT: return exists ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_NOERROR;
	default: return SNMP_ERR_NOERROR; /* destroy, of a missing row too */
	}
}

int h_row_check_storage(const netsnmp_variable_list *vb)
{
	int rc = netsnmp_check_vb_int_range(vb, ST_OTHER, ST_READONLY);

	if (rc == SNMP_ERR_NOERROR && *vb->val.integer != ST_VOLATILE && *vb->val.integer != ST_NONVOLATILE)
		rc = SNMP_ERR_WRONGVALUE;
	return rc;
}

void h_row_note_rowstatus(const netsnmp_variable_list *vb, int *create, int *destroy, int *rs)
{
	switch (*vb->val.integer) {
	case RS_CREATEANDGO:
	case RS_CREATEANDWAIT: *create = (int)*vb->val.integer; break;
	case RS_DESTROY: *destroy = 1; break;
	default: *rs = (int)*vb->val.integer; break;
	}
}

int h_row_final_status(int create, int rs, int complete, int *row)
{
	if (create == RS_CREATEANDGO) {
		if (!complete)
			return SNMP_ERR_INCONSISTENTVALUE;
		*row = RS_ACTIVE;
	} else if (create == RS_CREATEANDWAIT) {
		*row = complete ? RS_NOTINSERVICE : RS_NOTREADY;
	} else if (rs == RS_ACTIVE) {
		if (!complete)
			return SNMP_ERR_INCONSISTENTVALUE;
		*row = RS_ACTIVE;
	} else if (rs == RS_NOTINSERVICE) {
		if (!complete)
			return SNMP_ERR_INCONSISTENTVALUE;
		*row = RS_NOTINSERVICE;
	} else if (*row == RS_NOTREADY && complete) {
		/* The request filled in what the row lacked. */
		*row = RS_NOTINSERVICE;
	}
	return SNMP_ERR_NOERROR;
}

/* ---- table_container tables ------------------------------------------------ */

int h_ctable_register(struct h_ctable *ct, const char *name, Netsnmp_Node_Handler *handler, const oid *root,
                      size_t root_len, size_t nindex, unsigned int min_col, unsigned int max_col)
{
	char cname[64];
	int rc;

	snprintf(cname, sizeof(cname), "%s:table_container", name);
	ct->tinfo = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
	ct->rows = netsnmp_container_find(cname);
	ct->reg = netsnmp_create_handler_registration(name, handler, root, root_len, HANDLER_CAN_RWRITE);
	if (ct->reg)
		ct->reg->handler->myvoid = ct; /* before the injection puts another handler first */
	if (!ct->tinfo || !ct->rows || !ct->reg || h_stxn_inject(ct->reg) < 0) {
		if (ct->rows)
			CONTAINER_FREE(ct->rows);
		if (ct->tinfo)
			netsnmp_table_registration_info_free(ct->tinfo);
		if (ct->reg)
			netsnmp_handler_registration_free(ct->reg);
		ct->rows = NULL;
		ct->tinfo = NULL;
		ct->reg = NULL;
		return -ENOMEM;
	}
	/* Every index is an Unsigned32. */
	if (nindex == 1)
		netsnmp_table_helper_add_indexes(ct->tinfo, ASN_UNSIGNED, 0);
	else
		netsnmp_table_helper_add_indexes(ct->tinfo, ASN_UNSIGNED, ASN_UNSIGNED, 0);
	ct->tinfo->min_column = min_col;
	ct->tinfo->max_column = max_col;
	rc = netsnmp_container_table_register(ct->reg, ct->tinfo, ct->rows, TABLE_CONTAINER_KEY_NETSNMP_INDEX);
	if (rc != SNMPERR_SUCCESS) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register %s (%d)", name, rc);
		ct->reg = NULL;
		ct->rows = NULL;
		return -EEXIST;
	}
	return 0;
}

static void free_row(void *data, void *context)
{
	(void)context;
	free(data);
}

void h_ctable_unregister(struct h_ctable *ct)
{
	if (ct->reg) {
		/* Our rows are ours to free; the container goes with the registration. */
		if (ct->rows)
			CONTAINER_CLEAR(ct->rows, free_row, NULL);
		netsnmp_container_table_unregister(ct->reg);
		ct->reg = NULL;
		ct->rows = NULL;
	}
	if (ct->tinfo) {
		netsnmp_table_registration_info_free(ct->tinfo);
		ct->tinfo = NULL;
	}
}

/* The row of index, NULL when absent (or no table). */
static struct h_crow *row_find(struct h_ctable *ct, const oid *index, size_t len)
{
	netsnmp_index key;
	oid o[2]; /* the key wants a writable copy */

	if (!ct->rows || len > 2)
		return NULL;
	memcpy(o, index, len * sizeof(oid));
	key.len = len;
	key.oids = o;
	return CONTAINER_FIND(ct->rows, &key);
}

void h_ctable_row_add(struct h_ctable *ct, const oid *index, size_t len)
{
	struct h_crow *row;

	if (!ct->rows || len > 2 || row_find(ct, index, len))
		return;
	if (!(row = calloc(1, sizeof(*row))))
		return;
	memcpy(row->index_oid, index, len * sizeof(oid));
	row->idx.len = len;
	row->idx.oids = row->index_oid;
	if (CONTAINER_INSERT(ct->rows, row) != 0)
		free(row);
}

void h_ctable_row_del(struct h_ctable *ct, const oid *index, size_t len)
{
	struct h_crow *row = row_find(ct, index, len);

	if (!row)
		return;
	CONTAINER_REMOVE(ct->rows, row);
	free(row);
}

void h_ctable_row_add1(struct h_ctable *ct, uint32_t index)
{
	oid o = index;

	h_ctable_row_add(ct, &o, 1);
}

void h_ctable_row_del1(struct h_ctable *ct, uint32_t index)
{
	oid o = index;

	h_ctable_row_del(ct, &o, 1);
}

int h_ctable_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                     netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct h_ctable_ops *ops = ((struct h_ctable *)handler->myvoid)->ops;

	(void)reginfo;
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		netsnmp_table_request_info *ti = netsnmp_extract_table_info(r);
		struct h_crow *row;
		uint32_t index = 0;
		int rc = SNMP_ERR_NOERROR;

		if (r->processed)
			continue;
		if (ti && ti->indexes && ti->indexes->val.integer)
			index = (uint32_t)*ti->indexes->val.integer;
		switch (reqinfo->mode) {
		case MODE_GET:
			/* The container found the row; the engine may have dropped it since. */
			row = netsnmp_container_table_row_extract(r);
			if (!row || !ti)
				rc = SNMP_NOSUCHINSTANCE;
			else
				rc = ops->get((uint32_t)row->index_oid[0], ti->colnum, r->requestvb);
			break;
		case MODE_SET_RESERVE1:
			if (!ti || index == 0 || index > ops->index_max)
				rc = SNMP_ERR_NOCREATION;
			else
				rc = ops->reserve1(reqinfo, index, ti->colnum, r->requestvb);
			break;
		case MODE_SET_RESERVE2: rc = ops->reserve2(reqinfo, index, ti ? ti->colnum : 0, r->requestvb); break;
		case MODE_SET_ACTION: rc = ops->action(reqinfo); break;
		case MODE_SET_UNDO: rc = ops->undo(reqinfo); break;
		case MODE_SET_COMMIT:
			if (ops->commit)
				ops->commit(reqinfo);
			break;
		default: break; /* FREE: the pending set goes with reqinfo */
		}
		if (rc != SNMP_ERR_NOERROR)
			netsnmp_set_request_error(reqinfo, r, rc);
	}
	return SNMP_ERR_NOERROR;
}
