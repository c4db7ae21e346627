/* isns_worker.c: the one libisns thread: a queue of jobs in, their results back to the loop through a pipe. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <unistd.h>

#include "iscsi/isns_worker.h"
#include "common/evloop.h"

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a job queued, or quit */
	pthread_cond_t idle; /* the running job finished */
	struct isns_work *queue, *tail;
	struct isns_work *running_job; /* the job on the thread now, NULL none */
	int pipe[2];                   /* thread -> loop: struct isns_work * */
	int started, quit;
} iw = {.lock = PTHREAD_MUTEX_INITIALIZER,
        .cond = PTHREAD_COND_INITIALIZER,
        .idle = PTHREAD_COND_INITIALIZER,
        .pipe = {-1, -1}};

static void *worker(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&iw.lock);
	for (;;) {
		struct isns_work *w;
		ssize_t n;

		while (!iw.queue && !iw.quit)
			pthread_cond_wait(&iw.cond, &iw.lock);
		if (iw.quit)
			break;
		w = iw.queue;
		iw.queue = w->next;
		if (!iw.queue)
			iw.tail = NULL;
		iw.running_job = w;
		pthread_mutex_unlock(&iw.lock);
		w->run(w);
		/* A pointer is far below PIPE_BUF: the write is atomic.  The pipe is written under the lock so that
		 * a cancel that waits for this job finds its result in the pipe once it is woken.  The job is not
		 * touched after the write: the loop reads the pipe without the lock and may free it at once. */
		pthread_mutex_lock(&iw.lock);
		w->finished = 1;
		do
			n = write(iw.pipe[1], &w, sizeof(w));
		while (n < 0 && errno == EINTR);
		if (n != sizeof(w))
			w->drop(w);
		iw.running_job = NULL;
		pthread_cond_broadcast(&iw.idle);
	}
	pthread_mutex_unlock(&iw.lock);
	return NULL;
}

/* Results not delivered yet, in order; those of owner (any when owner is NULL) are dropped, the rest delivered. */
static void drain(const void *owner, int drop_all)
{
	struct isns_work *w;

	while (read(iw.pipe[0], &w, sizeof(w)) == (ssize_t)sizeof(w)) {
		if (drop_all || (owner && w->owner == owner))
			w->drop(w);
		else
			w->done(w);
	}
}

static void on_result(int fd, void *unused)
{
	(void)fd;
	(void)unused;
	drain(NULL, 0);
}

static int start(void)
{
	int rc;

	if (iw.started)
		return 0;
	if (pipe2(iw.pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	/* The thread's end blocks: it has nothing else to do. */
	fcntl(iw.pipe[1], F_SETFL, fcntl(iw.pipe[1], F_GETFL) & ~O_NONBLOCK);
	if (cm_ev_watch_read(iw.pipe[0], on_result, NULL) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	iw.quit = 0;
	if ((rc = -pthread_create(&iw.thread, NULL, worker, NULL)) < 0) {
		cm_ev_unwatch_read(iw.pipe[0]);
		goto fail;
	}
	iw.started = 1;
	return 0;
fail:
	close(iw.pipe[0]);
	close(iw.pipe[1]);
	iw.pipe[0] = iw.pipe[1] = -1;
	return rc;
}

int isns_work_submit(struct isns_work *w)
{
	int rc;

	if (!w || !w->run || !w->done || !w->drop)
		return -EINVAL;
	if ((rc = start()) < 0)
		return rc;
	w->next = NULL;
	w->finished = 0;
	pthread_mutex_lock(&iw.lock);
	if (iw.tail)
		iw.tail->next = w;
	else
		iw.queue = w;
	iw.tail = w;
	pthread_cond_signal(&iw.cond);
	pthread_mutex_unlock(&iw.lock);
	return 0;
}

void isns_work_cancel(const void *owner)
{
	struct isns_work **pp, *dropped = NULL;

	if (!iw.started)
		return;
	pthread_mutex_lock(&iw.lock);
	for (pp = &iw.queue; *pp;) {
		struct isns_work *w = *pp;

		if (w->owner == owner) {
			*pp = w->next;
			w->next = dropped;
			dropped = w;
		} else {
			iw.tail = w;
			pp = &w->next;
		}
	}
	if (!iw.queue)
		iw.tail = NULL;
	while (iw.running_job && iw.running_job->owner == owner)
		pthread_cond_wait(&iw.idle, &iw.lock);
	pthread_mutex_unlock(&iw.lock);
	while (dropped) {
		struct isns_work *w = dropped;

		dropped = w->next;
		w->drop(w);
	}
	drain(owner, 0);
}

static void call_run(struct isns_work *w)
{
	struct {
		void (*fn)(void *);
		void *arg;
	} *c = (void *)w->owner;

	c->fn(c->arg);
}

static void call_nothing(struct isns_work *w)
{
	(void)w;
}

int isns_work_call(void (*fn)(void *arg), void *arg)
{
	struct {
		void (*fn)(void *);
		void *arg;
	} c = {fn, arg};
	struct isns_work w = {.run = call_run, .done = call_nothing, .drop = call_nothing, .owner = &c};
	int rc;

	if ((rc = isns_work_submit(&w)) < 0)
		return rc;
	/* The job lives on this stack: wait until the thread has run it, then take its result out of the pipe. */
	pthread_mutex_lock(&iw.lock);
	while (!w.finished && !iw.quit)
		pthread_cond_wait(&iw.idle, &iw.lock);
	rc = w.finished ? 0 : -ECANCELED;
	pthread_mutex_unlock(&iw.lock);
	isns_work_cancel(&c);
	return rc;
}

void isns_work_shutdown(void)
{
	struct isns_work *w;

	if (!iw.started)
		return;
	pthread_mutex_lock(&iw.lock);
	iw.quit = 1;
	pthread_cond_signal(&iw.cond);
	pthread_mutex_unlock(&iw.lock);
	pthread_join(iw.thread, NULL);
	while ((w = iw.queue)) {
		iw.queue = w->next;
		w->drop(w);
	}
	iw.tail = NULL;
	cm_ev_unwatch_read(iw.pipe[0]);
	drain(NULL, 1);
	close(iw.pipe[0]);
	close(iw.pipe[1]);
	iw.pipe[0] = iw.pipe[1] = -1;
	iw.started = 0;
}
