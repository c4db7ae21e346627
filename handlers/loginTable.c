/* loginTable.c: sanLoginTable and sanLoginNextIndex of SANAGENT-SESSION-MIB, and the SET logic shared with
 * sanCredTable. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/login.h"
#include "handlers/rowCommon.h"
#include "iscsi/login_result.h"
#include "common/bus.h"
#include "common/log.h"

#define TAG "handlers"
#define PENDING_KEY "sanSessionMIB:conn"

static const oid login_table_oid[] = {SA_OID_LOGIN_TABLE};
static const oid next_index_oid[] = {SA_OID_LOGIN_NEXT_INDEX};
static struct h_next_index next_index = {
    .name = "sanLoginNextIndex",
    .root = next_index_oid,
    .root_len = OID_LENGTH(next_index_oid),
    .value = disc_login_next_index,
};
static struct h_ctable login_ct;
static int login_sub; /* bus handle, 0: not subscribed */

/* The engine keeps a row's RowStatus as h_row_final_status leaves it. */
_Static_assert(DISC_ROW_ACTIVE == RS_ACTIVE && DISC_ROW_NOT_IN_SERVICE == RS_NOTINSERVICE &&
                   DISC_ROW_NOT_READY == RS_NOTREADY,
               "enum disc_row holds RowStatus values");

/* ---- the pending changes of one request (both tables) ------------------------ */

static void pending_free(void *data)
{
	struct h_conn_pending *ps = data;

	while (ps && ps->creds) {
		struct h_cred_pending *p = ps->creds;

		ps->creds = p->next;
		memset(p, 0, sizeof(*p)); /* secrets */
		free(p);
	}
	while (ps && ps->logins) {
		struct h_login_pending *p = ps->logins;

		ps->logins = p->next;
		free(p);
	}
	free(ps);
}

struct h_conn_pending *h_conn_pending(netsnmp_agent_request_info *reqinfo)
{
	struct h_conn_pending *ps = netsnmp_agent_get_list_data(reqinfo, PENDING_KEY);

	if (ps)
		return ps;
	if (!(ps = calloc(1, sizeof(*ps))))
		return NULL;
	netsnmp_agent_add_list_data(reqinfo, netsnmp_create_data_list(PENDING_KEY, ps, pending_free));
	return ps;
}

static struct h_login_pending *login_pending(netsnmp_agent_request_info *reqinfo, uint32_t index)
{
	struct h_conn_pending *ps = h_conn_pending(reqinfo);
	const struct disc_login *l;
	struct h_login_pending *p;

	if (!ps)
		return NULL;
	for (p = ps->logins; p; p = p->next)
		if (p->index == index)
			return p;
	if (!(p = calloc(1, sizeof(*p))))
		return NULL;
	p->index = index;
	if ((l = disc_login_find(index))) {
		p->exists = 1;
		p->old = *l;
		p->val = *l;
	} else {
		/* A new row starts from the MIB's DEFVALs. */
		p->val.index = index;
		p->val.nonvolatile = 1;
		p->val.c.port = DISC_LOGIN_DEFAULT_PORT;
		p->val.c.admin = SA_ADMIN_DOWN;
	}
	p->next = ps->logins;
	ps->logins = p;
	return p;
}

static const struct h_login_pending *find_login_pending(const struct h_conn_pending *ps, uint32_t index)
{
	for (const struct h_login_pending *p = ps->logins; p; p = p->next)
		if (p->index == index)
			return p;
	return NULL;
}

static const struct h_cred_pending *find_cred_pending(const struct h_conn_pending *ps, uint32_t index)
{
	for (const struct h_cred_pending *p = ps->creds; p; p = p->next)
		if (p->index == index)
			return p;
	return NULL;
}

unsigned int h_cred_users_after(const struct h_conn_pending *ps, uint32_t cred)
{
	unsigned int n = 0;

	for (const struct disc_login *l = disc_login_next(0); l; l = disc_login_next(l->index)) {
		const struct h_login_pending *p = find_login_pending(ps, l->index);

		if (p ? !p->destroy && p->val.c.cred == cred : l->c.cred == cred)
			n++;
	}
	for (const struct h_login_pending *p = ps->logins; p; p = p->next)
		if (!p->exists && !p->destroy && p->val.c.cred == cred)
			n++;
	return n;
}

static int login_check(const struct h_conn_pending *ps, struct h_login_pending *p)
{
	struct disc_login_cfg tmp;
	char why[160];
	int rc;

	if (p->destroy)
		return SNMP_ERR_NOERROR;
	if (!p->exists && !p->create)
		return SNMP_ERR_NOCREATION;
	if (p->val.c.cred) {
		const struct h_cred_pending *cp = find_cred_pending(ps, p->val.c.cred);

		if (cp ? cp->destroy || (!cp->exists && !cp->create) : !disc_cred_find(p->val.c.cred))
			return SNMP_ERR_INCONSISTENTVALUE;
	}
	/* Complete: a login needs its target only; the rest has DEFVALs. */
	rc = h_row_final_status(p->create, p->rs, p->val.c.target[0] != '\0', &p->val.row);
	if (rc != SNMP_ERR_NOERROR)
		return rc;
	if (p->val.row == DISC_ROW_ACTIVE) {
		/* The credential was checked against the request above. */
		tmp = p->val.c;
		tmp.cred = 0;
		if (disc_login_validate(&tmp, why, sizeof(why)) < 0) {
			sa_log(SA_LOG_INFO, TAG, "sanLoginTable.%u: refused: %s", (unsigned int)p->index, why);
			return SNMP_ERR_INCONSISTENTVALUE;
		}
	}
	return SNMP_ERR_NOERROR;
}

void h_conn_check(struct h_conn_pending *ps)
{
	if (!ps || ps->checked)
		return;
	ps->checked = 1;
	for (struct h_cred_pending *p = ps->creds; p; p = p->next)
		p->err = h_cred_check(ps, p);
	for (struct h_login_pending *p = ps->logins; p; p = p->next)
		p->err = login_check(ps, p);
}

static int errno_to_snmp(int rc)
{
	switch (rc) {
	case -ENOMEM:
	case -ENOSPC:
	case -EIO: return SNMP_ERR_RESOURCEUNAVAILABLE;
	case -EINVAL:
	case -EEXIST:
	case -EBUSY: return SNMP_ERR_INCONSISTENTVALUE;
	default: return SNMP_ERR_COMMITFAILED;
	}
}

/* Credentials first (a new login may use a new one), logins, then the
 * credentials that go (their last users went first). */
int h_conn_action(netsnmp_agent_request_info *reqinfo)
{
	struct h_conn_pending *ps = netsnmp_agent_get_list_data(reqinfo, PENDING_KEY);
	int rc;

	if (!ps || ps->applied)
		return SNMP_ERR_NOERROR;
	ps->applied = 1;
	for (struct h_cred_pending *p = ps->creds; p; p = p->next) {
		if (p->destroy)
			continue;
		if ((rc = disc_cred_put(&p->val)) < 0)
			goto fail;
		p->done = 1;
	}
	for (struct h_login_pending *p = ps->logins; p; p = p->next) {
		if (p->destroy && !p->exists)
			continue;
		if ((rc = p->destroy ? disc_login_delete(p->index) : disc_login_put(&p->val)) < 0)
			goto fail;
		p->done = 1;
	}
	for (struct h_cred_pending *p = ps->creds; p; p = p->next) {
		if (!p->destroy || !p->exists)
			continue;
		if ((rc = disc_cred_delete(p->index)) < 0)
			goto fail;
		p->done = 1;
	}
	return SNMP_ERR_NOERROR;
fail:
	sa_log(SA_LOG_WARNING, TAG, "SANAGENT-SESSION-MIB SET failed: %s", strerror(-rc));
	return errno_to_snmp(rc);
}

int h_conn_undo(netsnmp_agent_request_info *reqinfo)
{
	struct h_conn_pending *ps = netsnmp_agent_get_list_data(reqinfo, PENDING_KEY);
	int err = SNMP_ERR_NOERROR, rc;

	if (!ps || !ps->applied || ps->undone)
		return SNMP_ERR_NOERROR;
	ps->undone = 1;
	/* The reverse order of h_conn_action. */
	for (struct h_cred_pending *p = ps->creds; p; p = p->next)
		if (p->done && p->destroy && (rc = disc_cred_put(&p->old)) < 0)
			err = SNMP_ERR_UNDOFAILED;
	for (struct h_login_pending *p = ps->logins; p; p = p->next) {
		if (!p->done)
			continue;
		rc = p->exists ? disc_login_put(&p->old) : disc_login_delete(p->index);
		if (rc < 0)
			err = SNMP_ERR_UNDOFAILED;
	}
	for (struct h_cred_pending *p = ps->creds; p; p = p->next) {
		if (!p->done || p->destroy)
			continue;
		rc = p->exists ? disc_cred_put(&p->old) : disc_cred_delete(p->index);
		if (rc < 0)
			err = SNMP_ERR_UNDOFAILED;
	}
	if (err != SNMP_ERR_NOERROR)
		sa_log(SA_LOG_ERR, TAG, "SANAGENT-SESSION-MIB: cannot undo a failed SET completely");
	return err;
}

/* ---- values ------------------------------------------------------------------ */

int h_login_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct disc_login *l = disc_login_find(index);
	u_char dt[H_DATE_AND_TIME_LEN];

	if (!l)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_LOGIN_TARGET: snmp_set_var_typed_value(vb, ASN_OCTET_STR, l->c.target, strlen(l->c.target)); break;
	case H_LOGIN_ADDR_TYPE: h_row_set_int(vb, ASN_INTEGER, l->c.addr_type); break;
	case H_LOGIN_ADDR: snmp_set_var_typed_value(vb, ASN_OCTET_STR, l->c.addr, l->c.addr_len); break;
	case H_LOGIN_PORT: h_row_set_int(vb, ASN_UNSIGNED, (long)l->c.port); break;
	case H_LOGIN_ADAPTER: snmp_set_var_typed_value(vb, ASN_OCTET_STR, l->c.adapter, strlen(l->c.adapter)); break;
	case H_LOGIN_CREDENTIAL: h_row_set_int(vb, ASN_UNSIGNED, (long)l->c.cred); break;
	case H_LOGIN_LUN: h_row_set_int(vb, ASN_UNSIGNED, (long)l->c.lun); break;
	case H_LOGIN_PERSISTENT: h_row_set_int(vb, ASN_INTEGER, l->c.persistent ? 1 : 2); break;
	case H_LOGIN_ADMIN: h_row_set_int(vb, ASN_INTEGER, l->c.admin); break;
	case H_LOGIN_OPER: h_row_set_int(vb, ASN_INTEGER, l->oper); break;
	case H_LOGIN_LAST_RESULT: h_row_set_int(vb, ASN_INTEGER, l->result); break;
	case H_LOGIN_LAST_STATUS: h_row_set_int(vb, ASN_UNSIGNED, (long)l->status_code); break;
	case H_LOGIN_LAST_CHANGE:
		h_date_and_time(l->last_change, dt);
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, dt, sizeof(dt));
		break;
	case H_LOGIN_TEAM: h_row_set_int(vb, ASN_UNSIGNED, (long)l->team); break;
	case H_LOGIN_PATHS: h_row_set_int(vb, ASN_UNSIGNED, (long)l->npaths); break;
	case H_LOGIN_STORAGE_TYPE: h_row_set_int(vb, ASN_INTEGER, l->nonvolatile ? ST_NONVOLATILE : ST_VOLATILE); break;
	case H_LOGIN_ROW_STATUS: h_row_set_int(vb, ASN_INTEGER, l->row); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int check_octets(const netsnmp_variable_list *vb, size_t max)
{
	return netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, max);
}

static int reserve1(netsnmp_agent_request_info *reqinfo, uint32_t index, unsigned int col,
                    const netsnmp_variable_list *vb)
{
	struct h_login_pending *p;
	int rc;

	switch (col) {
	case H_LOGIN_TARGET:
		if ((rc = check_octets(vb, DISC_LOGIN_TARGET_MAX)) != SNMP_ERR_NOERROR)
			break;
		rc = disc_login_check_target((const char *)vb->val.string, vb->val_len);
		rc = rc == -EMSGSIZE ? SNMP_ERR_WRONGLENGTH : rc < 0 ? SNMP_ERR_WRONGVALUE : SNMP_ERR_NOERROR;
		break;
	case H_LOGIN_ADDR_TYPE:
		if ((rc = netsnmp_check_vb_int_range(vb, 0, 16)) == SNMP_ERR_NOERROR &&
		    *vb->val.integer > DISC_ADDR_IPV6)
			rc = SNMP_ERR_WRONGVALUE; /* ipv4z, ipv6z and dns are not portals here */
		break;
	case H_LOGIN_ADDR:
		if ((rc = check_octets(vb, 255)) == SNMP_ERR_NOERROR && vb->val_len != 0 && vb->val_len != 4 &&
		    vb->val_len != 16)
			rc = SNMP_ERR_WRONGLENGTH;
		break;
	case H_LOGIN_PORT: rc = h_row_check_uint(vb, 0, 65535); break;
	case H_LOGIN_ADAPTER:
		if ((rc = check_octets(vb, DISC_LOGIN_ADAPTER_MAX)) != SNMP_ERR_NOERROR)
			break;
		rc = disc_login_check_adapter((const char *)vb->val.string, vb->val_len);
		rc = rc == -EMSGSIZE ? SNMP_ERR_WRONGLENGTH : rc < 0 ? SNMP_ERR_WRONGVALUE : SNMP_ERR_NOERROR;
		break;
	case H_LOGIN_CREDENTIAL: rc = h_row_check_uint(vb, 0, 0xffffffffUL); break;
	case H_LOGIN_LUN: rc = h_row_check_uint(vb, 0, 16383); break;
	case H_LOGIN_PERSISTENT: rc = netsnmp_check_vb_int_range(vb, 1, 2); break;
	case H_LOGIN_ADMIN: rc = netsnmp_check_vb_int_range(vb, SA_ADMIN_UP, SA_ADMIN_DOWN); break;
	case H_LOGIN_STORAGE_TYPE: rc = h_row_check_storage(vb); break;
	case H_LOGIN_ROW_STATUS: rc = h_row_check_rowstatus(vb, disc_login_find(index) != NULL); break;
	default: return SNMP_ERR_NOTWRITABLE;
	}
	if (rc != SNMP_ERR_NOERROR)
		return rc;
	if (!(p = login_pending(reqinfo, index)))
		return SNMP_ERR_RESOURCEUNAVAILABLE;
	switch (col) {
	case H_LOGIN_TARGET:
		memcpy(p->val.c.target, vb->val.string, vb->val_len);
		p->val.c.target[vb->val_len] = '\0';
		break;
	case H_LOGIN_ADDR_TYPE: p->val.c.addr_type = (int)*vb->val.integer; break;
	case H_LOGIN_ADDR:
		memcpy(p->val.c.addr, vb->val.string, vb->val_len);
		p->val.c.addr_len = vb->val_len;
		break;
	case H_LOGIN_PORT: p->val.c.port = (unsigned int)*vb->val.integer; break;
	case H_LOGIN_ADAPTER:
		memcpy(p->val.c.adapter, vb->val.string, vb->val_len);
		p->val.c.adapter[vb->val_len] = '\0';
		break;
	case H_LOGIN_CREDENTIAL: p->val.c.cred = (uint32_t)*vb->val.integer; break;
	case H_LOGIN_LUN: p->val.c.lun = (unsigned int)*vb->val.integer; break;
	case H_LOGIN_PERSISTENT: p->val.c.persistent = *vb->val.integer == 1; break;
	case H_LOGIN_ADMIN: p->val.c.admin = (int)*vb->val.integer; break;
	case H_LOGIN_STORAGE_TYPE: p->val.nonvolatile = *vb->val.integer == ST_NONVOLATILE; break;
	case H_LOGIN_ROW_STATUS: h_row_note_rowstatus(vb, &p->create, &p->destroy, &p->rs); break;
	}
	return SNMP_ERR_NOERROR;
}

static int login_reserve2(netsnmp_agent_request_info *reqinfo, uint32_t index, unsigned int col,
                          const netsnmp_variable_list *vb)
{
	struct h_login_pending *p = login_pending(reqinfo, index);

	(void)col;
	(void)vb;
	if (!p)
		return SNMP_ERR_RESOURCEUNAVAILABLE;
	h_conn_check(h_conn_pending(reqinfo));
	return p->err;
}

static const struct h_ctable_ops login_ops = {
    .index_max = UINT32_MAX - 1,
    .get = h_login_get,
    .reserve1 = reserve1,
    .reserve2 = login_reserve2,
    .action = h_conn_action,
    .undo = h_conn_undo,
};

static void on_event(int topic, const void *data, void *arg)
{
	const struct disc_login_event *ev = data;

	(void)topic;
	(void)arg;
	if (ev->type == DISC_LOGIN_EV_ADDED)
		h_ctable_row_add1(&login_ct, ev->a);
	else if (ev->type == DISC_LOGIN_EV_REMOVED)
		h_ctable_row_del1(&login_ct, ev->a);
}

int h_login_init(void)
{
	int rc;

	if (login_ct.reg)
		return 0;
	if ((rc = h_cred_init()) < 0)
		return rc;
	login_ct.ops = &login_ops;
	rc = h_ctable_register(&login_ct, "sanLoginTable", h_ctable_handler, login_table_oid,
	                       OID_LENGTH(login_table_oid), 1, H_LOGIN_TARGET, H_LOGIN_ROW_STATUS);
	if (rc < 0) {
		h_cred_shutdown();
		return rc;
	}
	if ((rc = h_next_index_register(&next_index)) < 0) {
		h_login_shutdown();
		return rc;
	}
	if (!login_sub) {
		if ((rc = bus_subscribe(BUS_LOGIN, on_event, NULL)) < 0) {
			h_login_shutdown();
			return rc;
		}
		login_sub = rc;
	}
	for (const struct disc_login *l = disc_login_next(0); l; l = disc_login_next(l->index))
		h_ctable_row_add1(&login_ct, l->index);
	return 0;
}

void h_login_shutdown(void)
{
	if (login_sub) {
		bus_unsubscribe(login_sub);
		login_sub = 0;
	}
	h_next_index_unregister(&next_index);
	h_ctable_unregister(&login_ct);
	h_cred_shutdown();
}
