/* pathTeamTable.c: sanTeamTable and sanTeamNextIndex of SANAGENT-PATH-MIB, the atomic multi-varbind SET logic. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/pathmib.h"
#include "common/bus.h"
#include "common/log.h"

#define TAG "handlers"
#define PENDING_KEY "sanPathMIB:pending"

static const oid team_table_oid[] = {H_OID_TEAM_TABLE};
static const oid next_index_oid[] = {H_OID_TEAM_NEXT_INDEX};
static uint32_t team_next_index(void)
{
	return bal_next_index();
}
static struct h_next_index next_index = {
    .name = "sanTeamNextIndex",
    .root = next_index_oid,
    .root_len = OID_LENGTH(next_index_oid),
    .value = team_next_index,
};
static struct h_ctable team_ct;

/* RowStatus (RS_*) and StorageType (ST_*) values come from net-snmp's snmp.h. */

/* ---- pending changes of one request ---------------------------------------- */

struct pending_set {
	struct h_team_pending *list;
	int applied, committed, undone;
};

static void pending_free(void *data)
{
	struct pending_set *ps = data;

	while (ps && ps->list) {
		struct h_team_pending *p = ps->list;

		ps->list = p->next;
		free(p);
	}
	free(ps);
}

static struct pending_set *pending_set(netsnmp_agent_request_info *reqinfo, int make)
{
	struct pending_set *ps = netsnmp_agent_get_list_data(reqinfo, PENDING_KEY);

	if (ps || !make)
		return ps;
	if (!(ps = calloc(1, sizeof(*ps))))
		return NULL;
	netsnmp_agent_add_list_data(reqinfo, netsnmp_create_data_list(PENDING_KEY, ps, pending_free));
	return ps;
}

struct h_team_pending *h_path_pending(netsnmp_agent_request_info *reqinfo, unsigned int index)
{
	struct pending_set *ps = pending_set(reqinfo, 1);
	const struct bal_eng_team *t;
	struct h_team_pending *p;

	if (!ps)
		return NULL;
	for (p = ps->list; p; p = p->next)
		if (p->index == index)
			return p;
	if (!(p = calloc(1, sizeof(*p))))
		return NULL;
	p->index = index;
	if ((t = bal_team_get(index))) {
		p->exists = 1;
		p->spec = t->spec;
		p->old_ctl = t->spec.ctl;
	} else {
		/* A new row starts from the MIB's DEFVALs. */
		p->spec.ctl.mode = BAL_MODE_FAILOVER_LB;
		p->spec.ctl.algo = BAL_ALGO_STATIC;
		p->spec.ctl.dyn.timer_interval_ms = 1000;
		p->spec.ctl.dyn.change_threshold = 10;
		p->spec.ctl.dyn.lb_change_pct = 5;
	}
	p->next = ps->list;
	ps->list = p;
	return p;
}

int h_path_pending_check(netsnmp_agent_request_info *reqinfo, struct h_team_pending *p)
{
	struct pending_set *ps = pending_set(reqinfo, 0);
	const struct bal_eng_team *t = bal_team_get(p->index);
	char why[160];
	int rc;

	if (p->checked)
		return p->check_err;
	p->checked = 1;
	p->check_err = SNMP_ERR_NOERROR;
	if (p->destroy) {
		/* Changing a row in the request that removes it makes no sense. */
		if (p->ctl_changed)
			p->check_err = SNMP_ERR_INCONSISTENTVALUE;
		return p->check_err;
	}
	if (p->create) {
		if (!bal_running() ||
		    (p->given & (H_PENDING_CREATE_NAME | H_PENDING_CREATE_TARGET | H_PENDING_CREATE_PORTALS)) !=
		        (H_PENDING_CREATE_NAME | H_PENDING_CREATE_TARGET | H_PENDING_CREATE_PORTALS)) {
			p->check_err = SNMP_ERR_INCONSISTENTVALUE;
			return p->check_err;
		}
		/* Shares left out of a createAndGo are equal, as for config teams. */
		for (int d = 0; d < 2; d++) {
			unsigned int sum = 0;

			for (unsigned int i = 0; i < p->spec.npaths; i++)
				sum += p->spec.ctl.share[d][i];
			if (sum == 0)
				for (unsigned int i = 0; i < p->spec.npaths; i++)
					p->spec.ctl.share[d][i] = 100 / p->spec.npaths + (i < 100 % p->spec.npaths);
		}
		rc = bal_validate_spec(&p->spec, p->index, why, sizeof(why));
		for (const struct h_team_pending *o = ps ? ps->list : NULL; o && rc == 0; o = o->next)
			if (o != p && o->create && strcmp(o->spec.name, p->spec.name) == 0)
				rc = -EEXIST;
		if (rc < 0) {
			sa_log(SA_LOG_INFO, TAG, "sanTeamTable.%u: createAndGo refused: %s", p->index,
			       rc == -EEXIST ? "name already used" : why);
			p->check_err = SNMP_ERR_INCONSISTENTVALUE;
		}
		return p->check_err;
	}
	if (!t) {
		p->check_err = SNMP_ERR_NOCREATION;
		return p->check_err;
	}
	if (p->ctl_changed && bal_validate_ctl(t, &p->spec.ctl) < 0)
		p->check_err = SNMP_ERR_INCONSISTENTVALUE;
	return p->check_err;
}

static int errno_to_snmp(int rc)
{
	switch (rc) {
	case -ENOMEM:
	case -ENOSPC:
	case -EAGAIN:
	case -EDQUOT:
	case -EIO: return SNMP_ERR_RESOURCEUNAVAILABLE;
	case -EINVAL:
	case -EDOM:
	case -EEXIST:
	case -EPERM: return SNMP_ERR_INCONSISTENTVALUE;
	default: return SNMP_ERR_COMMITFAILED;
	}
}

int h_path_pending_action(netsnmp_agent_request_info *reqinfo)
{
	struct pending_set *ps = pending_set(reqinfo, 0);
	int rc;

	if (!ps || ps->applied)
		return SNMP_ERR_NOERROR;
	ps->applied = 1;
	for (struct h_team_pending *p = ps->list; p; p = p->next) {
		if (p->destroy)
			continue; /* COMMIT: removing a team cannot be undone */
		if (p->create) {
			rc = bal_team_create(p->index, &p->spec, p->storage != ST_VOLATILE);
		} else if (p->ctl_changed) {
			const struct bal_eng_team *t = bal_team_get(p->index);

			if (!t)
				return SNMP_ERR_COMMITFAILED;
			p->old_ctl = t->spec.ctl;
			rc = bal_set_ctl(p->index, &p->spec.ctl);
		} else {
			continue;
		}
		if (rc < 0) {
			sa_log(SA_LOG_WARNING, TAG, "sanTeamTable.%u: SET failed: %s", p->index, strerror(-rc));
			return errno_to_snmp(rc);
		}
		p->done = 1;
	}
	return SNMP_ERR_NOERROR;
}

int h_path_pending_undo(netsnmp_agent_request_info *reqinfo)
{
	struct pending_set *ps = pending_set(reqinfo, 0);
	int err = SNMP_ERR_NOERROR, rc;

	if (!ps || ps->undone)
		return SNMP_ERR_NOERROR;
	ps->undone = 1;
	for (struct h_team_pending *p = ps->list; p; p = p->next) {
		if (!p->done)
			continue;
		rc = p->create ? bal_team_destroy(p->index) : bal_set_ctl(p->index, &p->old_ctl);
		if (rc < 0) {
			sa_log(SA_LOG_ERR, TAG, "sanTeamTable.%u: cannot undo: %s", p->index, strerror(-rc));
			err = SNMP_ERR_UNDOFAILED;
		}
		p->done = 0;
	}
	return err;
}

void h_path_pending_commit(netsnmp_agent_request_info *reqinfo)
{
	struct pending_set *ps = pending_set(reqinfo, 0);
	int rc;

	if (!ps || ps->committed)
		return;
	ps->committed = 1;
	for (struct h_team_pending *p = ps->list; p; p = p->next) {
		if (!p->destroy || !bal_team_get(p->index))
			continue;
		/* COMMIT cannot fail: a team that cannot leave the state file stays. */
		if ((rc = bal_team_destroy(p->index)) < 0)
			sa_log(SA_LOG_ERR, TAG, "sanTeamTable.%u: destroy failed: %s", p->index, strerror(-rc));
	}
}

/* ACTION, UNDO and COMMIT of sanPathTable (sanTeamTable runs them through h_ctable_handler). */
void h_path_pending_phase(netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r)
{
	int rc = SNMP_ERR_NOERROR;

	switch (reqinfo->mode) {
	case MODE_SET_ACTION: rc = h_path_pending_action(reqinfo); break;
	case MODE_SET_UNDO: rc = h_path_pending_undo(reqinfo); break;
	case MODE_SET_COMMIT: h_path_pending_commit(reqinfo); break;
	default: break;
	}
	if (rc != SNMP_ERR_NOERROR)
		netsnmp_set_request_error(reqinfo, r, rc);
}

/* ---- values ---------------------------------------------------------------- */

/* "ADDR:PORT[%IFACE] ..." in path order. */
static void portals_string(const struct bal_team_spec *s, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < s->npaths && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s%s%s", i ? " " : "", s->path[i].portal,
		                      s->path[i].iface[0] ? "%" : "", s->path[i].iface);
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

		if (n == BAL_MAX_PATHS)
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

static int team_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct bal_eng_team *t = bal_team_get(index);
	char buf[256];

	if (!t)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_TEAM_NAME: snmp_set_var_typed_value(vb, ASN_OCTET_STR, t->spec.name, strlen(t->spec.name)); break;
	case H_TEAM_TARGET: snmp_set_var_typed_value(vb, ASN_OCTET_STR, t->spec.target, strlen(t->spec.target)); break;
	case H_TEAM_LUN: h_row_set_int(vb, ASN_UNSIGNED, (long)t->spec.lun); break;
	case H_TEAM_MODE: h_row_set_int(vb, ASN_INTEGER, t->spec.ctl.mode); break;
	case H_TEAM_ALGO: h_row_set_int(vb, ASN_INTEGER, t->spec.ctl.algo); break;
	case H_TEAM_TIMER_INTERVAL: h_row_set_int(vb, ASN_UNSIGNED, (long)t->spec.ctl.dyn.timer_interval_ms); break;
	case H_TEAM_CHANGE_THRESHOLD: h_row_set_int(vb, ASN_UNSIGNED, (long)t->spec.ctl.dyn.change_threshold); break;
	case H_TEAM_LB_CHANGE: h_row_set_int(vb, ASN_UNSIGNED, (long)t->spec.ctl.dyn.lb_change_pct); break;
	case H_TEAM_STATE: h_row_set_int(vb, ASN_INTEGER, t->state); break;
	case H_TEAM_READ_BYTES: h_row_set_c64(vb, t->total_bytes[BAL_READ]); break;
	case H_TEAM_WRITE_BYTES: h_row_set_c64(vb, t->total_bytes[BAL_WRITE]); break;
	case H_TEAM_EXPORT_SOCKET: snmp_set_var_typed_value(vb, ASN_OCTET_STR, t->sock, strlen(t->sock)); break;
	case H_TEAM_PORTALS:
		portals_string(&t->spec, buf, sizeof(buf));
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, buf, strlen(buf));
		break;
	case H_TEAM_CONTROL_STATUS: h_row_set_int(vb, ASN_INTEGER, t->ctl_status); break;
	case H_TEAM_STORAGE_TYPE:
		h_row_set_int(vb, ASN_INTEGER,
		              t->origin == BAL_FROM_CONFIG ? ST_PERMANENT
		              : t->nonvolatile             ? ST_NONVOLATILE
		                                           : ST_VOLATILE);
		break;
	case H_TEAM_ROW_STATUS: h_row_set_int(vb, ASN_INTEGER, RS_ACTIVE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int storage_of(const struct bal_eng_team *t)
{
	return t->origin == BAL_FROM_CONFIG ? ST_PERMANENT : t->nonvolatile ? ST_NONVOLATILE : ST_VOLATILE;
}

/* RESERVE1 of one varbind: type and range, then record it in the pending entry. */
static int reserve1(netsnmp_agent_request_info *reqinfo, uint32_t index, unsigned int col,
                    const netsnmp_variable_list *vb)
{
	const struct bal_eng_team *t = bal_team_get(index);
	struct h_team_pending *p;
	struct bal_team_spec tmp;
	char buf[256];
	int rc;

	switch (col) {
	case H_TEAM_NAME:
	case H_TEAM_TARGET:
	case H_TEAM_PORTALS:
		rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR,
		                                        col == H_TEAM_NAME     ? BAL_NAME_MAX
		                                        : col == H_TEAM_TARGET ? BAL_TARGET_MAX
		                                                               : 255);
		if (rc != SNMP_ERR_NOERROR)
			return rc;
		if (vb->val_len == 0)
			return SNMP_ERR_WRONGLENGTH;
		break;
	case H_TEAM_LUN: rc = h_row_check_uint(vb, 0, 16383); break;
	case H_TEAM_MODE: rc = netsnmp_check_vb_int_range(vb, BAL_MODE_FAILOVER, BAL_MODE_FAILOVER_LB); break;
	case H_TEAM_ALGO: rc = netsnmp_check_vb_int_range(vb, BAL_ALGO_STATIC, BAL_ALGO_SERVICE_TIME); break;
	case H_TEAM_TIMER_INTERVAL: rc = h_row_check_uint(vb, 10, 3600000); break;
	case H_TEAM_CHANGE_THRESHOLD: rc = h_row_check_uint(vb, 0, 100); break;
	case H_TEAM_LB_CHANGE: rc = h_row_check_uint(vb, 1, 100); break;
	case H_TEAM_STORAGE_TYPE: rc = netsnmp_check_vb_int_range(vb, ST_OTHER, ST_READONLY); break;
	case H_TEAM_ROW_STATUS: rc = netsnmp_check_vb_int_range(vb, RS_ACTIVE, RS_DESTROY); break;
	default: return SNMP_ERR_NOTWRITABLE;
	}
	if (rc != SNMP_ERR_NOERROR)
		return rc;
	if (!(p = h_path_pending(reqinfo, index)))
		return SNMP_ERR_RESOURCEUNAVAILABLE;

	switch (col) {
	case H_TEAM_NAME:
		memcpy(buf, vb->val.string, vb->val_len);
		buf[vb->val_len] = '\0';
		if (t)
			return strcmp(buf, t->spec.name) ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_NOERROR;
		if (strlen(buf) != vb->val_len ||
		    buf[strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                    "0123456789._-")] ||
		    buf[0] == '.')
			return SNMP_ERR_WRONGVALUE;
		memcpy(p->spec.name, buf, vb->val_len + 1); /* length checked above */
		p->given |= H_PENDING_CREATE_NAME;
		break;
	case H_TEAM_TARGET:
		memcpy(buf, vb->val.string, vb->val_len);
		buf[vb->val_len] = '\0';
		if (t)
			return strcmp(buf, t->spec.target) ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_NOERROR;
		if (strlen(buf) != vb->val_len || strpbrk(buf, " ;,\t"))
			return SNMP_ERR_WRONGVALUE;
		memcpy(p->spec.target, buf, vb->val_len + 1);
		p->given |= H_PENDING_CREATE_TARGET;
		break;
	case H_TEAM_PORTALS:
		memset(&tmp, 0, sizeof(tmp));
		if (parse_portals((const char *)vb->val.string, vb->val_len, &tmp) < 0)
			return SNMP_ERR_WRONGVALUE;
		if (t) {
			return tmp.npaths == t->spec.npaths &&
			               memcmp(tmp.path, t->spec.path, tmp.npaths * sizeof(tmp.path[0])) == 0
			           ? SNMP_ERR_NOERROR
			           : SNMP_ERR_INCONSISTENTVALUE;
		}
		p->spec.npaths = tmp.npaths;
		memcpy(p->spec.path, tmp.path, sizeof(tmp.path));
		p->given |= H_PENDING_CREATE_PORTALS;
		break;
	case H_TEAM_LUN:
		if (t)
			return (unsigned long)*vb->val.integer == t->spec.lun ? SNMP_ERR_NOERROR
			                                                      : SNMP_ERR_INCONSISTENTVALUE;
		p->spec.lun = (unsigned int)*vb->val.integer;
		break;
	case H_TEAM_MODE:
		p->spec.ctl.mode = (int)*vb->val.integer;
		p->ctl_changed = 1;
		break;
	case H_TEAM_ALGO:
		p->spec.ctl.algo = (int)*vb->val.integer;
		p->ctl_changed = 1;
		break;
	case H_TEAM_TIMER_INTERVAL:
		p->spec.ctl.dyn.timer_interval_ms = (unsigned int)*vb->val.integer;
		p->ctl_changed = 1;
		break;
	case H_TEAM_CHANGE_THRESHOLD:
		p->spec.ctl.dyn.change_threshold = (unsigned int)*vb->val.integer;
		p->ctl_changed = 1;
		break;
	case H_TEAM_LB_CHANGE:
		p->spec.ctl.dyn.lb_change_pct = (unsigned int)*vb->val.integer;
		p->ctl_changed = 1;
		break;
	case H_TEAM_STORAGE_TYPE:
		if (t)
			return *vb->val.integer == storage_of(t) ? SNMP_ERR_NOERROR : SNMP_ERR_INCONSISTENTVALUE;
		if (*vb->val.integer != ST_VOLATILE && *vb->val.integer != ST_NONVOLATILE)
			return SNMP_ERR_WRONGVALUE;
		p->storage = (int)*vb->val.integer;
		break;
	case H_TEAM_ROW_STATUS:
		switch (*vb->val.integer) {
		case RS_ACTIVE: return t ? SNMP_ERR_NOERROR : SNMP_ERR_INCONSISTENTVALUE;
		case RS_NOTINSERVICE: return t ? SNMP_ERR_WRONGVALUE : SNMP_ERR_INCONSISTENTVALUE;
		case RS_NOTREADY: return SNMP_ERR_WRONGVALUE;
		case RS_CREATEANDWAIT: return t ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_WRONGVALUE;
		case RS_CREATEANDGO:
			if (t)
				return SNMP_ERR_INCONSISTENTVALUE;
			p->create = 1;
			break;
		case RS_DESTROY:
			if (t && t->origin == BAL_FROM_CONFIG)
				return SNMP_ERR_INCONSISTENTVALUE;
			p->destroy = t != NULL; /* destroying a missing row is a no-op */
			break;
		}
		break;
	}
	return SNMP_ERR_NOERROR;
}

static int team_reserve2(netsnmp_agent_request_info *reqinfo, uint32_t index, unsigned int col,
                         const netsnmp_variable_list *vb)
{
	struct h_team_pending *p = h_path_pending(reqinfo, index);

	if (!p)
		return SNMP_ERR_RESOURCEUNAVAILABLE;
	if (!p->exists && !p->create && !(col == H_TEAM_ROW_STATUS && *vb->val.integer == RS_DESTROY))
		return SNMP_ERR_NOCREATION;
	return h_path_pending_check(reqinfo, p);
}

static const struct h_ctable_ops team_ops = {
    .index_max = 0x7fffffff,
    .get = team_get,
    .reserve1 = reserve1,
    .reserve2 = team_reserve2,
    .action = h_path_pending_action,
    .undo = h_path_pending_undo,
    .commit = h_path_pending_commit,
};

/* ---- rows follow the engine's teams ------------------------------------------- */

static int bal_sub; /* bus handle, 0: not subscribed */

static void on_event(int topic, const void *data, void *arg)
{
	const struct bal_event *ev = data;

	(void)topic;
	(void)arg;
	if (ev->type == BAL_EV_TEAM_ADDED) {
		h_ctable_row_add1(&team_ct, ev->team);
		h_path_table_team_added(ev->team);
	} else if (ev->type == BAL_EV_TEAM_REMOVED) {
		h_ctable_row_del1(&team_ct, ev->team);
		h_path_table_team_removed(ev->team);
	}
}

int h_path_init(void)
{
	int rc;

	if (team_ct.reg)
		return 0;
	team_ct.ops = &team_ops;
	rc = h_ctable_register(&team_ct, "sanTeamTable", h_ctable_handler, team_table_oid, OID_LENGTH(team_table_oid),
	                       1, H_TEAM_NAME, H_TEAM_ROW_STATUS);
	if (rc < 0)
		return rc;
	if ((rc = h_next_index_register(&next_index)) < 0) {
		h_path_shutdown();
		return rc;
	}
	if ((rc = h_path_table_init()) < 0) {
		h_path_shutdown();
		return rc;
	}
	if ((rc = bus_subscribe(BUS_BALANCE, on_event, NULL)) < 0) {
		h_path_shutdown();
		return rc;
	}
	bal_sub = rc;
	/* Teams that exist already (the engine may start first). */
	for (unsigned int i = bal_team_next(0); i; i = bal_team_next(i)) {
		h_ctable_row_add1(&team_ct, i);
		h_path_table_team_added(i);
	}
	return 0;
}

void h_path_shutdown(void)
{
	if (bal_sub)
		bus_unsubscribe(bal_sub);
	bal_sub = 0;
	h_path_table_shutdown();
	h_next_index_unregister(&next_index);
	h_ctable_unregister(&team_ct);
}
