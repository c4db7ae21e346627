/* engineTable.c: sanEngineTable, one row per engine, values read live from the engine registry. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "engines/registry.h"
#include "handlers/handlers.h"
#include "handlers/stateTxn.h"
#include "common/log.h"

static const oid engine_table_oid[] = {SA_OID_ENGINE_TABLE};
static netsnmp_handler_registration *engine_reg;

/* The container only holds the index; every value comes from the registry
 * at request time, so a row can never show stale status. */
struct engine_row {
	netsnmp_index idx; /* must be first: the container compares netsnmp_index */
	oid index_oid[1];
};

static struct engine_row *rows;
static int nrows;
/* Unregistering a table leaves its registration info to its owner. */
static netsnmp_table_registration_info *engine_tinfo;

/* Kept per request between ACTION and UNDO; only present once ACTION
 * has changed something, so UNDO after a failed ACTION is a no-op. */
#define OLD_ADMIN_KEY "sanEngineAdminStatus:old"

static int admin_errno_to_snmp(int rc)
{
	switch (rc) {
	case -ENOMEM:
	case -ENOSPC:
	case -EAGAIN:
	case -EDQUOT: return SNMP_ERR_RESOURCEUNAVAILABLE;
	default: return SNMP_ERR_COMMITFAILED;
	}
}

static void get_column(netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r, const struct sa_engine *e,
                       unsigned int column)
{
	netsnmp_variable_list *vb = r->requestvb;
	u_char dt[H_DATE_AND_TIME_LEN];
	long v;

	switch (column) {
	case H_ENGINE_NAME: snmp_set_var_typed_value(vb, ASN_OCTET_STR, e->name, strlen(e->name)); break;
	case H_ENGINE_ADMIN:
		v = e->admin;
		snmp_set_var_typed_value(vb, ASN_INTEGER, &v, sizeof(v));
		break;
	case H_ENGINE_OPER:
		v = e->oper;
		snmp_set_var_typed_value(vb, ASN_INTEGER, &v, sizeof(v));
		break;
	case H_ENGINE_LAST_ERROR:
		/* DisplayString is at most 255 octets. */
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, e->last_error, strnlen(e->last_error, 255));
		break;
	case H_ENGINE_LAST_CHANGE:
		h_date_and_time(e->last_change ? e->last_change : h_agent->start_time(), dt);
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, dt, sizeof(dt));
		break;
	default: netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT); break;
	}
}

/* RESERVE1: everything that can be checked without changing anything. */
static int check_set(const struct sa_engine *e, unsigned int column, const netsnmp_variable_list *vb)
{
	int rc;

	if (column != H_ENGINE_ADMIN)
		return SNMP_ERR_NOTWRITABLE;
	rc = netsnmp_check_vb_int_range(vb, SA_ADMIN_UP, SA_ADMIN_DOWN);
	if (rc != SNMP_ERR_NOERROR)
		return rc; /* wrongType, wrongLength or wrongValue */
	rc = sa_engine_validate_admin(e->index, *vb->val.integer);
	if (rc == -EINVAL || rc == -ERANGE)
		return SNMP_ERR_WRONGVALUE;
	if (rc < 0)
		return SNMP_ERR_INCONSISTENTVALUE;
	return SNMP_ERR_NOERROR;
}

static int engine_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                          netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	netsnmp_request_info *r;

	for (r = requests; r; r = r->next) {
		struct engine_row *row;
		netsnmp_table_request_info *ti;
		const struct sa_engine *e = NULL;
		long *old;
		int rc;

		if (r->processed)
			continue;
		row = netsnmp_container_table_row_extract(r);
		ti = netsnmp_extract_table_info(r);
		if (row)
			e = sa_engine_get((int)row->index_oid[0]);

		switch (reqinfo->mode) {
		case MODE_GET:
			if (!e || !ti) {
				netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
				break;
			}
			get_column(reqinfo, r, e, ti->colnum);
			break;

		case MODE_SET_RESERVE1:
			if (!ti) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_GENERR);
			} else if (!e) {
				/* Rows are the engines; none can be created. */
				netsnmp_set_request_error(reqinfo, r,
				                          ti->colnum == H_ENGINE_ADMIN ? SNMP_ERR_NOCREATION
				                                                       : SNMP_ERR_NOTWRITABLE);
			} else {
				rc = check_set(e, ti->colnum, r->requestvb);
				if (rc != SNMP_ERR_NOERROR)
					netsnmp_set_request_error(reqinfo, r, rc);
			}
			break;

		case MODE_SET_RESERVE2:
		case MODE_SET_FREE:
			/* Nothing is allocated per SET. */
			break;

		case MODE_SET_ACTION:
			if (!e)
				break;
			old = malloc(sizeof(*old));
			if (!old) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_RESOURCEUNAVAILABLE);
				break;
			}
			*old = e->admin;
			rc = h_agent->set_engine_admin(e->index, (int)*r->requestvb->val.integer);
			if (rc < 0) {
				free(old);
				sa_log(SA_LOG_WARNING, "handlers", "engine %s: admin status SET failed: %s", e->name,
				       strerror(-rc));
				netsnmp_set_request_error(reqinfo, r, admin_errno_to_snmp(rc));
				break;
			}
			netsnmp_request_add_list_data(r, netsnmp_create_data_list(OLD_ADMIN_KEY, old, free));
			break;

		case MODE_SET_UNDO:
			old = netsnmp_request_get_list_data(r, OLD_ADMIN_KEY);
			if (!e || !old)
				break;
			rc = h_agent->set_engine_admin(e->index, (int)*old);
			if (rc < 0) {
				/* UNDO has no error of its own to report but undoFailed. */
				sa_log(SA_LOG_ERR, "handlers", "engine %s: cannot restore admin status: %s", e->name,
				       strerror(-rc));
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_UNDOFAILED);
			}
			break;

		case MODE_SET_COMMIT:
			/* COMMIT cannot fail: the change is already in force, only
			 * persisting it is left, and a failure there is logged. */
			if (e && netsnmp_request_get_list_data(r, OLD_ADMIN_KEY)) {
				rc = h_agent->commit_state();
				if (rc < 0)
					sa_log(SA_LOG_WARNING, "handlers", "engine %s: admin status not persisted: %s",
					       e->name, strerror(-rc));
			}
			break;

		default: break;
		}
	}
	return SNMP_ERR_NOERROR;
}

int h_engine_table_init(void)
{
	netsnmp_table_registration_info *tinfo;
	netsnmp_container *c;
	int i, n, rc;

	if (engine_reg)
		return 0;
	n = sa_engine_count();
	if (n < 0)
		return -EINVAL;
	rows = calloc(n ? (size_t)n : 1, sizeof(*rows));
	tinfo = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
	/* binary_array, sorted on netsnmp_index: O(log n) per GET/GETNEXT. */
	c = netsnmp_container_find("sanEngineTable:table_container");
	engine_reg = netsnmp_create_handler_registration("sanEngineTable", engine_handler, engine_table_oid,
	                                                 OID_LENGTH(engine_table_oid), HANDLER_CAN_RWRITE);
	if (!rows || !tinfo || !c || !engine_reg || h_stxn_inject(engine_reg) < 0)
		goto nomem;

	for (i = 0; i < n; i++) {
		const struct sa_engine *e = sa_engine_get(i + 1);

		if (!e)
			continue;
		rows[nrows].index_oid[0] = (oid)e->index;
		rows[nrows].idx.len = 1;
		rows[nrows].idx.oids = rows[nrows].index_oid;
		if (CONTAINER_INSERT(c, &rows[nrows]) != 0)
			goto nomem;
		nrows++;
	}

	netsnmp_table_helper_add_indexes(tinfo, ASN_INTEGER, 0);
	tinfo->min_column = H_ENGINE_NAME;
	tinfo->max_column = H_ENGINE_LAST_CHANGE;
	rc = netsnmp_container_table_register(engine_reg, tinfo, c, TABLE_CONTAINER_KEY_NETSNMP_INDEX);
	if (rc != SNMPERR_SUCCESS) {
		/* The registration and its helpers are freed by net-snmp. */
		sa_log(SA_LOG_ERR, "handlers", "cannot register sanEngineTable (%d)", rc);
		engine_reg = NULL;
		free(rows);
		rows = NULL;
		nrows = 0;
		return -EEXIST;
	}
	engine_tinfo = tinfo;
	return 0;

nomem:
	if (c)
		CONTAINER_FREE(c);
	if (tinfo)
		netsnmp_table_registration_info_free(tinfo);
	if (engine_reg)
		netsnmp_handler_registration_free(engine_reg);
	engine_reg = NULL;
	free(rows);
	rows = NULL;
	nrows = 0;
	return -ENOMEM;
}

void h_engine_table_shutdown(void)
{
	if (engine_reg) {
		/* Frees the container (not our rows) and the registration. */
		netsnmp_container_table_unregister(engine_reg);
		engine_reg = NULL;
	}
	if (engine_tinfo) {
		netsnmp_table_registration_info_free(engine_tinfo);
		engine_tinfo = NULL;
	}
	free(rows);
	rows = NULL;
	nrows = 0;
}
