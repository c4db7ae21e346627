/* engine.c: the balance engine: spawns one nbdkit-sanpath process per team, polls its shm segment, writes control. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* environ, posix_spawn_file_actions_addclosefrom_np */
#endif
#include "engines/balance/engine.h"
#include "engines/balance/bal_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iscsi/sp_chap.h"
#include "iscsi/sp_shm.h"
#include "iscsi/sp_source.h"
#include "common/array.h"
#include "common/bus.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/search.h"
#include "common/state.h"

#define TAG "balance"
#define STATE_PREFIX "balance.team."
#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 30000u
#define HEALTHY_RUN_MS 30000u /* a process that ran this long restarts at the minimum backoff again */
#define SETTLE_MS 5000u       /* team state traps only after the team settled (paths connect at start) */
#define TERM_GRACE_MS 3000u

/* Engine-private part of a team. */
struct bal_team_priv {
	char shm_file[256];
	char log_file[256];
	char chap_file[256]; /* the data plane's CHAP credentials (0600), while the team has CHAP */
	uint32_t admin_mask; /* paths logged out by bal_path_logout(): bit i = path i + 1 */
	int adopted;         /* the process was found running (agent restart), not our child */
	uint64_t next_start_ms, started_ms;
	unsigned int backoff_ms;
	struct sp_shm *shm;
	uint64_t shm_opened_ms;
	int settled;
	int prev_path_state[SP_MAX_PATHS]; /* bal_path_state, 0 before the first snapshot */
	int was_down[SP_MAX_PATHS];
	int prev_team_state; /* data plane's state, 0 unknown */
	unsigned int prev_share[2][SP_MAX_PATHS];
	int prev_share_valid;
	uint32_t ctl_seq; /* sequence number of our last write */
	int ctl_dirty;    /* desired ctl not yet written (no segment, or writer busy) */
	int cfg_seen;     /* reload sweep */
};

/* Processes being terminated (team destroyed or respawned); reaped on the timer. */
struct bal_dying {
	pid_t pid;
	uint64_t kill_at_ms;
	struct bal_dying *next;
};

static struct {
	int running;
	struct bal_eng_team **teams; /* sorted by index */
	size_t nteams, cap;
	unsigned int next_index; /* never goes down while the agent runs */
	unsigned int timer;
	unsigned int poll_ms;
	char *run_dir, *nbdkit, *plugin;
	char **plugin_args; /* NULL-terminated copy */
	struct bal_dying *dying;
	unsigned int reap_timer; /* reaps data planes after the engine stopped */
	/* Config teams keep their index across engine restarts and reloads. */
	struct {
		char name[BAL_NAME_MAX + 1];
		unsigned int index;
	} remembered[64];
	unsigned int nremembered;
	/* Across agent restarts too: config teams' indexes by name
	 * (IDX_PREFIX<name>) and the highest index ever handed out (HW_KEY), so
	 * an index a manager still holds never names a different team. */
	unsigned int hw;
	int idx_dirty;
} bal_engine = {.next_index = 1};

#define IDX_PREFIX "balance.idx."
#define HW_KEY "balance.hw"
static void idx_commit(void);

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void emit(int type, unsigned int team, unsigned int path, int state)
{
	struct bal_event ev = {.type = type, .team = team, .path = path, .state = state};

	bus_publish(BUS_BALANCE, &ev);
}

const char *bal_mode_name(int mode)
{
	return mode == SP_MODE_FAILOVER ? "failover" : "lb";
}

const char *bal_algo_name(int algo)
{
	static const char *const n[] = {"?", "static", "dynamic", "round-robin", "queue-length", "service-time"};

	return algo >= 1 && algo <= 5 ? n[algo] : n[0];
}

static int mode_from_name(const char *s)
{
	return strcasecmp(s, "failover") == 0 ? SP_MODE_FAILOVER : SP_MODE_FAILOVER_LB;
}

static int algo_from_name(const char *s)
{
	for (int a = 1; a <= 5; a++)
		if (strcasecmp(s, bal_algo_name(a)) == 0)
			return a;
	return SP_ALGO_STATIC;
}

/* ---- lookup ---------------------------------------------------------------- */

static int64_t team_index_of(const void *elem)
{
	return (*(struct bal_eng_team *const *)elem)->index;
}

static size_t team_pos(unsigned int index)
{
	return cm_lower_bound(bal_engine.teams, bal_engine.nteams, sizeof(*bal_engine.teams), index, team_index_of);
}

struct bal_eng_team *bal_team_get(unsigned int index)
{
	size_t p = team_pos(index);

	return p < bal_engine.nteams && bal_engine.teams[p]->index == index ? bal_engine.teams[p] : NULL;
}

unsigned int bal_team_next(unsigned int after)
{
	size_t p = team_pos(after + 1);

	return p < bal_engine.nteams ? bal_engine.teams[p]->index : 0;
}

struct bal_eng_team *bal_team_find(const char *name)
{
	for (size_t i = 0; i < bal_engine.nteams; i++)
		if (strcmp(bal_engine.teams[i]->spec.name, name) == 0)
			return bal_engine.teams[i];
	return NULL;
}

unsigned int bal_next_index(void)
{
	return bal_engine.next_index;
}

int bal_running(void)
{
	return bal_engine.running;
}

/* ---- validation ---------------------------------------------------------- */

int bal_parse_portal(const char *portal, int *family, unsigned char addr[16], unsigned int *port)
{
	char host[64];
	const char *h = portal, *colon;
	size_t hlen;
	char *end;
	long p;

	if (portal[0] == '[') {
		const char *rb = strchr(portal, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = portal + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(portal, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - portal);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 1 || p > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, addr) == 1)
		*family = 4;
	else if (portal[0] == '[' && inet_pton(AF_INET6, host, addr) == 1)
		*family = 6;
	else
		return -EINVAL;
	*port = (unsigned int)p;
	return 0;
}

static int plain_name(const char *s, size_t max, int allow_empty)
{
	size_t n = strlen(s);

	if ((!n && !allow_empty) || n > max || s[0] == '.')
		return 0;
	return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")] == '\0';
}

void bal_ctl_failback_defaults(struct bal_ctl *c)
{
	c->failback = BAL_FAILBACK_IMMEDIATE;
	c->failback_hold_s = 5;
	c->flap_count = 3;
	c->flap_window_s = 30;
	c->flap_hold_s = 10;
}

int bal_validate_ctl(const struct bal_eng_team *t, const struct bal_ctl *c)
{
	if (c->mode != SP_MODE_FAILOVER && c->mode != SP_MODE_FAILOVER_LB)
		return -EINVAL;
	if (c->failback < BAL_FAILBACK_IMMEDIATE || c->failback > BAL_FAILBACK_DELAYED ||
	    c->failback_hold_s > BAL_FAILBACK_HOLD_MAX || c->flap_count > BAL_FLAP_COUNT_MAX || c->flap_window_s < 1 ||
	    c->flap_window_s > BAL_FLAP_WINDOW_MAX || c->flap_hold_s > BAL_FAILBACK_HOLD_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < t->spec.npaths; i++)
		if (t->spec.path[i].removed && (c->share[0][i] || c->share[1][i]))
			return -EDOM; /* a path that left the team carries nothing */
	if (c->algo < SP_ALGO_STATIC || c->algo > SP_ALGO_SERVICE_TIME)
		return -EINVAL;
	if (sp_lb_validate_dynamic(&c->dyn) < 0)
		return -EINVAL;
	for (int d = 0; d < 2; d++)
		if (sp_lb_validate_shares(c->share[d], t->spec.npaths) < 0)
			return -EDOM;
	return 0;
}

static const struct bal_access_ops *bal_access;

void bal_access_ops_register(const struct bal_access_ops *ops)
{
	bal_access = ops;
}

int bal_check_access(const struct bal_team_spec *s, char *why, size_t whylen)
{
	int rc;

	if (!bal_access || !bal_access->may_use || (rc = bal_access->may_use(s->target, s->lun)) == 0)
		return 0;
	snprintf(why, whylen, "%s LUN %u is not this host's to use (cluster ownership)", s->target, s->lun);
	if (bal_access->refused)
		bal_access->refused(s->target);
	return rc < 0 ? rc : -EACCES;
}

int bal_validate_spec(const struct bal_team_spec *s, unsigned int index, char *why, size_t whylen)
{
	struct bal_eng_team tmp;
	const struct bal_eng_team *other;
	unsigned char a[16];
	unsigned int port;
	int fam, rc;

	if (!plain_name(s->name, BAL_NAME_MAX, 0)) {
		snprintf(why, whylen, "name must be 1..63 characters of A-Z a-z 0-9 . _ -");
		return -EINVAL;
	}
	if (!s->target[0] || strchr(s->target, ';') || strchr(s->target, ' ')) {
		snprintf(why, whylen, "target must be a non-empty iSCSI name");
		return -EINVAL;
	}
	if (s->lun > 16383) {
		snprintf(why, whylen, "LUN out of range 0..16383");
		return -EINVAL;
	}
	if (s->npaths < 1 || s->npaths > SP_MAX_PATHS) {
		snprintf(why, whylen, "a team has 1..%d paths", SP_MAX_PATHS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < s->npaths; i++) {
		if (bal_parse_portal(s->path[i].portal, &fam, a, &port) < 0) {
			snprintf(why, whylen, "path %u: portal is not a numeric ADDRESS:PORT", i + 1);
			return -EINVAL;
		}
		if (!plain_name(s->path[i].iface, BAL_IFACE_MAX, 1) && !sp_source_is_address(s->path[i].iface)) {
			snprintf(why, whylen, "path %u: bad interface name or source address", i + 1);
			return -EINVAL;
		}
	}
	/* The credentials travel in a line-based file: no line breaks inside. */
	if (strpbrk(s->chap.user, "\r\n") || strpbrk(s->chap.secret, "\r\n") || strpbrk(s->chap.target_user, "\r\n") ||
	    strpbrk(s->chap.target_secret, "\r\n") || (s->chap.user[0] && !s->chap.secret[0]) ||
	    (s->chap.target_user[0] && (!s->chap.user[0] || !s->chap.target_secret[0]))) {
		snprintf(why, whylen, "CHAP needs a user and a secret (mutual CHAP: also the target's)");
		return -EINVAL;
	}
	if (strpbrk(s->initiator, " ;\r\n")) {
		snprintf(why, whylen, "initiator must be an iSCSI name");
		return -EINVAL;
	}
	tmp.spec = *s;
	rc = bal_validate_ctl(&tmp, &s->ctl);
	if (rc < 0) {
		snprintf(why, whylen,
		         rc == -EDOM ? "shares of a direction must sum to 100"
		                     : "mode, algorithm or dynamic parameters out of range");
		return rc;
	}
	other = bal_team_find(s->name);
	if (other && other->index != index) {
		snprintf(why, whylen, "team name \"%s\" is used by team %u", s->name, other->index);
		return -EEXIST;
	}
	return 0;
}

/* ---- persistence of SNMP-created teams ------------------------------------ */

/* "2;name;target;lun;mode;algo;interval;threshold;lbchange;failback,hold,flapcount,flapwindow,flaphold;
 *  portal,iface,rs,ws,removed;..." ("1;..." without the failback field and the removed flag: the defaults).
 * Names, IQNs, portals and interfaces never contain ';' or ','. */
static int team_serialize(const struct bal_eng_team *t, char *buf, size_t len)
{
	const struct bal_team_spec *s = &t->spec;
	size_t o;
	int n;

	n = snprintf(buf, len, "2;%s;%s;%u;%d;%d;%u;%u;%u;%d,%u,%u,%u,%u", s->name, s->target, s->lun, s->ctl.mode,
	             s->ctl.algo, s->ctl.dyn.timer_interval_ms, s->ctl.dyn.change_threshold, s->ctl.dyn.lb_change_pct,
	             s->ctl.failback, s->ctl.failback_hold_s, s->ctl.flap_count, s->ctl.flap_window_s,
	             s->ctl.flap_hold_s);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	o = (size_t)n;
	for (unsigned int i = 0; i < s->npaths; i++) {
		n = snprintf(buf + o, len - o, ";%s,%s,%u,%u,%d", s->path[i].portal, s->path[i].iface,
		             s->ctl.share[0][i], s->ctl.share[1][i], s->path[i].removed);
		if (n < 0 || (size_t)n >= len - o)
			return -ENOSPC;
		o += (size_t)n;
	}
	return 0;
}

static int copy_field(char *dst, size_t len, const char *src)
{
	if (!src || strlen(src) >= len)
		return -EINVAL;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int team_parse(const char *val, struct bal_team_spec *s)
{
	char *copy = strdup(val), *p, *f[10];
	int rc = -EINVAL, v2;

	if (!copy)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	p = copy;
	for (int i = 0; i < 9; i++)
		if (!(f[i] = strsep(&p, ";")))
			goto out;
	v2 = strcmp(f[0], "2") == 0;
	bal_ctl_failback_defaults(&s->ctl);
	if (v2) {
		if (!(f[9] = strsep(&p, ";")) ||
		    sscanf(f[9], "%d,%u,%u,%u,%u", &s->ctl.failback, &s->ctl.failback_hold_s, &s->ctl.flap_count,
		           &s->ctl.flap_window_s, &s->ctl.flap_hold_s) != 5)
			goto out;
	}
	if ((!v2 && strcmp(f[0], "1") != 0) || copy_field(s->name, sizeof(s->name), f[1]) ||
	    copy_field(s->target, sizeof(s->target), f[2]))
		goto out;
	s->lun = (unsigned int)strtoul(f[3], NULL, 10);
	s->ctl.mode = atoi(f[4]);
	s->ctl.algo = atoi(f[5]);
	s->ctl.dyn.timer_interval_ms = (unsigned int)strtoul(f[6], NULL, 10);
	s->ctl.dyn.change_threshold = (unsigned int)strtoul(f[7], NULL, 10);
	s->ctl.dyn.lb_change_pct = (unsigned int)strtoul(f[8], NULL, 10);
	while (p && s->npaths < SP_MAX_PATHS) {
		char *path = strsep(&p, ";"), *g[5];

		for (int i = 0; i < 4 + v2; i++)
			if (!(g[i] = strsep(&path, ",")))
				goto out;
		s->path[s->npaths].removed = v2 && atoi(g[4]) != 0;
		if (copy_field(s->path[s->npaths].portal, sizeof(s->path[0].portal), g[0]) ||
		    copy_field(s->path[s->npaths].iface, sizeof(s->path[0].iface), g[1]))
			goto out;
		s->ctl.share[0][s->npaths] = (unsigned int)strtoul(g[2], NULL, 10);
		s->ctl.share[1][s->npaths] = (unsigned int)strtoul(g[3], NULL, 10);
		s->npaths++;
	}
	rc = p ? -EINVAL : 0;
out:
	free(copy);
	return rc;
}

static void state_key(char *key, size_t len, unsigned int index)
{
	snprintf(key, len, STATE_PREFIX "%u", index);
}

/* Writes (or with t == NULL deletes) a team's record and commits the file. */
static int persist(unsigned int index, const struct bal_eng_team *t)
{
	struct cm_state *st = sa_engines_state();
	char key[64], val[4096];
	int rc;

	if (!st)
		return -EIO;
	state_key(key, sizeof(key), index);
	if (t) {
		if ((rc = team_serialize(t, val, sizeof(val))) < 0)
			return rc;
		rc = cm_state_set(st, key, val);
	} else {
		rc = cm_state_del(st, key);
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc == 0)
		rc = cm_state_commit(st);
	return rc;
}

/* ---- the data plane process ----------------------------------------------- */

static void list_shares(char *buf, size_t len, const struct bal_team_spec *s, int dir)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < s->npaths && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%u", i ? "," : "", s->ctl.share[dir][i]);
}

static void dying_add(pid_t pid)
{
	struct bal_dying *d = malloc(sizeof(*d));

	kill(pid, SIGTERM); /* if it is already gone it still needs reaping */
	if (!d) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0); /* out of memory: better a short wait than a zombie */
		return;
	}
	d->pid = pid;
	d->kill_at_ms = now_ms() + TERM_GRACE_MS;
	d->next = bal_engine.dying;
	bal_engine.dying = d;
}

static void dying_reap(void)
{
	struct bal_dying **pp = &bal_engine.dying, *d;
	uint64_t now = now_ms();

	while ((d = *pp)) {
		pid_t r = waitpid(d->pid, NULL, WNOHANG);

		if (r == d->pid || (r < 0 && errno == ECHILD)) {
			*pp = d->next;
			free(d);
			continue;
		}
		if (now >= d->kill_at_ms) {
			kill(d->pid, SIGKILL);
			d->kill_at_ms = now + TERM_GRACE_MS;
		}
		pp = &d->next;
	}
}

static void close_shm(struct bal_eng_team *t)
{
	struct bal_team_priv *p = t->priv;

	if (p->shm)
		sp_shm_close(p->shm);
	p->shm = NULL;
	p->settled = 0;
	p->prev_team_state = 0;
	p->prev_share_valid = 0;
	t->state = BAL_TEAM_DOWN;
	for (unsigned int i = 0; i < t->spec.npaths; i++) {
		t->live[i].state = BAL_PATH_UNKNOWN;
		t->live[i].role = 0;
		/* No process, no session; the last login result stays meaningful. */
		t->live[i].login_time = 0;
		t->live[i].src_addr[0] = '\0';
		t->live[i].src_port = 0;
		t->live[i].tsih = 0;
		p->prev_path_state[i] = 0;
	}
}

/* A live segment owned by a process we did not start (the agent was
 * restarted under a running data plane): take it over instead of starting
 * a second process that the segment would refuse. */
static int try_adopt(struct bal_eng_team *t)
{
	struct bal_team_priv *p = t->priv;
	struct sp_shm *s;

	if (sp_shm_open(&s, p->shm_file, 1) < 0)
		return 0;
	if (sp_shm_is_stale(s) || strcmp(s->seg->name, t->spec.name) != 0) {
		sp_shm_close(s);
		return 0;
	}
	t->pid = s->seg->pid;
	p->adopted = 1;
	p->started_ms = now_ms();
	sp_shm_close(s);
	cm_log(CM_LOG_NOTICE, TAG, "team %s: adopted the running data plane (pid %d)", t->spec.name, (int)t->pid);
	return 1;
}

/* The environment of a team's data plane: the agent's, plus, when a path
 * names a source address, LD_PRELOAD of sanpath-bind.so (found next to the
 * plugin) and SANPATH_BIND with each such portal's address.  0 with
 * *env untouched: no address, the agent's environ serves.  Returns 1 (env
 * set), 0 or -errno. */
static int data_plane_env(const struct bal_team_spec *s, char ***env)
{
	char binds[SP_MAX_PATHS * 96] = "", lib[512], *pre, *bnd, **e;
	const char *slash = strrchr(bal_engine.plugin, '/'), *old = getenv("LD_PRELOAD");
	size_t o = 0, n = 0, k = 0;

	for (unsigned int i = 0; i < s->npaths; i++) {
		if (!s->path[i].iface[0] || !sp_source_is_address(s->path[i].iface))
			continue;
		o += (size_t)snprintf(binds + o, sizeof(binds) - o, "%s%s=%s", o ? ";" : "", s->path[i].portal,
		                      s->path[i].iface);
		if (o >= sizeof(binds))
			return -ENAMETOOLONG;
	}
	if (!o)
		return 0;
	snprintf(lib, sizeof(lib), "%.*s%s", slash ? (int)(slash - bal_engine.plugin + 1) : 0, bal_engine.plugin,
	         SP_BIND_PRELOAD);
	if (access(lib, R_OK) < 0) {
		cm_log(CM_LOG_ERR, TAG, "team %s: paths name source addresses but %s is missing: %s", s->name, lib,
		       strerror(errno));
		return -ENOENT;
	}
	while (environ[n])
		n++;
	if (!(e = calloc(n + 3, sizeof(*e))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "SANPATH_BIND=", 13))
			e[k++] = environ[i];
	if (asprintf(&pre, "LD_PRELOAD=%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "") < 0) {
		free(e);
		return -ENOMEM;
	}
	if (asprintf(&bnd, "SANPATH_BIND=%s", binds) < 0) {
		free(pre);
		free(e);
		return -ENOMEM;
	}
	e[k++] = pre;
	e[k++] = bnd;
	e[k] = NULL;
	*env = e;
	return 1;
}

/* Frees what data_plane_env() added (the rest is environ's). */
static void data_plane_env_free(char **env)
{
	size_t n = 0;

	if (!env)
		return;
	while (env[n])
		n++;
	free(env[n - 1]);
	free(env[n - 2]);
	free(env);
}

static int spawn(struct bal_eng_team *t)
{
	struct bal_team_priv *p = t->priv;
	const struct bal_team_spec *s = &t->spec;
	char a_name[80], a_target[240], a_lun[24], a_shm[300], a_sr[96], a_sw[96], a_mode[16];
	char a_init[240], a_chap[280], a_sus[3][32], a_removed[32];
	unsigned int removed = 0;
	char sr[80], sw[80], a_portal[SP_MAX_PATHS][112];
	char *argv[16 + SP_MAX_PATHS + 32], **env = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, deflt;
	int n = 0, rc;
	pid_t pid;

	if (try_adopt(t))
		return 0;
	/* nbdkit refuses to bind over a socket file a dead process left behind. */
	unlink(t->sock);
	snprintf(a_name, sizeof(a_name), "name=%s", s->name);
	snprintf(a_target, sizeof(a_target), "target=%s", s->target);
	snprintf(a_lun, sizeof(a_lun), "lun=%u", s->lun);
	snprintf(a_shm, sizeof(a_shm), "shm_dir=%s", bal_engine.run_dir);
	list_shares(sr, sizeof(sr), s, SP_READ);
	list_shares(sw, sizeof(sw), s, SP_WRITE);
	snprintf(a_sr, sizeof(a_sr), "shares_read=%s", sr);
	snprintf(a_sw, sizeof(a_sw), "shares_write=%s", sw);
	snprintf(a_mode, sizeof(a_mode), "mode=%s", bal_mode_name(s->ctl.mode));
	argv[n++] = bal_engine.nbdkit;
	argv[n++] = "--unix";
	argv[n++] = t->sock;
	argv[n++] = "--foreground";
	argv[n++] = bal_engine.plugin;
	argv[n++] = a_name;
	argv[n++] = a_target;
	argv[n++] = a_lun;
	for (unsigned int i = 0; i < s->npaths; i++) {
		/* The interface rides on the portal, as in sanpath's --portal. */
		if (s->path[i].iface[0])
			snprintf(a_portal[i], sizeof(a_portal[i]), "portal=%s,iface=%s", s->path[i].portal,
			         s->path[i].iface);
		else
			snprintf(a_portal[i], sizeof(a_portal[i]), "portal=%s", s->path[i].portal);
		argv[n++] = a_portal[i];
	}
	for (unsigned int i = 0; i < s->npaths && i < SP_MAX_PATHS; i++)
		removed |= (unsigned int)(s->path[i].removed != 0) << i;
	if (removed) {
		/* Paths that left the team keep their places: the others keep their indexes. */
		snprintf(a_removed, sizeof(a_removed), "removed=%u", removed);
		argv[n++] = a_removed;
	}
	argv[n++] = a_shm;
	argv[n++] = a_sr;
	argv[n++] = a_sw;
	argv[n++] = a_mode;
	if (s->initiator[0]) {
		snprintf(a_init, sizeof(a_init), "initiator=%s", s->initiator);
		argv[n++] = a_init;
	}
	if (s->chap.user[0]) {
		/* Only the file's name is on the command line (ps shows it to everyone). */
		struct sp_chap c;

		memset(&c, 0, sizeof(c));
		snprintf(c.user, sizeof(c.user), "%s", s->chap.user);
		snprintf(c.secret, sizeof(c.secret), "%s", s->chap.secret);
		snprintf(c.target_user, sizeof(c.target_user), "%s", s->chap.target_user);
		snprintf(c.target_secret, sizeof(c.target_secret), "%s", s->chap.target_secret);
		rc = sp_chap_file_write(p->chap_file, &c);
		sp_chap_wipe(&c);
		if (rc < 0) {
			cm_log(CM_LOG_ERR, TAG, "team %s: cannot write its CHAP file %s: %s", s->name, p->chap_file,
			       strerror(-rc));
			return rc;
		}
		snprintf(a_chap, sizeof(a_chap), "chap_file=%s", p->chap_file);
		argv[n++] = a_chap;
	}
	for (char **x = bal_engine.plugin_args; x && *x && n < (int)(sizeof(argv) / sizeof(argv[0])) - 4; x++)
		argv[n++] = *x;
	/* The team's own suspect settings come last: they win over plugin_args. */
	if (s->suspect_off) {
		snprintf(a_sus[0], sizeof(a_sus[0]), "suspect=0");
		argv[n++] = a_sus[0];
	}
	if (s->suspect_k) {
		snprintf(a_sus[1], sizeof(a_sus[1]), "suspect_k=%u", s->suspect_k);
		argv[n++] = a_sus[1];
	}
	if (s->suspect_floor_ms) {
		snprintf(a_sus[2], sizeof(a_sus[2]), "suspect_floor=%u", s->suspect_floor_ms);
		argv[n++] = a_sus[2];
	}
	/* algorithm and dynamic parameters go through the control block once
	 * the segment exists, like every later change. */
	argv[n] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, p->log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	/* The agent's sockets (AgentX, snmpd's own in dlmod mode) stay ours. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if ((rc = data_plane_env(s, &env)) < 0) {
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&attr);
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot bind its source addresses: %s", s->name, strerror(-rc));
		return rc;
	}
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGHUP);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	/* Own process group: a ^C at the agent's terminal is the agent's business. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawnp(&pid, bal_engine.nbdkit, &fa, &attr, argv, env ? env : environ);
	data_plane_env_free(env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot start %s: %s", s->name, bal_engine.nbdkit, strerror(rc));
		return -rc;
	}
	t->pid = pid;
	p->adopted = 0;
	p->started_ms = now_ms();
	cm_log(CM_LOG_INFO, TAG, "team %s: data plane started (pid %d), export %s, log %s", s->name, (int)pid, t->sock,
	       p->log_file);
	return 0;
}

static void schedule_restart(struct bal_eng_team *t)
{
	struct bal_team_priv *p = t->priv;
	uint64_t now = now_ms();

	if (now - p->started_ms >= HEALTHY_RUN_MS)
		p->backoff_ms = BACKOFF_MIN_MS;
	p->next_start_ms = now + p->backoff_ms;
	cm_log(CM_LOG_INFO, TAG, "team %s: restarting the data plane in %u ms", t->spec.name, p->backoff_ms);
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
}

static void stop_process(struct bal_eng_team *t)
{
	close_shm(t);
	if (t->pid > 0) {
		if (t->priv->adopted)
			kill(t->pid, SIGTERM); /* not our child: its parent reaps it */
		else
			dying_add(t->pid);
	}
	t->pid = 0;
	t->priv->adopted = 0;
}

/* ---- watching the segment --------------------------------------------------- */

static void ctl_to_shm(const struct bal_eng_team *t, struct sp_shm_ctl *c, uint32_t failback_req)
{
	memset(c, 0, sizeof(*c));
	c->mode = (uint32_t)t->spec.ctl.mode;
	c->algo = (uint32_t)t->spec.ctl.algo;
	for (int d = 0; d < 2; d++)
		for (unsigned int i = 0; i < t->spec.npaths; i++)
			c->share[d][i] = t->spec.ctl.share[d][i];
	c->timer_interval_ms = t->spec.ctl.dyn.timer_interval_ms;
	c->change_threshold = t->spec.ctl.dyn.change_threshold;
	c->lb_change_pct = t->spec.ctl.dyn.lb_change_pct;
	c->failback_req = failback_req;
	c->admin_down = t->priv->admin_mask;
	for (unsigned int i = 0; i < t->spec.npaths; i++) {
		snprintf(c->portal[i], sizeof(c->portal[i]), "%s", t->spec.path[i].portal);
		snprintf(c->iface[i], sizeof(c->iface[i]), "%s", t->spec.path[i].iface);
		if (t->spec.path[i].removed)
			c->removed |= 1u << i;
	}
	c->failback = (uint32_t)t->spec.ctl.failback;
	c->failback_delay_ms = t->spec.ctl.failback_hold_s * 1000u;
	c->flap_count = t->spec.ctl.flap_count;
	c->flap_window_ms = t->spec.ctl.flap_window_s * 1000u;
	c->flap_hold_ms = t->spec.ctl.flap_hold_s * 1000u;
}

static void write_ctl(struct bal_eng_team *t)
{
	struct bal_team_priv *p = t->priv;
	struct sp_shm_ctl cur, c;
	int rc;

	if (!p->shm) {
		p->ctl_dirty = 1;
		t->ctl_status = BAL_CTL_PENDING;
		return;
	}
	sp_shm_ctl_read(p->shm, &cur);
	ctl_to_shm(t, &c, cur.failback_req);
	rc = sp_shm_ctl_write(p->shm, &c);
	if (rc < 0) {
		/* Another writer (sanpath set) holds the block: retry next poll. */
		p->ctl_dirty = 1;
		t->ctl_status = BAL_CTL_PENDING;
		return;
	}
	p->ctl_dirty = 0;
	p->ctl_seq = (uint32_t)rc;
	t->ctl_status = BAL_CTL_PENDING;
	t->ctl_result = 0;
	/* Our own change is not a dynamic adjustment. */
	for (int d = 0; d < 2; d++)
		for (unsigned int i = 0; i < t->spec.npaths; i++)
			p->prev_share[d][i] = t->spec.ctl.share[d][i];
}

static int in_service(int st)
{
	return st == BAL_PATH_ACTIVE || st == BAL_PATH_STANDBY || st == BAL_PATH_SUSPECT;
}

static void refresh(struct bal_eng_team *t)
{
	struct bal_team_priv *p = t->priv;
	struct sp_shm_seg g;
	unsigned int n = t->spec.npaths, downs[SP_MAX_PATHS], ndown = 0;
	int shares_moved = 0, lost_carrier = 0, tstate;
	uint64_t now = now_ms();

	sp_shm_snapshot(p->shm, &g);
	if (g.npaths < n)
		n = g.npaths; /* the data plane may not have added every path yet */
	t->total_bytes[0] = g.total_bytes[0];
	t->total_bytes[1] = g.total_bytes[1];
	for (unsigned int i = 0; i < n; i++) {
		const struct sp_shm_path *sp = &g.path[i];
		struct bal_path_live *l = &t->live[i];
		int st = sp->state <= 5   ? (int)sp->state + 1
		         : sp->state == 6 ? BAL_PATH_SUSPECT
		         : sp->state == 7 ? BAL_PATH_REMOVED
		                          : BAL_PATH_UNKNOWN;

		l->state = st;
		l->role = (int)sp->role;
		for (int d = 0; d < 2; d++) {
			if (p->prev_share_valid && sp->share[d] != p->prev_share[d][i])
				shares_moved = 1;
			p->prev_share[d][i] = sp->share[d];
			l->share[d] = sp->share[d];
			l->actual[d] = sp->actual_share[d];
			l->bytes[d] = sp->bytes[d];
			l->cmds[d] = sp->cmds[d];
		}
		l->errors = sp->errors;
		l->last_change = (time_t)sp->last_change;
		l->avg_latency_us = sp->avg_latency_us;
		l->max_latency_us = sp->max_latency_us;
		l->login_result = sp->login_result >= SP_LOGIN_NONE && sp->login_result <= SP_LOGIN_REDIRECTED
		                      ? (int)sp->login_result
		                      : SP_LOGIN_NONE;
		l->login_status = sp->login_status;
		l->login_time = (time_t)sp->login_time;
		memcpy(l->isid, sp->isid, sizeof(l->isid));
		l->tsih = sp->tsih;
		snprintf(l->src_addr, sizeof(l->src_addr), "%.*s", (int)sizeof(sp->src_addr) - 1, sp->src_addr);
		l->src_port = sp->src_port;
		l->digest_errors = sp->digest_errors;
		l->timeout_errors = sp->timeout_errors;
		/* The request, not the data plane's echo: it shows at once. */
		l->admin_down = (p->admin_mask >> i) & 1;
		l->hold = sp->hold <= 3 ? (int)sp->hold + 1 : BAL_HOLD_NONE;
		snprintf(l->last_error, sizeof(l->last_error), "%.*s", (int)sizeof(sp->last_error) - 1, sp->last_error);
		if (sp->dampings > l->dampings && p->prev_share_valid)
			emit(BAL_EV_PATH_DAMPED, t->index, i + 1, st);
		l->dampings = sp->dampings;
		if (t->spec.path[i].removed)
			continue; /* gone from the table: no notifications about it */

		if (st == BAL_PATH_DOWN && !p->was_down[i]) {
			p->was_down[i] = 1;
			downs[ndown++] = i;
			if (p->prev_path_state[i] == BAL_PATH_ACTIVE || p->prev_path_state[i] == BAL_PATH_SUSPECT)
				lost_carrier = 1;
		} else if (in_service(st) && p->was_down[i]) {
			p->was_down[i] = 0;
			emit(BAL_EV_PATH_UP, t->index, i + 1, st);
		}
		p->prev_path_state[i] = st;
	}
	p->prev_share_valid = n > 0;
	for (unsigned int k = 0; k < ndown; k++)
		emit(BAL_EV_PATH_DOWN, t->index, downs[k] + 1, BAL_PATH_DOWN);
	if (lost_carrier) {
		/* Which path carries I/O now: the primary if it is active, else the first active one. */
		int took = -1;

		for (unsigned int i = 0; i < n; i++) {
			if (t->live[i].state != BAL_PATH_ACTIVE)
				continue;
			if (took < 0 || (t->live[i].role == 1 && t->live[took].role != 1))
				took = (int)i;
		}
		if (took >= 0)
			emit(BAL_EV_FAILOVER, t->index, (unsigned int)took + 1, BAL_PATH_ACTIVE);
	}

	tstate = g.team_state >= 1 && g.team_state <= 3 ? (int)g.team_state : BAL_TEAM_FAILED;
	t->state = tstate;
	if (!p->settled && (tstate == BAL_TEAM_OPTIMAL || now - p->shm_opened_ms >= SETTLE_MS))
		p->settled = 1;
	else if (p->settled && tstate != p->prev_team_state)
		emit(BAL_EV_TEAM_STATE, t->index, 0, tstate);
	p->prev_team_state = tstate;

	if (p->ctl_dirty)
		write_ctl(t);
	else if (t->ctl_status == BAL_CTL_PENDING && g.ctl_applied == p->ctl_seq) {
		t->ctl_result = g.ctl_result;
		t->ctl_status = g.ctl_result == 0 ? BAL_CTL_APPLIED : BAL_CTL_REJECTED;
		if (g.ctl_result)
			cm_log(CM_LOG_WARNING, TAG, "team %s: the data plane rejected the control change: %s",
			       t->spec.name, strerror(-g.ctl_result));
	}
	if (shares_moved && t->spec.ctl.algo == SP_ALGO_DYNAMIC)
		emit(BAL_EV_SHARES_CHANGED, t->index, 0, 0);
}

/* Opens the segment of the process we run.  A segment left by a dead
 * process (or an older one) is never shown as live. */
static void try_open_shm(struct bal_eng_team *t)
{
	struct bal_team_priv *p = t->priv;
	struct sp_shm_ctl cur, want;
	struct sp_shm *s;

	if (sp_shm_open(&s, p->shm_file, 1) < 0)
		return;
	if (sp_shm_is_stale(s) || s->seg->pid != t->pid) {
		sp_shm_close(s);
		return;
	}
	p->shm = s;
	p->shm_opened_ms = now_ms();
	p->settled = 0;
	p->prev_share_valid = 0;
	sp_shm_ctl_read(s, &cur);
	ctl_to_shm(t, &want, cur.failback_req);
	if (memcmp(&cur, &want, sizeof(cur)) != 0)
		p->ctl_dirty = 1;
	else if (t->ctl_status == BAL_CTL_PENDING)
		t->ctl_status = BAL_CTL_APPLIED;
	cm_log(CM_LOG_INFO, TAG, "team %s: watching %s", t->spec.name, p->shm_file);
}

/* A data plane whose paths all failed their first login exits at once,
 * often before a poll saw its segment; it leaves the segment behind
 * (sp_team_keep_segment) so the login results still reach live[] and the
 * login rows.  Only results are taken from a dead process's segment. */
static void read_post_mortem(struct bal_eng_team *t, pid_t pid)
{
	struct bal_team_priv *p = t->priv;
	struct sp_shm_seg g;
	struct sp_shm *s;

	if (sp_shm_open(&s, p->shm_file, 0) < 0)
		return;
	if (s->seg->pid == (int32_t)pid && strcmp(s->seg->name, t->spec.name) == 0) {
		sp_shm_snapshot(s, &g);
		for (unsigned int i = 0; i < g.npaths && i < t->spec.npaths; i++) {
			const struct sp_shm_path *sp = &g.path[i];

			if (sp->login_result < SP_LOGIN_NONE || sp->login_result > SP_LOGIN_REDIRECTED)
				continue;
			t->live[i].login_result = (int)sp->login_result;
			t->live[i].login_status = sp->login_status;
			t->live[i].state = BAL_PATH_DOWN;
		}
		unlink(p->shm_file);
	}
	sp_shm_close(s);
}

static void poll_team(struct bal_eng_team *t)
{
	struct bal_team_priv *p = t->priv;
	uint64_t now = now_ms();
	int status;

	if (t->pid > 0 && !p->adopted) {
		pid_t r = waitpid(t->pid, &status, WNOHANG);

		if (r == t->pid || (r < 0 && errno == ECHILD)) {
			if (r == t->pid && WIFEXITED(status))
				cm_log(CM_LOG_WARNING, TAG, "team %s: data plane exited with status %d (see %s)",
				       t->spec.name, WEXITSTATUS(status), p->log_file);
			else if (r == t->pid && WIFSIGNALED(status))
				cm_log(CM_LOG_WARNING, TAG, "team %s: data plane killed by signal %d", t->spec.name,
				       WTERMSIG(status));
			if (r == t->pid)
				read_post_mortem(t, r);
			t->pid = 0;
			close_shm(t);
			schedule_restart(t);
		}
	} else if (t->pid > 0 && p->adopted && p->shm && sp_shm_is_stale(p->shm)) {
		cm_log(CM_LOG_WARNING, TAG, "team %s: adopted data plane (pid %d) is gone", t->spec.name, (int)t->pid);
		t->pid = 0;
		close_shm(t);
		schedule_restart(t);
	}
	if (t->pid == 0 && now >= p->next_start_ms && spawn(t) < 0)
		schedule_restart(t);
	if (p->shm && sp_shm_is_stale(p->shm))
		close_shm(t);
	if (!p->shm && t->pid > 0)
		try_open_shm(t);
	if (p->shm)
		refresh(t);
}

static void poll_cb(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	dying_reap();
	for (size_t i = 0; i < bal_engine.nteams; i++)
		poll_team(bal_engine.teams[i]);
}

/* ---- teams ------------------------------------------------------------------ */

static void team_free(struct bal_eng_team *t)
{
	if (!t)
		return;
	sp_chap_wipe_mem(&t->spec.chap, sizeof(t->spec.chap));
	free(t->priv);
	free(t);
}

static struct bal_eng_team *team_new(unsigned int index, const struct bal_team_spec *s, int origin)
{
	struct bal_eng_team *t = calloc(1, sizeof(*t));

	if (!t || !(t->priv = calloc(1, sizeof(*t->priv)))) {
		free(t);
		return NULL;
	}
	t->index = index;
	t->origin = origin;
	t->spec = *s;
	if (!t->spec.ctl.failback) /* made before it knew of failback (a login row's team) */
		bal_ctl_failback_defaults(&t->spec.ctl);
	t->state = BAL_TEAM_DOWN;
	t->ctl_status = BAL_CTL_PENDING;
	for (unsigned int i = 0; i < SP_MAX_PATHS; i++) {
		t->live[i].state = BAL_PATH_UNKNOWN;
		t->live[i].login_result = SP_LOGIN_NONE;
	}
	t->priv->backoff_ms = BACKOFF_MIN_MS;
	snprintf(t->sock, sizeof(t->sock), "%s/%s.sock", bal_engine.run_dir, s->name);
	snprintf(t->priv->shm_file, sizeof(t->priv->shm_file), "%s/%s%s", bal_engine.run_dir, s->name, SP_SHM_SUFFIX);
	snprintf(t->priv->log_file, sizeof(t->priv->log_file), "%s/%s.log", bal_engine.run_dir, s->name);
	/* Hidden name: sanpath status lists run_dir, and ls shows the file is 0600 anyway. */
	snprintf(t->priv->chap_file, sizeof(t->priv->chap_file), "%s/.%s.chap", bal_engine.run_dir, s->name);
	return t;
}

static int team_insert(struct bal_eng_team *t)
{
	size_t p = team_pos(t->index);

	if (p < bal_engine.nteams && bal_engine.teams[p]->index == t->index)
		return -EEXIST;
	if (cm_grow(&bal_engine.teams, &bal_engine.cap, bal_engine.nteams, sizeof(*bal_engine.teams), 8) < 0)
		return -ENOMEM;
	memmove(&bal_engine.teams[p + 1], &bal_engine.teams[p], (bal_engine.nteams - p) * sizeof(*bal_engine.teams));
	bal_engine.teams[p] = t;
	bal_engine.nteams++;
	if (t->index >= bal_engine.next_index)
		bal_engine.next_index = t->index + 1;
	if (t->index > bal_engine.hw && sa_engines_state()) {
		char v[16];

		bal_engine.hw = t->index;
		snprintf(v, sizeof(v), "%u", bal_engine.hw);
		if (cm_state_set(sa_engines_state(), HW_KEY, v) == 0)
			bal_engine.idx_dirty = 1;
	}
	emit(BAL_EV_TEAM_ADDED, t->index, 0, 0);
	/* Start at once rather than one poll later. */
	poll_team(t);
	return 0;
}

static void team_remove(struct bal_eng_team *t)
{
	size_t p = team_pos(t->index);

	emit(BAL_EV_TEAM_REMOVED, t->index, 0, 0);
	stop_process(t);
	unlink(t->sock);
	if (t->spec.chap.user[0])
		unlink(t->priv->chap_file);
	if (p < bal_engine.nteams && bal_engine.teams[p] == t) {
		memmove(&bal_engine.teams[p], &bal_engine.teams[p + 1],
		        (bal_engine.nteams - p - 1) * sizeof(*bal_engine.teams));
		bal_engine.nteams--;
	}
	team_free(t);
}

static void equal_shares(struct bal_team_spec *s, int dir)
{
	unsigned int sum = 0;

	for (unsigned int i = 0; i < s->npaths; i++)
		sum += s->ctl.share[dir][i];
	if (sum)
		return;
	for (unsigned int i = 0; i < s->npaths; i++)
		s->ctl.share[dir][i] = 100 / s->npaths + (i < 100 % s->npaths);
}

int bal_set_ctl(unsigned int index, const struct bal_ctl *c)
{
	struct bal_eng_team *t = bal_team_get(index);
	struct bal_ctl old;
	int rc;

	if (!t)
		return -ENOENT;
	if ((rc = bal_validate_ctl(t, c)) < 0)
		return rc;
	old = t->spec.ctl;
	t->spec.ctl = *c;
	if (t->nonvolatile && (rc = persist(t->index, t)) < 0) {
		t->spec.ctl = old;
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot persist the change: %s", t->spec.name, strerror(-rc));
		return rc;
	}
	if ((old.algo != c->algo || old.mode != c->mode))
		cm_log(CM_LOG_INFO, TAG, "team %s: mode %s, algorithm %s", t->spec.name, bal_mode_name(c->mode),
		       bal_algo_name(c->algo));
	write_ctl(t);
	return 0;
}

int bal_team_create(unsigned int index, const struct bal_team_spec *s, int nonvolatile)
{
	struct bal_team_spec spec = *s;
	struct bal_eng_team *t;
	char why[160];
	int rc;

	if (!bal_engine.running)
		return -ENETDOWN;
	if (index == 0 || bal_team_get(index))
		return -EEXIST;
	if (!spec.ctl.failback)
		bal_ctl_failback_defaults(&spec.ctl);
	equal_shares(&spec, SP_READ);
	equal_shares(&spec, SP_WRITE);
	if ((rc = bal_validate_spec(&spec, index, why, sizeof(why))) < 0 ||
	    (rc = bal_check_access(&spec, why, sizeof(why))) < 0) {
		cm_log(CM_LOG_WARNING, TAG, "team %s: not created: %s", spec.name, why);
		return rc;
	}
	if (!(t = team_new(index, &spec, BAL_FROM_SNMP)))
		return -ENOMEM;
	t->nonvolatile = nonvolatile;
	if (nonvolatile && (rc = persist(index, t)) < 0) {
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot persist: %s", spec.name, strerror(-rc));
		team_free(t);
		return rc;
	}
	if ((rc = team_insert(t)) < 0) {
		if (nonvolatile)
			persist(index, NULL);
		team_free(t);
		return rc;
	}
	idx_commit();
	cm_log(CM_LOG_NOTICE, TAG, "team %s (%u) created over SNMP: %s LUN %u, %u paths%s", spec.name, index,
	       spec.target, spec.lun, spec.npaths, nonvolatile ? ", persistent" : "");
	return 0;
}

int bal_team_validate_destroy(unsigned int index)
{
	const struct bal_eng_team *t = bal_team_get(index);

	if (!t)
		return -ENOENT;
	/* Config teams come and go with the config file only. */
	return t->origin == BAL_FROM_CONFIG ? -EPERM : 0;
}

int bal_team_destroy(unsigned int index)
{
	struct bal_eng_team *t = bal_team_get(index);
	int rc = bal_team_validate_destroy(index);

	if (rc < 0)
		return rc;
	if (t->nonvolatile && (rc = persist(index, NULL)) < 0) {
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot remove it from the state file: %s", t->spec.name,
		       strerror(-rc));
		return rc;
	}
	cm_log(CM_LOG_NOTICE, TAG, "team %s (%u) destroyed over SNMP", t->spec.name, index);
	team_remove(t);
	return 0;
}

int bal_path_set_portal(unsigned int index, unsigned int path, const char *portal)
{
	struct bal_eng_team *t = bal_team_get(index);
	struct bal_path_spec old;
	unsigned char addr[16];
	unsigned int port;
	int fam, rc;

	if (!t)
		return -ENOENT;
	if (path < 1 || path > t->spec.npaths || t->spec.path[path - 1].removed)
		return -ENODEV;
	if (bal_parse_portal(portal, &fam, addr, &port) < 0 || strlen(portal) > BAL_PORTAL_MAX)
		return -EINVAL;
	old = t->spec.path[path - 1];
	if (strcmp(old.portal, portal) == 0)
		return 0;
	snprintf(t->spec.path[path - 1].portal, sizeof(old.portal), "%s", portal);
	if (t->nonvolatile && (rc = persist(t->index, t)) < 0) {
		t->spec.path[path - 1] = old;
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot persist the change: %s", t->spec.name, strerror(-rc));
		return rc;
	}
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %u: portal %s -> %s", t->spec.name, path, old.portal, portal);
	/* The data plane logs the path in there at its next loop turn (or
	 * starts with it); the other paths carry the I/O meanwhile. */
	write_ctl(t);
	return 0;
}

/* Reads and writes spread equally over the paths still in the team. */
static void reshare(struct bal_team_spec *s)
{
	unsigned int live = 0, k = 0;

	for (unsigned int i = 0; i < s->npaths; i++)
		live += !s->path[i].removed;
	for (unsigned int i = 0; i < s->npaths; i++) {
		for (int d = 0; d < 2; d++)
			s->ctl.share[d][i] = s->path[i].removed || !live ? 0 : 100 / live + (k < 100 % live);
		k += !s->path[i].removed;
	}
}

unsigned int bal_team_next_path(const struct bal_eng_team *t)
{
	return t && t->spec.npaths < SP_MAX_PATHS ? t->spec.npaths + 1 : 0;
}

int bal_path_validate_add(unsigned int index, unsigned int path, const struct bal_path_spec *ps, char *why,
                          size_t whylen)
{
	const struct bal_eng_team *t = bal_team_get(index);
	unsigned char a[16];
	unsigned int port;
	int fam;

	if (!t) {
		snprintf(why, whylen, "no team %u", index);
		return -ENOENT;
	}
	if (t->origin == BAL_FROM_CONFIG) {
		snprintf(why, whylen, "team %s comes from the config file: its paths are the config's", t->spec.name);
		return -EPERM;
	}
	if (t->spec.npaths >= SP_MAX_PATHS) {
		snprintf(why, whylen, "team %s has used all %d path indexes", t->spec.name, SP_MAX_PATHS);
		return -ENOSPC;
	}
	if (path != t->spec.npaths + 1) {
		snprintf(why, whylen, "the team's next path index is %u", t->spec.npaths + 1);
		return -ENODEV;
	}
	if (strlen(ps->portal) > BAL_PORTAL_MAX || bal_parse_portal(ps->portal, &fam, a, &port) < 0) {
		snprintf(why, whylen, "portal is not a numeric ADDRESS:PORT");
		return -EINVAL;
	}
	if (!plain_name(ps->iface, BAL_IFACE_MAX, 1) && !sp_source_is_address(ps->iface)) {
		snprintf(why, whylen, "bad interface name or source address");
		return -EINVAL;
	}
	return 0;
}

int bal_path_add(unsigned int index, unsigned int path, const struct bal_path_spec *ps)
{
	struct bal_eng_team *t = bal_team_get(index);
	struct bal_team_spec old;
	char why[160];
	int rc;

	if ((rc = bal_path_validate_add(index, path, ps, why, sizeof(why))) < 0) {
		cm_log(CM_LOG_WARNING, TAG, "team %u: path %u not added: %s", index, path, why);
		return rc;
	}
	old = t->spec;
	t->spec.path[t->spec.npaths] = *ps;
	t->spec.path[t->spec.npaths].removed = 0;
	t->spec.npaths++;
	reshare(&t->spec);
	if (t->nonvolatile && (rc = persist(t->index, t)) < 0) {
		t->spec = old;
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot persist the new path: %s", t->spec.name, strerror(-rc));
		return rc;
	}
	t->live[path - 1].state = t->pid > 0 ? BAL_PATH_CONNECTING : BAL_PATH_UNKNOWN;
	t->live[path - 1].login_result = SP_LOGIN_NONE;
	t->live[path - 1].last_error[0] = '\0';
	t->priv->was_down[path - 1] = 0;
	t->priv->prev_path_state[path - 1] = 0;
	cm_log(CM_LOG_NOTICE, TAG, "team %s: path %u (%s) added; it joins once it reaches the team's LU", t->spec.name,
	       path, ps->portal);
	write_ctl(t);
	return 0;
}

int bal_path_validate_remove(unsigned int index, unsigned int path)
{
	const struct bal_eng_team *t = bal_team_get(index);
	unsigned int left = 0;

	if (!t)
		return -ENOENT;
	if (path < 1 || path > t->spec.npaths || t->spec.path[path - 1].removed)
		return -ENODEV;
	if (t->origin == BAL_FROM_CONFIG)
		return -EPERM;
	for (unsigned int i = 0; i < t->spec.npaths; i++)
		left += !t->spec.path[i].removed;
	/* A team keeps one path: destroy the team to drop the last. */
	return left > 1 ? 0 : -EBUSY;
}

int bal_path_remove(unsigned int index, unsigned int path)
{
	struct bal_eng_team *t = bal_team_get(index);
	struct bal_team_spec old;
	int rc;

	if ((rc = bal_path_validate_remove(index, path)) < 0)
		return rc;
	old = t->spec;
	t->spec.path[path - 1].removed = 1;
	reshare(&t->spec);
	if (t->nonvolatile && (rc = persist(t->index, t)) < 0) {
		t->spec = old;
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot persist the path's removal: %s", t->spec.name, strerror(-rc));
		return rc;
	}
	t->priv->admin_mask &= ~(1u << (path - 1));
	cm_log(CM_LOG_NOTICE, TAG, "team %s: path %u (%s) leaves the team once its commands in flight finish",
	       t->spec.name, path, t->spec.path[path - 1].portal);
	write_ctl(t);
	return 0;
}

int bal_team_failback(unsigned int index)
{
	struct bal_eng_team *t = bal_team_get(index);
	struct sp_shm_ctl cur, c;
	int rc;

	if (!t)
		return -ENOENT;
	if (!t->priv->shm)
		return 0; /* nothing runs, nothing is held */
	sp_shm_ctl_read(t->priv->shm, &cur);
	ctl_to_shm(t, &c, cur.failback_req + 1);
	if ((rc = sp_shm_ctl_write(t->priv->shm, &c)) < 0)
		return -EAGAIN;
	t->priv->ctl_dirty = 0;
	t->priv->ctl_seq = (uint32_t)rc;
	t->ctl_status = BAL_CTL_PENDING;
	cm_log(CM_LOG_NOTICE, TAG, "team %s: failback of held paths on request", t->spec.name);
	return 0;
}

static int path_admin(unsigned int index, unsigned int path, int down)
{
	struct bal_eng_team *t = bal_team_get(index);
	uint32_t bit;

	if (!t)
		return -ENOENT;
	if (path < 1 || path > t->spec.npaths || t->spec.path[path - 1].removed)
		return -ENODEV;
	bit = 1u << (path - 1);
	if (!!(t->priv->admin_mask & bit) == down)
		return 0;
	if (down)
		t->priv->admin_mask |= bit;
	else
		t->priv->admin_mask &= ~bit;
	t->live[path - 1].admin_down = down;
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %u: %s on request", t->spec.name, path,
	       down ? "logging out" : "logging in again");
	/* Through the control block like any change; the data plane applies it
	 * at its next loop turn, or on start if it is not running now. */
	write_ctl(t);
	return 0;
}

int bal_path_logout(unsigned int team, unsigned int path)
{
	return path_admin(team, path, 1);
}

int bal_path_login(unsigned int team, unsigned int path)
{
	return path_admin(team, path, 0);
}

/* ---- config ----------------------------------------------------------------- */

static void spec_from_cfg(struct bal_team_spec *s, const struct sa_bal_team_cfg *c)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", c->name);
	snprintf(s->target, sizeof(s->target), "%s", c->target);
	s->lun = (unsigned int)c->lun;
	s->npaths = (unsigned int)(c->npaths > SP_MAX_PATHS ? SP_MAX_PATHS : c->npaths);
	for (unsigned int i = 0; i < s->npaths; i++) {
		snprintf(s->path[i].portal, sizeof(s->path[i].portal), "%s", c->paths[i].portal);
		snprintf(s->path[i].iface, sizeof(s->path[i].iface), "%s", c->paths[i].iface);
		s->ctl.share[SP_READ][i] = (unsigned int)c->paths[i].share_read;
		s->ctl.share[SP_WRITE][i] = (unsigned int)c->paths[i].share_write;
	}
	s->ctl.mode = mode_from_name(c->mode);
	s->ctl.algo = algo_from_name(c->algo);
	s->ctl.dyn.timer_interval_ms = (unsigned int)c->timer_interval_ms;
	s->ctl.dyn.change_threshold = (unsigned int)c->change_threshold;
	s->ctl.dyn.lb_change_pct = (unsigned int)c->lb_change;
	bal_ctl_failback_defaults(&s->ctl);
	if (c->failback) /* NULL only in configs built without the loader (tests) */
		s->ctl.failback = !strcmp(c->failback, "manual")    ? BAL_FAILBACK_MANUAL
		                  : !strcmp(c->failback, "delayed") ? BAL_FAILBACK_DELAYED
		                                                    : BAL_FAILBACK_IMMEDIATE;
	if (c->flap_window > 0) {
		s->ctl.failback_hold_s = (unsigned int)c->failback_hold;
		s->ctl.flap_count = (unsigned int)c->flap_count;
		s->ctl.flap_window_s = (unsigned int)c->flap_window;
		s->ctl.flap_hold_s = (unsigned int)c->flap_hold;
	}
	s->suspect_off = !c->suspect;
	s->suspect_k = (unsigned int)c->suspect_k;
	s->suspect_floor_ms = (unsigned int)c->suspect_floor_ms;
	equal_shares(s, SP_READ);
	equal_shares(s, SP_WRITE);
}

/* The state file keeps a config team's index by name. */
static void remember_persist(const char *name, unsigned int index)
{
	struct cm_state *st = sa_engines_state();
	char key[BAL_NAME_MAX + 32], v[16];
	const char *old;

	if (!st)
		return;
	snprintf(key, sizeof(key), IDX_PREFIX "%s", name);
	snprintf(v, sizeof(v), "%u", index);
	old = cm_state_get(st, key);
	if ((!old || strcmp(old, v)) && cm_state_set(st, key, v) == 0)
		bal_engine.idx_dirty = 1;
}

/* One commit for the index keys a start, a reload or an SNMP create changed. */
static void idx_commit(void)
{
	struct cm_state *st = sa_engines_state();
	int rc;

	if (!bal_engine.idx_dirty || !st)
		return;
	if ((rc = cm_state_commit(st)) < 0)
		cm_log(CM_LOG_ERR, TAG, "cannot write the state file: %s", strerror(-rc));
	else
		bal_engine.idx_dirty = 0;
}

static unsigned int remembered_index(const char *name)
{
	struct cm_state *st = sa_engines_state();
	char key[BAL_NAME_MAX + 32], *end;
	const char *v;
	unsigned long n;

	for (unsigned int i = 0; i < bal_engine.nremembered; i++)
		if (strcmp(bal_engine.remembered[i].name, name) == 0)
			return bal_team_get(bal_engine.remembered[i].index) ? 0 : bal_engine.remembered[i].index;
	snprintf(key, sizeof(key), IDX_PREFIX "%s", name);
	if (!st || !(v = cm_state_get(st, key)))
		return 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || n == 0 || n > UINT_MAX || bal_team_get((unsigned int)n))
		return 0;
	return (unsigned int)n;
}

static void remember(const char *name, unsigned int index)
{
	for (unsigned int i = 0; i < bal_engine.nremembered; i++)
		if (strcmp(bal_engine.remembered[i].name, name) == 0) {
			bal_engine.remembered[i].index = index;
			return;
		}
	if (bal_engine.nremembered < sizeof(bal_engine.remembered) / sizeof(bal_engine.remembered[0])) {
		snprintf(bal_engine.remembered[bal_engine.nremembered].name, sizeof(bal_engine.remembered[0].name),
		         "%s", name);
		bal_engine.remembered[bal_engine.nremembered++].index = index;
	}
	remember_persist(name, index);
}

static int same_paths(const struct bal_team_spec *a, const struct bal_team_spec *b)
{
	return strcmp(a->target, b->target) == 0 && a->lun == b->lun && a->npaths == b->npaths &&
	       memcmp(a->path, b->path, a->npaths * sizeof(a->path[0])) == 0;
}

/* A team from the config, marked seen; 0, or -ENOMEM (logged). */
static int config_team_add(unsigned int index, const struct bal_team_spec *s)
{
	struct bal_eng_team *t = team_new(index, s, BAL_FROM_CONFIG);

	if (!t || team_insert(t) < 0) {
		team_free(t);
		cm_log(CM_LOG_ERR, TAG, "team %s: out of memory", s->name);
		return -ENOMEM;
	}
	t->priv->cfg_seen = 1;
	return 0;
}

/* Config teams: add new ones, update changed ones, remove dropped ones.
 * A team whose paths or LU did not change keeps its process: a reload
 * must not cut the export from under its applications. */
static void apply_config_teams(const struct sa_balance_config *b)
{
	for (size_t i = 0; i < bal_engine.nteams; i++)
		bal_engine.teams[i]->priv->cfg_seen = 0;
	for (size_t i = 0; i < b->nteams; i++) {
		struct bal_team_spec s;
		struct bal_eng_team *t;
		unsigned int index;

		spec_from_cfg(&s, &b->teams[i]);
		t = bal_team_find(s.name);
		if (t && t->origin != BAL_FROM_CONFIG) {
			cm_log(CM_LOG_ERR, TAG,
			       "%s: team \"%s\" is also an SNMP-created team (%u); config team ignored",
			       b->source ? b->source : "config", s.name, t->index);
			continue;
		}
		if (t) {
			t->priv->cfg_seen = 1;
			if (!same_paths(&t->spec, &s)) {
				/* New LU or paths: same index, rows rebuilt, process restarted. */
				index = t->index;
				cm_log(CM_LOG_NOTICE, TAG, "team %s: paths changed in the config; restarting it",
				       s.name);
				team_remove(t);
				config_team_add(index, &s);
			} else if (memcmp(&t->spec.ctl, &s.ctl, sizeof(s.ctl)) != 0) {
				bal_set_ctl(t->index, &s.ctl);
			}
			continue;
		}
		index = remembered_index(s.name);
		if (!index)
			index = bal_engine.next_index;
		if (config_team_add(index, &s) == 0)
			remember(s.name, index);
	}
	for (size_t i = 0; i < bal_engine.nteams;) {
		struct bal_eng_team *t = bal_engine.teams[i];

		if (t->origin == BAL_FROM_CONFIG && !t->priv->cfg_seen) {
			cm_log(CM_LOG_NOTICE, TAG, "team %s: removed from the config; stopping it", t->spec.name);
			team_remove(t);
			continue;
		}
		i++;
	}
}

struct load_ctx {
	int n;
};

static void load_one(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	struct bal_team_spec s;
	struct bal_eng_team *t;
	unsigned long index = strtoul(key + strlen(STATE_PREFIX), NULL, 10);
	char why[160];

	if (index == 0 || index > 0x7fffffff || team_parse(value, &s) < 0 ||
	    bal_validate_spec(&s, (unsigned int)index, why, sizeof(why)) < 0) {
		cm_log(CM_LOG_ERR, TAG, "state: ignoring bad record %s", key);
		return;
	}
	if (bal_team_get((unsigned int)index))
		return;
	if (!(t = team_new((unsigned int)index, &s, BAL_FROM_SNMP)))
		return;
	t->nonvolatile = 1;
	if (team_insert(t) < 0) {
		team_free(t);
		return;
	}
	lc->n++;
}

static int set_str(char **dst, const char *src)
{
	char *c = strdup(src);

	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static int set_args(const struct sa_balance_config *b)
{
	char **a = calloc(b->nplugin_args + 1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < b->nplugin_args; i++)
		if (!(a[i] = strdup(b->plugin_args[i]))) {
			for (size_t j = 0; j < i; j++)
				free(a[j]);
			free(a);
			return -ENOMEM;
		}
	for (char **x = bal_engine.plugin_args; x && *x; x++)
		free(*x);
	free(bal_engine.plugin_args);
	bal_engine.plugin_args = a;
	return 0;
}

static int mkdir_p(const char *dir)
{
	char buf[256];

	if (strlen(dir) >= sizeof(buf))
		return -ENAMETOOLONG;
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int bal_start(const void *section, char *err, size_t errlen)
{
	const struct sa_balance_config *b = section;
	struct load_ctx lc = {0};
	struct cm_state *st;
	int rc;

	if (bal_engine.running)
		return 0;
	if (!b) {
		snprintf(err, errlen, "no balance section");
		return -EINVAL;
	}
	if ((rc = mkdir_p(b->run_dir)) < 0) {
		snprintf(err, errlen, "cannot create run_dir %s: %s", b->run_dir, strerror(-rc));
		return rc;
	}
	if (set_str(&bal_engine.run_dir, b->run_dir) || set_str(&bal_engine.nbdkit, b->nbdkit) ||
	    set_str(&bal_engine.plugin, b->plugin) || set_args(b))
		return -ENOMEM;
	if (access(bal_engine.plugin, R_OK) < 0)
		cm_log(CM_LOG_WARNING, TAG, "plugin %s: %s; teams will keep retrying", bal_engine.plugin,
		       strerror(errno));
	bal_engine.poll_ms = (unsigned int)b->poll_interval_ms;
	bal_engine.timer = cm_ev_timer(bal_engine.poll_ms, 1, poll_cb, NULL);
	if (!bal_engine.timer) {
		snprintf(err, errlen, "cannot register the poll timer");
		return -ENOMEM;
	}
	bal_engine.running = 1;
	if ((st = sa_engines_state())) {
		const char *hw = cm_state_get(st, HW_KEY);
		unsigned long n = hw ? strtoul(hw, NULL, 10) : 0;

		if (n && n < UINT_MAX && n >= bal_engine.next_index) {
			bal_engine.hw = (unsigned int)n;
			bal_engine.next_index = bal_engine.hw + 1;
		}
	}
	/* SNMP-created teams first: their indexes are fixed by the state file. */
	if (st)
		cm_state_foreach(st, STATE_PREFIX, load_one, &lc);
	apply_config_teams(b);
	idx_commit();
	cm_log(CM_LOG_INFO, TAG, "started: %zu teams (%d from the state file), run_dir %s", bal_engine.nteams, lc.n,
	       bal_engine.run_dir);
	return 0;
}

static int bal_reload(const void *section, char *err, size_t errlen)
{
	const struct sa_balance_config *b = section;

	if (!bal_engine.running || !b)
		return bal_start(section, err, errlen);
	if (strcmp(b->run_dir, bal_engine.run_dir) != 0)
		cm_log(CM_LOG_WARNING, TAG, "run_dir change takes effect when the engine restarts");
	if (set_str(&bal_engine.nbdkit, b->nbdkit) || set_str(&bal_engine.plugin, b->plugin) || set_args(b))
		return -ENOMEM;
	if ((unsigned int)b->poll_interval_ms != bal_engine.poll_ms) {
		unsigned int id = cm_ev_timer((unsigned int)b->poll_interval_ms, 1, poll_cb, NULL);

		if (id) {
			cm_ev_cancel(bal_engine.timer);
			bal_engine.timer = id;
			bal_engine.poll_ms = (unsigned int)b->poll_interval_ms;
		}
	}
	apply_config_teams(b);
	idx_commit();
	return 0;
}

/* Data planes told to stop are reaped from a timer of their own, so an
 * admin-down never waits for them inside the loop; if the agent exits first
 * they have their SIGTERM and init reaps them. */
static void reap_cb(unsigned int id, void *arg)
{
	dying_reap();
	if (!bal_engine.dying) {
		cm_ev_cancel(bal_engine.reap_timer);
		bal_engine.reap_timer = 0;
	}
}

static void bal_stop(void)
{
	if (!bal_engine.running)
		return;
	while (bal_engine.nteams)
		team_remove(bal_engine.teams[bal_engine.nteams - 1]);
	cm_ev_cancel(bal_engine.timer);
	bal_engine.timer = 0;
	bal_engine.running = 0;
	if (bal_engine.dying && !bal_engine.reap_timer)
		bal_engine.reap_timer = cm_ev_timer(100, 1, reap_cb, NULL);
	free(bal_engine.teams);
	bal_engine.teams = NULL;
	bal_engine.nteams = bal_engine.cap = 0;
	cm_log(CM_LOG_INFO, TAG, "stopped");
}

const struct sa_engine_ops bal_engine_ops = {
    .start = bal_start,
    .reload = bal_reload,
    .stop = bal_stop,
};
