/* pathTable.c: sanPathTable of SANAGENT-PATH-MIB: one row per path of every team, live values and writable shares. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/pathmib.h"
#include "common/log.h"

#define TAG "handlers"

static const oid path_table_oid[] = {H_OID_PATH_TABLE};
static struct h_ctable path_ct;

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
			h_row_set_int(vb, ASN_INTEGER, fam == 4 ? 1 : fam == 6 ? 2 : 0);
		else if (col == H_PATH_ADDRESS)
			snmp_set_var_typed_value(vb, ASN_OCTET_STR, addr, fam == 4 ? 4 : fam == 6 ? 16 : 0);
		else
			h_row_set_int(vb, ASN_UNSIGNED, (long)port);
		break;
	case H_PATH_INTERFACE: snmp_set_var_typed_value(vb, ASN_OCTET_STR, ps->iface, strlen(ps->iface)); break;
	case H_PATH_ROLE: h_row_set_int(vb, ASN_INTEGER, l->role == 1 || l->role == 2 ? l->role : 3); break;
	case H_PATH_STATE: h_row_set_int(vb, ASN_INTEGER, l->state); break;
	case H_PATH_READ_SHARE: h_row_set_int(vb, ASN_UNSIGNED, (long)t->spec.ctl.share[BAL_READ][i]); break;
	case H_PATH_WRITE_SHARE: h_row_set_int(vb, ASN_UNSIGNED, (long)t->spec.ctl.share[BAL_WRITE][i]); break;
	case H_PATH_ACTUAL_READ_SHARE: h_row_set_int(vb, ASN_UNSIGNED, (long)l->actual[BAL_READ]); break;
	case H_PATH_ACTUAL_WRITE_SHARE: h_row_set_int(vb, ASN_UNSIGNED, (long)l->actual[BAL_WRITE]); break;
	case H_PATH_READ_BYTES: h_row_set_c64(vb, l->bytes[BAL_READ]); break;
	case H_PATH_WRITE_BYTES: h_row_set_c64(vb, l->bytes[BAL_WRITE]); break;
	case H_PATH_READ_COMMANDS: h_row_set_c64(vb, l->cmds[BAL_READ]); break;
	case H_PATH_WRITE_COMMANDS: h_row_set_c64(vb, l->cmds[BAL_WRITE]); break;
	case H_PATH_ERRORS: h_row_set_c64(vb, l->errors); break;
	case H_PATH_LAST_CHANGE:
		h_date_and_time(l->last_change ? l->last_change : h_agent->start_time(), dt);
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, dt, sizeof(dt));
		break;
	case H_PATH_AVG_LATENCY: h_row_set_int(vb, ASN_UNSIGNED, (long)l->avg_latency_us); break;
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
		struct h_crow *row;

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
			rc = h_row_check_uint(r->requestvb, 0, 100);
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
		case MODE_SET_UNDO:
		case MODE_SET_COMMIT: h_path_pending_phase(reqinfo, r); return SNMP_ERR_NOERROR;
		default: break;
		}
	}
	return SNMP_ERR_NOERROR;
}

void h_path_table_team_added(unsigned int team)
{
	const struct bal_eng_team *t = bal_team_get(team);

	if (!t)
		return;
	for (unsigned int i = 1; i <= t->spec.npaths; i++)
		h_ctable_row_add(&path_ct, (const oid[]){team, i}, 2);
}

void h_path_table_team_removed(unsigned int team)
{
	for (unsigned int i = 1; i <= BAL_MAX_PATHS; i++)
		h_ctable_row_del(&path_ct, (const oid[]){team, i}, 2);
}

int h_path_table_init(void)
{
	if (path_ct.reg)
		return 0;
	return h_ctable_register(&path_ct, "sanPathTable", path_handler, path_table_oid, OID_LENGTH(path_table_oid), 2,
	                         H_PATH_ADDRESS_TYPE, H_PATH_AVG_LATENCY);
}

void h_path_table_shutdown(void)
{
	h_ctable_unregister(&path_ct);
}
