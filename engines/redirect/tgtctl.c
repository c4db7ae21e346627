/* tgtctl.c: tgt target control for the redirector: tgtadm as child processes whose stdout the event loop reads. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engines/redirect/redir_int.h"
#include "subagent/evloop.h"
#include "subagent/log.h"

#define TAG "redirect"
#define JOB_TIMEOUT_MS 5000
#define MAX_RUNNING 8
#define MAX_OUTPUT (8u << 20)
#define MAX_ARGS 16

extern char **environ;

struct job;
typedef void (*job_done)(struct job *j, int rc);

struct job {
	char *argv[MAX_ARGS + 1];
	pid_t pid;
	int fd; /* -1 once stdout hit EOF */
	char *out;
	size_t len, cap;
	struct timespec deadline;
	bool started, killed;
	job_done done;
	/* context */
	uint32_t server;
	int control;
	redir_tgt_stats_cb stats_cb;
	struct redir_tgt_stats stats;
	struct job *next;
};

static struct job *running_jobs, *queued, **queued_tail = &queued;
static unsigned int nrunning;
static unsigned int tick_timer;

/* end_sessions batches per tgtd: one `show` serves every target moved off it. */
struct batch {
	int control;
	char **targets;
	size_t n;
	bool busy;
	unsigned int timer;
	struct batch *next;
};
static struct batch *batches;

static void job_free(struct job *j)
{
	for (int i = 0; j->argv[i]; i++)
		free(j->argv[i]);
	free(j->out);
	free(j->stats.targets);
	free(j->stats.counters);
	free(j);
}

static void start_queued(void);

static void tick(unsigned int id, void *arg);

static void ensure_tick(void)
{
	if (!tick_timer)
		tick_timer = sa_ev_timer(20, 1, tick, NULL);
}

static void job_finish(struct job *j, int rc)
{
	struct job **pp;

	for (pp = &running_jobs; *pp && *pp != j; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = j->next;
	nrunning--;
	if (j->done)
		j->done(j, rc);
	job_free(j);
	start_queued();
}

/* Called when stdout is closed: the child has exited or is about to. */
static bool job_reap(struct job *j)
{
	int status;
	pid_t r = waitpid(j->pid, &status, WNOHANG);

	if (r == 0)
		return false;
	if (r < 0) /* somebody else reaped it (SIGCHLD ignored): trust the output */
		job_finish(j, j->killed ? -ETIMEDOUT : 0);
	else if (j->killed)
		job_finish(j, -ETIMEDOUT);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		job_finish(j, 0);
	else
		job_finish(j, -EIO);
	return true;
}

static void on_output(int fd, void *arg)
{
	struct job *j = arg;

	for (;;) {
		ssize_t n;

		if (j->len + 4096 + 1 > j->cap) {
			size_t nc = j->cap ? j->cap * 2 : 8192;
			char *nb;

			if (nc > MAX_OUTPUT + 4096 + 1 || !(nb = realloc(j->out, nc))) {
				kill(j->pid, SIGKILL);
				j->killed = true;
				sa_ev_unwatch_read(fd);
				close(fd);
				j->fd = -1;
				return;
			}
			j->out = nb;
			j->cap = nc;
		}
		n = read(fd, j->out + j->len, j->cap - j->len - 1);
		if (n > 0) {
			j->len += (size_t)n;
			j->out[j->len] = '\0';
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		sa_ev_unwatch_read(fd);
		close(fd);
		j->fd = -1;
		if (!j->out && (j->out = malloc(1)))
			j->out[0] = '\0';
		job_reap(j);
		return;
	}
}

static int job_spawn(struct job *j)
{
	posix_spawn_file_actions_t fa;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&j->pid, j->argv[0], &fa, NULL, j->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc) {
		close(p[0]);
		return -rc;
	}
	/* The child's stdout must block for it; only our end is non-blocking. */
	j->fd = p[0];
	if (sa_ev_watch_read(j->fd, on_output, j) < 0) {
		kill(j->pid, SIGKILL);
		waitpid(j->pid, NULL, WNOHANG);
		close(j->fd);
		return -EIO;
	}
	clock_gettime(CLOCK_MONOTONIC, &j->deadline);
	j->deadline.tv_sec += JOB_TIMEOUT_MS / 1000;
	j->started = true;
	return 0;
}

static void start_queued(void)
{
	while (queued && nrunning < MAX_RUNNING) {
		struct job *j = queued;
		int rc;

		queued = j->next;
		if (!queued)
			queued_tail = &queued;
		j->next = running_jobs;
		running_jobs = j;
		nrunning++;
		rc = job_spawn(j);
		if (rc < 0) {
			sa_log(SA_LOG_WARNING, TAG, "cannot run %s: %s", j->argv[0], strerror(-rc));
			job_finish(j, rc);
			return; /* job_finish started the next ones */
		}
		ensure_tick();
	}
}

/* Kills children past their time and reaps those whose stdout is closed. */
static void tick(unsigned int id, void *arg)
{
	struct timespec now;
	struct job *j, *next;

	(void)id;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (j = running_jobs; j; j = next) {
		next = j->next;
		if (j->fd < 0) {
			if (job_reap(j))
				next = running_jobs; /* the list changed: start over */
			continue;
		}
		if (!j->killed && (now.tv_sec > j->deadline.tv_sec ||
		                   (now.tv_sec == j->deadline.tv_sec && now.tv_nsec >= j->deadline.tv_nsec))) {
			sa_log(SA_LOG_WARNING, TAG, "%s %s %s timed out", j->argv[0], j->argv[1], j->argv[2]);
			kill(j->pid, SIGKILL);
			j->killed = true;
		}
	}
	if (!running_jobs && !queued) {
		sa_ev_cancel(tick_timer);
		tick_timer = 0;
	}
}

/* Queues "tgtadm -C control ARGS..." (NULL-terminated). */
static struct job *job_new(int control, job_done done, ...)
{
	struct job *j = calloc(1, sizeof(*j));
	char port[16];
	va_list ap;
	int n = 0;
	const char *a;

	if (!j)
		return NULL;
	snprintf(port, sizeof(port), "%d", control);
	j->argv[n++] = strdup("tgtadm");
	j->argv[n++] = strdup("-C");
	j->argv[n++] = strdup(port);
	va_start(ap, done);
	while ((a = va_arg(ap, const char *)) && n < MAX_ARGS)
		j->argv[n++] = strdup(a);
	va_end(ap);
	for (int i = 0; i < n; i++) {
		if (!j->argv[i]) {
			job_free(j);
			return NULL;
		}
	}
	j->fd = -1;
	j->control = control;
	j->done = done;
	return j;
}

static void job_queue(struct job *j)
{
	j->next = NULL;
	*queued_tail = j;
	queued_tail = &j->next;
	start_queued();
}

/* ---- parsers ----------------------------------------------------------------- */

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : end;
}

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static bool starts(const char *p, const char *e, const char *word)
{
	size_t l = strlen(word);

	return (size_t)(e - p) >= l && memcmp(p, word, l) == 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *na = realloc(*arr, nc * size);

	if (!na)
		return -ENOMEM;
	*arr = na;
	*cap = nc;
	return 0;
}

/* "Target 1: iqn...." lines of `tgtadm --op show --mode target`. */
int redir_tgt_parse_show(const char *out, size_t len, struct redir_tgt_target **targets, size_t *ntargets)
{
	const char *p = out, *end = out + len;
	struct redir_tgt_target *t = NULL;
	size_t n = 0, cap = 0;

	while (p < end) {
		const char *e = line_end(p, end);

		if (starts(p, e, "Target ")) {
			char *colon;
			unsigned long tid = strtoul(p + 7, &colon, 10);

			if (colon < e && *colon == ':' && colon + 2 <= e) {
				const char *name = skip_ws(colon + 1, e);
				size_t nl = (size_t)(e - name);

				while (nl && (name[nl - 1] == ' ' || name[nl - 1] == '\r'))
					nl--;
				if (nl && nl < REDIR_NAME_MAX) {
					if (grow((void **)&t, &cap, n, sizeof(*t)) < 0) {
						free(t);
						return -ENOMEM;
					}
					t[n].tid = (uint32_t)tid;
					memcpy(t[n].name, name, nl);
					t[n].name[nl] = '\0';
					n++;
				}
			}
		}
		p = e < end ? e + 1 : end;
	}
	*targets = t;
	*ntargets = n;
	return 0;
}

/* Rows of `tgtadm --op stat --mode sys`: tgt lun sid, then bytes/cmds pairs
 * for rd_subm, rd_done, wr_subm, wr_done, then errs. */
int redir_tgt_parse_stat(const char *out, size_t len, struct redir_tgt_counter **ctr, size_t *nctr)
{
	const char *p = out, *end = out + len;
	struct redir_tgt_counter *c = NULL;
	size_t n = 0, cap = 0;

	while (p < end) {
		const char *e = line_end(p, end);
		unsigned long long v[12];
		char line[512];
		size_t l = (size_t)(e - p);
		int got;

		if (l < sizeof(line)) {
			memcpy(line, p, l);
			line[l] = '\0';
			got = sscanf(line, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			             &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]);
			if (got == 12) {
				if (grow((void **)&c, &cap, n, sizeof(*c)) < 0) {
					free(c);
					return -ENOMEM;
				}
				c[n].tid = (uint32_t)v[0];
				c[n].lun = (uint32_t)v[1];
				c[n].sid = (uint32_t)v[2];
				c[n].bytes = v[5] + v[9];
				n++;
			}
		}
		p = e < end ? e + 1 : end;
	}
	*ctr = c;
	*nctr = n;
	return 0;
}

/* "I_T nexus: S" and its "Connection: C" lines under one target's block. */
int redir_tgt_parse_conns(const char *out, size_t len, const char *target, struct redir_tgt_conn **conns, size_t *nc)
{
	const char *p = out, *end = out + len;
	struct redir_tgt_conn *c = NULL;
	size_t n = 0, cap = 0;
	bool in = false;
	uint32_t tid = 0;
	uint64_t sid = 0;
	bool have_sid = false;

	while (p < end) {
		const char *e = line_end(p, end), *q = skip_ws(p, e);

		if (starts(p, e, "Target ")) {
			char *colon;
			unsigned long t = strtoul(p + 7, &colon, 10);
			const char *name = colon < e ? skip_ws(colon + 1, e) : e;
			size_t tl = strlen(target);

			in = colon < e && *colon == ':' && (size_t)(e - name) >= tl && memcmp(name, target, tl) == 0 &&
			     (name + tl == e || name[tl] == ' ' || name[tl] == '\r');
			tid = (uint32_t)t;
			have_sid = false;
		} else if (in && starts(q, e, "I_T nexus: ")) {
			sid = strtoull(q + 11, NULL, 10);
			have_sid = true;
		} else if (in && have_sid && starts(q, e, "Connection: ")) {
			if (grow((void **)&c, &cap, n, sizeof(*c)) < 0) {
				free(c);
				return -ENOMEM;
			}
			c[n].tid = tid;
			c[n].sid = sid;
			c[n].cid = (uint32_t)strtoul(q + 12, NULL, 10);
			n++;
		} else if (in && starts(q, e, "LUN information:")) {
			have_sid = false;
		}
		p = e < end ? e + 1 : end;
	}
	*conns = c;
	*nc = n;
	return 0;
}

/* ---- loads ---------------------------------------------------------------------- */

static void stat_done(struct job *j, int rc)
{
	struct redir_tgt_stats st = j->stats;

	if (rc == 0)
		rc = redir_tgt_parse_stat(j->out ? j->out : "", j->len, &st.counters, &st.ncounters);
	j->stats.counters = st.counters;
	j->stats.ncounters = st.ncounters;
	j->stats_cb(j->server, rc, rc == 0 ? &j->stats : NULL);
}

static void show_done(struct job *j, int rc)
{
	struct job *k;

	if (rc == 0)
		rc = redir_tgt_parse_show(j->out ? j->out : "", j->len, &j->stats.targets, &j->stats.ntargets);
	if (rc == 0 &&
	    (k = job_new(j->control, stat_done, "--lld", "iscsi", "--op", "stat", "--mode", "sys", (char *)NULL))) {
		k->server = j->server;
		k->stats_cb = j->stats_cb;
		k->stats.targets = j->stats.targets;
		k->stats.ntargets = j->stats.ntargets;
		j->stats.targets = NULL;
		j->stats.ntargets = 0;
		job_queue(k);
		return;
	}
	j->stats_cb(j->server, rc < 0 ? rc : -ENOMEM, NULL);
}

int redir_tgt_read_stats(uint32_t server, int control, redir_tgt_stats_cb cb)
{
	struct job *j = job_new(control, show_done, "--lld", "iscsi", "--op", "show", "--mode", "target", (char *)NULL);

	if (!j)
		return -ENOMEM;
	j->server = server;
	j->stats_cb = cb;
	job_queue(j);
	return 0;
}

/* ---- ending sessions ----------------------------------------------------------- */

static void batch_run(struct batch *b);

static void delete_done(struct job *j, int rc)
{
	if (rc < 0)
		sa_log(SA_LOG_INFO, TAG, "tgtadm -C %d delete conn --tid %s --sid %s --cid %s: %s", j->control,
		       j->argv[10], j->argv[12], j->argv[14], strerror(-rc));
}

static void conns_done(struct job *j, int rc)
{
	struct batch *b;

	for (b = batches; b && b->control != j->control; b = b->next)
		;
	if (!b)
		return;
	if (rc == 0) {
		/* The targets this show was for are the first server fields of the job. */
		for (size_t i = 0; i < j->stats.ntargets; i++) {
			struct redir_tgt_conn *c = NULL;
			size_t n = 0;

			if (redir_tgt_parse_conns(j->out ? j->out : "", j->len, j->stats.targets[i].name, &c, &n) < 0)
				continue;
			for (size_t k = 0; k < n; k++) {
				char tid[16], sid[24], cid[16];
				struct job *d;

				snprintf(tid, sizeof(tid), "%u", c[k].tid);
				snprintf(sid, sizeof(sid), "%llu", (unsigned long long)c[k].sid);
				snprintf(cid, sizeof(cid), "%u", c[k].cid);
				d = job_new(j->control, delete_done, "--lld", "iscsi", "--op", "delete", "--mode",
				            "conn", "--tid", tid, "--sid", sid, "--cid", cid, (char *)NULL);
				if (d)
					job_queue(d);
			}
			if (n)
				sa_log(SA_LOG_INFO, TAG, "ending %zu connection%s of %s on tgtd -C %d", n,
				       n == 1 ? "" : "s", j->stats.targets[i].name, j->control);
			free(c);
		}
	}
	b->busy = false;
	if (b->n)
		batch_run(b);
}

static void batch_run(struct batch *b)
{
	struct job *j =
	    job_new(b->control, conns_done, "--lld", "iscsi", "--op", "show", "--mode", "target", (char *)NULL);

	if (!j)
		return;
	/* Hand the batch's targets to the job (as a target list). */
	j->stats.targets = calloc(b->n ? b->n : 1, sizeof(*j->stats.targets));
	if (!j->stats.targets) {
		job_free(j);
		return;
	}
	for (size_t i = 0; i < b->n; i++) {
		snprintf(j->stats.targets[i].name, sizeof(j->stats.targets[i].name), "%s", b->targets[i]);
		free(b->targets[i]);
	}
	j->stats.ntargets = b->n;
	b->n = 0;
	b->busy = true;
	job_queue(j);
}

static void batch_fire(unsigned int id, void *arg)
{
	struct batch *b = arg;

	(void)id;
	b->timer = 0;
	if (!b->busy && b->n)
		batch_run(b);
}

int redir_tgt_end_sessions(int control, const char *target)
{
	struct batch *b;
	char **nt;

	if (control < 0)
		return -EINVAL;
	for (b = batches; b && b->control != control; b = b->next)
		;
	if (!b) {
		if (!(b = calloc(1, sizeof(*b))))
			return -ENOMEM;
		b->control = control;
		b->next = batches;
		batches = b;
	}
	if (!(nt = realloc(b->targets, (b->n + 1) * sizeof(char *))))
		return -ENOMEM;
	b->targets = nt;
	if (!(b->targets[b->n] = strdup(target)))
		return -ENOMEM;
	b->n++;
	/* Several moves in one plan arrive in one loop pass: they share one show. */
	if (!b->busy && !b->timer)
		b->timer = sa_ev_timer(1, 0, batch_fire, b);
	return 0;
}

void redir_tgt_stop(void)
{
	while (queued) {
		struct job *j = queued;

		queued = j->next;
		job_free(j);
	}
	queued_tail = &queued;
	while (running_jobs) {
		struct job *j = running_jobs;

		running_jobs = j->next;
		if (j->fd >= 0) {
			sa_ev_unwatch_read(j->fd);
			close(j->fd);
		}
		kill(j->pid, SIGKILL);
		/* The child dies at once on SIGKILL; reap without blocking the loop. */
		waitpid(j->pid, NULL, WNOHANG);
		job_free(j);
	}
	nrunning = 0;
	while (batches) {
		struct batch *b = batches;

		batches = b->next;
		sa_ev_cancel(b->timer);
		for (size_t i = 0; i < b->n; i++)
			free(b->targets[i]);
		free(b->targets);
		free(b);
	}
	sa_ev_cancel(tick_timer);
	tick_timer = 0;
}
