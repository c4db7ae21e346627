/* pathTable.c: sanPathTable of SANAGENT-PATH-MIB: one row per path of every team, live values, writable shares,
 * and paths added to and removed from a running team. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "handlers/pathTables.h"

static const oid path_table_oid[] = {H_OID_PATH_TABLE};

static const struct h_column path_cols[] = {
    {H_PATH_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_PATH_ADDRESS_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_ADDRESS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_INTERFACE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_ROLE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_STATE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_READ_SHARE, H_RW, H_SYN_UINT, 0, 0, 100},
    {H_PATH_WRITE_SHARE, H_RW, H_SYN_UINT, 0, 0, 100},
    {H_PATH_ACTUAL_READ_SHARE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_ACTUAL_WRITE_SHARE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_READ_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_WRITE_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_READ_COMMANDS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_WRITE_COMMANDS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_ERRORS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_LAST_CHANGE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_AVG_LATENCY, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_PORTAL, H_RC, H_SYN_OCTETS, H_COL_NOT_ACTIVE, 1, BAL_PORTAL_MAX + BAL_IFACE_MAX + 1},
    {H_PATH_OPER_STATUS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_LAST_ERROR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_LOGIN_RESULT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_HOLD_REASON, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_PATH_STORAGE_TYPE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_PATH_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

#define TAG "handlers"

static int path_shown(const struct bal_eng_team *t, uint32_t path)
{
	return t && path >= 1 && path <= t->spec.npaths && !t->spec.path[path - 1].removed;
}

/* (team, path) after `after`: paths are 1..npaths of each team, teams in index order. */
static int path_next(const uint32_t *after, uint32_t *out)
{
	const struct bal_eng_team *t = after ? bal_team_get(after[0]) : NULL;
	unsigned int team;

	/* Paths that left their team are skipped: their indexes stay taken. */
	if (t)
		for (uint32_t p = after[1] + 1; after[1] < SP_MAX_PATHS && p <= t->spec.npaths; p++)
			if (path_shown(t, p)) {
				out[0] = after[0];
				out[1] = p;
				return 0;
			}
	for (team = bal_team_next(after ? after[0] : 0); team; team = bal_team_next(team)) {
		if (!(t = bal_team_get(team)))
			continue;
		for (uint32_t p = 1; p <= t->spec.npaths; p++)
			if (path_shown(t, p)) {
				out[0] = team;
				out[1] = p;
				return 0;
			}
	}
	return -ENOENT;
}

static int path_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct bal_eng_team *t = bal_team_get(idx[0]);
	unsigned int i = idx[1] - 1;
	const struct bal_path_spec *ps;
	const struct bal_path_live *l;
	u_char dt[H_DATE_AND_TIME_LEN];
	unsigned char addr[16];
	unsigned int port = 0;
	int fam = 0;

	char buf[BAL_PORTAL_MAX + BAL_IFACE_MAX + 2];

	if (!path_shown(t, idx[1]))
		return SNMP_NOSUCHINSTANCE;
	ps = &t->spec.path[i];
	l = &t->live[i];
	switch (col) {
	case H_PATH_ADDRESS_TYPE:
	case H_PATH_ADDRESS:
	case H_PATH_PORT:
		if (bal_parse_portal(ps->portal, &fam, addr, &port) < 0)
			fam = 0;
		if (col == H_PATH_ADDRESS_TYPE)
			h_set_int(vb, fam == 4 ? 1 : fam == 6 ? 2 : 0);
		else if (col == H_PATH_ADDRESS)
			h_set_octets(vb, addr, fam == 4 ? 4 : fam == 6 ? 16 : 0);
		else
			h_set_u32(vb, ASN_UNSIGNED, port);
		break;
	case H_PATH_INTERFACE: h_set_str(vb, ps->iface, sizeof(ps->iface)); break;
	case H_PATH_ROLE: h_set_int(vb, l->role == 1 || l->role == 2 ? l->role : 3); break;
	case H_PATH_STATE: h_set_int(vb, l->state); break;
	case H_PATH_READ_SHARE: h_set_u32(vb, ASN_UNSIGNED, t->spec.ctl.share[SP_READ][i]); break;
	case H_PATH_WRITE_SHARE: h_set_u32(vb, ASN_UNSIGNED, t->spec.ctl.share[SP_WRITE][i]); break;
	case H_PATH_ACTUAL_READ_SHARE: h_set_u32(vb, ASN_UNSIGNED, l->actual[SP_READ]); break;
	case H_PATH_ACTUAL_WRITE_SHARE: h_set_u32(vb, ASN_UNSIGNED, l->actual[SP_WRITE]); break;
	case H_PATH_READ_BYTES: h_set_u64(vb, l->bytes[SP_READ]); break;
	case H_PATH_WRITE_BYTES: h_set_u64(vb, l->bytes[SP_WRITE]); break;
	case H_PATH_READ_COMMANDS: h_set_u64(vb, l->cmds[SP_READ]); break;
	case H_PATH_WRITE_COMMANDS: h_set_u64(vb, l->cmds[SP_WRITE]); break;
	case H_PATH_ERRORS: h_set_u64(vb, l->errors); break;
	case H_PATH_LAST_CHANGE:
		h_date_and_time(l->last_change ? l->last_change : h_agent->start_time(), dt);
		h_set_octets(vb, dt, sizeof(dt));
		break;
	case H_PATH_AVG_LATENCY: h_set_u32(vb, ASN_UNSIGNED, l->avg_latency_us); break;
	case H_PATH_PORTAL:
		snprintf(buf, sizeof(buf), "%s%s%s", ps->portal, ps->iface[0] ? "%" : "", ps->iface);
		h_set_str(vb, buf, sizeof(buf));
		break;
	case H_PATH_OPER_STATUS:
		/* SanOperStatus: up(1) logged in and verified, down(2) otherwise (a refused path says why). */
		h_set_int(vb,
		          l->state == BAL_PATH_ACTIVE || l->state == BAL_PATH_STANDBY || l->state == BAL_PATH_SUSPECT
		              ? 1
		              : 2);
		break;
	case H_PATH_LAST_ERROR: h_set_str(vb, l->last_error, sizeof(l->last_error)); break;
	case H_PATH_LOGIN_RESULT: h_set_int(vb, l->login_result); break;
	case H_PATH_HOLD_REASON: h_set_int(vb, l->hold ? l->hold : BAL_HOLD_NONE); break;
	case H_PATH_STORAGE_TYPE: h_set_int(vb, h_team_storage(t)); break;
	case H_PATH_ROW_STATUS: h_set_int(vb, RS_ACTIVE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* The row image: the path's two shares (SP_READ, SP_WRITE) first (h_team_ctl_after reads them), then what a
 * write replaced, and a new row's portal. */
struct path_image {
	unsigned int share[2];
	struct bal_ctl undo_ctl;
	struct bal_path_spec spec;
	int storage;
	int portal_bad;
};

static int path_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct path_image *w = image;
	char buf[BAL_PORTAL_MAX + BAL_IFACE_MAX + 2];

	switch (col) {
	case H_PATH_PORTAL:
		snprintf(buf, sizeof(buf), "%s%s%s", w->spec.portal, w->spec.iface[0] ? "%" : "", w->spec.iface);
		h_set_str(vb, buf, sizeof(buf));
		return SNMP_ERR_NOERROR;
	case H_PATH_STORAGE_TYPE: h_set_int(vb, w->storage); return SNMP_ERR_NOERROR;
	case H_PATH_READ_SHARE: h_set_u32(vb, ASN_UNSIGNED, w->share[SP_READ]); return SNMP_ERR_NOERROR;
	case H_PATH_WRITE_SHARE: h_set_u32(vb, ASN_UNSIGNED, w->share[SP_WRITE]); return SNMP_ERR_NOERROR;
	default: return SNMP_NOSUCHOBJECT;
	}
}

static void path_defaults(void *image, const uint32_t *idx)
{
	struct path_image *w = image;
	const struct bal_eng_team *t = bal_team_get(idx[0]);

	w->storage = t ? h_team_storage(t) : ST_NONVOLATILE;
}

static int path_ready(const void *image)
{
	const struct path_image *w = image;

	return w->spec.portal[0] || w->portal_bad;
}

static int path_load(const uint32_t *idx, void *image)
{
	const struct bal_eng_team *t = bal_team_get(idx[0]);
	struct path_image *w = image;

	if (!path_shown(t, idx[1]))
		return -ENOENT;
	w->share[SP_READ] = t->spec.ctl.share[SP_READ][idx[1] - 1];
	w->share[SP_WRITE] = t->spec.ctl.share[SP_WRITE][idx[1] - 1];
	w->spec = t->spec.path[idx[1] - 1];
	w->storage = h_team_storage(t);
	return 0;
}

static int path_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct path_image *w = image;
	unsigned int *dst = &w->share[col == H_PATH_READ_SHARE ? SP_READ : SP_WRITE];
	unsigned int v;
	int changed;

	if (col == H_PATH_STORAGE_TYPE)
		return h_put_int(&w->storage, vb);
	if (col == H_PATH_PORTAL) {
		struct bal_path_spec ps;

		w->portal_bad = h_parse_portal_spec((const char *)vb->val.string, vb->val_len, &ps) < 0;
		if (w->portal_bad)
			return 1;
		changed = memcmp(&ps, &w->spec, sizeof(ps)) != 0;
		w->spec = ps;
		return changed;
	}
	if (col != H_PATH_READ_SHARE && col != H_PATH_WRITE_SHARE)
		return 0;
	v = (unsigned int)*vb->val.integer;
	changed = *dst != v;
	*dst = v;
	return changed;
}

/* The sums of each direction are the engine's check, over the team as the whole request leaves it. */
static int path_check(struct h_row *row, struct h_txn *txn)
{
	struct path_image *w = row->work;
	const struct bal_eng_team *t = bal_team_get(row->idx[0]);
	struct bal_ctl c;
	char why[160];
	int rc;

	switch (row->op) {
	case H_OP_CREATE:
		if (!t || row->idx[1] > SP_MAX_PATHS)
			return -ENXIO; /* no such team, or past any team's last path index: never */
		if (w->portal_bad)
			return -EINVAL;
		/* A path's storage is its team's: it is kept (or not) with the team. */
		if (w->storage != h_team_storage(t))
			return -EDOM;
		if ((rc = bal_path_validate_add(row->idx[0], row->idx[1], &w->spec, why, sizeof(why))) < 0)
			cm_log(CM_LOG_INFO, TAG, "sanPathTable.%u.%u: createAndGo refused: %s",
			       (unsigned int)row->idx[0], (unsigned int)row->idx[1], why);
		return rc;
	case H_OP_PENDING:
		if (!t || row->idx[1] > SP_MAX_PATHS)
			return -ENXIO;
		return w->portal_bad ? -EINVAL : 0;
	case H_OP_UPDATE:
		if ((rc = h_team_ctl_after(txn, row->idx[0], &c)) < 0)
			return rc;
		return bal_validate_ctl(t, &c);
	case H_OP_DESTROY: return bal_path_validate_remove(row->idx[0], row->idx[1]);
	default: return 0;
	}
}

static int path_action(struct h_row *row, struct h_txn *txn)
{
	struct path_image *w = row->work;
	int rc;

	if (row->op == H_OP_CREATE) {
		if ((rc = bal_path_add(row->idx[0], row->idx[1], &w->spec)) == 0)
			row->done = 2;
		return rc;
	}
	if (row->op != H_OP_UPDATE)
		return 0;
	return h_team_ctl_apply(txn, row->idx[0], row, &w->undo_ctl);
}

static int path_undo(struct h_row *row)
{
	if (row->done == 2) {
		/* The index stays taken: a later varbind of the request failed. */
		row->done = 0;
		return bal_path_remove(row->idx[0], row->idx[1]);
	}
	return h_team_ctl_undo(row->idx[0], row, &((struct path_image *)row->work)->undo_ctl);
}

static int path_commit(struct h_row *row)
{
	int rc;

	if (row->op != H_OP_DESTROY || !path_shown(bal_team_get(row->idx[0]), row->idx[1]))
		return 0;
	if ((rc = bal_path_remove(row->idx[0], row->idx[1])) < 0)
		cm_log(CM_LOG_ERR, TAG, "sanPathTable.%u.%u: destroy failed: %s", (unsigned int)row->idx[0],
		       (unsigned int)row->idx[1], strerror(-rc));
	return rc;
}

static const struct h_table_ops path_ops = {
    .next = path_next,
    .get = path_get,
    .get_work = path_get_work,
    .load = path_load,
    .defaults = path_defaults,
    .store = path_store,
    .ready = path_ready,
    .check = path_check,
    .action = path_action,
    .undo = path_undo,
    .commit = path_commit,
};

struct h_table h_path_table = {
    .name = "sanPathTable",
    .root = path_table_oid,
    .root_len = OID_LENGTH(path_table_oid),
    .nindex = 2,
    .index_min = 1,
    .cols = path_cols,
    .ncols = sizeof(path_cols) / sizeof(path_cols[0]),
    .rowstatus_col = H_PATH_ROW_STATUS,
    .storage_col = H_PATH_STORAGE_TYPE,
    .rank = 1, /* after its team */
    .image_size = sizeof(struct path_image),
    .writable = 1,
    .ops = &path_ops,
};

int h_path_table_init(void)
{
	return h_table_register(&h_path_table);
}

void h_path_table_shutdown(void)
{
	h_table_unregister(&h_path_table);
}
