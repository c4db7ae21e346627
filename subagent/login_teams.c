/* login_teams.c: a login row asks for a data-plane team in its own terms (engines/discovery/login.h); the balance
 * engine makes one.  The two engines never include each other: they meet here and on the bus. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engines/balance/engine.h"
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
	n = t->spec.npaths < max ? t->spec.npaths : max;
	for (unsigned int i = 0; i < n; i++) {
		const struct bal_path_live *p = &t->live[i];

		out[i].up = p->state == BAL_PATH_ACTIVE || p->state == BAL_PATH_STANDBY;
		out[i].refused = p->state == BAL_PATH_REFUSED;
		out[i].login_result = p->login_result;
		out[i].login_status = p->login_status;
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
	if (login_bal_sub)
		return 0;
	if ((rc = bus_subscribe(BUS_BALANCE, on_balance, NULL)) < 0)
		return rc;
	login_bal_sub = rc;
	return 0;
}

void sa_login_teams_stop(void)
{
	if (login_bal_sub)
		bus_unsubscribe(login_bal_sub);
	login_bal_sub = 0;
}
