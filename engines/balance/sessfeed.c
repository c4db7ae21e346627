/* sessfeed.c: feeds the session registry from the balance engine: one session per logged-in path of every team. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engines/balance/engine.h"
#include "engines/balance/sessfeed.h"
#include "engines/sessions.h"
#include "iscsi/sp_team.h"
#include "common/array.h"
#include "common/bus.h"
#include "common/log.h"
#include "common/search.h"

#define TAG "sessions"
/* Every SCSI command goes out as a 48-byte Basic Header Segment. */
#define FEED_BHS_LEN 48u

/* One path of one team.  Kept while the team exists, with or without a
 * session, so that a later session of the same data plane process starts
 * its counters where the previous one ended. */
struct feed {
	unsigned int team, path; /* path 1-based */
	uint32_t sess;           /* 0: no session now */
	time_t login_time;       /* of the session, as the data plane reported it (0 unknown) */
	pid_t pid;               /* data plane the counters below belong to */
	int had_session;         /* a session of that pid ended already */
	/* The path's absolute counters when the session began. */
	uint64_t base_bytes[2], base_cmds[2], base_errors, base_digest, base_timeout;
	/* The path's errors (failures and digest errors) when its live session was last synced, and how many came
	 * after that, before the session now running: the failure that ended the previous one is counted when the
	 * path leaves service, so only the next session's row can show it. */
	uint64_t seen_errors;
	uint32_t carried_errors;
	int seen; /* mark of the sweep in feed_sync */
};

static struct feed *feeds; /* sorted by (team, path) */
static size_t nfeeds, capfeeds;
static int bal_sub, running, in_sync; /* bal_sub: bus handle, 0 until subscribed */

static int key_cmp(unsigned int ta, unsigned int pa, unsigned int tb, unsigned int pb)
{
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return pa < pb ? -1 : pa > pb ? 1 : 0;
}

struct feed_key {
	unsigned int team, path;
};

static int feed_cmp(const void *elem, const void *key)
{
	const struct feed *f = elem;
	const struct feed_key *k = key;

	return key_cmp(f->team, f->path, k->team, k->path);
}

static size_t feed_lower(unsigned int team, unsigned int path)
{
	struct feed_key k = {team, path};

	return cm_lower_bound_cmp(feeds, nfeeds, sizeof(*feeds), &k, feed_cmp);
}

static struct feed *feed_get(unsigned int team, unsigned int path, int create)
{
	size_t p = feed_lower(team, path);

	if (p < nfeeds && feeds[p].team == team && feeds[p].path == path)
		return &feeds[p];
	if (!create)
		return NULL;
	if (cm_insert(&feeds, &nfeeds, &capfeeds, sizeof(*feeds), p, &(struct feed){0}, 16) < 0)
		return NULL;
	feeds[p].team = team;
	feeds[p].path = path;
	return &feeds[p];
}

/* The registry's logout callback: the path goes out of service and the
 * team's other paths carry on. */
static int feed_logout(uint32_t id, void *arg)
{
	uintptr_t k = (uintptr_t)arg;
	unsigned int team = (unsigned int)(k >> 8), path = (unsigned int)(k & 0xff);
	int rc = bal_path_logout(team, path);

	if (rc < 0)
		cm_log(CM_LOG_WARNING, TAG, "session %u: cannot log team %u path %u out: %s", (unsigned int)id, team,
		       path, strerror(-rc));
	else
		cm_log(CM_LOG_INFO, TAG, "session %u: logging team %u path %u out", (unsigned int)id, team, path);
	/* The next sync sees admin_down and ends the session. */
	return rc;
}

/* The session state the path's live values mean. */
static int path_sess_state(const struct bal_eng_team *t, const struct bal_path_live *l)
{
	if (t->state == BAL_TEAM_DOWN || l->state == BAL_PATH_UNKNOWN)
		return SESS_FAILED; /* no live data plane: whatever it held is gone */
	if (l->admin_down)
		return SESS_LOGGED_OUT;
	switch (l->state) {
	case BAL_PATH_ACTIVE:
	case BAL_PATH_SUSPECT:
	case BAL_PATH_STANDBY: return SESS_LOGGED_IN;
	case BAL_PATH_CONNECTING: return l->login_time ? SESS_LOGGED_IN : SESS_LOGGING_IN;
	case BAL_PATH_IDLE: return SESS_LOGGED_OUT;
	default: return SESS_FAILED;
	}
}

/* sanLoginTable rows run their teams under the name "login<N>". */
static uint32_t login_of(const char *name)
{
	unsigned long v;
	char *end;

	if (strncmp(name, "login", 5) != 0 || name[5] < '1' || name[5] > '9')
		return 0;
	errno = 0;
	v = strtoul(name + 5, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return 0;
	return (uint32_t)v;
}

static void fill_info(struct sess_info *si, const struct bal_eng_team *t, unsigned int i, const struct feed *f)
{
	const struct bal_path_live *l = &t->live[i];
	unsigned char a[16];
	unsigned int port = 0;
	int fam = 0;

	memset(si, 0, sizeof(*si));
	snprintf(si->initiator, sizeof(si->initiator), "%s",
	         t->spec.initiator[0] ? t->spec.initiator : SP_DEFAULT_INITIATOR);
	snprintf(si->target, sizeof(si->target), "%s", t->spec.target);
	if (bal_parse_portal(t->spec.path[i].portal, &fam, a, &port) == 0) {
		inet_ntop(fam == 6 ? AF_INET6 : AF_INET, a, si->portal_addr, sizeof(si->portal_addr));
		si->portal_port = port;
	}
	snprintf(si->src_addr, sizeof(si->src_addr), "%s", l->src_addr);
	si->src_port = l->src_port;
	memcpy(si->isid, l->isid, sizeof(si->isid));
	si->tsih = l->tsih;
	si->type = SESS_TYPE_NORMAL;
	si->owner = SESS_OWNER_DATAPATH;
	si->state = path_sess_state(t, l);
	si->login_time = f->login_time;
	si->login = login_of(t->spec.name);
	si->team = t->index;
	si->path = i + 1;
}

static void fill_counters(struct sess_counters *c, const struct bal_path_live *l, const struct feed *f)
{
	uint64_t b[2], cm[2];

	for (int d = 0; d < 2; d++) {
		b[d] = l->bytes[d] - f->base_bytes[d];
		cm[d] = l->cmds[d] - f->base_cmds[d];
	}
	memset(c, 0, sizeof(*c));
	/* Sent by the initiator: write data and the command PDUs; received: read data. */
	c->tx_bytes = b[SP_WRITE] + FEED_BHS_LEN * (cm[SP_READ] + cm[SP_WRITE]);
	c->rx_bytes = b[SP_READ];
	c->cmds = cm[SP_READ] + cm[SP_WRITE];
	c->digest_errors = (uint32_t)(l->digest_errors - f->base_digest);
	c->timeout_errors = (uint32_t)(l->timeout_errors - f->base_timeout);
	c->errors = (uint32_t)(l->errors - f->base_errors) + c->digest_errors + f->carried_errors;
	c->errors_at_login = f->carried_errors;
	c->avg_latency_us = l->avg_latency_us;
	c->max_latency_us = l->max_latency_us;
}

/* Ends f's session: state first (sanSessionDown carries it), then the row goes. */
static void feed_end(struct feed *f, int state, const struct bal_eng_team *t)
{
	const struct sess_view *v;
	struct sess_info si;

	if (!f->sess)
		return;
	if ((v = sess_find(f->sess))) {
		si = v->info;
		si.state = state;
		sess_set_info(f->sess, &si);
		sess_remove(f->sess);
	}
	f->sess = 0;
	if (t && t->pid == f->pid)
		f->had_session = 1;
}

static void feed_begin(struct feed *f, const struct bal_eng_team *t, unsigned int i)
{
	const struct bal_path_live *l = &t->live[i];
	struct sess_counters c;
	struct sess_info si;
	uintptr_t k = ((uintptr_t)t->index << 8) | (i + 1);

	if (f->pid != t->pid) {
		f->pid = t->pid;
		f->had_session = 0;
	}
	f->carried_errors = 0;
	if (f->had_session) {
		uint64_t e = l->errors + l->digest_errors;

		/* A new session of the same process: what came before was the old one's, but for the errors since
		 * it was last seen live, which ended it. */
		if (e > f->seen_errors)
			f->carried_errors = (uint32_t)(e - f->seen_errors);
		memcpy(f->base_bytes, l->bytes, sizeof(f->base_bytes));
		memcpy(f->base_cmds, l->cmds, sizeof(f->base_cmds));
		f->base_errors = l->errors;
		f->base_digest = l->digest_errors;
		f->base_timeout = l->timeout_errors;
	} else {
		memset(f->base_bytes, 0, sizeof(f->base_bytes));
		memset(f->base_cmds, 0, sizeof(f->base_cmds));
		f->base_errors = f->base_digest = f->base_timeout = 0;
	}
	/* Without the data plane's own time, when we first saw it logged in. */
	f->login_time = l->login_time ? l->login_time : time(NULL);
	fill_info(&si, t, i, f);
	fill_counters(&c, l, f);
	f->sess = sess_add(&si, feed_logout, (void *)k);
	if (!f->sess) {
		cm_log(CM_LOG_ERR, TAG, "team %s path %u: no memory for its session", t->spec.name, i + 1);
		return;
	}
	sess_set_counters(f->sess, &c);
	f->seen_errors = l->errors + l->digest_errors;
}

static int counters_went_back(const struct bal_path_live *l, const struct feed *f)
{
	return l->bytes[0] < f->base_bytes[0] || l->bytes[1] < f->base_bytes[1] || l->cmds[0] < f->base_cmds[0] ||
	       l->cmds[1] < f->base_cmds[1] || l->errors < f->base_errors || l->digest_errors < f->base_digest ||
	       l->timeout_errors < f->base_timeout;
}

static void sync_path(const struct bal_eng_team *t, unsigned int i)
{
	const struct bal_path_live *l = &t->live[i];
	struct feed *f = feed_get(t->index, i + 1, 1);
	int st = path_sess_state(t, l);
	struct sess_counters c;
	struct sess_info si;

	if (!f)
		return;
	f->seen = 1;
	if (f->sess && !sess_find(f->sess))
		f->sess = 0;
	/* A login time that moved means the path logged in again between two reads. */
	if (f->sess && st == SESS_LOGGED_IN && l->login_time && f->login_time && l->login_time != f->login_time)
		feed_end(f, SESS_FAILED, t);
	if (f->sess && (st != SESS_LOGGED_IN || t->pid != f->pid))
		feed_end(f, st == SESS_LOGGED_IN ? SESS_FAILED : st, t);
	if (!f->sess) {
		if (st == SESS_LOGGED_IN)
			feed_begin(f, t, i);
		return;
	}
	if (counters_went_back(l, f)) {
		memset(f->base_bytes, 0, sizeof(f->base_bytes));
		memset(f->base_cmds, 0, sizeof(f->base_cmds));
		f->base_errors = f->base_digest = f->base_timeout = 0;
		f->carried_errors = 0;
	}
	f->seen_errors = l->errors + l->digest_errors;
	if (l->login_time)
		f->login_time = l->login_time;
	fill_info(&si, t, i, f);
	fill_counters(&c, l, f);
	sess_set_info(f->sess, &si);
	sess_set_counters(f->sess, &c);
}

/* Sessions of teams (or paths) that no longer exist end as logged out. */
static void sweep(void)
{
	size_t i = 0;

	while (i < nfeeds) {
		if (feeds[i].seen) {
			i++;
			continue;
		}
		feed_end(&feeds[i], SESS_LOGGED_OUT, NULL);
		memmove(&feeds[i], &feeds[i + 1], (nfeeds - i - 1) * sizeof(*feeds));
		nfeeds--;
	}
}

void bal_sessfeed_sync(void)
{
	/* An event raised while we end a session must not walk the list under us. */
	if (!running || in_sync)
		return;
	in_sync = 1;
	for (size_t i = 0; i < nfeeds; i++)
		feeds[i].seen = 0;
	for (unsigned int ix = bal_team_next(0); ix; ix = bal_team_next(ix)) {
		const struct bal_eng_team *t = bal_team_get(ix);

		if (!t)
			continue;
		for (unsigned int p = 0; p < t->spec.npaths && p < SP_MAX_PATHS; p++)
			if (!t->spec.path[p].removed) /* a removed path's session ends with it (sweep) */
				sync_path(t, p);
	}
	sweep();
	in_sync = 0;
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct bal_event *ev = data;

	(void)topic;
	(void)arg;
	if (!running)
		return;
	if (ev->type == BAL_EV_TEAM_REMOVED) {
		/* Sent before the team is freed: its sessions end now, as logged out. */
		for (size_t i = 0; i < nfeeds;) {
			if (feeds[i].team != ev->team) {
				i++;
				continue;
			}
			feed_end(&feeds[i], SESS_LOGGED_OUT, NULL);
			memmove(&feeds[i], &feeds[i + 1], (nfeeds - i - 1) * sizeof(*feeds));
			nfeeds--;
		}
		return;
	}
	if (ev->type == BAL_EV_PATH_UP || ev->type == BAL_EV_PATH_DOWN || ev->type == BAL_EV_TEAM_ADDED ||
	    ev->type == BAL_EV_TEAM_STATE)
		bal_sessfeed_sync();
}

int bal_sessfeed_start(void)
{
	if (!bal_sub) {
		int h = bus_subscribe(BUS_BALANCE, on_event, NULL);

		if (h < 0)
			return h;
		bal_sub = h;
	}
	running = 1;
	bal_sessfeed_sync();
	return 0;
}

void bal_sessfeed_stop(void)
{
	if (!running)
		return;
	for (size_t i = 0; i < nfeeds; i++)
		feed_end(&feeds[i], SESS_LOGGED_OUT, NULL);
	free(feeds);
	feeds = NULL;
	nfeeds = capfeeds = 0;
	running = 0;
}
