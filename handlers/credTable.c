/* credTable.c: sanCredTable and sanCredNextIndex of SANAGENT-SESSION-MIB: CHAP credentials with write-only secrets. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/login.h"
#include "handlers/pathmib.h"
#include "subagent/log.h"

static const oid cred_table_oid[] = {SA_OID_CRED_TABLE};
static const oid next_index_oid[] = {SA_OID_CRED_NEXT_INDEX};
static netsnmp_handler_registration *next_reg;
static struct h_path_ctable cred_ct;
static int listening;

struct h_cred_pending *h_cred_pending(netsnmp_agent_request_info *reqinfo, uint32_t index)
{
	struct h_conn_pending *ps = h_conn_pending(reqinfo);
	const struct disc_cred *c;
	struct h_cred_pending *p;

	if (!ps)
		return NULL;
	for (p = ps->creds; p; p = p->next)
		if (p->index == index)
			return p;
	if (!(p = calloc(1, sizeof(*p))))
		return NULL;
	p->index = index;
	if ((c = disc_cred_find(index))) {
		p->exists = 1;
		p->old = *c;
		p->val = *c;
	} else {
		p->val.index = index;
		p->val.nonvolatile = 1; /* DEFVAL { nonVolatile } */
	}
	p->next = ps->creds;
	ps->creds = p;
	return p;
}

/* RFC 2579 RowStatus rules over the row as the request leaves it. */
int h_cred_check(struct h_conn_pending *ps, struct h_cred_pending *p)
{
	int complete = disc_cred_complete(&p->val), rc;

	if (p->destroy)
		return p->exists && h_cred_users_after(ps, p->index) ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_NOERROR;
	if (!p->exists && !p->create)
		return SNMP_ERR_NOCREATION;
	if (p->create == RS_CREATEANDGO) {
		if (!complete)
			return SNMP_ERR_INCONSISTENTVALUE;
		p->val.row = DISC_ROW_ACTIVE;
	} else if (p->create == RS_CREATEANDWAIT) {
		p->val.row = complete ? DISC_ROW_NOT_IN_SERVICE : DISC_ROW_NOT_READY;
	} else if (p->rs == RS_ACTIVE) {
		if (!complete)
			return SNMP_ERR_INCONSISTENTVALUE;
		p->val.row = DISC_ROW_ACTIVE;
	} else if (p->rs == RS_NOTINSERVICE) {
		/* A credential in use stays usable: change it in place instead. */
		if (!complete || h_cred_users_after(ps, p->index))
			return SNMP_ERR_INCONSISTENTVALUE;
		p->val.row = DISC_ROW_NOT_IN_SERVICE;
	} else if (p->val.row == DISC_ROW_NOT_READY && complete) {
		p->val.row = DISC_ROW_NOT_IN_SERVICE;
	}
	rc = disc_cred_validate(&p->val);
	if (rc == -EEXIST)
		return SNMP_ERR_INCONSISTENTVALUE; /* the mutual secret equals the secret */
	return rc < 0 ? SNMP_ERR_WRONGVALUE : SNMP_ERR_NOERROR;
}

static int get_column(netsnmp_variable_list *vb, const struct disc_cred *c, unsigned int col)
{
	switch (col) {
	case H_CRED_USER: snmp_set_var_typed_value(vb, ASN_OCTET_STR, c->user, strlen(c->user)); break;
	case H_CRED_MUTUAL_USER:
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, c->mutual_user, strlen(c->mutual_user));
		break;
	case H_CRED_SECRET:
	case H_CRED_MUTUAL_SECRET:
		/* Write-only: a GET never tells a secret, nor whether there is one. */
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, "", 0);
		break;
	case H_CRED_USERS: h_path_set_int(vb, ASN_UNSIGNED, (long)c->users); break;
	case H_CRED_STORAGE_TYPE: h_path_set_int(vb, ASN_INTEGER, c->nonvolatile ? ST_NONVOLATILE : ST_VOLATILE); break;
	case H_CRED_ROW_STATUS: h_path_set_int(vb, ASN_INTEGER, c->row); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int check_name(const netsnmp_variable_list *vb, size_t min)
{
	int rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, DISC_CRED_STR_MAX);

	if (rc != SNMP_ERR_NOERROR)
		return rc;
	if (vb->val_len < min)
		return SNMP_ERR_WRONGLENGTH;
	for (size_t i = 0; i < vb->val_len; i++)
		if (vb->val.string[i] < 0x20 || vb->val.string[i] == 0x7f)
			return SNMP_ERR_WRONGVALUE;
	return SNMP_ERR_NOERROR;
}

static int check_secret(const netsnmp_variable_list *vb, int mutual)
{
	int rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, DISC_CRED_STR_MAX);

	if (rc != SNMP_ERR_NOERROR)
		return rc;
	rc = disc_cred_check_secret((const char *)vb->val.string, vb->val_len, mutual);
	return rc == -EMSGSIZE ? SNMP_ERR_WRONGLENGTH : rc < 0 ? SNMP_ERR_WRONGVALUE : SNMP_ERR_NOERROR;
}

static void copy_str(char *dst, const netsnmp_variable_list *vb)
{
	memcpy(dst, vb->val.string, vb->val_len);
	dst[vb->val_len] = '\0';
}

static int reserve1(netsnmp_agent_request_info *reqinfo, uint32_t index, unsigned int col,
                    const netsnmp_variable_list *vb)
{
	const struct disc_cred *c = disc_cred_find(index);
	struct h_cred_pending *p;
	int rc;

	switch (col) {
	case H_CRED_USER: rc = check_name(vb, 1); break;
	case H_CRED_MUTUAL_USER: rc = check_name(vb, 0); break;
	case H_CRED_SECRET: rc = check_secret(vb, 0); break;
	case H_CRED_MUTUAL_SECRET: rc = check_secret(vb, 1); break;
	case H_CRED_STORAGE_TYPE:
		if ((rc = netsnmp_check_vb_int_range(vb, ST_OTHER, ST_READONLY)) == SNMP_ERR_NOERROR &&
		    *vb->val.integer != ST_VOLATILE && *vb->val.integer != ST_NONVOLATILE)
			rc = SNMP_ERR_WRONGVALUE;
		break;
	case H_CRED_ROW_STATUS:
		if ((rc = netsnmp_check_vb_int_range(vb, RS_ACTIVE, RS_DESTROY)) != SNMP_ERR_NOERROR)
			break;
		switch (*vb->val.integer) {
		case RS_NOTREADY: rc = SNMP_ERR_WRONGVALUE; break;
		case RS_ACTIVE:
		case RS_NOTINSERVICE: rc = c ? SNMP_ERR_NOERROR : SNMP_ERR_INCONSISTENTVALUE; break;
		case RS_CREATEANDGO:
		case RS_CREATEANDWAIT: rc = c ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_NOERROR; break;
		default: break;
		}
		break;
	case H_CRED_USERS: return SNMP_ERR_NOTWRITABLE;
	default: return SNMP_ERR_NOTWRITABLE;
	}
	if (rc != SNMP_ERR_NOERROR)
		return rc;
	if (!(p = h_cred_pending(reqinfo, index)))
		return SNMP_ERR_RESOURCEUNAVAILABLE;
	switch (col) {
	case H_CRED_USER: copy_str(p->val.user, vb); break;
	case H_CRED_MUTUAL_USER: copy_str(p->val.mutual_user, vb); break;
	case H_CRED_SECRET: copy_str(p->val.secret, vb); break;
	case H_CRED_MUTUAL_SECRET: copy_str(p->val.mutual_secret, vb); break;
	case H_CRED_STORAGE_TYPE: p->val.nonvolatile = *vb->val.integer == ST_NONVOLATILE; break;
	case H_CRED_ROW_STATUS:
		switch (*vb->val.integer) {
		case RS_CREATEANDGO:
		case RS_CREATEANDWAIT: p->create = (int)*vb->val.integer; break;
		case RS_DESTROY: p->destroy = 1; break;
		default: p->rs = (int)*vb->val.integer; break;
		}
		break;
	}
	return SNMP_ERR_NOERROR;
}

static int cred_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                        netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	(void)handler;
	(void)reginfo;
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		netsnmp_table_request_info *ti = netsnmp_extract_table_info(r);
		struct h_path_row *row;
		const struct disc_cred *c = NULL;
		struct h_cred_pending *p;
		uint32_t index = 0;
		int rc;

		if (r->processed)
			continue;
		if (ti && ti->indexes && ti->indexes->val.integer)
			index = (uint32_t)*ti->indexes->val.integer;
		switch (reqinfo->mode) {
		case MODE_GET:
			row = netsnmp_container_table_row_extract(r);
			if (row)
				c = disc_cred_find((uint32_t)row->index_oid[0]);
			if (!c || !ti)
				netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			else if ((rc = get_column(r->requestvb, c, ti->colnum)) != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, rc);
			break;
		case MODE_SET_RESERVE1:
			if (!ti || index == 0 || index == UINT32_MAX) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOCREATION);
				break;
			}
			rc = reserve1(reqinfo, index, ti->colnum, r->requestvb);
			if (rc != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, rc);
			break;
		case MODE_SET_RESERVE2:
			if (!(p = h_cred_pending(reqinfo, index))) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_RESOURCEUNAVAILABLE);
				break;
			}
			h_conn_check(h_conn_pending(reqinfo));
			if (p->err != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, p->err);
			break;
		case MODE_SET_ACTION:
			if ((rc = h_conn_action(reqinfo)) != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, rc);
			break;
		case MODE_SET_UNDO:
			if ((rc = h_conn_undo(reqinfo)) != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, rc);
			break;
		default: break; /* COMMIT has nothing left to do; the pending set goes with reqinfo */
		}
	}
	return SNMP_ERR_NOERROR;
}

static int next_index_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                              netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	(void)handler;
	(void)reginfo;
	if (reqinfo->mode == MODE_GET)
		for (netsnmp_request_info *r = requests; r; r = r->next)
			h_path_set_int(r->requestvb, ASN_UNSIGNED, (long)disc_cred_next_index());
	return SNMP_ERR_NOERROR;
}

static void on_event(const struct disc_login_event *ev, void *arg)
{
	oid o = ev->a;

	(void)arg;
	if (ev->type == DISC_CRED_EV_ADDED)
		h_path_row_add(&cred_ct, &o, 1);
	else if (ev->type == DISC_CRED_EV_REMOVED)
		h_path_row_del(&cred_ct, &o, 1);
}

int h_cred_init(void)
{
	int rc;

	if (cred_ct.reg)
		return 0;
	next_reg = netsnmp_create_handler_registration("sanCredNextIndex", next_index_handler, next_index_oid,
	                                               OID_LENGTH(next_index_oid), HANDLER_CAN_RONLY);
	if (!next_reg)
		return -ENOMEM;
	rc = h_path_ctable_register(&cred_ct, "sanCredTable", cred_handler, cred_table_oid, OID_LENGTH(cred_table_oid),
	                            1, H_CRED_USER, H_CRED_ROW_STATUS);
	if (rc < 0) {
		netsnmp_handler_registration_free(next_reg);
		next_reg = NULL;
		return rc;
	}
	if (netsnmp_register_scalar(next_reg) != SNMPERR_SUCCESS) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register sanCredNextIndex");
		next_reg = NULL;
		h_cred_shutdown();
		return -EEXIST;
	}
	if (!listening && disc_login_listen(on_event, NULL) == 0)
		listening = 1;
	for (const struct disc_cred *c = disc_cred_next(0); c; c = disc_cred_next(c->index)) {
		oid o = c->index;

		h_path_row_add(&cred_ct, &o, 1);
	}
	return 0;
}

void h_cred_shutdown(void)
{
	if (listening) {
		disc_login_unlisten(on_event, NULL);
		listening = 0;
	}
	if (next_reg) {
		netsnmp_unregister_handler(next_reg);
		next_reg = NULL;
	}
	h_path_ctable_unregister(&cred_ct);
}
