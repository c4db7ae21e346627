/* scalars.c: the scalar-group framework of handlers/ (see scalars.h): GET, syntax, the per-request SET transaction. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "handlers/scalars.h"
#include "handlers/stateTxn.h"

static const struct h_column *obj_find(const struct h_scalar_group *g, unsigned long sub)
{
	for (size_t i = 0; i < g->nobjs; i++)
		if (g->objs[i].col == sub)
			return &g->objs[i];
	return NULL;
}

/* The object a varbind names: net-snmp's scalar helpers have checked it is root.sub.0 (root.0 for col 0). */
static unsigned long vb_sub(const struct h_scalar_group *g, const netsnmp_variable_list *vb)
{
	return vb->name_length > g->root_len ? vb->name[g->root_len] : 0;
}

static void do_get(const struct h_scalar_group *g, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r)
{
	const struct h_column *c = obj_find(g, vb_sub(g, r->requestvb));
	int rc;

	if (!c || (c->access != H_RO && c->access != H_RW))
		rc = SNMP_NOSUCHOBJECT;
	else
		rc = g->ops->get(c->col, r->requestvb);
	if (rc != SNMP_ERR_NOERROR)
		netsnmp_set_request_error(reqinfo, r, rc);
}

/* ---- the SET transaction ---------------------------------------------------------------------------------- */

static void txn_free(void *p)
{
	struct h_scalar_txn *x = p;

	free(x->work);
	free((void *)x->old);
	free(x);
}

/* The request's transaction of g; created (with the values in force) when create is set. */
static struct h_scalar_txn *txn_get(const struct h_scalar_group *g, netsnmp_agent_request_info *reqinfo, int create)
{
	struct h_scalar_txn *x = netsnmp_agent_get_list_data(reqinfo, g->key);
	size_t size = g->image_size ? g->image_size : 1;
	netsnmp_data_list *node;
	void *old;

	if (x || !create)
		return x;
	if (!(x = calloc(1, sizeof(*x))) || !(x->work = calloc(1, size)) || !(old = calloc(1, size))) {
		if (x)
			free(x->work);
		free(x);
		return NULL;
	}
	x->group = g;
	if (g->ops->load)
		g->ops->load(x->work);
	memcpy(old, x->work, size);
	x->old = old;
	if (!(node = netsnmp_create_data_list(g->key, x, txn_free))) {
		txn_free(x);
		return NULL;
	}
	netsnmp_agent_add_list_data(reqinfo, node);
	return x;
}

static netsnmp_request_info *blamed(const struct h_scalar_txn *x, netsnmp_request_info *dflt)
{
	return x->blame <= H_TABLE_MAX_COL && x->req[x->blame] ? x->req[x->blame] : dflt;
}

/* RESERVE1: syntax of each varbind against its object's declaration, then into the image. */
static void reserve1(const struct h_scalar_group *g, netsnmp_agent_request_info *reqinfo,
                     netsnmp_request_info *requests)
{
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;
		const struct h_column *c = obj_find(g, vb_sub(g, vb));
		struct h_scalar_txn *x;
		int rc;

		if (r->processed)
			continue;
		if (c && (c->access == H_NA || c->access == H_NOTIFY)) {
			netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOACCESS);
			return;
		}
		if (!c || c->access != H_RW || !g->ops->store) {
			netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
			return;
		}
		if ((rc = h_column_check(c, vb)) != SNMP_ERR_NOERROR) {
			netsnmp_set_request_error(reqinfo, r, rc);
			return;
		}
		if (!(x = txn_get(g, reqinfo, 1))) {
			netsnmp_set_request_error(reqinfo, r, SNMP_ERR_RESOURCEUNAVAILABLE);
			return;
		}
		if (g->ops->store(x->work, c->col, vb))
			x->changed |= (uint64_t)1 << c->col;
		x->named |= (uint64_t)1 << c->col;
		x->req[c->col] = r;
		if (!x->first)
			x->first = r;
		x->last = r;
	}
}

/* RESERVE2: the engine's validate on the whole image, once every varbind of the group is in. */
static void check(struct h_scalar_txn *x, netsnmp_agent_request_info *reqinfo)
{
	int rc;

	x->blame = 0;
	if (!x->group->ops->check || (rc = x->group->ops->check(x)) == 0)
		return;
	netsnmp_set_request_error(reqinfo, blamed(x, x->last), h_table_err(rc, H_PHASE_CHECK));
}

static void action(struct h_scalar_txn *x, netsnmp_agent_request_info *reqinfo)
{
	int rc;

	x->blame = 0;
	if (!x->group->ops->apply)
		return;
	x->applied = 1; /* undo reverses what part of it ran */
	if ((rc = x->group->ops->apply(x)) < 0) {
		cm_log(CM_LOG_WARNING, "handlers", "%s: SET failed: %s", x->group->name, strerror(-rc));
		netsnmp_set_request_error(reqinfo, blamed(x, x->first), h_table_err(rc, H_PHASE_ACTION));
	}
}

static void undo(struct h_scalar_txn *x, netsnmp_agent_request_info *reqinfo)
{
	int rc = 0;

	if (!x->applied)
		return;
	x->applied = 0;
	if (x->group->ops->undo && (rc = x->group->ops->undo(x)) < 0) {
		cm_log(CM_LOG_ERR, "handlers", "%s: cannot undo a SET: %s", x->group->name, strerror(-rc));
		netsnmp_set_request_error(reqinfo, x->first, SNMP_ERR_UNDOFAILED);
	}
}

static int group_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                         netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct h_scalar_group *g = handler->myvoid;
	struct h_scalar_txn *x;

	(void)reginfo;
	if (reqinfo->mode == MODE_GET) {
		for (netsnmp_request_info *r = requests; r; r = r->next)
			if (!r->processed)
				do_get(g, reqinfo, r);
		return SNMP_ERR_NOERROR;
	}
	if (reqinfo->mode == MODE_SET_RESERVE1) {
		reserve1(g, reqinfo, requests);
		return SNMP_ERR_NOERROR;
	}
	/* The later phases run once per request for the whole group: the
	 * first of its varbinds the agent calls does the work. */
	if (!(x = txn_get(g, reqinfo, 0)))
		return SNMP_ERR_NOERROR;
	switch (reqinfo->mode) {
	case MODE_SET_RESERVE2:
		if (!x->checked++)
			check(x, reqinfo);
		break;
	case MODE_SET_ACTION:
		if (!x->acted++)
			action(x, reqinfo);
		break;
	case MODE_SET_UNDO: undo(x, reqinfo); break;
	case MODE_SET_COMMIT:
		if (!x->committed++ && g->ops->commit)
			g->ops->commit(x);
		break;
	default: break; /* FREE: the transaction goes with the request */
	}
	return SNMP_ERR_NOERROR;
}

int h_scalar_register(struct h_scalar_group *g)
{
	netsnmp_handler_registration *reg;
	int rc;

	if (g->reg)
		return 0;
	if (!g->nobjs || g->objs[g->nobjs - 1].col > H_TABLE_MAX_COL)
		return -EINVAL;
	/* Ascending: the first and the last bound the registration, and a col-0 object stands alone. */
	for (size_t i = 1; i < g->nobjs; i++)
		if (g->objs[i].col <= g->objs[i - 1].col || !g->objs[i - 1].col)
			return -EINVAL;
	snprintf(g->key, sizeof(g->key), "h_scalar:%s", g->name);
	reg = netsnmp_create_handler_registration(g->name, group_handler, g->root, g->root_len,
	                                          g->writable ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	reg->handler->myvoid = g; /* before the injections put other handlers first */
	/* One state commit per PDU, durable before the answer (stateTxn.c). */
	if (g->writable && h_stxn_inject(reg) < 0) {
		netsnmp_handler_registration_free(reg);
		return -ENOMEM;
	}
	/* A failed registration frees reg. */
	if (g->objs[0].col == 0)
		rc = netsnmp_register_scalar(reg);
	else
		rc = netsnmp_register_scalar_group(reg, g->objs[0].col, g->objs[g->nobjs - 1].col);
	if (rc != MIB_REGISTERED_OK) {
		cm_log(CM_LOG_ERR, "handlers", "cannot register %s (%d)", g->name, rc);
		return -EEXIST;
	}
	g->reg = reg;
	return 0;
}

void h_scalar_unregister(struct h_scalar_group *g)
{
	if (g->reg) {
		netsnmp_unregister_handler(g->reg);
		g->reg = NULL;
	}
}
