/* pathTeamTable.c: sanTeamTable and sanTeamNextIndex of SANAGENT-PATH-MIB; a team's control values as one request
 * leaves them. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "handlers/pathTables.h"

#define TAG "handlers"

static const oid team_table_oid[] = {H_OID_TEAM_TABLE};
static const oid next_index_oid[] = {H_OID_TEAM_NEXT_INDEX};

static const struct h_column team_cols[] = {
    {H_TEAM_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_TEAM_NAME, H_RC, H_SYN_ADMIN_STRING, H_COL_NOT_ACTIVE, 1, BAL_NAME_MAX},
    {H_TEAM_TARGET, H_RC, H_SYN_ISCSI_NAME, H_COL_NOT_ACTIVE, 1, BAL_TARGET_MAX},
    {H_TEAM_LUN, H_RC, H_SYN_UINT, H_COL_NOT_ACTIVE, 0, 16383},
    {H_TEAM_MODE, H_RC, H_SYN_INT, 0, SP_MODE_FAILOVER, SP_MODE_FAILOVER_LB},
    {H_TEAM_ALGO, H_RC, H_SYN_INT, 0, SP_ALGO_STATIC, SP_ALGO_SERVICE_TIME},
    {H_TEAM_TIMER_INTERVAL, H_RC, H_SYN_UINT, 0, 10, 3600000},
    {H_TEAM_CHANGE_THRESHOLD, H_RC, H_SYN_UINT, 0, 0, 100},
    {H_TEAM_LB_CHANGE, H_RC, H_SYN_UINT, 0, 1, 100},
    {H_TEAM_STATE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_TEAM_READ_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_TEAM_WRITE_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_TEAM_EXPORT_SOCKET, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_TEAM_PORTALS, H_RC, H_SYN_OCTETS, H_COL_NOT_ACTIVE, 1, 255},
    {H_TEAM_CONTROL_STATUS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_TEAM_STORAGE_TYPE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_TEAM_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
    {H_TEAM_FAILBACK, H_RC, H_SYN_INT, 0, BAL_FAILBACK_IMMEDIATE, BAL_FAILBACK_DELAYED},
    {H_TEAM_FAILBACK_HOLD, H_RC, H_SYN_UINT, 0, 0, BAL_FAILBACK_HOLD_MAX},
    {H_TEAM_FLAP_COUNT, H_RC, H_SYN_UINT, 0, 0, BAL_FLAP_COUNT_MAX},
    {H_TEAM_FLAP_WINDOW, H_RC, H_SYN_UINT, 0, 1, BAL_FLAP_WINDOW_MAX},
    {H_TEAM_FLAP_HOLD, H_RC, H_SYN_UINT, 0, 0, BAL_FAILBACK_HOLD_MAX},
    {H_TEAM_FAILBACK_NOW, H_RC, H_SYN_INT, 0, 1, 2},
    {H_TEAM_NEXT_PATH_INDEX, H_RO, H_SYN_ANY, 0, 0, 0},
};

/* "ADDR:PORT[%IFACE] ..." in path order. */
static void portals_string(const struct bal_team_spec *s, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < s->npaths && o < len; i++)
		if (!s->path[i].removed)
			o += (size_t)snprintf(buf + o, len - o, "%s%s%s%s", o ? " " : "", s->path[i].portal,
			                      s->path[i].iface[0] ? "%" : "", s->path[i].iface);
}

int h_parse_portal_spec(const char *str, size_t len, struct bal_path_spec *ps)
{
	char buf[BAL_PORTAL_MAX + BAL_IFACE_MAX + 2], *pct;
	unsigned char a[16];
	unsigned int port;
	int fam;

	if (len == 0 || len >= sizeof(buf) || memchr(str, '\0', len))
		return -EINVAL;
	memcpy(buf, str, len);
	buf[len] = '\0';
	memset(ps, 0, sizeof(*ps));
	if ((pct = strchr(buf, '%'))) {
		*pct = '\0';
		if (!pct[1] || strlen(pct + 1) > BAL_IFACE_MAX)
			return -EINVAL;
		snprintf(ps->iface, sizeof(ps->iface), "%s", pct + 1);
	}
	if (strlen(buf) > BAL_PORTAL_MAX || bal_parse_portal(buf, &fam, a, &port) < 0)
		return -EINVAL;
	snprintf(ps->portal, sizeof(ps->portal), "%s", buf);
	return 0;
}

static int parse_portals(const char *str, size_t len, struct bal_team_spec *s)
{
	char buf[256], *save = NULL, *tok;
	unsigned char a[16];
	unsigned int port, n = 0;
	int fam;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, str, len);
	buf[len] = '\0';
	for (tok = strtok_r(buf, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
		char *pct = strchr(tok, '%');

		if (n == SP_MAX_PATHS)
			return -EINVAL;
		if (pct) {
			*pct = '\0';
			if (strlen(pct + 1) > BAL_IFACE_MAX || !pct[1])
				return -EINVAL;
			snprintf(s->path[n].iface, sizeof(s->path[n].iface), "%s", pct + 1);
		} else {
			s->path[n].iface[0] = '\0';
		}
		if (strlen(tok) > BAL_PORTAL_MAX || bal_parse_portal(tok, &fam, a, &port) < 0)
			return -EINVAL;
		snprintf(s->path[n].portal, sizeof(s->path[n].portal), "%s", tok);
		n++;
	}
	if (!n)
		return -EINVAL;
	s->npaths = n;
	return 0;
}

int h_team_storage(const struct bal_eng_team *t)
{
	return t->origin == BAL_FROM_CONFIG ? ST_PERMANENT : t->nonvolatile ? ST_NONVOLATILE : ST_VOLATILE;
}
#define storage_of h_team_storage

/* ---- GET ---------------------------------------------------------------------------------------------- */

static int team_next(const uint32_t *after, uint32_t *out)
{
	unsigned int i = after && after[0] > 0x7fffffffu ? 0 : bal_team_next(after ? after[0] : 0);

	if (!i)
		return -ENOENT;
	out[0] = i;
	return 0;
}

static int spec_get(const struct bal_team_spec *s, unsigned int col, netsnmp_variable_list *vb)
{
	char buf[256];

	switch (col) {
	case H_TEAM_NAME: h_set_str(vb, s->name, sizeof(s->name)); break;
	case H_TEAM_TARGET: h_set_str(vb, s->target, sizeof(s->target)); break;
	case H_TEAM_LUN: h_set_u32(vb, ASN_UNSIGNED, s->lun); break;
	case H_TEAM_MODE: h_set_int(vb, s->ctl.mode); break;
	case H_TEAM_ALGO: h_set_int(vb, s->ctl.algo); break;
	case H_TEAM_TIMER_INTERVAL: h_set_u32(vb, ASN_UNSIGNED, s->ctl.dyn.timer_interval_ms); break;
	case H_TEAM_CHANGE_THRESHOLD: h_set_u32(vb, ASN_UNSIGNED, s->ctl.dyn.change_threshold); break;
	case H_TEAM_LB_CHANGE: h_set_u32(vb, ASN_UNSIGNED, s->ctl.dyn.lb_change_pct); break;
	case H_TEAM_PORTALS:
		portals_string(s, buf, sizeof(buf));
		h_set_str(vb, buf, sizeof(buf));
		break;
	case H_TEAM_FAILBACK: h_set_int(vb, s->ctl.failback); break;
	case H_TEAM_FAILBACK_HOLD: h_set_u32(vb, ASN_UNSIGNED, s->ctl.failback_hold_s); break;
	case H_TEAM_FLAP_COUNT: h_set_u32(vb, ASN_UNSIGNED, s->ctl.flap_count); break;
	case H_TEAM_FLAP_WINDOW: h_set_u32(vb, ASN_UNSIGNED, s->ctl.flap_window_s); break;
	case H_TEAM_FLAP_HOLD: h_set_u32(vb, ASN_UNSIGNED, s->ctl.flap_hold_s); break;
	case H_TEAM_FAILBACK_NOW: h_set_int(vb, 1); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int team_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct bal_eng_team *t = bal_team_get(idx[0]);

	if (!t)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_TEAM_STATE: h_set_int(vb, t->state); break;
	case H_TEAM_READ_BYTES: h_set_u64(vb, t->total_bytes[SP_READ]); break;
	case H_TEAM_WRITE_BYTES: h_set_u64(vb, t->total_bytes[SP_WRITE]); break;
	case H_TEAM_EXPORT_SOCKET: h_set_str(vb, t->sock, sizeof(t->sock)); break;
	case H_TEAM_CONTROL_STATUS: h_set_int(vb, t->ctl_status); break;
	case H_TEAM_STORAGE_TYPE: h_set_int(vb, storage_of(t)); break;
	case H_TEAM_ROW_STATUS: h_set_int(vb, RS_ACTIVE); break;
	case H_TEAM_NEXT_PATH_INDEX: h_set_u32(vb, ASN_UNSIGNED, bal_team_next_path(t)); break;
	default: return spec_get(&t->spec, col, vb);
	}
	return SNMP_ERR_NOERROR;
}

/* A row not active yet: what the SETs so far gave it. */
static int team_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct h_team_image *w = image;

	switch (col) {
	case H_TEAM_STATE: h_set_int(vb, BAL_TEAM_FAILED); break;
	case H_TEAM_READ_BYTES:
	case H_TEAM_WRITE_BYTES: h_set_u64(vb, 0); break;
	case H_TEAM_EXPORT_SOCKET: h_set_str(vb, "", 0); break;
	case H_TEAM_CONTROL_STATUS: h_set_int(vb, 1); break;
	case H_TEAM_STORAGE_TYPE: h_set_int(vb, w->storage); break;
	case H_TEAM_NEXT_PATH_INDEX: h_set_u32(vb, ASN_UNSIGNED, 0); break;
	default: return spec_get(&w->spec, col, vb);
	}
	return SNMP_ERR_NOERROR;
}

/* ---- SET ---------------------------------------------------------------------------------------------- */

static int team_load(const uint32_t *idx, void *image)
{
	const struct bal_eng_team *t = bal_team_get(idx[0]);
	struct h_team_image *w = image;

	if (!t)
		return -ENOENT;
	w->spec = t->spec;
	w->storage = storage_of(t);
	return 0;
}

/* A new row starts from the MIB's DEFVALs. */
static void team_defaults(void *image, const uint32_t *idx)
{
	struct h_team_image *w = image;

	(void)idx;
	w->spec.ctl.mode = SP_MODE_FAILOVER_LB;
	w->spec.ctl.algo = SP_ALGO_STATIC;
	w->spec.ctl.dyn.timer_interval_ms = 1000;
	w->spec.ctl.dyn.change_threshold = 10;
	w->spec.ctl.dyn.lb_change_pct = 5;
	bal_ctl_failback_defaults(&w->spec.ctl);
	w->storage = ST_NONVOLATILE;
}

static int put_uint(unsigned int *dst, const netsnmp_variable_list *vb)
{
	unsigned int v = (unsigned int)*vb->val.integer;
	int changed = *dst != v;

	*dst = v;
	return changed;
}

static int team_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct h_team_image *w = image;
	struct bal_team_spec tmp;
	int changed;

	switch (col) {
	case H_TEAM_NAME: return h_put_str(w->spec.name, sizeof(w->spec.name), vb);
	case H_TEAM_TARGET: return h_put_str(w->spec.target, sizeof(w->spec.target), vb);
	case H_TEAM_LUN: return put_uint(&w->spec.lun, vb);
	case H_TEAM_MODE: return h_put_int(&w->spec.ctl.mode, vb);
	case H_TEAM_ALGO: return h_put_int(&w->spec.ctl.algo, vb);
	case H_TEAM_TIMER_INTERVAL: return put_uint(&w->spec.ctl.dyn.timer_interval_ms, vb);
	case H_TEAM_CHANGE_THRESHOLD: return put_uint(&w->spec.ctl.dyn.change_threshold, vb);
	case H_TEAM_LB_CHANGE: return put_uint(&w->spec.ctl.dyn.lb_change_pct, vb);
	case H_TEAM_STORAGE_TYPE: return h_put_int(&w->storage, vb);
	case H_TEAM_FAILBACK: return h_put_int(&w->spec.ctl.failback, vb);
	case H_TEAM_FAILBACK_HOLD: return put_uint(&w->spec.ctl.failback_hold_s, vb);
	case H_TEAM_FLAP_COUNT: return put_uint(&w->spec.ctl.flap_count, vb);
	case H_TEAM_FLAP_WINDOW: return put_uint(&w->spec.ctl.flap_window_s, vb);
	case H_TEAM_FLAP_HOLD: return put_uint(&w->spec.ctl.flap_hold_s, vb);
	case H_TEAM_FAILBACK_NOW: w->failback_now = *vb->val.integer == 2; return w->failback_now;
	case H_TEAM_PORTALS:
		memset(&tmp, 0, sizeof(tmp));
		w->portals_bad = parse_portals((const char *)vb->val.string, vb->val_len, &tmp) < 0;
		if (w->portals_bad)
			return 1;
		changed =
		    tmp.npaths != w->spec.npaths || memcmp(tmp.path, w->spec.path, tmp.npaths * sizeof(tmp.path[0]));
		w->spec.npaths = tmp.npaths;
		memcpy(w->spec.path, tmp.path, sizeof(tmp.path));
		return changed;
	default: return 0;
	}
}

static int team_ready(const void *image)
{
	const struct h_team_image *w = image;

	return w->spec.name[0] && w->spec.target[0] && (w->spec.npaths || w->portals_bad);
}

int h_team_ctl_after(struct h_txn *txn, unsigned int team, struct bal_ctl *out)
{
	const struct bal_eng_team *t = bal_team_get(team);
	const struct h_row *row = h_txn_find(txn, &h_team_table, &team);

	if (!t)
		return -ENOENT;
	*out = row ? ((const struct h_team_image *)row->work)->spec.ctl : t->spec.ctl;
	for (uint32_t i = 1; i <= t->spec.npaths; i++) {
		const uint32_t idx[2] = {team, i};
		const struct h_row *p = h_txn_find(txn, &h_path_table, idx);

		if (p) {
			const unsigned int *share = p->work;

			out->share[SP_READ][i - 1] = share[SP_READ];
			out->share[SP_WRITE][i - 1] = share[SP_WRITE];
		}
	}
	return 0;
}

int h_team_ctl_apply(struct h_txn *txn, unsigned int team, struct h_row *row, struct bal_ctl *undo)
{
	const struct bal_eng_team *t = bal_team_get(team);
	struct bal_ctl c;
	int rc;

	if (!t || (rc = h_team_ctl_after(txn, team, &c)) < 0)
		return -ENOENT;
	/* The first row of the team in the request writes it; the others find it done. */
	if (!memcmp(&c, &t->spec.ctl, sizeof(c)))
		return 0;
	*undo = t->spec.ctl;
	if ((rc = bal_set_ctl(team, &c)) < 0)
		return rc;
	row->done = 1;
	return 0;
}

int h_team_ctl_undo(unsigned int team, struct h_row *row, const struct bal_ctl *undo)
{
	int rc = row->done ? bal_set_ctl(team, undo) : 0;

	row->done = 0;
	return rc;
}

static int team_check(struct h_row *row, struct h_txn *txn)
{
	struct h_team_image *w = row->work;
	struct bal_ctl c;
	char why[160];
	int rc;

	switch (row->op) {
	case H_OP_CREATE:
		if (!bal_running())
			return -EAGAIN;
		if (w->portals_bad)
			return -EINVAL;
		/* Shares left out of a createAndGo are equal, as for config teams. */
		for (int d = 0; d < 2; d++) {
			unsigned int sum = 0;

			for (unsigned int i = 0; i < w->spec.npaths; i++)
				sum += w->spec.ctl.share[d][i];
			if (sum == 0)
				for (unsigned int i = 0; i < w->spec.npaths; i++)
					w->spec.ctl.share[d][i] = 100 / w->spec.npaths + (i < 100 % w->spec.npaths);
		}
		if ((rc = bal_validate_spec(&w->spec, row->idx[0], why, sizeof(why))) < 0 ||
		    (rc = bal_check_access(&w->spec, why, sizeof(why))) < 0)
			cm_log(CM_LOG_INFO, TAG, "sanTeamTable.%u: createAndGo refused: %s", (unsigned int)row->idx[0],
			       rc == -EEXIST ? "name already used" : why);
		return rc;
	case H_OP_PENDING: return w->portals_bad ? -EINVAL : 0;
	case H_OP_UPDATE:
		if ((rc = h_team_ctl_after(txn, row->idx[0], &c)) < 0)
			return rc;
		return bal_validate_ctl(bal_team_get(row->idx[0]), &c);
	case H_OP_DESTROY: return bal_team_validate_destroy(row->idx[0]);
	default: return 0;
	}
}

static int team_action(struct h_row *row, struct h_txn *txn)
{
	struct h_team_image *w = row->work;
	int rc;

	if (row->op == H_OP_CREATE) {
		if ((rc = bal_team_create(row->idx[0], &w->spec, w->storage != ST_VOLATILE)) == 0)
			row->done = 2;
		return rc;
	}
	return h_team_ctl_apply(txn, row->idx[0], row, &w->undo_ctl);
}

static int team_undo(struct h_row *row)
{
	struct h_team_image *w = row->work;
	int rc;

	if (row->done == 2) {
		row->done = 0;
		return bal_team_destroy(row->idx[0]);
	}
	rc = h_team_ctl_undo(row->idx[0], row, &w->undo_ctl);
	return rc;
}

static int team_commit(struct h_row *row)
{
	const struct h_team_image *w = row->work;
	int rc;

	if (row->op == H_OP_UPDATE && w->failback_now) {
		/* A trigger: it happens once the rest of the request is in. */
		if ((rc = bal_team_failback(row->idx[0])) < 0)
			cm_log(CM_LOG_ERR, TAG, "sanTeamTable.%u: failback failed: %s", (unsigned int)row->idx[0],
			       strerror(-rc));
		return rc;
	}
	if (row->op != H_OP_DESTROY || !bal_team_get(row->idx[0]))
		return 0;
	/* A team that cannot leave the state file stays. */
	if ((rc = bal_team_destroy(row->idx[0])) < 0)
		cm_log(CM_LOG_ERR, TAG, "sanTeamTable.%u: destroy failed: %s", (unsigned int)row->idx[0],
		       strerror(-rc));
	return rc;
}

static const struct h_table_ops team_ops = {
    .next = team_next,
    .get = team_get,
    .get_work = team_get_work,
    .load = team_load,
    .defaults = team_defaults,
    .store = team_store,
    .ready = team_ready,
    .check = team_check,
    .action = team_action,
    .undo = team_undo,
    .commit = team_commit,
};

struct h_table h_team_table = {
    .name = "sanTeamTable",
    .root = team_table_oid,
    .root_len = OID_LENGTH(team_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = team_cols,
    .ncols = sizeof(team_cols) / sizeof(team_cols[0]),
    .rowstatus_col = H_TEAM_ROW_STATUS,
    .storage_col = H_TEAM_STORAGE_TYPE,
    .rank = 0, /* before its paths */
    .image_size = sizeof(struct h_team_image),
    .writable = 1,
    .ops = &team_ops,
};

/* ---- sanTeamNextIndex ----------------------------------------------------------------------------------- */

static struct h_next_index next_index = {
    .name = "sanTeamNextIndex",
    .root = next_index_oid,
    .root_len = OID_LENGTH(next_index_oid),
    .value = bal_next_index,
    .table = &h_team_table,
};

int h_path_init(void)
{
	int rc;

	if (h_team_table.reg)
		return 0;
	if ((rc = h_table_register(&h_team_table)) < 0)
		return rc;
	if ((rc = h_next_index_register(&next_index)) < 0 || (rc = h_path_table_init()) < 0) {
		h_path_shutdown();
		return rc;
	}
	return 0;
}

void h_path_shutdown(void)
{
	h_path_table_shutdown();
	h_next_index_unregister(&next_index);
	h_table_unregister(&h_team_table);
}
