/* tgtctl.c: tgt target control: tgtd's management socket, or tgtadm child processes whose stdout the event loop
 * reads, and the parsers of their output. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iscsi/tgtctl.h"
#include "common/array.h"
#include "common/evloop.h"
#include "common/log.h"

#define TAG "tgtctl"
#define JOB_TIMEOUT_MS 5000
#define MAX_RUNNING 8
#define MAX_OUTPUT (8u << 20)
#define MAX_ARGS 20

extern char **environ;

/* A socket job's progress: request out, answer header in, output in. */
enum sock_state { SK_NONE, SK_SEND, SK_HDR, SK_BODY };

struct job {
	char *argv[MAX_ARGS + 1];
	pid_t pid; /* 0: a socket job */
	int fd;    /* the child's stdout (-1 once at EOF) or the socket */
	enum sock_state sk;
	unsigned char req[TGTC_REQ_HDR + 512];
	size_t reqlen, done;
	unsigned char rsp[TGTC_RSP_HDR];
	uint32_t rsp_err, outlen;
	char *out;
	size_t len, cap;
	struct timespec deadline;
	bool killed;
	int control;
	const void *owner;
	tgtc_done_cb cb;
	void *arg;
	struct job *next;
};

static struct job *running_jobs, *queued, **queued_tail = &queued;
static unsigned int nrunning;
static unsigned int tick_timer;
/* Children killed by a cancel that had not exited yet: reaped by the tick. */
static pid_t *zombies;
static size_t nzombies;

static void job_free(struct job *j)
{
	/* An account's request carries its secret, in argv and in the encoded request alike. */
	explicit_bzero(j->req, sizeof(j->req));
	for (int i = 0; j->argv[i]; i++) {
		explicit_bzero(j->argv[i], strlen(j->argv[i]));
		free(j->argv[i]);
	}
	free(j->out);
	free(j);
}

static void start_queued(void);
static void tick(unsigned int id, void *arg);

static void ensure_tick(void)
{
	if (!tick_timer)
		tick_timer = cm_ev_timer(20, 1, tick, NULL);
}

static void job_finish(struct job *j, int rc)
{
	struct job **pp;

	for (pp = &running_jobs; *pp && *pp != j; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = j->next;
	nrunning--;
	if (j->sk != SK_NONE && j->fd >= 0) {
		cm_ev_unwatch_read(j->fd);
		cm_ev_unwatch_write(j->fd);
		close(j->fd);
		j->fd = -1;
	}
	if (j->cb)
		j->cb(j->arg, rc, j->out ? j->out : "", j->out ? j->len : 0);
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
				cm_ev_unwatch_read(fd);
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
		cm_ev_unwatch_read(fd);
		close(fd);
		j->fd = -1;
		job_reap(j);
		return;
	}
}

static int job_spawn(struct job *j)
{
	posix_spawn_file_actions_t fa;
	int p[2], rc;

	/* O_NONBLOCK is a flag of the pipe's open file, which the child's stdout shares: set on our end only, after
	 * the spawn, or a listing larger than the pipe (tgtadm with thousands of sessions) fails with EAGAIN. */
	if (pipe2(p, O_CLOEXEC) < 0)
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
	j->fd = p[0];
	if (fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) | O_NONBLOCK) < 0) {
		rc = errno;
		kill(j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
		close(j->fd);
		return -rc;
	}
	if (cm_ev_watch_read(j->fd, on_output, j) < 0) {
		kill(j->pid, SIGKILL);
		waitpid(j->pid, NULL, WNOHANG);
		close(j->fd);
		return -EIO;
	}
	clock_gettime(CLOCK_MONOTONIC, &j->deadline);
	j->deadline.tv_sec += JOB_TIMEOUT_MS / 1000;
	return 0;
}

/* ---- tgtd's management socket ------------------------------------------------ */

/* tgtadm's op and mode numbers, for the verbs spoken here. */
enum { OP_NEW = 0, OP_DELETE = 1, OP_SHOW = 2, OP_STATS = 6 };
enum { MODE_SYSTEM = 0, MODE_TARGET = 1, MODE_PORTAL = 3, MODE_CONNECTION = 6, MODE_ACCOUNT = 7 };

static void put32(unsigned char *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

static void put64(unsigned char *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

/* A decimal number, all of s, at most max; else -1. */
static int64_t decimal(const char *s, uint64_t max)
{
	unsigned long long v;
	char *e;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &e, 10);
	return errno || *e || v > max ? -1 : (int64_t)v;
}

/* tgtadm's --mode and --op words and tgtd's numbers for them: the ones spoken on the socket. */
struct word {
	const char *name;
	uint32_t value;
};
static const struct word modes[] = {{"sys", MODE_SYSTEM},
                                    {"target", MODE_TARGET},
                                    {"portal", MODE_PORTAL},
                                    {"conn", MODE_CONNECTION},
                                    {"account", MODE_ACCOUNT}};
static const struct word ops[] = {{"show", OP_SHOW}, {"new", OP_NEW}, {"delete", OP_DELETE}, {"stat", OP_STATS}};

static int word_value(const struct word *w, size_t n, const char *name, uint32_t *value)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].name, name) == 0) {
			*value = w[i].value;
			return 0;
		}
	return -ENOTSUP;
}

int tgtc_encode_req(const char *const *args, size_t nargs, unsigned char *buf, size_t cap, size_t *len)
{
	enum { A_LLD, A_OP, A_MODE, A_PARAM, A_TID, A_SID, A_CID, A_USER, A_PASSWORD, A_N };
	static const char *const names[A_N] = {"--lld", "--op",  "--mode", "--param",   "--tid",
	                                       "--sid", "--cid", "--user", "--password"};
	const char *a[A_N] = {NULL};
	const char *lld;
	uint32_t opn, moden;
	int64_t tid = -1, sid = 0, cid = 0;
	size_t plen = 0;

	for (size_t i = 0; i < nargs; i += 2) {
		size_t k;

		for (k = 0; k < A_N && strcmp(args[i], names[k]) != 0; k++)
			;
		if (k == A_N || i + 1 >= nargs || a[k])
			return -ENOTSUP;
		a[k] = args[i + 1];
	}
	lld = a[A_LLD];
	if (!a[A_OP] || !a[A_MODE] || (lld && strcmp(lld, "iscsi") != 0))
		return -ENOTSUP;
	if (word_value(modes, sizeof(modes) / sizeof(modes[0]), a[A_MODE], &moden) < 0 ||
	    word_value(ops, sizeof(ops) / sizeof(ops[0]), a[A_OP], &opn) < 0)
		return -ENOTSUP;
	/* The verbs spoken here and exactly their options; the rest is the child's. */
	if (a[A_USER] || a[A_PASSWORD]) {
		/* Only an account's creation: "user=U,password=P" as tgtadm writes it, the secret never on an argv. */
		if (opn != OP_NEW || moden != MODE_ACCOUNT || !lld || !a[A_USER] || !a[A_PASSWORD] || a[A_PARAM] ||
		    a[A_TID] || a[A_SID] || a[A_CID])
			return -ENOTSUP;
		plen = strlen("user=,password=") + strlen(a[A_USER]) + strlen(a[A_PASSWORD]) + 1;
	} else if (opn == OP_SHOW && moden != MODE_CONNECTION && !a[A_PARAM] && !a[A_TID] && !a[A_SID] && !a[A_CID] &&
	           (lld || moden == MODE_SYSTEM)) {
		;
	} else if (opn == OP_STATS && moden == MODE_SYSTEM && lld && !a[A_PARAM] && !a[A_TID] && !a[A_SID] &&
	           !a[A_CID]) {
		;
	} else if ((opn == OP_NEW || opn == OP_DELETE) && moden == MODE_PORTAL && lld && a[A_PARAM] &&
	           strncmp(a[A_PARAM], "portal=", 7) == 0 && !a[A_TID] && !a[A_SID] && !a[A_CID]) {
		plen = strlen("portalOps ") + strlen(a[A_PARAM]) + 2; /* tgtadm's wording: "portalOps PARAM," NUL */
	} else if (opn == OP_DELETE && moden == MODE_CONNECTION && lld && !a[A_PARAM] &&
	           (tid = decimal(a[A_TID], INT32_MAX)) > 0 && (sid = decimal(a[A_SID], INT64_MAX)) >= 0 &&
	           (cid = decimal(a[A_CID], UINT32_MAX)) >= 0) {
		;
	} else {
		return -ENOTSUP;
	}
	if (cap < TGTC_REQ_HDR + plen)
		return -ENOSPC;
	memset(buf, 0, TGTC_REQ_HDR + plen);
	put32(buf, 0, moden);
	put32(buf, 4, opn);
	if (lld) /* a 64-byte name field, NUL padded; none for the system's listing */
		memcpy(buf + 8, lld, strlen(lld));
	put32(buf, 72, (uint32_t)(TGTC_REQ_HDR + plen));
	put32(buf, 76, (uint32_t)(int32_t)tid); /* -1: none given */
	put64(buf, 80, (uint64_t)sid);
	put64(buf, 88, UINT64_MAX); /* lun: none given */
	put32(buf, 96, (uint32_t)cid);
	/* host_no, device_type (disk), ac_dir (incoming), pack, force: all 0 */
	if (a[A_USER])
		snprintf((char *)buf + TGTC_REQ_HDR, plen, "user=%s,password=%s", a[A_USER], a[A_PASSWORD]);
	else if (plen)
		snprintf((char *)buf + TGTC_REQ_HDR, plen, "portalOps %s,", a[A_PARAM]);
	*len = TGTC_REQ_HDR + plen;
	return 0;
}

int tgtc_decode_rsp(const unsigned char hdr[TGTC_RSP_HDR], uint32_t *err, uint32_t *outlen)
{
	uint32_t l;

	memcpy(err, hdr, 4);
	memcpy(&l, hdr + 4, 4);
	if (l < TGTC_RSP_HDR)
		return -EPROTO;
	*outlen = l - TGTC_RSP_HDR;
	return 0;
}

/* The whole answer is in: the same result a tgtadm child gives (its stdout; exit non-zero on tgtd's error). */
static void sock_answered(struct job *j)
{
	while (j->len && j->out[j->len - 1] == '\0') /* tgtd sends the text with its NUL */
		j->len--;
	job_finish(j, j->rsp_err ? -EIO : 0);
}

static void sock_on_read(int fd, void *arg)
{
	struct job *j = arg;

	for (;;) {
		ssize_t n;

		if (j->sk == SK_HDR)
			n = read(fd, j->rsp + j->done, TGTC_RSP_HDR - j->done);
		else
			n = read(fd, j->out + j->len, j->outlen - j->len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			job_finish(j, -EIO); /* tgtd closed before the whole answer */
			return;
		}
		if (j->sk == SK_BODY) {
			j->len += (size_t)n;
			j->out[j->len] = '\0';
			if (j->len == j->outlen) {
				sock_answered(j);
				return;
			}
			continue;
		}
		j->done += (size_t)n;
		if (j->done < TGTC_RSP_HDR)
			continue;
		if (tgtc_decode_rsp(j->rsp, &j->rsp_err, &j->outlen) < 0 || j->outlen > MAX_OUTPUT) {
			job_finish(j, -EIO);
			return;
		}
		if (j->rsp_err || !j->outlen) {
			sock_answered(j);
			return;
		}
		if (!(j->out = malloc((size_t)j->outlen + 1))) {
			job_finish(j, -ENOMEM);
			return;
		}
		j->len = 0;
		j->out[0] = '\0';
		j->sk = SK_BODY;
	}
}

static void sock_on_write(int fd, void *arg)
{
	struct job *j = arg;

	while (j->done < j->reqlen) {
		ssize_t n = send(fd, j->req + j->done, j->reqlen - j->done, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			job_finish(j, -EIO);
			return;
		}
		j->done += (size_t)n;
	}
	cm_ev_unwatch_write(fd);
	j->sk = SK_HDR;
	j->done = 0;
	if (cm_ev_watch_read(fd, sock_on_read, j) < 0)
		job_finish(j, -EIO);
}

/* Starts j on tgtd's socket: 0, or -ENOTSUP when the tgtadm child must run it (a request not encoded here, or a
 * socket that is missing or refuses: nothing was sent then). */
static int sock_start(struct job *j)
{
	struct sockaddr_un sa;
	const char *base = getenv("TGT_IPC_SOCKET");
	size_t nargs = 0;
	int fd, n;

	if (j->control < 0)
		return -ENOTSUP;
	while (j->argv[3 + nargs])
		nargs++;
	if (tgtc_encode_req((const char *const *)&j->argv[3], nargs, j->req, sizeof(j->req), &j->reqlen) < 0)
		return -ENOTSUP;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%d", base ? base : "/var/run/tgtd/socket", j->control);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENOTSUP;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -ENOTSUP;
	/* A unix socket connects at once or fails (EAGAIN: tgtd's backlog is full): the child then waits its turn. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -ENOTSUP;
	}
	j->fd = fd;
	j->sk = SK_SEND;
	j->done = 0;
	clock_gettime(CLOCK_MONOTONIC, &j->deadline);
	j->deadline.tv_sec += JOB_TIMEOUT_MS / 1000;
	if (cm_ev_watch_write(fd, sock_on_write, j) < 0) {
		j->fd = -1;
		j->sk = SK_NONE;
		close(fd);
		return -ENOTSUP;
	}
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
		rc = sock_start(j);
		if (rc == -ENOTSUP)
			rc = job_spawn(j);
		if (rc < 0) {
			cm_log(CM_LOG_WARNING, TAG, "cannot run %s: %s", j->argv[0], strerror(-rc));
			job_finish(j, rc);
			return; /* job_finish started the next ones */
		}
		ensure_tick();
	}
}

static void reap_zombies(void)
{
	size_t i = 0;

	while (i < nzombies) {
		pid_t r = waitpid(zombies[i], NULL, WNOHANG);

		if (r == 0) {
			i++;
			continue;
		}
		zombies[i] = zombies[--nzombies];
	}
}

/* Kills children past their time and reaps those whose stdout is closed. */
static void tick(unsigned int id, void *arg)
{
	struct timespec now;
	struct job *j, *next;

	(void)id;
	(void)arg;
	reap_zombies();
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
			if (j->control < 0)
				cm_log(CM_LOG_WARNING, TAG, "%s %s %s timed out", j->argv[0],
				       j->argv[1] ? j->argv[1] : "", j->argv[1] && j->argv[2] ? j->argv[2] : "");
			else
				cm_log(CM_LOG_WARNING, TAG, "%s -C %d %s %s %s %s timed out",
				       j->sk != SK_NONE ? "tgtd socket" : "tgtadm", j->control, j->argv[5], j->argv[6],
				       j->argv[7] ? j->argv[7] : "", j->argv[7] && j->argv[8] ? j->argv[8] : "");
			if (j->sk != SK_NONE) {
				job_finish(j, -ETIMEDOUT);
				next = running_jobs; /* the list changed: start over */
				continue;
			}
			kill(j->pid, SIGKILL);
			j->killed = true;
		}
	}
	if (!running_jobs && !queued && !nzombies) {
		cm_ev_cancel(tick_timer);
		tick_timer = 0;
	}
}

/* prog NULL: "tgtadm -C control ARGS"; else "prog ARGS". */
static struct job *job_newv(const char *prog, int control, const void *owner, tgtc_done_cb cb, void *arg, va_list ap)
{
	struct job *j = calloc(1, sizeof(*j));
	char port[16];
	const char *a;
	int n = 0;

	if (!j)
		return NULL;
	snprintf(port, sizeof(port), "%d", control);
	if (prog) {
		j->argv[n++] = strdup(prog);
	} else {
		j->argv[n++] = strdup("tgtadm");
		j->argv[n++] = strdup("-C");
		j->argv[n++] = strdup(port);
	}
	while ((a = va_arg(ap, const char *)) && n < MAX_ARGS)
		j->argv[n++] = strdup(a);
	for (int i = 0; i < n; i++) {
		if (!j->argv[i]) {
			job_free(j);
			return NULL;
		}
	}
	j->fd = -1;
	j->control = control;
	j->owner = owner;
	j->cb = cb;
	j->arg = arg;
	return j;
}

/* Queues j (NULL: it could not be made) and starts what may run: 0 or -ENOMEM.  A job that cannot start ends at
 * once, its callback called before this returns. */
static int job_enqueue(struct job *j)
{
	if (!j)
		return -ENOMEM;
	j->next = NULL;
	*queued_tail = j;
	queued_tail = &j->next;
	start_queued();
	return 0;
}

int tgtc_run(int control, const void *owner, tgtc_done_cb cb, void *arg, ...)
{
	struct job *j;
	va_list ap;

	if (control < 0)
		return -EINVAL;
	va_start(ap, arg);
	j = job_newv(NULL, control, owner, cb, arg, ap);
	va_end(ap);
	return job_enqueue(j);
}

int tgtc_run_prog(const void *owner, tgtc_done_cb cb, void *arg, const char *prog, ...)
{
	struct job *j;
	va_list ap;

	va_start(ap, prog);
	j = job_newv(prog, -1, owner, cb, arg, ap);
	va_end(ap);
	return job_enqueue(j);
}

void tgtc_cancel(const void *owner)
{
	struct job **pp = &queued, *dropped = NULL;

	while (*pp) {
		struct job *j = *pp;

		if (j->owner != owner) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		j->next = dropped;
		dropped = j;
	}
	/* The tail pointer must point at the last next field again. */
	queued_tail = &queued;
	while (*queued_tail)
		queued_tail = &(*queued_tail)->next;
	for (pp = &running_jobs; *pp;) {
		struct job *j = *pp;
		pid_t *nz;

		if (j->owner != owner) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		nrunning--;
		if (j->fd >= 0) {
			cm_ev_unwatch_read(j->fd);
			if (j->sk != SK_NONE)
				cm_ev_unwatch_write(j->fd);
			close(j->fd);
		}
		if (j->sk != SK_NONE) { /* a socket job: nothing to kill */
			j->next = dropped;
			dropped = j;
			continue;
		}
		kill(j->pid, SIGKILL);
		/* The child dies at once on SIGKILL; reap it later, never block the loop. */
		if (waitpid(j->pid, NULL, WNOHANG) == 0 && (nz = realloc(zombies, (nzombies + 1) * sizeof(*nz)))) {
			zombies = nz;
			zombies[nzombies++] = j->pid;
			ensure_tick();
		}
		j->next = dropped;
		dropped = j;
	}
	/* Only now, with the lists consistent: owners free their contexts. */
	while (dropped) {
		struct job *j = dropped;

		dropped = j->next;
		if (j->cb)
			j->cb(j->arg, -ECANCELED, "", 0);
		job_free(j);
	}
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

/* tgtadm's output a line at a time: next_line gives [*line, *e) without its newline, false past the end. */
struct lines {
	const char *p, *end;
};

static bool next_line(struct lines *it, const char **line, const char **e)
{
	if (it->p >= it->end)
		return false;
	*line = it->p;
	*e = line_end(it->p, it->end);
	it->p = *e < it->end ? *e + 1 : it->end;
	return true;
}

/* A parser's room for one more row (16 at first, as every array of a listing): 0, or -ENOMEM. */
static int grow(void *arrp, size_t *cap, size_t n, size_t size)
{
	return cm_grow(arrp, cap, n, size, 16);
}

/* grow for a parser's one result array: out of memory frees it, so the parser gives up leaving nothing behind. */
static int grow_or_drop(void *arrp, size_t *cap, size_t n, size_t size)
{
	void *a;

	if (grow(arrp, cap, n, size) == 0)
		return 0;
	memcpy(&a, arrp, sizeof(a));
	free(a);
	a = NULL;
	memcpy(arrp, &a, sizeof(a));
	return -ENOMEM;
}

/* Copies [p, e) without trailing blanks into dst (size bytes); false if too long. */
static bool copy_field(char *dst, size_t size, const char *p, const char *e)
{
	size_t l;

	p = skip_ws(p, e);
	l = (size_t)(e - p);
	while (l && (p[l - 1] == ' ' || p[l - 1] == '\r' || p[l - 1] == '\t'))
		l--;
	if (l >= size)
		return false;
	memcpy(dst, p, l);
	dst[l] = '\0';
	return true;
}

/* "Target N: NAME" at the start of a line: tid and the name's bounds. */
static bool target_line(const char *p, const char *e, uint32_t *tid, const char **name, const char **name_end)
{
	char *colon;
	unsigned long t;

	if (!starts(p, e, "Target ") || p + 7 >= e || *(p + 7) < '0' || *(p + 7) > '9')
		return false;
	t = strtoul(p + 7, &colon, 10);
	if (colon >= e || *colon != ':' || t > UINT32_MAX)
		return false;
	*tid = (uint32_t)t;
	*name = skip_ws(colon + 1, e);
	*name_end = e;
	while (*name_end > *name && ((*name_end)[-1] == ' ' || (*name_end)[-1] == '\r'))
		(*name_end)--;
	return true;
}

int tgtc_parse_show(const char *out, size_t len, struct tgtc_target **targets, size_t *ntargets)
{
	struct lines it = {out, out + len};
	const char *p, *e;
	struct tgtc_target *t = NULL;
	size_t n = 0, cap = 0;

	while (next_line(&it, &p, &e)) {
		const char *name, *ne;
		uint32_t tid;

		if (target_line(p, e, &tid, &name, &ne) && ne > name && (size_t)(ne - name) < TGTC_NAME_MAX) {
			if (grow_or_drop(&t, &cap, n, sizeof(*t)) < 0)
				return -ENOMEM;
			t[n].tid = tid;
			memcpy(t[n].name, name, (size_t)(ne - name));
			t[n].name[ne - name] = '\0';
			n++;
		}
	}
	*targets = t;
	*ntargets = n;
	return 0;
}

/* Rows of `tgtadm --op stat --mode sys`: tgt lun sid, then bytes/cmds pairs
 * for rd_subm, rd_done, wr_subm, wr_done, then errs. */
int tgtc_parse_stat(const char *out, size_t len, struct tgtc_counter **ctr, size_t *nctr)
{
	struct lines it = {out, out + len};
	const char *p, *e;
	struct tgtc_counter *c = NULL;
	size_t n = 0, cap = 0;

	while (next_line(&it, &p, &e)) {
		unsigned long long v[12];
		char line[512];
		size_t l = (size_t)(e - p);
		int got;

		if (l < sizeof(line)) {
			memcpy(line, p, l);
			line[l] = '\0';
			got = sscanf(line, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			             &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]);
			if (got == 12 && v[0] <= UINT32_MAX && v[1] <= UINT32_MAX && v[2] <= UINT32_MAX) {
				if (grow_or_drop(&c, &cap, n, sizeof(*c)) < 0)
					return -ENOMEM;
				c[n].tid = (uint32_t)v[0];
				c[n].lun = (uint32_t)v[1];
				c[n].sid = (uint32_t)v[2];
				c[n].rd_bytes = v[5];
				c[n].rd_cmds = v[6];
				c[n].wr_bytes = v[9];
				c[n].wr_cmds = v[10];
				c[n].bytes = v[5] + v[9];
				n++;
			}
		}
	}
	*ctr = c;
	*nctr = n;
	return 0;
}

/* "I_T nexus: S" and its "Connection: C" lines under one target's block. */
int tgtc_parse_conns(const char *out, size_t len, const char *target, struct tgtc_conn **conns, size_t *nc)
{
	struct lines it = {out, out + len};
	const char *p, *e;
	struct tgtc_conn *c = NULL;
	size_t n = 0, cap = 0, tl = strlen(target);
	bool in = false, have_sid = false;
	uint32_t tid = 0;
	uint64_t sid = 0;

	while (next_line(&it, &p, &e)) {
		const char *q = skip_ws(p, e), *name, *ne;

		if (target_line(p, e, &tid, &name, &ne)) {
			in = (size_t)(ne - name) == tl && memcmp(name, target, tl) == 0;
			have_sid = false;
		} else if (in && starts(q, e, "I_T nexus: ")) {
			sid = strtoull(q + 11, NULL, 10);
			have_sid = true;
		} else if (in && have_sid && starts(q, e, "Connection: ")) {
			if (grow_or_drop(&c, &cap, n, sizeof(*c)) < 0)
				return -ENOMEM;
			c[n].tid = tid;
			c[n].sid = sid;
			c[n].cid = (uint32_t)strtoul(q + 12, NULL, 10);
			n++;
		} else if (in && starts(q, e, "LUN information:")) {
			have_sid = false;
		}
	}
	*conns = c;
	*nc = n;
	return 0;
}

void tgtc_show_free(struct tgtc_show *show)
{
	for (size_t i = 0; i < show->ntargets; i++) {
		struct tgtc_target_info *t = &show->targets[i];

		for (size_t k = 0; k < t->nnexus; k++)
			free(t->nexus[k].conns);
		free(t->nexus);
		free(t->luns);
		free(t->acls);
		free(t->bound);
	}
	free(show->targets);
	show->targets = NULL;
	show->ntargets = 0;
}

/* Capacities of the arrays being filled; not part of the result. */
struct show_caps {
	size_t targets, luns, nexus, conns, acls, bound;
};

int tgtc_acl(int control, const void *owner, tgtc_done_cb cb, void *arg, uint32_t tid, int bind, int by_name,
             const char *rule)
{
	char ts[16];

	if (!rule || !rule[0] || strlen(rule) >= TGTC_NAME_MAX)
		return -EINVAL;
	snprintf(ts, sizeof(ts), "%u", (unsigned int)tid);
	return tgtc_run(control, owner, cb, arg, "--lld", "iscsi", "--op", bind ? "bind" : "unbind", "--mode", "target",
	                "--tid", ts, by_name ? "--initiator-name" : "--initiator-address", rule, (char *)NULL);
}

int tgtc_acl_is_name(const char *rule)
{
	return strncmp(rule, "iqn.", 4) == 0 || strncmp(rule, "eui.", 4) == 0 || strncmp(rule, "naa.", 4) == 0;
}

int tgtc_parse_show_full(const char *out, size_t len, struct tgtc_show *show)
{
	struct lines it = {out, out + len};
	const char *p, *e;
	struct show_caps cap = {0, 0, 0, 0, 0, 0};
	struct tgtc_target_info *t = NULL;
	struct tgtc_lun *lun = NULL;
	struct tgtc_nexus *nx = NULL;
	/* Which block of the current target the lines belong to. */
	enum { SEC_NONE, SEC_NEXUS, SEC_LUN, SEC_ACL, SEC_ACCOUNT } sec = SEC_NONE;

	memset(show, 0, sizeof(*show));
	while (next_line(&it, &p, &e)) {
		const char *q = skip_ws(p, e), *name, *ne;
		uint32_t tid;

		if (target_line(p, e, &tid, &name, &ne)) {
			t = NULL;
			lun = NULL;
			nx = NULL;
			sec = SEC_NONE;
			if (ne == name || (size_t)(ne - name) >= TGTC_NAME_MAX)
				continue; /* not a name tgt would accept: skip the block */
			if (grow(&show->targets, &cap.targets, show->ntargets, sizeof(*t)) < 0)
				goto nomem;
			t = &show->targets[show->ntargets++];
			memset(t, 0, sizeof(*t));
			t->tid = tid;
			memcpy(t->name, name, (size_t)(ne - name));
			t->name[ne - name] = '\0';
			cap.luns = cap.nexus = cap.acls = cap.bound = 0;
		} else if (!t) {
			;
		} else if (q == p) {
			sec = SEC_NONE; /* an unindented line that is not a target */
		} else if (starts(q, e, "I_T nexus information:")) {
			sec = SEC_NEXUS;
			nx = NULL;
		} else if (starts(q, e, "LUN information:")) {
			sec = SEC_LUN;
			lun = NULL;
		} else if (starts(q, e, "ACL information:")) {
			sec = SEC_ACL;
		} else if (starts(q, e, "Account information:")) {
			sec = SEC_ACCOUNT;
		} else if (starts(q, e, "System information:")) {
			sec = SEC_NONE;
		} else if (sec == SEC_ACCOUNT) {
			/* "USER" or "USER (outgoing)": tgt's user names have no blanks. */
			const char *ue = q;

			while (ue < e && *ue != ' ' && *ue != '\r')
				ue++;
			if (ue > q && (size_t)(ue - q) < TGTC_NAME_MAX) {
				struct tgtc_bound *b;

				if (grow(&t->bound, &cap.bound, t->nbound, sizeof(*t->bound)) < 0)
					goto nomem;
				b = &t->bound[t->nbound++];
				copy_field(b->user, sizeof(b->user), q, ue);
				b->outgoing = memmem(ue, (size_t)(e - ue), "(outgoing)", 10) != NULL;
			}
		} else if (sec == SEC_ACL) {
			/* One rule a line: ALL, an address or subnet, or an initiator name. */
			const char *re = e;

			while (re > q && (re[-1] == ' ' || re[-1] == '\r'))
				re--;
			if (re > q && (size_t)(re - q) < TGTC_NAME_MAX) {
				if (grow(&t->acls, &cap.acls, t->nacls, sizeof(*t->acls)) < 0)
					goto nomem;
				copy_field(t->acls[t->nacls++].rule, sizeof(t->acls[0].rule), q, re);
			}
		} else if (sec == SEC_NEXUS && starts(q, e, "I_T nexus: ")) {
			if (grow(&t->nexus, &cap.nexus, t->nnexus, sizeof(*nx)) < 0)
				goto nomem;
			nx = &t->nexus[t->nnexus++];
			memset(nx, 0, sizeof(*nx));
			nx->sid = strtoull(q + 11, NULL, 10);
			cap.conns = 0;
		} else if (sec == SEC_NEXUS && nx && starts(q, e, "Initiator: ")) {
			/* "Initiator: NAME alias: ALIAS": iSCSI names have no blanks. */
			const char *s = q + 11, *sp = s;

			while (sp < e && *sp != ' ' && *sp != '\r')
				sp++;
			copy_field(nx->initiator, sizeof(nx->initiator), s, sp);
		} else if (sec == SEC_NEXUS && nx && starts(q, e, "Connection: ")) {
			if (grow(&nx->conns, &cap.conns, nx->nconns, sizeof(*nx->conns)) < 0)
				goto nomem;
			memset(&nx->conns[nx->nconns], 0, sizeof(*nx->conns));
			nx->conns[nx->nconns++].cid = (uint32_t)strtoul(q + 12, NULL, 10);
		} else if (sec == SEC_NEXUS && nx && nx->nconns && starts(q, e, "IP Address: ")) {
			copy_field(nx->conns[nx->nconns - 1].addr, sizeof(nx->conns[0].addr), q + 12, e);
		} else if (sec == SEC_LUN && starts(q, e, "LUN: ")) {
			if (grow(&t->luns, &cap.luns, t->nluns, sizeof(*lun)) < 0)
				goto nomem;
			lun = &t->luns[t->nluns++];
			memset(lun, 0, sizeof(*lun));
			lun->lun = (uint32_t)strtoul(q + 5, NULL, 10);
		} else if (sec == SEC_LUN && lun && starts(q, e, "Type: ")) {
			copy_field(lun->type, sizeof(lun->type), q + 6, e);
		} else if (sec == SEC_LUN && lun && starts(q, e, "SCSI ID: ")) {
			copy_field(lun->scsi_id, sizeof(lun->scsi_id), q + 9, e);
		} else if (sec == SEC_LUN && lun && starts(q, e, "SCSI SN: ")) {
			copy_field(lun->serial, sizeof(lun->serial), q + 9, e);
		} else if (sec == SEC_LUN && lun && starts(q, e, "Size: ")) {
			lun->size_mb = strtoull(q + 6, NULL, 10); /* "Size: 67 MB, Block size: 512" */
		} else if (sec == SEC_LUN && lun && starts(q, e, "Backing store path: ")) {
			copy_field(lun->backing, sizeof(lun->backing), q + 20, e);
		}
	}
	return 0;
nomem:
	tgtc_show_free(show);
	return -ENOMEM;
}

int tgtc_parse_accounts(const char *out, size_t len, char (**users)[TGTC_NAME_MAX], size_t *np)
{
	struct lines it = {out, out + len};
	const char *p, *e;
	char(*v)[TGTC_NAME_MAX] = NULL;
	size_t n = 0, cap = 0;
	bool in = false;

	while (next_line(&it, &p, &e)) {
		const char *q = skip_ws(p, e), *ue = q;

		if (q == p) {
			in = starts(q, e, "Account list:");
		} else if (in) {
			while (ue < e && *ue != ' ' && *ue != '\r')
				ue++;
			if (ue > q && (size_t)(ue - q) < TGTC_NAME_MAX) {
				if (grow_or_drop(&v, &cap, n, sizeof(*v)) < 0)
					return -ENOMEM;
				copy_field(v[n++], TGTC_NAME_MAX, q, ue);
			}
		}
	}
	*users = v;
	*np = n;
	return 0;
}

int tgtc_parse_isns(const char *out, size_t len, struct tgtc_isns *isns)
{
	struct lines it = {out, out + len};
	const char *p, *e;
	bool in = false;

	memset(isns, 0, sizeof(*isns));
	while (next_line(&it, &p, &e)) {
		const char *q = skip_ws(p, e);

		if (q == p) {
			in = starts(q, e, "iSNS:");
			isns->seen |= in;
		} else if (in && starts(q, e, "iSNS=")) {
			isns->on = starts(q + 5, e, "On");
		} else if (in && starts(q, e, "iSNSServerIP=")) {
			if (!copy_field(isns->server, sizeof(isns->server), q + 13, e))
				isns->server[0] = '\0';
		} else if (in && starts(q, e, "iSNSServerPort=")) {
			unsigned long port = strtoul(q + 15, NULL, 10);

			isns->port = port <= 65535 ? (uint16_t)port : 0;
		}
	}
	return 0;
}

int tgtc_parse_portals(const char *out, size_t len, struct tgtc_portal **portals, size_t *np)
{
	struct lines it = {out, out + len};
	const char *p, *e;
	struct tgtc_portal *v = NULL;
	size_t n = 0, cap = 0;

	while (next_line(&it, &p, &e)) {
		const char *q = skip_ws(p, e);

		if (starts(q, e, "Portal: ")) {
			const char *a = q + 8, *ae, *comma;
			unsigned long port, tpgt = 0;
			char *x;

			/* ADDR:PORT,TPGT with an IPv6 ADDR in brackets. */
			for (comma = e; comma > a && comma[-1] != ','; comma--)
				;
			if (comma > a) {
				tpgt = strtoul(comma, &x, 10);
				comma--;
			} else {
				comma = e;
			}
			for (ae = comma; ae > a && ae[-1] != ':'; ae--)
				;
			if (ae > a) {
				port = strtoul(ae, &x, 10);
				ae--;
				if (*a == '[' && ae > a + 1 && ae[-1] == ']') {
					a++;
					ae--;
				}
				if (port >= 1 && port <= 65535 && ae > a && (size_t)(ae - a) < sizeof(v->host) &&
				    tpgt <= UINT32_MAX) {
					if (grow_or_drop(&v, &cap, n, sizeof(*v)) < 0)
						return -ENOMEM;
					memcpy(v[n].host, a, (size_t)(ae - a));
					v[n].host[ae - a] = '\0';
					v[n].port = (uint16_t)port;
					v[n].tpgt = (uint32_t)tpgt;
					n++;
				}
			}
		}
	}
	*portals = v;
	*np = n;
	return 0;
}

/* ---- the redirect engine's loads ------------------------------------------------ */

static const char legacy_owner; /* tgtc_read_stats / tgtc_end_sessions jobs */

struct stats_ctx {
	uint32_t server;
	int control;
	tgtc_stats_cb cb;
	struct tgtc_stats st;
};

static void stats_ctx_free(struct stats_ctx *c)
{
	free(c->st.targets);
	free(c->st.counters);
	free(c);
}

static void stat_done(void *arg, int rc, const char *out, size_t len)
{
	struct stats_ctx *c = arg;

	if (rc == -ECANCELED) {
		stats_ctx_free(c);
		return;
	}
	if (rc == 0)
		rc = tgtc_parse_stat(out, len, &c->st.counters, &c->st.ncounters);
	c->cb(c->server, rc, rc == 0 ? &c->st : NULL);
	stats_ctx_free(c);
}

static void show_done(void *arg, int rc, const char *out, size_t len)
{
	struct stats_ctx *c = arg;

	if (rc == -ECANCELED) {
		stats_ctx_free(c);
		return;
	}
	if (rc == 0)
		rc = tgtc_parse_show(out, len, &c->st.targets, &c->st.ntargets);
	if (rc == 0)
		rc = tgtc_run(c->control, &legacy_owner, stat_done, c, "--lld", "iscsi", "--op", "stat", "--mode",
		              "sys", (char *)NULL);
	if (rc == 0)
		return;
	c->cb(c->server, rc, NULL);
	stats_ctx_free(c);
}

int tgtc_read_stats(uint32_t server, int control, tgtc_stats_cb cb)
{
	struct stats_ctx *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->server = server;
	c->control = control;
	c->cb = cb;
	rc = tgtc_run(control, &legacy_owner, show_done, c, "--lld", "iscsi", "--op", "show", "--mode", "target",
	              (char *)NULL);
	if (rc < 0)
		free(c);
	return rc;
}

/* ---- ending sessions ----------------------------------------------------------- */

/* end_sessions batches per tgtd: one `show` serves every target moved off it. */
struct batch {
	int control;
	char **targets;
	size_t n;
	/* The targets the running show is for. */
	char **inflight;
	size_t ninflight;
	bool busy;
	unsigned int timer;
	struct batch *next;
};
static struct batch *batches;

static void batch_run(struct batch *b);

static void delete_done(void *arg, int rc, const char *out, size_t len)
{
	(void)out;
	(void)len;
	if (rc < 0 && rc != -ECANCELED)
		cm_log(CM_LOG_INFO, TAG, "tgtadm -C %d delete conn: %s", (int)(intptr_t)arg, strerror(-rc));
}

static void conns_done(void *arg, int rc, const char *out, size_t len)
{
	struct batch *b = arg;

	if (rc == -ECANCELED)
		return; /* tgtc_stop frees the batch */
	for (size_t i = 0; rc == 0 && i < b->ninflight; i++) {
		struct tgtc_conn *c = NULL;
		size_t n = 0;

		if (tgtc_parse_conns(out, len, b->inflight[i], &c, &n) < 0)
			continue;
		for (size_t k = 0; k < n; k++) {
			char tid[16], sid[24], cid[16];

			snprintf(tid, sizeof(tid), "%u", c[k].tid);
			snprintf(sid, sizeof(sid), "%llu", (unsigned long long)c[k].sid);
			snprintf(cid, sizeof(cid), "%u", c[k].cid);
			tgtc_run(b->control, &legacy_owner, delete_done, (void *)(intptr_t)b->control, "--lld", "iscsi",
			         "--op", "delete", "--mode", "conn", "--tid", tid, "--sid", sid, "--cid", cid,
			         (char *)NULL);
		}
		if (n)
			cm_log(CM_LOG_INFO, TAG, "ending %zu connection%s of %s on tgtd -C %d", n, n == 1 ? "" : "s",
			       b->inflight[i], b->control);
		free(c);
	}
	for (size_t i = 0; i < b->ninflight; i++)
		free(b->inflight[i]);
	free(b->inflight);
	b->inflight = NULL;
	b->ninflight = 0;
	b->busy = false;
	if (b->n)
		batch_run(b);
}

static void batch_run(struct batch *b)
{
	/* Hand the batch's targets to the show that is about to run. */
	b->inflight = b->targets;
	b->ninflight = b->n;
	b->targets = NULL;
	b->n = 0;
	b->busy = true;
	if (tgtc_run(b->control, &legacy_owner, conns_done, b, "--lld", "iscsi", "--op", "show", "--mode", "target",
	             (char *)NULL) < 0)
		conns_done(b, -ENOMEM, "", 0);
}

static void batch_fire(unsigned int id, void *arg)
{
	struct batch *b = arg;

	(void)id;
	b->timer = 0;
	if (!b->busy && b->n)
		batch_run(b);
}

int tgtc_end_sessions(int control, const char *target)
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
		b->timer = cm_ev_timer(1, 0, batch_fire, b);
	return 0;
}

void tgtc_stop(void)
{
	tgtc_cancel(&legacy_owner);
	while (batches) {
		struct batch *b = batches;

		batches = b->next;
		cm_ev_cancel(b->timer);
		for (size_t i = 0; i < b->n; i++)
			free(b->targets[i]);
		free(b->targets);
		for (size_t i = 0; i < b->ninflight; i++)
			free(b->inflight[i]);
		free(b->inflight);
		free(b);
	}
}
