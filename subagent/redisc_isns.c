/* redisc_isns.c: the rediscover engine's iSNS updates on a worker thread of their own (libisns blocks), answered
 * in the agent loop through a pipe. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "iscsi/isns_client.h"
#include "subagent/core.h"

struct isns_job {
	struct isns_job *next;
	char server[80], source[SA_ISNS_NAME_MAX], target[SA_ISNS_NAME_MAX];
	char old_host[80], new_host[80];
	uint16_t old_port, new_port;
	int undo, rc;
	char err[160];
	sa_snmpc_done_cb done;
	void *arg;
};

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct isns_job *queue, *tail;
	int pipe[2];
	int running, quit;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .pipe = {-1, -1}};

static void *worker(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&w.lock);
	for (;;) {
		struct isns_job *j;
		ssize_t n;

		while (!w.queue && !w.quit)
			pthread_cond_wait(&w.cond, &w.lock);
		if (w.quit)
			break;
		j = w.queue;
		w.queue = j->next;
		if (!w.queue)
			w.tail = NULL;
		pthread_mutex_unlock(&w.lock);
		j->rc = sa_isns_move_target(j->server, j->source, j->target, j->old_host, j->old_port, j->new_host,
		                            j->new_port, j->undo, j->err, sizeof(j->err));
		/* A pointer is far below PIPE_BUF: the write is atomic. */
		do
			n = write(w.pipe[1], &j, sizeof(j));
		while (n < 0 && errno == EINTR);
		if (n != sizeof(j))
			free(j);
		pthread_mutex_lock(&w.lock);
	}
	pthread_mutex_unlock(&w.lock);
	return NULL;
}

static void on_result(int fd, void *unused)
{
	struct isns_job *j;

	(void)unused;
	while (read(fd, &j, sizeof(j)) == (ssize_t)sizeof(j)) {
		j->done(j->rc, j->err, j->arg);
		free(j);
	}
}

static int start(void)
{
	int rc;

	if (w.running)
		return 0;
	if (pipe2(w.pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	fcntl(w.pipe[1], F_SETFL, fcntl(w.pipe[1], F_GETFL) & ~O_NONBLOCK);
	if (sa_ev_watch_read(w.pipe[0], on_result, NULL) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	w.quit = 0;
	if ((rc = -pthread_create(&w.thread, NULL, worker, NULL)) < 0) {
		sa_ev_unwatch_read(w.pipe[0]);
		goto fail;
	}
	w.running = 1;
	return 0;
fail:
	close(w.pipe[0]);
	close(w.pipe[1]);
	w.pipe[0] = w.pipe[1] = -1;
	return rc;
}

static void host_of(const struct redisc_addr *a, char *out, size_t len)
{
	char text[80], *colon;

	redisc_addr_text(a, text, sizeof(text));
	/* "A.B.C.D:PORT" or "[V6]:PORT" */
	colon = strrchr(text, ':');
	if (colon)
		*colon = 0;
	if (text[0] == '[') {
		text[strlen(text) - 1] = 0;
		snprintf(out, len, "%s", text + 1);
	} else {
		snprintf(out, len, "%s", text);
	}
}

int sa_redisc_isns_move(const char *server, const char *source, const char *target, const struct redisc_addr *old,
                        const struct redisc_addr *new_portal, int undo, sa_snmpc_done_cb done, void *arg)
{
	struct isns_job *j;
	int rc;

	if ((rc = start()) < 0)
		return rc;
	if (!(j = calloc(1, sizeof(*j))))
		return -ENOMEM;
	snprintf(j->server, sizeof(j->server), "%s", server);
	snprintf(j->source, sizeof(j->source), "%s", source);
	snprintf(j->target, sizeof(j->target), "%s", target);
	host_of(old, j->old_host, sizeof(j->old_host));
	host_of(new_portal, j->new_host, sizeof(j->new_host));
	j->old_port = old->port;
	j->new_port = new_portal->port;
	j->undo = undo;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w.lock);
	if (w.tail)
		w.tail->next = j;
	else
		w.queue = j;
	w.tail = j;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	return 0;
}

/* At shutdown: jobs not started are dropped (their moves are undone at the next start), the one running ends. */
void sa_redisc_isns_stop(void)
{
	struct isns_job *j;

	if (!w.running)
		return;
	pthread_mutex_lock(&w.lock);
	w.quit = 1;
	while ((j = w.queue)) {
		w.queue = j->next;
		free(j);
	}
	w.tail = NULL;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	pthread_join(w.thread, NULL);
	sa_ev_unwatch_read(w.pipe[0]);
	while (read(w.pipe[0], &j, sizeof(j)) == (ssize_t)sizeof(j))
		free(j);
	close(w.pipe[0]);
	close(w.pipe[1]);
	w.pipe[0] = w.pipe[1] = -1;
	w.running = 0;
}
