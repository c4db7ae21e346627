/* pathTable.c: sanPathTable of SANAGENT-PATH-MIB: one row per path of every team, live values and writable shares. */
#include <config.h>

#include <errno.h>
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
};

/* (team, path) after `after`: paths are 1..npaths of each team, teams in index order. */
static int path_next(const uint32_t *after, uint32_t *out)
{
	const struct bal_eng_team *t = after ? bal_team_get(after[0]) : NULL;
	unsigned int team;

	if (t && after[1] < t->spec.npaths) {
		out[0] = after[0];
		out[1] = after[1] + 1;
		return 0;
	}
	for (team = bal_team_next(after ? after[0] : 0); team; team = bal_team_next(team)) {
		if ((t = bal_team_get(team)) && t->spec.npaths) {
			out[0] = team;
			out[1] = 1;
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

	if (!t || idx[1] < 1 || idx[1] > t->spec.npaths)
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
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* The row image: the path's two shares (SP_READ, SP_WRITE), then what a write replaced. */
struct path_image {
	unsigned int share[2];
	struct bal_ctl undo_ctl;
};

static int path_load(const uint32_t *idx, void *image)
{
	const struct bal_eng_team *t = bal_team_get(idx[0]);
	struct path_image *w = image;

	/* Paths come with their team (sanTeamPortals): none is created here. */
	if (!t || idx[1] < 1 || idx[1] > t->spec.npaths)
		return -ENOENT;
	w->share[SP_READ] = t->spec.ctl.share[SP_READ][idx[1] - 1];
	w->share[SP_WRITE] = t->spec.ctl.share[SP_WRITE][idx[1] - 1];
	return 0;
}

static int path_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct path_image *w = image;
	unsigned int *dst = &w->share[col == H_PATH_READ_SHARE ? SP_READ : SP_WRITE];
	unsigned int v = (unsigned int)*vb->val.integer;
	int changed = *dst != v;

	*dst = v;
	return changed;
}

/* The sums of each direction are the engine's check, over the team as the whole request leaves it. */
static int path_check(struct h_row *row, struct h_txn *txn)
{
	struct bal_ctl c;
	int rc;

	if (row->op != H_OP_UPDATE)
		return 0;
	if ((rc = h_team_ctl_after(txn, row->idx[0], &c)) < 0)
		return rc;
	return bal_validate_ctl(bal_team_get(row->idx[0]), &c);
}

static int path_action(struct h_row *row, struct h_txn *txn)
{
	return h_team_ctl_apply(txn, row->idx[0], row, &((struct path_image *)row->work)->undo_ctl);
}

static int path_undo(struct h_row *row)
{
	return h_team_ctl_undo(row->idx[0], row, &((struct path_image *)row->work)->undo_ctl);
}

static const struct h_table_ops path_ops = {
    .next = path_next,
    .get = path_get,
    .load = path_load,
    .store = path_store,
    .check = path_check,
    .action = path_action,
    .undo = path_undo,
};

struct h_table h_path_table = {
    .name = "sanPathTable",
    .root = path_table_oid,
    .root_len = OID_LENGTH(path_table_oid),
    .nindex = 2,
    .cols = path_cols,
    .ncols = sizeof(path_cols) / sizeof(path_cols[0]),
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
