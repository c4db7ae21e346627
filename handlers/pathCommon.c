/* pathCommon.c: what sanTeamTable and sanPathTable share: value setters, container registration and rows, the SET
 * phases after RESERVE2. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/pathmib.h"
#include "subagent/log.h"

void h_path_set_int(netsnmp_variable_list *vb, u_char type, long v)
{
	snmp_set_var_typed_value(vb, type, &v, sizeof(v));
}

void h_path_set_c64(netsnmp_variable_list *vb, uint64_t v)
{
	struct counter64 c = {.high = (u_long)(v >> 32), .low = (u_long)(v & 0xffffffffu)};

	snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
}

void h_path_pending_phase(netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r)
{
	int rc = SNMP_ERR_NOERROR;

	switch (reqinfo->mode) {
	case MODE_SET_ACTION: rc = h_path_pending_action(reqinfo); break;
	case MODE_SET_UNDO: rc = h_path_pending_undo(reqinfo); break;
	case MODE_SET_COMMIT: h_path_pending_commit(reqinfo); break;
	default: break;
	}
	if (rc != SNMP_ERR_NOERROR)
		netsnmp_set_request_error(reqinfo, r, rc);
}

int h_path_ctable_register(struct h_path_ctable *ct, const char *name, Netsnmp_Node_Handler *handler, const oid *root,
                           size_t root_len, size_t nindex, unsigned int min_col, unsigned int max_col)
{
	char cname[64];
	int rc;

	snprintf(cname, sizeof(cname), "%s:table_container", name);
	ct->tinfo = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
	ct->rows = netsnmp_container_find(cname);
	ct->reg = netsnmp_create_handler_registration(name, handler, root, root_len, HANDLER_CAN_RWRITE);
	if (!ct->tinfo || !ct->rows || !ct->reg) {
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

void h_path_ctable_unregister(struct h_path_ctable *ct)
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
static struct h_path_row *row_find(struct h_path_ctable *ct, const oid *index, size_t len)
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

void h_path_row_add(struct h_path_ctable *ct, const oid *index, size_t len)
{
	struct h_path_row *row;

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

void h_path_row_del(struct h_path_ctable *ct, const oid *index, size_t len)
{
	struct h_path_row *row = row_find(ct, index, len);

	if (!row)
		return;
	CONTAINER_REMOVE(ct->rows, row);
	free(row);
}
