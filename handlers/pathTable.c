/* pathTable.c: sanPathTable of SANAGENT-PATH-MIB: one row per path of every team, live values and writable shares. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/pathmib.h"
#include "subagent/core.h"
#include "subagent/log.h"

#define TAG "handlers"

static const oid path_table_oid[] = {H_OID_PATH_TABLE};
static netsnmp_handler_registration *path_reg;
static netsnmp_table_registration_info *path_tinfo;
static netsnmp_container *path_rows;

struct path_row {
	netsnmp_index idx; /* first: the container compares netsnmp_index */
	oid index_oid[2];  /* team, path */
};

static void set_int(netsnmp_variable_list *vb, u_char type, long v)
{
	snmp_set_var_typed_value(vb, type, &v, sizeof(v));
}

static void set_c64(netsnmp_variable_list *vb, uint64_t v)
{
	struct counter64 c = {.high = (u_long)(v >> 32), .low = (u_long)(v & 0xffffffffu)};

	snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
}

static void get_column(netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r, const struct bal_eng_team *t,
                       unsigned int i, unsigned int col)
{
	netsnmp_variable_list *vb = r->requestvb;
	const struct bal_path_spec *ps = &t->spec.path[i];
	const struct bal_path_live *l = &t->live[i];
	u_char dt[H_DATE_AND_TIME_LEN];
	unsigned char addr[16];
	unsigned int port = 0;
	int fam = 0;

	switch (col) {
	case H_PATH_ADDRESS_TYPE:
	case H_PATH_ADDRESS:
	case H_PATH_PORT:
		if (bal_parse_portal(ps->portal, &fam, addr, &port) < 0)
			fam = 0;
		if (col == H_PATH_ADDRESS_TYPE)
			set_int(vb, ASN_INTEGER, fam == 4 ? 1 : fam == 6 ? 2 : 0);
		else if (col == H_PATH_ADDRESS)
			snmp_set_var_typed_value(vb, ASN_OCTET_STR, addr, fam == 4 ? 4 : fam == 6 ? 16 : 0);
		else
			set_int(vb, ASN_UNSIGNED, (long)port);
		break;
	case H_PATH_INTERFACE: snmp_set_var_typed_value(vb, ASN_OCTET_STR, ps->iface, strlen(ps->iface)); break;
	case H_PATH_ROLE: set_int(vb, ASN_INTEGER, l->role == 1 || l->role == 2 ? l->role : 3); break;
	case H_PATH_STATE: set_int(vb, ASN_INTEGER, l->state); break;
	case H_PATH_READ_SHARE: set_int(vb, ASN_UNSIGNED, (long)t->spec.ctl.share[BAL_READ][i]); break;
	case H_PATH_WRITE_SHARE: set_int(vb, ASN_UNSIGNED, (long)t->spec.ctl.share[BAL_WRITE][i]); break;
	case H_PATH_ACTUAL_READ_SHARE: set_int(vb, ASN_UNSIGNED, (long)l->actual[BAL_READ]); break;
	case H_PATH_ACTUAL_WRITE_SHARE: set_int(vb, ASN_UNSIGNED, (long)l->actual[BAL_WRITE]); break;
	case H_PATH_READ_BYTES: set_c64(vb, l->bytes[BAL_READ]); break;
	case H_PATH_WRITE_BYTES: set_c64(vb, l->bytes[BAL_WRITE]); break;
	case H_PATH_READ_COMMANDS: set_c64(vb, l->cmds[BAL_READ]); break;
	case H_PATH_WRITE_COMMANDS: set_c64(vb, l->cmds[BAL_WRITE]); break;
	case H_PATH_ERRORS: set_c64(vb, l->errors); break;
	case H_PATH_LAST_CHANGE:
		h_date_and_time(l->last_change ? l->last_change : sa_core.start_time, dt);
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, dt, sizeof(dt));
		break;
	case H_PATH_AVG_LATENCY: set_int(vb, ASN_UNSIGNED, (long)l->avg_latency_us); break;
	default: netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT); break;
	}
}

static int path_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                        netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	netsnmp_request_info *r;
	int rc;

	(void)handler;
	(void)reginfo;
	for (r = requests; r; r = r->next) {
		netsnmp_table_request_info *ti = netsnmp_extract_table_info(r);
		const struct bal_eng_team *t = NULL;
		struct h_team_pending *p;
		unsigned int team = 0, path = 0;
		struct path_row *row;

		if (r->processed)
			continue;
		row = netsnmp_container_table_row_extract(r);
		if (row) {
			team = (unsigned int)row->index_oid[0];
			path = (unsigned int)row->index_oid[1];
		} else if (ti && ti->indexes && ti->indexes->next_variable) {
			team = (unsigned int)*ti->indexes->val.integer;
			path = (unsigned int)*ti->indexes->next_variable->val.integer;
		}
		t = bal_team_get(team);
		if (t && (path < 1 || path > t->spec.npaths))
			t = NULL;

		switch (reqinfo->mode) {
		case MODE_GET:
			if (!t || !ti || !row)
				netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			else
				get_column(reqinfo, r, t, path - 1, ti->colnum);
			break;
		case MODE_SET_RESERVE1:
			if (!ti || (ti->colnum != H_PATH_READ_SHARE && ti->colnum != H_PATH_WRITE_SHARE)) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
				break;
			}
			if (!t) {
				/* Paths come with their team (sanTeamPortals). */
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOCREATION);
				break;
			}
			rc = h_path_check_uint(r->requestvb, 0, 100);
			if (rc != SNMP_ERR_NOERROR) {
				netsnmp_set_request_error(reqinfo, r, rc);
				break;
			}
			if (!(p = h_path_pending(reqinfo, team))) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_RESOURCEUNAVAILABLE);
				break;
			}
			p->spec.ctl.share[ti->colnum == H_PATH_READ_SHARE ? BAL_READ : BAL_WRITE][path - 1] =
			    (unsigned int)*r->requestvb->val.integer;
			p->ctl_changed = 1;
			break;
		case MODE_SET_RESERVE2:
			/* The sum of each direction is checked over the whole request, once per team. */
			if (!(p = h_path_pending(reqinfo, team))) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_RESOURCEUNAVAILABLE);
				break;
			}
			rc = h_path_pending_check(reqinfo, p);
			if (rc != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, rc);
			break;
		case MODE_SET_ACTION:
			rc = h_path_pending_action(reqinfo);
			if (rc != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, rc);
			return SNMP_ERR_NOERROR;
		case MODE_SET_UNDO:
			rc = h_path_pending_undo(reqinfo);
			if (rc != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, rc);
			return SNMP_ERR_NOERROR;
		case MODE_SET_COMMIT: h_path_pending_commit(reqinfo); return SNMP_ERR_NOERROR;
		default: break;
		}
	}
	return SNMP_ERR_NOERROR;
}

void h_path_table_team_added(unsigned int team)
{
	const struct bal_eng_team *t = bal_team_get(team);

	if (!t || !path_rows)
		return;
	for (unsigned int i = 1; i <= t->spec.npaths; i++) {
		struct path_row *row;
		netsnmp_index key;
		oid o[2] = {team, i};

		key.len = 2;
		key.oids = o;
		if (CONTAINER_FIND(path_rows, &key))
			continue;
		if (!(row = calloc(1, sizeof(*row))))
			return;
		row->index_oid[0] = team;
		row->index_oid[1] = i;
		row->idx.len = 2;
		row->idx.oids = row->index_oid;
		if (CONTAINER_INSERT(path_rows, row) != 0)
			free(row);
	}
}

void h_path_table_team_removed(unsigned int team)
{
	if (!path_rows)
		return;
	for (unsigned int i = 1; i <= BAL_MAX_PATHS; i++) {
		struct path_row *row;
		netsnmp_index key;
		oid o[2] = {team, i};

		key.len = 2;
		key.oids = o;
		if (!(row = CONTAINER_FIND(path_rows, &key)))
			continue;
		CONTAINER_REMOVE(path_rows, row);
		free(row);
	}
}

int h_path_table_init(void)
{
	int rc;

	if (path_reg)
		return 0;
	path_tinfo = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
	path_rows = netsnmp_container_find("sanPathTable:table_container");
	path_reg = netsnmp_create_handler_registration("sanPathTable", path_handler, path_table_oid,
	                                               OID_LENGTH(path_table_oid), HANDLER_CAN_RWRITE);
	if (!path_tinfo || !path_rows || !path_reg) {
		if (path_rows)
			CONTAINER_FREE(path_rows);
		if (path_tinfo)
			netsnmp_table_registration_info_free(path_tinfo);
		if (path_reg)
			netsnmp_handler_registration_free(path_reg);
		path_rows = NULL;
		path_tinfo = NULL;
		path_reg = NULL;
		return -ENOMEM;
	}
	netsnmp_table_helper_add_indexes(path_tinfo, ASN_UNSIGNED, ASN_UNSIGNED, 0);
	path_tinfo->min_column = H_PATH_ADDRESS_TYPE;
	path_tinfo->max_column = H_PATH_AVG_LATENCY;
	rc = netsnmp_container_table_register(path_reg, path_tinfo, path_rows, TABLE_CONTAINER_KEY_NETSNMP_INDEX);
	if (rc != SNMPERR_SUCCESS) {
		sa_log(SA_LOG_ERR, TAG, "cannot register sanPathTable (%d)", rc);
		path_reg = NULL;
		path_rows = NULL;
		return -EEXIST;
	}
	return 0;
}

static void free_row(void *data, void *context)
{
	(void)context;
	free(data);
}

void h_path_table_shutdown(void)
{
	if (path_reg) {
		if (path_rows)
			CONTAINER_CLEAR(path_rows, free_row, NULL);
		netsnmp_container_table_unregister(path_reg);
		path_reg = NULL;
		path_rows = NULL;
	}
	if (path_tinfo) {
		netsnmp_table_registration_info_free(path_tinfo);
		path_tinfo = NULL;
	}
}
