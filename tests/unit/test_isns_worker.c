/* test_isns_worker.c: the one libisns thread: order, one thread, results in the loop, cancel by owner, call, shutdown.
 */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

#include "common/evloop.h"
#include "iscsi/isns_worker.h"

/* A loop of one fd: what the worker's pipe needs. */
static int loop_fd = -1;
static cm_fd_cb loop_cb;
static void *loop_arg;

int cm_ev_watch_read(int fd, cm_fd_cb cb, void *arg)
{
	loop_fd = fd;
	loop_cb = cb;
	loop_arg = arg;
	return 0;
}
void cm_ev_unwatch_read(int fd)
{
	if (fd == loop_fd)
		loop_fd = -1;
}

/* Runs the loop until n results were delivered or 5 s passed. */
static int delivered;
static void pump(int n)
{
	for (int i = 0; i < 500 && delivered < n; i++) {
		struct pollfd p = {.fd = loop_fd, .events = POLLIN};

		if (loop_fd >= 0 && poll(&p, 1, 10) > 0)
			loop_cb(loop_fd, loop_arg);
	}
}

static sem_t gate; /* a gated job waits here: the ones after it stay queued */
static pthread_t ran_on[16];
static int order[16], norder, dropped;

struct job {
	struct isns_work w;
	int id, gated;
};

static void job_run(struct isns_work *w)
{
	struct job *j = (struct job *)w;

	if (j->gated)
		sem_wait(&gate);
	ran_on[j->id] = pthread_self();
}
static void job_done(struct isns_work *w)
{
	order[norder++] = ((struct job *)w)->id;
	delivered++;
	free(w);
}
static void job_drop(struct isns_work *w)
{
	dropped++;
	free(w);
}

static struct job *submit(int id, const void *owner, int gated)
{
	struct job *j = calloc(1, sizeof(*j));

	j->w.run = job_run;
	j->w.done = job_done;
	j->w.drop = job_drop;
	j->w.owner = owner;
	j->id = id;
	j->gated = gated;
	ck_assert_int_eq(isns_work_submit(&j->w), 0);
	return j;
}

static void reset(void)
{
	sem_init(&gate, 0, 0);
	delivered = norder = dropped = 0;
}

START_TEST(order_one_thread)
{
	static const char a[] = "a";

	reset();
	for (int i = 0; i < 8; i++)
		submit(i, a, 0);
	pump(8);
	ck_assert_int_eq(norder, 8);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(order[i], i);
		ck_assert(pthread_equal(ran_on[i], ran_on[0]));
	}
	ck_assert(!pthread_equal(ran_on[0], pthread_self()));
	isns_work_shutdown();
}
END_TEST

START_TEST(cancel_by_owner)
{
	static const char a[] = "a", b[] = "b";

	reset();
	submit(0, b, 1); /* holds the thread */
	submit(1, a, 0);
	submit(2, b, 0);
	submit(3, a, 0);
	isns_work_cancel(a); /* 1 and 3 never run */
	ck_assert_int_eq(dropped, 2);
	sem_post(&gate);
	pump(2);
	ck_assert_int_eq(norder, 2);
	ck_assert_int_eq(order[0], 0);
	ck_assert_int_eq(order[1], 2);
	isns_work_shutdown();
}
END_TEST

static pthread_t call_thread;
static void on_thread(void *arg)
{
	*(int *)arg = 42;
	call_thread = pthread_self();
}

START_TEST(call_waits)
{
	static const char a[] = "a";
	int v = 0;

	reset();
	submit(0, a, 0);
	ck_assert_int_eq(isns_work_call(on_thread, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert(pthread_equal(call_thread, ran_on[0]));
	pump(1); /* the job queued before the call is still delivered */
	ck_assert_int_eq(norder, 1);
	isns_work_shutdown();
}
END_TEST

START_TEST(shutdown_drops)
{
	static const char a[] = "a";

	reset();
	submit(0, a, 1);
	submit(1, a, 0);
	submit(2, a, 0);
	sem_post(&gate);
	isns_work_shutdown(); /* whatever did not reach the loop is dropped, none delivered */
	ck_assert_int_eq(norder, 0);
	ck_assert_int_eq(dropped, 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("isns_worker");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, order_one_thread);
	tcase_add_test(tc, cancel_by_owner);
	tcase_add_test(tc, call_waits);
	tcase_add_test(tc, shutdown_drops);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
