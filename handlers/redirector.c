/* redirector.c: SANAGENT-REDIRECTOR-MIB registration and the GET/GETNEXT and RowStatus SET plumbing its tables share.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/registry.h"
#include "handlers/redir.h"
#include "handlers/stateTxn.h"
#include "subagent/config.h"
#include "common/log.h"
#include "common/snmp_client.h"

void h_redir_set_u64(netsnmp_variable_list *vb, u_char type, uint64_t v)
{
	struct counter64 c;

	c.high = (u_long)(v >> 32);
	c.low = (u_long)(v & 0xffffffffu);
	snmp_set_var_typed_value(vb, type, &c, sizeof(c));
}

void h_redir_set_u32(netsnmp_variable_list *vb, u_char type, uint32_t v)
{
	u_long u = v;

	snmp_set_var_typed_value(vb, type, &u, sizeof(u));
}

void h_redir_set_int(netsnmp_variable_list *vb, long v)
{
	snmp_set_var_typed_value(vb, ASN_INTEGER, &v, sizeof(v));
}

void h_redir_set_str(netsnmp_variable_list *vb, const char *s, size_t max)
{
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, s, strnlen(s, max));
}

void h_redir_set_time(netsnmp_variable_list *vb, time_t t)
{
	u_char dt[H_DATE_AND_TIME_LEN];

	h_date_and_time(t, dt);
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, dt, sizeof(dt));
}

/* Returns the InetAddressType (1 ipv4, 2 ipv6) or 0 (unknown, empty). */
int h_redir_host_addr(int family, const char *host, u_char out[16], size_t *len)
{
	*len = 0;
	if (family == AF_INET && inet_pton(AF_INET, host, out) == 1) {
		*len = 4;
		return 1;
	}
	if (family == AF_INET6 && inet_pton(AF_INET6, host, out) == 1) {
		*len = 16;
		return 2;
	}
	/* A host without its family still has a printable address. */
	if (inet_pton(AF_INET, host, out) == 1) {
		*len = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, host, out) == 1) {
		*len = 16;
		return 2;
	}
	return 0;
}

int h_redir_validate_err(int rc)
{
	switch (rc) {
	case 0: return SNMP_ERR_NOERROR;
	case -EPERM:
	case -EACCES: return SNMP_ERR_NOTWRITABLE;
	case -ENOMEM:
	case -ENOSPC:
	case -EAGAIN: return SNMP_ERR_RESOURCEUNAVAILABLE;
	default: return SNMP_ERR_INCONSISTENTVALUE; /* EINVAL, ERANGE, ENOENT, EEXIST, EBUSY, ENODEV */
	}
}

int h_redir_action_err(int rc)
{
	switch (rc) {
	case -ENOMEM:
	case -ENOSPC:
	case -EAGAIN:
	case -EIO:
	case -EDQUOT: return SNMP_ERR_RESOURCEUNAVAILABLE;
	default: return SNMP_ERR_COMMITFAILED;
	}
}

int h_redir_parse(const struct h_redir_table *t, const netsnmp_variable_list *vb, unsigned int *col,
                  uint32_t *index)
{
	size_t n = t->root_len;

	if (vb->name_length != n + 3 || snmp_oid_compare(vb->name, n, t->root, n) != 0 || vb->name[n] != 1)
		return -1;
	if (vb->name[n + 1] > UINT32_MAX || vb->name[n + 2] < 1 || vb->name[n + 2] > UINT32_MAX)
		return -1;
	*col = (unsigned int)vb->name[n + 1];
	*index = (uint32_t)vb->name[n + 2];
	return 0;
}

static void do_get(struct h_redir_table *t, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	size_t n = t->root_len;
	unsigned int col;
	uint32_t index;

	if (vb->name_length < n + 2 || vb->name[n] != 1 || vb->name[n + 1] < t->min_col ||
	    vb->name[n + 1] > t->max_col || !t->readable((unsigned int)vb->name[n + 1])) {
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
		return;
	}
	if (h_redir_parse(t, vb, &col, &index) < 0 || t->get(index, col, vb) != SNMP_ERR_NOERROR)
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
}

/* The next instance after vb's OID in column-major order: each step is
 * one *_next call, so a walk costs O(log n) per varbind. */
static void do_getnext(struct h_redir_table *t, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	size_t n = t->root_len;
	oid out[MAX_OID_LEN];
	unsigned int col = t->min_col;
	uint32_t after = 0;

	if (snmp_oid_compare(vb->name, vb->name_length, t->root, n) > 0) {
		/* Inside the table (the master only hands us OIDs in our subtree or before it). */
		if (vb->name_length == n)
			; /* the table itself: start at the first column */
		else if (vb->name[n] > 1)
			return; /* past the entry: nothing of ours follows */
		else if (vb->name[n] == 1 && vb->name_length > n + 1) {
			if (vb->name[n + 1] > t->max_col)
				return;
			if (vb->name[n + 1] >= t->min_col) {
				col = (unsigned int)vb->name[n + 1];
				if (vb->name_length > n + 2) {
					if (vb->name[n + 2] >= UINT32_MAX) {
						col++;
					} else {
						/* x.col.i and x.col.i.more both continue after i. */
						after = (uint32_t)vb->name[n + 2];
					}
				}
			}
		}
	}

	for (; col <= t->max_col; col++, after = 0) {
		uint32_t index;

		if (!t->readable(col))
			continue;
		for (index = t->next(after); index; index = t->next(index)) {
			/* A row that vanished between next and get is skipped. */
			if (t->get(index, col, vb) == SNMP_ERR_NOERROR)
				break;
		}
		if (!index)
			continue;
		memcpy(out, t->root, n * sizeof(oid));
		out[n] = 1;
		out[n + 1] = col;
		out[n + 2] = index;
		snmp_set_var_objid(vb, out, n + 3);
		return;
	}
	/* Nothing left: the varbind stays untouched and the agent moves on
	 * to the next registered subtree. */
}

static int table_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                         netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct h_redir_table *t = handler->myvoid;
	netsnmp_request_info *r;

	(void)reginfo;
	switch (reqinfo->mode) {
	case MODE_GET:
		for (r = requests; r; r = r->next)
			if (!r->processed)
				do_get(t, reqinfo, r);
		return SNMP_ERR_NOERROR;
	case MODE_GETNEXT:
		for (r = requests; r; r = r->next)
			if (!r->processed)
				do_getnext(t, r);
		return SNMP_ERR_NOERROR;
	default:
		if (!t->set) {
			for (r = requests; r; r = r->next)
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
			return SNMP_ERR_NOERROR;
		}
		return t->set(t, reqinfo, requests);
	}
}

int h_redir_table_register(struct h_redir_table *t)
{
	netsnmp_handler_registration *reg;
	int rc;

	if (t->reg)
		return 0;
	/* Without HANDLER_CAN_GETBULK, net-snmp puts bulk_to_next in front. */
	reg = netsnmp_create_handler_registration(t->name, table_handler, t->root, t->root_len,
	                                          t->writable ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	if (t->writable && h_txn_inject(reg) < 0) {
		netsnmp_handler_registration_free(reg);
		return -ENOMEM;
	}
	reg->handler->myvoid = t;
	rc = netsnmp_register_handler(reg);
	if (rc != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register %s (%d)", t->name, rc);
		return -EEXIST;
	}
	t->reg = reg;
	return 0;
}

void h_redir_table_unregister(struct h_redir_table *t)
{
	if (t->reg) {
		netsnmp_unregister_handler(t->reg);
		t->reg = NULL;
	}
}

/* The module's objects exist only while the redirect engine runs, so a
 * walk of an agent without a redirect section shows none of them (and the
 * controls never read as the zeros of an engine that was never set up). */
static int redir_registered, redir_wanted, redir_listening;

static void redir_unregister(void)
{
	h_redir_plan_table_shutdown();
	h_redir_client_table_shutdown();
	h_redir_resource_table_shutdown();
	h_redir_server_table_shutdown();
	h_redir_scalars_shutdown();
	redir_registered = 0;
}

static int redir_register(void)
{
	int rc;

	if (redir_registered)
		return 0;
	if ((rc = h_redir_scalars_init()) < 0 || (rc = h_redir_server_table_init()) < 0 ||
	    (rc = h_redir_resource_table_init()) < 0 || (rc = h_redir_client_table_init()) < 0 ||
	    (rc = h_redir_plan_table_init()) < 0) {
		redir_unregister();
		return rc;
	}
	redir_registered = 1;
	return 0;
}

static void redir_sync(void)
{
	const struct sa_engine *e = sa_engine_get(SA_ENGINE_REDIRECT + 1);
	int up = redir_wanted && e && e->oper == SA_OPER_UP;
	int rc;

	if (up && !redir_registered) {
		if ((rc = redir_register()) < 0)
			sa_log(SA_LOG_ERR, "handlers", "cannot register SANAGENT-REDIRECTOR-MIB: %s", strerror(-rc));
	} else if (!up && redir_registered) {
		redir_unregister();
	}
}

static void on_engine(const struct sa_engine *e, void *arg)
{
	(void)arg;
	if (e->index == SA_ENGINE_REDIRECT + 1)
		redir_sync();
}

/* The engine reads the storage servers' agents through the agent's own SNMP client. */
static const struct redir_agent_ops h_redir_agent_ops = {
    .walk = sa_snmpc_walk,
    .set_int = sa_snmpc_set_int,
    .cancel_all = sa_snmpc_cancel_all,
};

int h_redir_init(void)
{
	int rc = sa_redirect_notify_init();

	if (rc < 0)
		return rc;
	redir_agent_ops_register(&h_redir_agent_ops);
	/* The registry cannot unsubscribe: listen once, act only while wanted. */
	if (!redir_listening) {
		sa_engines_listen(on_engine, NULL);
		redir_listening = 1;
	}
	redir_wanted = 1;
	redir_sync();
	return 0;
}

void h_redir_shutdown(void)
{
	redir_wanted = 0;
	sa_redirect_notify_shutdown();
	redir_unregister();
}

struct h_redir_pending *h_redir_pending_find(struct h_redir_pending *head, uint32_t index)
{
	for (; head && head->index <= index; head = head->next)
		if (head->index == index)
			return head;
	return NULL;
}

uint32_t h_redir_pending_next(struct h_redir_pending *head, uint32_t after)
{
	for (; head; head = head->next)
		if (head->index > after)
			return head->index;
	return 0;
}

struct h_redir_pending *h_redir_pending_swap(struct h_redir_pending **head, uint32_t index,
                                             struct h_redir_pending *repl)
{
	struct h_redir_pending **pp, *old = NULL;

	for (pp = head; *pp && (*pp)->index < index; pp = &(*pp)->next)
		;
	if (*pp && (*pp)->index == index) {
		old = *pp;
		*pp = old->next;
		old->next = NULL;
	}
	if (repl) {
		repl->index = index;
		repl->next = *pp;
		*pp = repl;
	}
	return old;
}

void h_redir_pending_free_all(struct h_redir_pending **head)
{
	while (*head) {
		struct h_redir_pending *p = *head;

		*head = p->next;
		free(p);
	}
}

uint32_t h_redir_pending_merge(struct h_redir_pending *head, uint32_t engine_next, uint32_t after)
{
	uint32_t p = h_redir_pending_next(head, after);

	/* Engine rows and pending rows merge in index order. */
	if (!engine_next)
		return p;
	if (!p)
		return engine_next;
	return engine_next < p ? engine_next : p;
}

/* ---- SET of RowStatus tables ----------------------------------------- */

int h_redir_check_rowstatus(struct h_redir_row *row, const netsnmp_variable_list *vb)
{
	int rc;

	if ((rc = netsnmp_check_vb_rowstatus_value(vb)))
		return rc;
	row->rs = *vb->val.integer;
	switch (row->kind) {
	case H_ROW_ABSENT:
		if (row->rs == RS_ACTIVE || row->rs == RS_NOTINSERVICE)
			return SNMP_ERR_INCONSISTENTVALUE;
		break;
	case H_ROW_PENDING:
		if (row->rs == RS_CREATEANDGO || row->rs == RS_CREATEANDWAIT)
			return SNMP_ERR_INCONSISTENTVALUE;
		break;
	case H_ROW_ENGINE:
		/* The engine has no out-of-service state (a server's admin down is it). */
		if (row->rs == RS_CREATEANDGO || row->rs == RS_CREATEANDWAIT || row->rs == RS_NOTINSERVICE)
			return SNMP_ERR_INCONSISTENTVALUE;
		break;
	}
	return SNMP_ERR_NOERROR;
}

int h_redir_check_storage(struct h_redir_row *row, const netsnmp_variable_list *vb, int *storage)
{
	int rc;

	if ((rc = netsnmp_check_vb_int_range(vb, 1, 5)))
		return rc;
	if (row->kind == H_ROW_ENGINE) {
		if (*vb->val.integer != *storage)
			row->chg_define = 1;
	} else if (*vb->val.integer != REDIR_ST_VOLATILE && *vb->val.integer != REDIR_ST_NONVOLATILE) {
		return SNMP_ERR_WRONGVALUE; /* other(1), permanent(4), readOnly(5) are the agent's */
	}
	*storage = (int)*vb->val.integer;
	return SNMP_ERR_NOERROR;
}

int h_redir_check_name(struct h_redir_row *row, const netsnmp_variable_list *vb, char *buf, size_t size, size_t min_len)
{
	int rc;

	if ((rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, size - 1)))
		return rc;
	if (vb->val_len < min_len)
		return SNMP_ERR_WRONGLENGTH;
	if (memchr(vb->val.string, 0, vb->val_len))
		return SNMP_ERR_WRONGVALUE;
	if (row->kind == H_ROW_ENGINE && (strlen(buf) != vb->val_len || memcmp(buf, vb->val.string, vb->val_len) != 0))
		row->chg_define = 1;
	memcpy(buf, vb->val.string, vb->val_len);
	buf[vb->val_len] = 0;
	return SNMP_ERR_NOERROR;
}

struct h_redir_txn {
	const struct h_redir_rows *ops;
	size_t n;
	unsigned char *rows; /* n rows of ops->row_size */
};

static struct h_redir_row *txn_at(const struct h_redir_txn *t, size_t i)
{
	return (struct h_redir_row *)(void *)(t->rows + i * t->ops->row_size);
}

static void txn_free(void *p)
{
	struct h_redir_txn *t = p;
	size_t i;

	for (i = 0; i < t->n; i++)
		free(txn_at(t, i)->swapped_out);
	free(t->rows);
	free(t);
}

static struct h_redir_row *txn_row(struct h_redir_txn *t, uint32_t index, netsnmp_request_info *r)
{
	const struct h_redir_rows *ops = t->ops;
	struct h_redir_pending *pw;
	struct h_redir_row *row;
	int origin = 0, storage = 0;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (txn_at(t, i)->index == index)
			return txn_at(t, i);
	row = txn_at(t, t->n++);
	memset(row, 0, ops->row_size);
	row->index = index;
	row->first = r;
	row->work = (struct h_redir_pending *)(void *)((unsigned char *)row + ops->work_offset);
	if (ops->load(index, row->work, &origin, &storage) == 0) {
		row->kind = H_ROW_ENGINE;
		/* Config rows come and go with the config file only. */
		row->fixed = origin == REDIR_ORIGIN_CONFIG || storage == REDIR_ST_READONLY;
	} else if ((pw = h_redir_pending_find(*ops->pending, index))) {
		row->kind = H_ROW_PENDING;
		memcpy(row->work, pw, ops->pending_size);
		row->work->next = NULL;
	} else {
		row->kind = H_ROW_ABSENT;
		if (ops->defaults)
			ops->defaults(row->work);
		row->work->created = time(NULL);
	}
	row->work->index = index;
	return row;
}

/* RESERVE1 per row, once every varbind is in: the engine's validation. */
static int check_row(const struct h_redir_rows *ops, struct h_redir_row *row)
{
	int ready = ops->ready(row->work);
	int rc;

	if (row->kind == H_ROW_ABSENT) {
		if (row->rs == RS_DESTROY) {
			row->op = H_OP_NONE;
			return SNMP_ERR_NOERROR;
		}
		if (row->rs != RS_CREATEANDGO && row->rs != RS_CREATEANDWAIT)
			return SNMP_ERR_NOCREATION;
		if (row->rs == RS_CREATEANDWAIT) {
			row->work->status = ready ? RS_NOTINSERVICE : RS_NOTREADY;
			row->op = H_OP_PENDING;
			return SNMP_ERR_NOERROR;
		}
	} else if (row->kind == H_ROW_PENDING) {
		if (row->rs == RS_DESTROY) {
			row->op = H_OP_PENDING_DELETE;
			return SNMP_ERR_NOERROR;
		}
		if (row->rs != RS_ACTIVE) {
			if (row->rs == RS_NOTINSERVICE && !ready)
				return SNMP_ERR_INCONSISTENTVALUE;
			row->work->status = ready ? RS_NOTINSERVICE : RS_NOTREADY;
			row->op = H_OP_PENDING;
			return SNMP_ERR_NOERROR;
		}
	} else {
		if (row->rs == RS_DESTROY) {
			if (row->fixed)
				return SNMP_ERR_INCONSISTENTVALUE;
			row->op = H_OP_DESTROY;
			return SNMP_ERR_NOERROR;
		}
		if (row->chg_define)
			return SNMP_ERR_INCONSISTENTVALUE; /* only while not active */
		if ((rc = ops->validate_update(row)))
			return rc;
		row->op = row->chg ? H_OP_UPDATE : H_OP_NONE;
		return SNMP_ERR_NOERROR;
	}

	/* createAndGo, or active on a pending row: the engine creates it. */
	if (!ready)
		return SNMP_ERR_INCONSISTENTVALUE;
	rc = ops->validate_create(row);
	if (rc == -EPERM || rc == -ENOSPC)
		return SNMP_ERR_NOCREATION;
	if ((rc = h_redir_validate_err(rc)))
		return rc;
	row->op = H_OP_CREATE;
	return SNMP_ERR_NOERROR;
}

static void row_swap(const struct h_redir_rows *ops, struct h_redir_row *row, struct h_redir_pending *repl)
{
	row->swapped_out = h_redir_pending_swap(ops->pending, row->index, repl);
	row->swapped = 1;
}

static int row_action(const struct h_redir_rows *ops, struct h_redir_row *row)
{
	struct h_redir_pending *copy;
	int rc;

	switch (row->op) {
	case H_OP_CREATE:
		if ((rc = ops->create(row)) < 0)
			return rc;
		row->created = 1;
		if (row->kind == H_ROW_PENDING)
			row_swap(ops, row, NULL);
		return ops->created ? ops->created(row) : 0;
	case H_OP_PENDING:
		if (!(copy = malloc(ops->pending_size)))
			return -ENOMEM;
		memcpy(copy, row->work, ops->pending_size);
		row_swap(ops, row, copy);
		return 0;
	case H_OP_PENDING_DELETE: row_swap(ops, row, NULL); return 0;
	case H_OP_UPDATE: return ops->update(row);
	default: return 0;
	}
}

static int row_undo(const struct h_redir_rows *ops, struct h_redir_row *row)
{
	int rc = 0, r2;

	if (row->created && (rc = ops->destroy(row->index)) < 0)
		sa_log(SA_LOG_ERR, "handlers", "redirector %s %u: cannot undo creation: %s", ops->what,
		       (unsigned int)row->index, strerror(-rc));
	row->created = 0;
	if (row->swapped) {
		/* Put the old pending row back; what ACTION inserted is freed. */
		row->swapped_out = h_redir_pending_swap(ops->pending, row->index, row->swapped_out);
		row->swapped = 0;
	}
	if ((r2 = ops->undo_update(row)) < 0)
		rc = r2;
	return rc;
}

int h_redir_rows_set(struct h_redir_table *tab, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct h_redir_rows *ops = tab->rows;
	struct h_redir_txn *t = netsnmp_request_get_list_data(requests, ops->txn_key);
	netsnmp_request_info *r;
	size_t n = 0, i;
	int rc;

	switch (reqinfo->mode) {
	case MODE_SET_RESERVE1:
		for (r = requests; r; r = r->next)
			n++;
		t = calloc(1, sizeof(*t));
		if (t && !(t->rows = calloc(n, ops->row_size))) {
			free(t);
			t = NULL;
		}
		if (!t) {
			netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_RESOURCEUNAVAILABLE);
			break;
		}
		t->ops = ops;
		netsnmp_request_add_list_data(requests, netsnmp_create_data_list(ops->txn_key, t, txn_free));
		for (r = requests; r; r = r->next) {
			unsigned int col;
			uint32_t index;

			if (h_redir_parse(tab, r->requestvb, &col, &index) < 0 || col < 1 || col > ops->last_col) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOCREATION);
				return SNMP_ERR_NOERROR;
			}
			if (col < tab->min_col) {
				/* The index column is not-accessible. */
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOACCESS);
				return SNMP_ERR_NOERROR;
			}
			rc = ops->check_column(txn_row(t, index, r), col, r->requestvb);
			if (rc != SNMP_ERR_NOERROR) {
				netsnmp_set_request_error(reqinfo, r, rc);
				return SNMP_ERR_NOERROR;
			}
		}
		for (i = 0; i < t->n; i++) {
			rc = check_row(ops, txn_at(t, i));
			if (rc != SNMP_ERR_NOERROR) {
				netsnmp_set_request_error(reqinfo, txn_at(t, i)->first, rc);
				return SNMP_ERR_NOERROR;
			}
		}
		break;

	case MODE_SET_ACTION:
		if (!t)
			break;
		for (i = 0; i < t->n; i++) {
			rc = row_action(ops, txn_at(t, i));
			if (rc < 0) {
				sa_log(SA_LOG_WARNING, "handlers", "redirector %s %u: SET failed: %s", ops->what,
				       (unsigned int)txn_at(t, i)->index, strerror(-rc));
				netsnmp_set_request_error(reqinfo, txn_at(t, i)->first, h_redir_action_err(rc));
				break;
			}
		}
		break;

	case MODE_SET_UNDO:
		if (!t)
			break;
		for (i = t->n; i-- > 0;)
			if (row_undo(ops, txn_at(t, i)) < 0)
				netsnmp_set_request_error(reqinfo, txn_at(t, i)->first, SNMP_ERR_UNDOFAILED);
		break;

	case MODE_SET_COMMIT:
		if (!t)
			break;
		/* A destroy (a server's remaps its resources) cannot be undone,
		 * so it runs only once every other varbind has been applied. */
		for (i = 0; i < t->n; i++) {
			uint32_t index = txn_at(t, i)->index;

			if (txn_at(t, i)->op != H_OP_DESTROY)
				continue;
			rc = ops->destroy(index);
			if (rc < 0)
				sa_log(SA_LOG_ERR, "handlers", "redirector %s %u: destroy failed: %s", ops->what,
				       (unsigned int)index, strerror(-rc));
			else
				sa_log(SA_LOG_INFO, "handlers", "redirector %s %u destroyed by SET", ops->what,
				       (unsigned int)index);
		}
		break;

	default: break;
	}
	return SNMP_ERR_NOERROR;
}
