/* credTable.c: sanCredTable and sanCredNextIndex of SANAGENT-SESSION-MIB: CHAP credentials with write-only secrets. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/login.h"
#include "handlers/rowCommon.h"
#include "common/bus.h"

static const oid cred_table_oid[] = {SA_OID_CRED_TABLE};
static const oid next_index_oid[] = {SA_OID_CRED_NEXT_INDEX};
static struct h_next_index next_index = {
    .name = "sanCredNextIndex",
    .root = next_index_oid,
    .root_len = OID_LENGTH(next_index_oid),
    .value = disc_cred_next_index,
};
static struct h_ctable cred_ct;
static int login_sub; /* bus handle, 0: not subscribed */

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
	int rc;

	if (p->destroy)
		return p->exists && h_cred_users_after(ps, p->index) ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_NOERROR;
	if (!p->exists && !p->create)
		return SNMP_ERR_NOCREATION;
	/* A credential in use stays usable: change it in place instead. */
	if (!p->create && p->rs == RS_NOTINSERVICE && h_cred_users_after(ps, p->index))
		return SNMP_ERR_INCONSISTENTVALUE;
	if ((rc = h_row_final_status(p->create, p->rs, disc_cred_complete(&p->val), &p->val.row)) != SNMP_ERR_NOERROR)
		return rc;
	rc = disc_cred_validate(&p->val);
	if (rc == -EEXIST)
		return SNMP_ERR_INCONSISTENTVALUE; /* the mutual secret equals the secret */
	return rc < 0 ? SNMP_ERR_WRONGVALUE : SNMP_ERR_NOERROR;
}

static int cred_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct disc_cred *c = disc_cred_find(index);

	if (!c)
		return SNMP_NOSUCHINSTANCE;
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
	case H_CRED_USERS: h_row_set_int(vb, ASN_UNSIGNED, (long)c->users); break;
	case H_CRED_STORAGE_TYPE: h_row_set_int(vb, ASN_INTEGER, c->nonvolatile ? ST_NONVOLATILE : ST_VOLATILE); break;
	case H_CRED_ROW_STATUS: h_row_set_int(vb, ASN_INTEGER, c->row); break;
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
	struct h_cred_pending *p;
	int rc;

	switch (col) {
	case H_CRED_USER: rc = check_name(vb, 1); break;
	case H_CRED_MUTUAL_USER: rc = check_name(vb, 0); break;
	case H_CRED_SECRET: rc = check_secret(vb, 0); break;
	case H_CRED_MUTUAL_SECRET: rc = check_secret(vb, 1); break;
	case H_CRED_STORAGE_TYPE: rc = h_row_check_storage(vb); break;
	case H_CRED_ROW_STATUS: rc = h_row_check_rowstatus(vb, disc_cred_find(index) != NULL); break;
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
	case H_CRED_ROW_STATUS: h_row_note_rowstatus(vb, &p->create, &p->destroy, &p->rs); break;
	}
	return SNMP_ERR_NOERROR;
}

static int cred_reserve2(netsnmp_agent_request_info *reqinfo, uint32_t index, unsigned int col,
                         const netsnmp_variable_list *vb)
{
	struct h_cred_pending *p = h_cred_pending(reqinfo, index);

	(void)col;
	(void)vb;
	if (!p)
		return SNMP_ERR_RESOURCEUNAVAILABLE;
	h_conn_check(h_conn_pending(reqinfo));
	return p->err;
}

static const struct h_ctable_ops cred_ops = {
    .index_max = UINT32_MAX - 1,
    .get = cred_get,
    .reserve1 = reserve1,
    .reserve2 = cred_reserve2,
    .action = h_conn_action,
    .undo = h_conn_undo,
};

static void on_event(int topic, const void *data, void *arg)
{
	const struct disc_login_event *ev = data;

	(void)topic;
	(void)arg;
	if (ev->type == DISC_CRED_EV_ADDED)
		h_ctable_row_add1(&cred_ct, ev->a);
	else if (ev->type == DISC_CRED_EV_REMOVED)
		h_ctable_row_del1(&cred_ct, ev->a);
}

int h_cred_init(void)
{
	int rc;

	if (cred_ct.reg)
		return 0;
	cred_ct.ops = &cred_ops;
	rc = h_ctable_register(&cred_ct, "sanCredTable", h_ctable_handler, cred_table_oid, OID_LENGTH(cred_table_oid),
	                       1, H_CRED_USER, H_CRED_ROW_STATUS);
	if (rc < 0)
		return rc;
	if ((rc = h_next_index_register(&next_index)) < 0) {
		h_cred_shutdown();
		return rc;
	}
	if (!login_sub) {
		if ((rc = bus_subscribe(BUS_LOGIN, on_event, NULL)) < 0) {
			h_cred_shutdown();
			return rc;
		}
		login_sub = rc;
	}
	for (const struct disc_cred *c = disc_cred_next(0); c; c = disc_cred_next(c->index))
		h_ctable_row_add1(&cred_ct, c->index);
	return 0;
}

void h_cred_shutdown(void)
{
	if (login_sub) {
		bus_unsubscribe(login_sub);
		login_sub = 0;
	}
	h_next_index_unregister(&next_index);
	h_ctable_unregister(&cred_ct);
}
