/* login_teams.c: a login row asks for a data-plane team in its own terms (engines/discovery/login.h); the balance
 * engine makes one.  The two engines never include each other: they meet here and on the bus.  The cluster
 * engine's ownership decides which targets both may use, also plugged in here. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/balance/engine.h"
#include "engines/cluster/clu_host.h"
#include "engines/discovery/login.h"
#include "subagent/login_teams.h"
#include "common/bus.h"

_Static_assert(DISC_TEAM_MAX_PATHS == SP_MAX_PATHS, "a login's paths fit a team");
_Static_assert(DISC_TEAM_PORTAL_MAX == BAL_PORTAL_MAX, "a login's portal fits a team path");
_Static_assert(DISC_TEAM_IFACE_MAX == BAL_IFACE_MAX, "a login's adapter fits a team path");
_Static_assert(DISC_LOGIN_TARGET_MAX <= BAL_TARGET_MAX && DISC_CRED_STR_MAX <= BAL_CHAP_MAX,
               "a login's target and CHAP strings fit a team");

static int login_bal_sub; /* bus handle, 0: not subscribed */

static int team_running(void)
{
	return bal_running();
}

static int team_portal_ok(const char *portal)
{
	unsigned char addr[16];
	unsigned int port;
	int fam;

	return bal_parse_portal(portal, &fam, addr, &port) == 0;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static int team_create(const struct disc_team_req *req, unsigned int *team)
{
	struct bal_team_spec s;
	unsigned int index = bal_next_index();
	int rc;

	memset(&s, 0, sizeof(s));
	copy(s.name, sizeof(s.name), req->name);
	copy(s.target, sizeof(s.target), req->target);
	copy(s.initiator, sizeof(s.initiator), req->initiator);
	s.lun = req->lun;
	/* sanTeamTable's DEFVALs: failover with load balancing, static shares. */
	s.ctl.mode = SP_MODE_FAILOVER_LB;
	s.ctl.algo = SP_ALGO_STATIC;
	s.ctl.dyn.timer_interval_ms = 1000;
	s.ctl.dyn.change_threshold = 10;
	s.ctl.dyn.lb_change_pct = 5;
	if (req->user) {
		copy(s.chap.user, sizeof(s.chap.user), req->user);
		copy(s.chap.secret, sizeof(s.chap.secret), req->secret);
		if (req->target_user) {
			copy(s.chap.target_user, sizeof(s.chap.target_user), req->target_user);
			copy(s.chap.target_secret, sizeof(s.chap.target_secret), req->target_secret);
		}
	}
	s.npaths = req->npaths < SP_MAX_PATHS ? req->npaths : SP_MAX_PATHS;
	for (unsigned int i = 0; i < s.npaths; i++) {
		copy(s.path[i].portal, sizeof(s.path[i].portal), req->path[i].portal);
		copy(s.path[i].iface, sizeof(s.path[i].iface), req->path[i].iface);
	}
	rc = bal_team_create(index, &s, 0);
	/* The secrets stay in the credential row only. */
	memset(&s.chap, 0, sizeof(s.chap));
	if (rc == 0)
		*team = index;
	return rc;
}

static int team_destroy(unsigned int team)
{
	return bal_team_destroy(team);
}

static int team_paths(unsigned int team, struct disc_team_path *out, unsigned int max)
{
	const struct bal_eng_team *t = bal_team_get(team);
	unsigned int n;

	if (!t)
		return -ENOENT;
	n = 0;
	for (unsigned int i = 0; i < t->spec.npaths && n < max; i++) {
		const struct bal_path_live *p = &t->live[i];

		if (t->spec.path[i].removed) /* left the team (sanPathRowStatus destroy): not the login's */
			continue;
		out[n].up = p->state == BAL_PATH_ACTIVE || p->state == BAL_PATH_STANDBY;
		out[n].refused = p->state == BAL_PATH_REFUSED;
		out[n].login_result = p->login_result;
		out[n].login_status = p->login_status;
		n++;
	}
	return (int)n;
}

static int team_repath(unsigned int team, const char *from, const char *to)
{
	const struct bal_eng_team *t = bal_team_get(team);

	if (!t)
		return -ENOENT;
	for (unsigned int i = 0; i < t->spec.npaths; i++)
		if (strcmp(t->spec.path[i].portal, from) == 0)
			return bal_path_set_portal(team, i + 1, to);
	return -ENOENT;
}

static int team_repath_target(const char *target, const char *from, const char *to)
{
	int n = 0;

	for (unsigned int team = bal_team_next(0); team; team = bal_team_next(team)) {
		const struct bal_eng_team *t = bal_team_get(team);

		if (t && strcmp(t->spec.target, target) == 0 && team_repath(team, from, to) == 0)
			n++;
	}
	return n;
}

static const struct disc_team_ops login_team_ops = {
    .running = team_running,
    .portal_ok = team_portal_ok,
    .create = team_create,
    .destroy = team_destroy,
    .paths = team_paths,
    .repath = team_repath,
    .repath_target = team_repath_target,
};

/* ---- cluster ownership: what this host may log in to -------------------------------------------------------- */

/* Configured or SNMP teams (not a login row's) whose paths end_sessions logged out: they log in again when the
 * target is this host's again. */
static unsigned int *revoked_teams;
static size_t nrevoked;

static int access_may_use(const char *target)
{
	return clu_host_may_use_target(target);
}

static int access_may_use_lun(const char *target, unsigned int lun)
{
	return clu_host_may_use_lun(target, lun);
}

static const struct disc_access_ops login_access_ops = {
    .may_use = access_may_use,
    .may_use_lun = access_may_use_lun,
    .refused = clu_host_refused,
};

static int team_may_use(const char *target, unsigned int lun)
{
	int rc = clu_host_may_use_target(target);

	return rc < 0 ? rc : clu_host_may_use_lun(target, lun);
}

static const struct bal_access_ops team_access_ops = {
    .may_use = team_may_use,
    .refused = clu_host_refused,
};

/* A team no login row made, to target (and lun unless CLU_ALL_LUNS). */
static int own_team_to(const struct bal_eng_team *t, const char *target, uint32_t lun)
{
	return t && disc_login_by_team(t->index) == 0 && strcmp(t->spec.target, target) == 0 &&
	       (lun == CLU_ALL_LUNS || t->spec.lun == lun);
}

static int host_end_sessions(const char *target, uint32_t lun)
{
	int n = disc_login_revoke(target, lun == CLU_ALL_LUNS ? UINT32_MAX : lun);

	for (unsigned int team = bal_team_next(0); team; team = bal_team_next(team)) {
		const struct bal_eng_team *t = bal_team_get(team);
		unsigned int *r;
		int ended = 0;

		if (!own_team_to(t, target, lun) || team_may_use(t->spec.target, t->spec.lun) == 0)
			continue;
		/* A team from the config cannot be removed: its paths log out and stay out. */
		for (unsigned int i = 0; i < t->spec.npaths; i++)
			if (!t->live[i].admin_down && !t->spec.path[i].removed && bal_path_logout(team, i + 1) == 0)
				ended = 1;
		if (!ended || !(r = realloc(revoked_teams, (nrevoked + 1) * sizeof(*r))))
			continue;
		revoked_teams = r;
		revoked_teams[nrevoked++] = team;
		n++;
	}
	return n;
}

static void host_sessions(void (*cb)(const char *target, uint32_t lun, void *arg), void *arg)
{
	disc_login_foreach_wanted(cb, arg);
	for (unsigned int team = bal_team_next(0); team; team = bal_team_next(team)) {
		const struct bal_eng_team *t = bal_team_get(team);
		int live = 0;

		if (!t || disc_login_by_team(team) != 0)
			continue;
		for (unsigned int i = 0; i < t->spec.npaths; i++)
			live |= !t->live[i].admin_down && !t->spec.path[i].removed;
		if (live)
			cb(t->spec.target, t->spec.lun, arg);
	}
}

static void host_access_changed(void)
{
	disc_login_access_changed();
	for (size_t k = 0; k < nrevoked;) {
		const struct bal_eng_team *t = bal_team_get(revoked_teams[k]);

		if (t && team_may_use(t->spec.target, t->spec.lun) < 0) {
			k++;
			continue;
		}
		if (t)
			for (unsigned int i = 0; i < t->spec.npaths; i++)
				bal_path_login(t->index, i + 1);
		revoked_teams[k] = revoked_teams[--nrevoked];
	}
}

static const struct clu_host_ops login_host_ops = {
    .end_sessions = host_end_sessions,
    .sessions = host_sessions,
    .access_changed = host_access_changed,
};

static void on_balance(int topic, const void *data, void *arg)
{
	const struct bal_event *ev = data;

	(void)topic;
	(void)arg;
	disc_conn_team_event(ev->team, ev->type == BAL_EV_TEAM_REMOVED);
}

int sa_login_teams_start(void)
{
	int rc;

	disc_team_ops_register(&login_team_ops);
	disc_access_ops_register(&login_access_ops);
	bal_access_ops_register(&team_access_ops);
	clu_host_ops_register(&login_host_ops);
	if (login_bal_sub)
		return 0;
	if ((rc = bus_subscribe(BUS_BALANCE, on_balance, NULL)) < 0)
		return rc;
	login_bal_sub = rc;
	return 0;
}

void sa_login_teams_stop(void)
{
	clu_host_ops_register(NULL);
	disc_access_ops_register(NULL);
	bal_access_ops_register(NULL);
	free(revoked_teams);
	revoked_teams = NULL;
	nrevoked = 0;
	if (login_bal_sub)
		bus_unsubscribe(login_bal_sub);
	login_bal_sub = 0;
}
