/* sp_nbdkit.c: nbdkit plugin exporting a sanpath multipath team (libsanpath) as an NBD export. */

/*
 * Threads.  libiscsi contexts are not thread-safe and a team is a single
 * event loop, so exactly one thread owns the team: the loop thread,
 * started in after_fork (after nbdkit has daemonised: threads do not
 * survive fork).  It polls the sessions and an eventfd.  nbdkit's worker
 * threads hand their requests to it through a mutex-protected list, kick
 * the eventfd, and sleep on a condition variable until the completion
 * callback (run by the loop thread) wakes them.
 *
 * The plugin declares THREAD_MODEL_PARALLEL: NBD clients (nbdcopy, qemu)
 * keep many requests in flight, and the team needs that queue depth to keep
 * several paths busy and for the share-based selection to mean anything.
 * Any SERIALIZE_* model would leave one command in flight in the whole
 * team.  Requests larger than max_io are cut into pieces submitted at
 * once, so one big request also spreads over the paths.  The same team
 * serves every connection, so multi-conn is safe (one cache: the target's).
 */
#define NBDKIT_API_VERSION 2
#define _GNU_SOURCE
#include "config.h"

#include <nbdkit-plugin.h>

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "iscsi/sp_team.h"
#include "common/log.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

struct waiter {
	unsigned int pending; /* pieces not completed */
	int status;           /* first error, 0 if none */
	pthread_cond_t cv;
};

struct req {
	struct sp_io io;
	struct waiter *w;
	struct req *next;
};

static struct {
	/* configuration */
	struct sp_team_opts o;
	char *name, *target, *initiator, *shm_dir;
	char *portal[SP_MAX_PATHS], *iface[SP_MAX_PATHS], *ptarget[SP_MAX_PATHS];
	unsigned int nportals, nifaces;
	int nshares[2];
	uint32_t max_io;
	unsigned int removed; /* removed=: bit i, path i left the team (its index stays taken) */
	struct sp_chap chap;  /* from chap_file=: secrets never ride on the command line */
	/* runtime */
	struct sp_team *team;
	uint32_t bs;
	uint64_t size;
	int efd;
	pthread_t thr;
	int thr_started;
	volatile int stop;
	pthread_mutex_t mu;  /* the submission list and every waiter */
	pthread_mutex_t rmw; /* unaligned writes: read-modify-write of partial blocks */
	struct req *sub_head, *sub_tail;
} g = {
    .efd = -1,
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .rmw = PTHREAD_MUTEX_INITIALIZER,
    .max_io = 1 << 20,
};

/* libsanpath logs through cm_log: errors and warnings (path down, no path)
 * as nbdkit errors so they show without -v, the rest on stderr. */
static void log_sink(int prio, const char *line)
{
	if (prio <= CM_LOG_WARNING)
		nbdkit_error("%s", line);
	else if (prio <= CM_LOG_INFO)
		fprintf(stderr, "nbdkit: sanpath: %s\n", line);
	else
		nbdkit_debug("%s", line);
}

static void sp_load(void)
{
	sp_team_opts_default(&g.o);
	cm_log_set_sink(log_sink);
}

static int dup_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	if (!*dst) {
		nbdkit_error("out of memory");
		return -1;
	}
	return 0;
}

static int parse_shares(const char *key, const char *v, unsigned int *sh, int *n)
{
	char *end;

	*n = 0;
	while (*v) {
		unsigned long x = strtoul(v, &end, 10);

		if (end == v || x > 100 || *n >= SP_MAX_PATHS) {
			nbdkit_error("%s: expected up to %d percentages separated by commas", key, SP_MAX_PATHS);
			return -1;
		}
		sh[(*n)++] = (unsigned int)x;
		v = end;
		if (*v == ',')
			v++;
		else if (*v) {
			nbdkit_error("%s: unexpected '%s'", key, v);
			return -1;
		}
	}
	return 0;
}

static int parse_uint(const char *key, const char *v, unsigned int *out)
{
	return nbdkit_parse_unsigned(key, v, out);
}

static int sp_config(const char *key, const char *value)
{
	unsigned int u;

	if (!strcmp(key, "name"))
		return dup_str(&g.name, value);
	if (!strcmp(key, "target"))
		return dup_str(&g.target, value);
	if (!strcmp(key, "initiator"))
		return dup_str(&g.initiator, value);
	if (!strcmp(key, "shm_dir"))
		return dup_str(&g.shm_dir, value);
	if (!strcmp(key, "chap_file")) {
		char why[512];

		if (sp_chap_file_read(value, &g.chap, why, sizeof(why))) {
			nbdkit_error("chap_file: %s", why);
			return -1;
		}
		if (!g.chap.user[0] || !g.chap.secret[0] || (g.chap.target_user[0] && !g.chap.target_secret[0])) {
			nbdkit_error("chap_file %s: needs user= and secret= (and target_secret= with target_user=)",
			             value);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "lun")) {
		if (parse_uint(key, value, &u) || u > 16383)
			return -1;
		g.o.lun = (int)u;
		return 0;
	}
	if (!strcmp(key, "portal")) {
		/* portal=HOST:PORT[,iface=IF] */
		char *p, *c;

		if (g.nportals >= SP_MAX_PATHS) {
			nbdkit_error("at most %d portals", SP_MAX_PATHS);
			return -1;
		}
		p = strdup(value);
		if (!p)
			return -1;
		c = strchr(p, ',');
		if (c)
			*c++ = '\0';
		while (c && *c) {
			char *next = strchr(c, ',');

			if (next)
				*next++ = '\0';
			/* target=: the same LU exported under another name at this portal (its
			 * VPD 0x83 identity must still be the team's). */
			if ((strncmp(c, "iface=", 6) != 0 || dup_str(&g.iface[g.nportals], c + 6)) &&
			    (strncmp(c, "target=", 7) != 0 || dup_str(&g.ptarget[g.nportals], c + 7))) {
				nbdkit_error("portal: bad option '%s' (want HOST:PORT[,iface=IF][,target=IQN])", c);
				free(p);
				return -1;
			}
			c = next;
		}
		if (!strchr(p, ':')) {
			nbdkit_error("portal '%s': want HOST:PORT", p);
			free(p);
			return -1;
		}
		g.portal[g.nportals++] = p;
		return 0;
	}
	if (!strcmp(key, "iface")) {
		/* The n-th iface= binds the n-th portal. */
		if (g.nifaces >= SP_MAX_PATHS)
			return -1;
		return dup_str(&g.iface[g.nifaces++], value);
	}
	if (!strcmp(key, "shares_read"))
		return parse_shares(key, value, g.o.share[SP_READ], &g.nshares[SP_READ]);
	if (!strcmp(key, "shares_write"))
		return parse_shares(key, value, g.o.share[SP_WRITE], &g.nshares[SP_WRITE]);
	if (!strcmp(key, "mode")) {
		if (!strcmp(value, "lb"))
			g.o.mode = SP_MODE_FAILOVER_LB;
		else if (!strcmp(value, "failover"))
			g.o.mode = SP_MODE_FAILOVER;
		else {
			nbdkit_error("mode: want lb or failover");
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "algo")) {
		static const char *const names[] = {"static", "dynamic", "rr", "ql", "st"};

		for (u = 0; u < 5; u++)
			if (!strcmp(value, names[u])) {
				g.o.algo = SP_ALGO_STATIC + (int)u;
				return 0;
			}
		nbdkit_error("algo: want static, dynamic, rr, ql or st");
		return -1;
	}
	if (!strcmp(key, "failback")) {
		if (!strcmp(value, "immediate"))
			g.o.failback = SP_FAILBACK_IMMEDIATE;
		else if (!strcmp(value, "manual"))
			g.o.failback = SP_FAILBACK_MANUAL;
		else if (!parse_uint(key, value, &u)) {
			g.o.failback = SP_FAILBACK_DELAYED;
			g.o.failback_delay_ms = u * 1000;
		} else
			return -1;
		return 0;
	}
	if (!strcmp(key, "removed"))
		return parse_uint(key, value, &g.removed);
	if (!strcmp(key, "max_io")) {
		int64_t v = nbdkit_parse_size(value);

		if (v < 4096 || v > (1 << 24)) {
			nbdkit_error("max_io: 4k .. 16M");
			return -1;
		}
		g.max_io = (uint32_t)v;
		return 0;
	}
	{
		static const struct {
			const char *key;
			size_t off;
		} num[] = {
		    {"no_path_retry", offsetof(struct sp_team_opts, no_path_retry_s)},
		    {"max_inflight", offsetof(struct sp_team_opts, max_inflight)},
		    {"nop_interval", offsetof(struct sp_team_opts, nop_interval_ms)},
		    {"nop_timeout", offsetof(struct sp_team_opts, nop_timeout_ms)},
		    {"cmd_timeout", offsetof(struct sp_team_opts, cmd_timeout_ms)},
		    {"login_timeout", offsetof(struct sp_team_opts, login_timeout_ms)},
		    {"report_ms", offsetof(struct sp_team_opts, report_ms)},
		    {"dyn_interval", offsetof(struct sp_team_opts, dyn.timer_interval_ms)},
		    {"dyn_threshold", offsetof(struct sp_team_opts, dyn.change_threshold)},
		    {"dyn_change", offsetof(struct sp_team_opts, dyn.lb_change_pct)},
		    {"suspect", offsetof(struct sp_team_opts, suspect)},
		    {"suspect_k", offsetof(struct sp_team_opts, suspect_k)},
		    {"suspect_floor", offsetof(struct sp_team_opts, suspect_floor_ms)},
		    {"flap_count", offsetof(struct sp_team_opts, flap_count)},
		    {"flap_window", offsetof(struct sp_team_opts, flap_window_ms)},
		    {"flap_hold", offsetof(struct sp_team_opts, flap_hold_ms)},
		};
		size_t i;

		for (i = 0; i < sizeof(num) / sizeof(num[0]); i++)
			if (!strcmp(key, num[i].key))
				return parse_uint(key, value, (unsigned int *)((char *)&g.o + num[i].off));
	}
	nbdkit_error("unknown parameter '%s'", key);
	return -1;
}

static int sp_config_complete(void)
{
	int d;

	if (!g.target || !g.nportals) {
		nbdkit_error("target= and at least one portal= are required");
		return -1;
	}
	if (g.nifaces > g.nportals) {
		nbdkit_error("more iface= than portal= parameters");
		return -1;
	}
	for (d = 0; d < 2; d++)
		if (g.nshares[d] && g.nshares[d] != (int)g.nportals) {
			nbdkit_error("%s: %d values for %u portals", d ? "shares_write" : "shares_read", g.nshares[d],
			             g.nportals);
			return -1;
		}
	return 0;
}

/* ---- the loop thread ------------------------------------------------------ */

static void finish(struct waiter *w, int status)
{
	pthread_mutex_lock(&g.mu);
	if (status && !w->status)
		w->status = status;
	if (--w->pending == 0)
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&g.mu);
}

static void io_done(struct sp_io *io, int status, void *priv)
{
	(void)io;
	finish(((struct req *)priv)->w, status);
}

static void *loop_main(void *arg)
{
	struct req *r, *next;
	uint64_t v;
	int rc;

	(void)arg;
	while (!g.stop || sp_team_outstanding(g.team)) {
		sp_team_poll(g.team, 100);
		if (read(g.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			nbdkit_debug("eventfd read: %m");
		pthread_mutex_lock(&g.mu);
		r = g.sub_head;
		g.sub_head = g.sub_tail = NULL;
		pthread_mutex_unlock(&g.mu);
		for (; r; r = next) {
			next = r->next;
			rc = sp_team_submit(g.team, &r->io);
			if (rc)
				finish(r->w, rc);
		}
	}
	return NULL;
}

static int sp_after_fork(void)
{
	struct sp_path_opts po;
	unsigned int i;
	int rc, usable;

	g.o.name = g.name ? g.name : "nbd";
	g.o.target = g.target;
	if (g.initiator)
		g.o.initiator = g.initiator;
	g.o.shm_dir = g.shm_dir;
	if (g.chap.user[0]) {
		g.o.chap_user = g.chap.user;
		g.o.chap_secret = g.chap.secret;
	}
	if (g.chap.target_user[0]) {
		g.o.chap_target_user = g.chap.target_user;
		g.o.chap_target_secret = g.chap.target_secret;
	}
	rc = sp_team_new(&g.team, &g.o);
	/* The team holds its own copies. */
	sp_chap_wipe(&g.chap);
	g.o.chap_user = g.o.chap_secret = g.o.chap_target_user = g.o.chap_target_secret = NULL;
	if (rc) {
		nbdkit_error("invalid team options: %s", strerror(-rc));
		return -1;
	}
	for (i = 0; i < g.nportals; i++) {
		memset(&po, 0, sizeof(po));
		po.portal = g.portal[i];
		po.iface = g.iface[i];
		po.target = g.ptarget[i];
		po.lun = -1;
		rc = sp_team_add_path(g.team, &po);
		if (rc < 0) {
			nbdkit_error("portal %s: %s", g.portal[i], strerror(-rc));
			return -1;
		}
	}
	for (i = 0; i < g.nportals; i++)
		if ((g.removed >> i) & 1)
			sp_team_path_remove(g.team, i);
	rc = sp_team_start(g.team);
	if (rc) {
		nbdkit_error("cannot start team %s: %s", g.o.name, strerror(-rc));
		return -1;
	}
	/* The export's size and block size come from the first verified path:
	 * serve nothing before one is. */
	usable = rc = sp_team_wait_settled(g.team, (int)g.o.login_timeout_ms + 1000);
	if (rc <= 0 || !sp_team_block_size(g.team)) {
		struct sp_path_info pi;

		for (i = 0; i < g.nportals; i++)
			if (!sp_team_path_info(g.team, i, &pi) && pi.last_error[0])
				nbdkit_error("path %u (%s): login=%s(%d) status=0x%04x: %s", i + 1, pi.portal,
				             sp_login_result_name(pi.login_result), pi.login_result, pi.login_status,
				             pi.last_error);
		nbdkit_error("team %s: no usable path to %s lun %d", g.o.name, g.target, g.o.lun);
		sp_team_keep_segment(g.team);
		return -1;
	}
	g.bs = sp_team_block_size(g.team);
	g.size = sp_team_nblocks(g.team) * g.bs;
	if (g.max_io % g.bs)
		g.max_io -= g.max_io % g.bs;
	g.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g.efd < 0) {
		nbdkit_error("eventfd: %m");
		return -1;
	}
	sp_team_set_wake_fd(g.team, g.efd);
	rc = pthread_create(&g.thr, NULL, loop_main, NULL);
	if (rc) {
		nbdkit_error("pthread_create: %s", strerror(rc));
		return -1;
	}
	g.thr_started = 1;
	nbdkit_debug("team %s: %d of %u paths usable, %" PRIu64 " bytes, block %u", g.o.name, usable, g.nportals,
	             g.size, g.bs);
	return 0;
}

static void sp_cleanup(void)
{
	if (g.thr_started) {
		uint64_t one = 1;

		g.stop = 1;
		if (write(g.efd, &one, sizeof(one)) < 0)
			nbdkit_debug("eventfd write: %m");
		pthread_join(g.thr, NULL);
		g.thr_started = 0;
	}
	if (g.team)
		sp_team_free(g.team);
	g.team = NULL;
	if (g.efd >= 0)
		close(g.efd);
	g.efd = -1;
}

static void sp_unload(void)
{
	unsigned int i;

	for (i = 0; i < SP_MAX_PATHS; i++) {
		free(g.portal[i]);
		free(g.iface[i]);
		free(g.ptarget[i]);
	}
	free(g.name);
	free(g.target);
	free(g.initiator);
	free(g.shm_dir);
	sp_chap_wipe(&g.chap);
}

/* ---- requests ------------------------------------------------------------- */

/* Block-aligned I/O: cut into max_io pieces, hand them all to the loop
 * thread, sleep until the last one completes. */
static int team_io(int dir, void *buf, uint32_t count, uint64_t offset)
{
	unsigned int n = (count + g.max_io - 1) / g.max_io, i;
	struct req *rq;
	struct waiter w = {.pending = n, .status = 0};
	uint64_t one = 1;
	int status;

	rq = calloc(n, sizeof(*rq));
	if (!rq) {
		nbdkit_set_error(ENOMEM);
		return -1;
	}
	pthread_cond_init(&w.cv, NULL);
	for (i = 0; i < n; i++) {
		uint32_t off = i * g.max_io, len = count - off < g.max_io ? count - off : g.max_io;

		rq[i].io.dir = dir;
		rq[i].io.lba = (offset + off) / g.bs;
		rq[i].io.nblocks = len / g.bs;
		rq[i].io.buf = (unsigned char *)buf + off;
		rq[i].io.cb = io_done;
		rq[i].io.priv = &rq[i];
		rq[i].w = &w;
		rq[i].next = i + 1 < n ? &rq[i + 1] : NULL;
	}
	pthread_mutex_lock(&g.mu);
	if (g.sub_tail)
		g.sub_tail->next = &rq[0];
	else
		g.sub_head = &rq[0];
	g.sub_tail = &rq[n - 1];
	pthread_mutex_unlock(&g.mu);
	if (write(g.efd, &one, sizeof(one)) < 0)
		nbdkit_debug("eventfd write: %m");
	pthread_mutex_lock(&g.mu);
	while (w.pending)
		pthread_cond_wait(&w.cv, &g.mu);
	status = w.status;
	pthread_mutex_unlock(&g.mu);
	pthread_cond_destroy(&w.cv);
	free(rq);
	if (status) {
		nbdkit_error("%s at offset %" PRIu64 " (%u bytes) failed: %s", dir == SP_READ ? "read" : "write",
		             offset, count,
		             status == -ENOLINK ? "no path to the LU (no_path_retry expired)" : strerror(-status));
		nbdkit_set_error(status == -ENOLINK ? EIO : -status);
		return -1;
	}
	return 0;
}

static int aligned(uint32_t count, uint64_t offset)
{
	return offset % g.bs == 0 && count % g.bs == 0;
}

static int sp_pread(void *handle, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t start, end;
	unsigned char *bb;
	int rc;

	(void)handle;
	(void)flags;
	if (aligned(count, offset))
		return team_io(SP_READ, buf, count, offset);
	/* Clients may ignore the advertised block size: read the covering blocks. */
	start = offset - offset % g.bs;
	end = (offset + count + g.bs - 1) / g.bs * g.bs;
	bb = malloc(end - start);
	if (!bb) {
		nbdkit_set_error(ENOMEM);
		return -1;
	}
	rc = team_io(SP_READ, bb, (uint32_t)(end - start), start);
	if (!rc)
		memcpy(buf, bb + (offset - start), count);
	free(bb);
	return rc;
}

static int sp_pwrite(void *handle, const void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t start, end;
	unsigned char *bb;
	int rc;

	(void)handle;
	(void)flags;
	if (aligned(count, offset))
		return team_io(SP_WRITE, (void *)buf, count, offset);
	/* Partial blocks: read-modify-write, one at a time so two partial
	 * writes to the same block do not undo each other. */
	start = offset - offset % g.bs;
	end = (offset + count + g.bs - 1) / g.bs * g.bs;
	bb = malloc(end - start);
	if (!bb) {
		nbdkit_set_error(ENOMEM);
		return -1;
	}
	pthread_mutex_lock(&g.rmw);
	rc = team_io(SP_READ, bb, (uint32_t)(end - start), start);
	if (!rc) {
		memcpy(bb + (offset - start), buf, count);
		rc = team_io(SP_WRITE, bb, (uint32_t)(end - start), start);
	}
	pthread_mutex_unlock(&g.rmw);
	free(bb);
	return rc;
}

static void *sp_open(int readonly)
{
	(void)readonly;
	return &g; /* every connection shares the one team */
}

static int64_t sp_get_size(void *handle)
{
	(void)handle;
	return (int64_t)g.size;
}

static int sp_can_multi_conn(void *handle)
{
	(void)handle;
	return 1;
}

static int sp_block_size(void *handle, uint32_t *minimum, uint32_t *preferred, uint32_t *maximum)
{
	(void)handle;
	*minimum = g.bs;
	*preferred = g.bs > 4096 ? g.bs : 4096;
	*maximum = 0xffffffff;
	return 0;
}

static struct nbdkit_plugin plugin = {
    .name = "sanpath",
    .longname = "sanagent multipath iSCSI team (libsanpath)",
    .version = PACKAGE_VERSION,
    .description = "Exports one LU through a team of iSCSI paths with share-based load balancing and failover.",
    .load = sp_load,
    .unload = sp_unload,
    .config = sp_config,
    .config_complete = sp_config_complete,
    .config_help = "name=TEAM target=IQN lun=N portal=HOST:PORT[,iface=IF][,target=IQN] ... [iface=IF ...]\n"
                   "[initiator=IQN] [chap_file=FILE (user=, secret=, target_user=, target_secret= lines; 0600)]\n"
                   "[shm_dir=DIR] [shares_read=A,B,..] [shares_write=A,B,..] [mode=lb|failover]\n"
                   "[algo=static|dynamic|rr|ql|st] [no_path_retry=S] [failback=immediate|manual|S]\n"
                   "[max_inflight=N] [nop_interval=MS] [nop_timeout=MS] [cmd_timeout=MS] [login_timeout=MS]\n"
                   "[dyn_interval=MS] [dyn_threshold=PCT] [dyn_change=PCT] [report_ms=MS] [max_io=SIZE]\n"
                   "[suspect=1|0] [suspect_k=K] [suspect_floor=MS] [flap_count=N] [flap_window=MS] [flap_hold=MS]\n"
                   "[removed=MASK (paths that left the team)]",
    .after_fork = sp_after_fork,
    .cleanup = sp_cleanup,
    .open = sp_open,
    .get_size = sp_get_size,
    .can_multi_conn = sp_can_multi_conn,
    .block_size = sp_block_size,
    .pread = sp_pread,
    .pwrite = sp_pwrite,
    .errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN(plugin)
