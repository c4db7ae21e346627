/* readdress.c: an initiator obeys a name server's rediscovery messages (sanRediscover, sanRediscoverAlternative):
 * it finds the target again and moves its logins and team paths to the address or alternative given. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/discovery/discovery.h"
#include "engines/discovery/login.h"
#include "engines/discovery/readdress.h"
#include "common/bus.h"
#include "common/log.h"

#define TAG "rediscover"

static struct {
	int running;
	int subs[2];
	char **users; /* v3 users whose messages count */
	size_t nusers;
	struct disc_redisc_counters ctr;
} rd;

static void users_free(void)
{
	for (size_t i = 0; i < rd.nusers; i++)
		free(rd.users[i]);
	free(rd.users);
	rd.users = NULL;
	rd.nusers = 0;
}

static int users_take(const struct sa_discovery_config *cfg)
{
	char **v = cfg->nrediscover_users ? calloc(cfg->nrediscover_users, sizeof(*v)) : NULL;

	if (cfg->nrediscover_users && !v)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nrediscover_users; i++)
		if (!(v[i] = strdup(cfg->rediscover_users[i]))) {
			while (i--)
				free(v[i]);
			free(v);
			return -ENOMEM;
		}
	users_free();
	rd.users = v;
	rd.nusers = cfg->nrediscover_users;
	return 0;
}

static int user_listed(const char *principal)
{
	for (size_t i = 0; i < rd.nusers; i++)
		if (strcmp(rd.users[i], principal) == 0)
			return 1;
	return 0;
}

const struct disc_redisc_counters *disc_readdress_counters(void)
{
	return &rd.ctr;
}

int disc_readdress_take(const struct redisc_msg *m, int version, const char *principal, const char *source)
{
	char to[72], from[72];
	const char *mine = disc_login_initiator();
	int n;

	rd.ctr.received++;
	/* The receiver authenticated the sender; whether it may steer our
	 * logins is ours to say: only listed v3 users. */
	if (version != 3 || !principal || !user_listed(principal)) {
		rd.ctr.dropped_unauthorized++;
		cm_log(CM_LOG_WARNING, TAG, "rediscovery message from %s (v%d%s%s) dropped: not a listed user", source,
		       version, version == 3 ? " user " : "", version == 3 && principal ? principal : "");
		return -EACCES;
	}
	if (!m) {
		rd.ctr.dropped_malformed++;
		cm_log(CM_LOG_WARNING, TAG, "rediscovery message from %s@%s dropped: malformed", principal, source);
		return -EBADMSG;
	}
	if (mine[0] && strcmp(mine, m->initiator) != 0) {
		rd.ctr.not_ours++;
		cm_log(CM_LOG_NOTICE, TAG, "rediscovery message from %s@%s for %s ignored: we are %s", principal,
		       source, m->initiator, mine);
		return -ENOENT;
	}
	redisc_msg_portal_text(&m->portal, to, sizeof(to));
	redisc_msg_portal_text(&m->old, from, sizeof(from));
	if (m->type == 1) {
		/* Discovery learns the new portal too (logins that take the target's
		 * discovered portals); the engine may be off: logins work alone. */
		disc_refresh();
		n = disc_login_readdress(m->target, from[0] ? from : NULL, m->target, to);
		rd.ctr.type1++;
		snprintf(rd.ctr.last, sizeof(rd.ctr.last), "type1 %s %s -> %s: %d login(s) moved", m->target,
		         from[0] ? from : "?", to, n);
	} else {
		/* Never the old address again, even if a discovery round lists it. */
		if (from[0] && disc_login_avoid(m->old_target, from) < 0)
			cm_log(CM_LOG_WARNING, TAG, "%s at %s: cannot remember to avoid it", m->old_target, from);
		n = disc_login_readdress(m->old_target, from[0] ? from : NULL, m->target, to);
		rd.ctr.type2++;
		snprintf(rd.ctr.last, sizeof(rd.ctr.last), "type2 %s %s -> %s %s %s: %d login(s) moved", m->old_target,
		         from[0] ? from : "?", m->alt_kind == REDISC_MSG_OTHER_TARGET ? "otherTarget" : "otherPortal",
		         m->target, to, n);
	}
	rd.ctr.logins_moved += (uint64_t)n;
	cm_log(CM_LOG_NOTICE, TAG, "%s from %s@%s: %s", m->type == 1 ? "sanRediscover" : "sanRediscoverAlternative",
	       principal, source, rd.ctr.last);
	return n;
}

/* Only notifications the trap receiver accepted arrive here. */
static void on_trap(int topic, const void *data, void *arg)
{
	const struct cm_trap *t = data;
	struct redisc_msg m;
	int ok;

	(void)topic;
	(void)arg;
	if (!rd.running)
		return;
	ok = redisc_msg_decode(t, &m) == 0;
	disc_readdress_take(ok ? &m : NULL, t->version, t->principal, t->source ? t->source : "?");
}

void disc_readdress_stop(void)
{
	for (int i = 0; i < 2; i++)
		if (rd.subs[i] > 0)
			bus_unsubscribe(rd.subs[i]);
	users_free();
	memset(&rd, 0, sizeof(rd));
}

int disc_readdress_start(const struct sa_discovery_config *cfg)
{
	int rc;

	if (rd.running)
		disc_readdress_stop();
	if ((rc = users_take(cfg)) < 0)
		return rc;
	for (int type = 1; type <= 2; type++) {
		size_t len;
		const uint32_t *o = redisc_msg_trap_oid(type, &len);

		if ((rc = bus_subscribe_key(BUS_TRAP, o, len, 0, on_trap, NULL)) < 0) {
			disc_readdress_stop();
			return rc;
		}
		rd.subs[type - 1] = rc;
	}
	rd.running = 1;
	if (rd.nusers)
		cm_log(CM_LOG_INFO, TAG, "obeying rediscovery messages from %zu v3 user(s)", rd.nusers);
	return 0;
}

void disc_readdress_reload(const struct sa_discovery_config *cfg)
{
	if (users_take(cfg) < 0)
		cm_log(CM_LOG_ERR, TAG, "out of memory: rediscover_users kept as they were");
}
