/* path_notify.c: sanPathDown/Up, sanTeamFailover/Degraded/Failed, sanPathFlapping and rate-limited
 * sanTeamSharesChanged. */
#include <config.h>

#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "common/bus.h"
#include "common/log.h"
#include "engines/balance/engine.h"
#include "traps/notifications.h"
#include "traps/notify.h"

#define TAG "notify"

static int bal_sub;              /* bus handle, 0: not subscribed */
static int shares_interval = 10; /* seconds, from the config */

/* Last sanTeamSharesChanged per team index (small, teams are few; a miss only means one extra trap). */
#define SHARES_SLOTS 64
static struct {
	unsigned int team;
	time_t last;
} shares_sent[SHARES_SLOTS];

static int add_team_col(netsnmp_variable_list **vars, const struct bal_eng_team *t, unsigned int col)
{
	oid o[] = {SA_NOTIFY_OID_TEAM_ENTRY, col, t->index};
	long v;

	switch (col) {
	case SA_NOTIFY_COL_TEAM_NAME:
		return snmp_varlist_add_variable(vars, o, OID_LENGTH(o), ASN_OCTET_STR, t->spec.name,
		                                 strlen(t->spec.name)) != NULL;
	case SA_NOTIFY_COL_TEAM_STATE: v = t->state; break;
	case SA_NOTIFY_COL_TEAM_ALGO: v = t->spec.ctl.algo; break;
	default: return 0;
	}
	return snmp_varlist_add_variable(vars, o, OID_LENGTH(o), ASN_INTEGER, &v, sizeof(v)) != NULL;
}

/* The same values a GET of the path's row returns. */
static int add_path_col(netsnmp_variable_list **vars, const struct bal_eng_team *t, unsigned int p, unsigned int col)
{
	oid o[] = {SA_NOTIFY_OID_PATH_ENTRY, col, t->index, p};
	const struct bal_path_live *l = &t->live[p - 1];
	unsigned char addr[16];
	unsigned int port = 0;
	int fam = 0;
	long v;

	if (bal_parse_portal(t->spec.path[p - 1].portal, &fam, addr, &port) < 0)
		fam = 0;
	switch (col) {
	case SA_NOTIFY_COL_PATH_ADDRESS_TYPE: v = fam == 4 ? 1 : fam == 6 ? 2 : 0; break;
	case SA_NOTIFY_COL_PATH_ADDRESS:
		return snmp_varlist_add_variable(vars, o, OID_LENGTH(o), ASN_OCTET_STR, addr,
		                                 fam == 4   ? 4
		                                 : fam == 6 ? 16
		                                            : 0) != NULL;
	case SA_NOTIFY_COL_PATH_PORT:
		v = (long)port;
		return snmp_varlist_add_variable(vars, o, OID_LENGTH(o), ASN_UNSIGNED, &v, sizeof(v)) != NULL;
	case SA_NOTIFY_COL_PATH_STATE: v = l->state; break;
	case SA_NOTIFY_COL_PATH_HOLD_REASON: v = BAL_HOLD_FLAP; break; /* what the notification reports */
	case SA_NOTIFY_COL_PATH_ROLE: v = l->role == 1 || l->role == 2 ? l->role : 3; break;
	case SA_NOTIFY_COL_PATH_ACTUAL_READ_SHARE:
	case SA_NOTIFY_COL_PATH_ACTUAL_WRITE_SHARE:
		v = (long)l->actual[col == SA_NOTIFY_COL_PATH_ACTUAL_READ_SHARE ? SP_READ : SP_WRITE];
		return snmp_varlist_add_variable(vars, o, OID_LENGTH(o), ASN_UNSIGNED, &v, sizeof(v)) != NULL;
	default: return 0;
	}
	return snmp_varlist_add_variable(vars, o, OID_LENGTH(o), ASN_INTEGER, &v, sizeof(v)) != NULL;
}

static int shares_due(unsigned int team)
{
	int interval = shares_interval;
	time_t now = time(NULL);
	int slot = -1;

	for (int i = 0; i < SHARES_SLOTS; i++) {
		if (shares_sent[i].team == team) {
			slot = i;
			break;
		}
		if (slot < 0 && shares_sent[i].team == 0)
			slot = i;
	}
	if (slot < 0)
		slot = (int)(team % SHARES_SLOTS);
	if (shares_sent[slot].team == team && now - shares_sent[slot].last < interval)
		return 0;
	shares_sent[slot].team = team;
	shares_sent[slot].last = now;
	return 1;
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct bal_event *ev = data;
	static const unsigned int path_down[] = {SA_NOTIFY_COL_PATH_ADDRESS_TYPE, SA_NOTIFY_COL_PATH_ADDRESS,
	                                         SA_NOTIFY_COL_PATH_PORT, SA_NOTIFY_COL_PATH_STATE, 0};
	static const unsigned int path_up[] = {SA_NOTIFY_COL_PATH_ADDRESS_TYPE, SA_NOTIFY_COL_PATH_ADDRESS,
	                                       SA_NOTIFY_COL_PATH_PORT, SA_NOTIFY_COL_PATH_STATE, 0};
	static const unsigned int failover[] = {SA_NOTIFY_COL_PATH_ADDRESS_TYPE, SA_NOTIFY_COL_PATH_ADDRESS,
	                                        SA_NOTIFY_COL_PATH_PORT, SA_NOTIFY_COL_PATH_ROLE, 0};
	static const unsigned int flapping[] = {SA_NOTIFY_COL_PATH_ADDRESS_TYPE, SA_NOTIFY_COL_PATH_ADDRESS,
	                                        SA_NOTIFY_COL_PATH_PORT, SA_NOTIFY_COL_PATH_HOLD_REASON, 0};
	const struct bal_eng_team *t = bal_team_get(ev->team);
	netsnmp_variable_list *vars = NULL;
	const unsigned int *pcols = NULL;
	unsigned int which, team_cols[2] = {SA_NOTIFY_COL_TEAM_NAME, 0};
	const char *name;
	int ok = 1;

	(void)topic;
	(void)arg;
	if (!t)
		return;
	switch (ev->type) {
	case BAL_EV_PATH_DOWN: which = SA_NOTIFY_PATH_DOWN, name = "sanPathDown", pcols = path_down; break;
	case BAL_EV_PATH_UP: which = SA_NOTIFY_PATH_UP, name = "sanPathUp", pcols = path_up; break;
	case BAL_EV_FAILOVER: which = SA_NOTIFY_TEAM_FAILOVER, name = "sanTeamFailover", pcols = failover; break;
	case BAL_EV_PATH_DAMPED: which = SA_NOTIFY_PATH_FLAPPING, name = "sanPathFlapping", pcols = flapping; break;
	case BAL_EV_TEAM_STATE:
		if (ev->state == BAL_TEAM_DEGRADED)
			which = SA_NOTIFY_TEAM_DEGRADED, name = "sanTeamDegraded";
		else if (ev->state == BAL_TEAM_FAILED)
			which = SA_NOTIFY_TEAM_FAILED, name = "sanTeamFailed";
		else
			return; /* back to optimal: sanPathUp already said so */
		team_cols[1] = SA_NOTIFY_COL_TEAM_STATE;
		break;
	case BAL_EV_SHARES_CHANGED:
		if (!shares_due(ev->team))
			return;
		which = SA_NOTIFY_TEAM_SHARES_CHANGED, name = "sanTeamSharesChanged";
		team_cols[1] = SA_NOTIFY_COL_TEAM_ALGO;
		break;
	default: return;
	}
	{
		oid trap_oid[] = {SA_NOTIFY_OID_PATH, which};

		ok = (vars = sa_notify_start(trap_oid, OID_LENGTH(trap_oid))) != NULL;
	}
	for (int i = 0; i < 2 && ok && team_cols[i]; i++)
		ok = add_team_col(&vars, t, team_cols[i]);
	for (int i = 0; ok && pcols && pcols[i] && ev->path >= 1 && ev->path <= t->spec.npaths; i++)
		ok = add_path_col(&vars, t, ev->path, pcols[i]);
	if (ok && ev->type == BAL_EV_SHARES_CHANGED)
		for (unsigned int p = 1; ok && p <= t->spec.npaths; p++)
			ok = add_path_col(&vars, t, p, SA_NOTIFY_COL_PATH_ACTUAL_READ_SHARE) &&
			     add_path_col(&vars, t, p, SA_NOTIFY_COL_PATH_ACTUAL_WRITE_SHARE);
	if (!ok) {
		snmp_free_varbind(vars);
		cm_log(CM_LOG_ERR, TAG, "cannot build %s: out of memory", name);
		return;
	}
	if (ev->path)
		sa_notify_send(vars, CM_LOG_INFO, "%s (team %s, path %u %s)", name, t->spec.name, ev->path,
		               t->spec.path[ev->path - 1].portal);
	else
		sa_notify_send(vars, CM_LOG_INFO, "%s (team %s)", name, t->spec.name);
}

int sa_path_notify_init(void)
{
	int h;

	if (bal_sub)
		return 0;
	if ((h = bus_subscribe(BUS_BALANCE, on_event, NULL)) < 0)
		return h;
	bal_sub = h;
	return 0;
}

void sa_path_notify_set_interval(int seconds)
{
	shares_interval = seconds;
}

void sa_path_notify_shutdown(void)
{
	if (!bal_sub)
		return;
	bus_unsubscribe(bal_sub);
	bal_sub = 0;
}
