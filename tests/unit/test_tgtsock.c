/* test_tgtsock.c: tgtc_run on a stand-in tgtd's management socket (answers, tgtd's errors, a cut answer, cancel) and
 * its fallback to the tgtadm child when the socket is missing. */
#define _GNU_SOURCE /* setenv */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/evloop.h"
#include "iscsi/tgtctl.h"
#include "tests/unit/tmpdir.h"

/* ---- a small poll loop: fd watches and timers ---------------------------- */
#define NW 64
static struct {
	cm_fd_cb r, w;
	void *ra, *wa;
} watches[NW];
static struct {
	unsigned int id, ms;
	int repeat;
	struct timespec due;
	cm_timer_cb cb;
	void *arg;
} timers[16];
static unsigned int next_timer = 1;

int cm_ev_watch_read(int fd, cm_fd_cb cb, void *arg)
{
	if (fd < 0 || fd >= NW)
		return -EINVAL;
	watches[fd].r = cb;
	watches[fd].ra = arg;
	return 0;
}
int cm_ev_watch_write(int fd, cm_fd_cb cb, void *arg)
{
	if (fd < 0 || fd >= NW)
		return -EINVAL;
	watches[fd].w = cb;
	watches[fd].wa = arg;
	return 0;
}
void cm_ev_unwatch_read(int fd)
{
	if (fd >= 0 && fd < NW)
		watches[fd].r = NULL;
}
void cm_ev_unwatch_write(int fd)
{
	if (fd >= 0 && fd < NW)
		watches[fd].w = NULL;
}

static void due_in(struct timespec *t, unsigned int ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
		if (timers[i].id)
			continue;
		timers[i].id = next_timer++;
		timers[i].ms = ms;
		timers[i].repeat = repeat;
		timers[i].cb = cb;
		timers[i].arg = arg;
		due_in(&timers[i].due, ms);
		return timers[i].id;
	}
	return 0;
}
void cm_ev_cancel(unsigned int id)
{
	for (size_t i = 0; id && i < sizeof(timers) / sizeof(timers[0]); i++)
		if (timers[i].id == id)
			timers[i].id = 0;
}

/* One pass: poll the watched fds for up to 5 ms, then fire the timers that are due. */
static void loop_once(void)
{
	struct pollfd p[NW];
	struct timespec now;
	int n = 0;

	for (int fd = 0; fd < NW; fd++) {
		if (!watches[fd].r && !watches[fd].w)
			continue;
		p[n].fd = fd;
		p[n].events = (short)((watches[fd].r ? POLLIN : 0) | (watches[fd].w ? POLLOUT : 0));
		p[n].revents = 0;
		n++;
	}
	poll(p, (nfds_t)n, 5);
	for (int i = 0; i < n; i++) {
		int fd = p[i].fd;

		if ((p[i].revents & (POLLOUT | POLLERR | POLLHUP)) && watches[fd].w)
			watches[fd].w(fd, watches[fd].wa);
		if ((p[i].revents & (POLLIN | POLLERR | POLLHUP)) && watches[fd].r)
			watches[fd].r(fd, watches[fd].ra);
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
		unsigned int id = timers[i].id;

		if (!id || now.tv_sec < timers[i].due.tv_sec ||
		    (now.tv_sec == timers[i].due.tv_sec && now.tv_nsec < timers[i].due.tv_nsec))
			continue;
		if (timers[i].repeat)
			due_in(&timers[i].due, timers[i].ms);
		else
			timers[i].id = 0;
		timers[i].cb(id, timers[i].arg);
	}
}

/* ---- results ------------------------------------------------------------- */
struct result {
	int done, rc;
	char out[256];
	size_t len;
};

static void done_cb(void *arg, int rc, const char *out, size_t len)
{
	struct result *r = arg;

	r->done++;
	r->rc = rc;
	r->len = len;
	snprintf(r->out, sizeof(r->out), "%s", out);
	ck_assert_uint_eq(strlen(out), len); /* NUL-terminated at len */
}

/* Runs the loop until r is done, at most 3 s. */
static void wait_done(struct result *r)
{
	struct timespec end, now;

	due_in(&end, 3000);
	while (!r->done) {
		loop_once();
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec),
		              "no answer within 3 s");
	}
}

/* ---- the stand-in tgtd: a child process answering by what it is asked --------- */
static char dir[128];
static pid_t server = -1;

static void serve(int ls)
{
	for (;;) {
		unsigned char req[TGTC_REQ_HDR + 512];
		uint32_t mode, op, len, rsp[2] = {0, TGTC_RSP_HDR};
		size_t got = 0;
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			_exit(1);
		while (got < TGTC_REQ_HDR) {
			ssize_t n = read(c, req + got, TGTC_REQ_HDR - got);

			if (n <= 0)
				_exit(1);
			got += (size_t)n;
		}
		memcpy(&mode, req, 4);
		memcpy(&op, req + 4, 4);
		memcpy(&len, req + 72, 4);
		while (got < len && got < sizeof(req)) {
			ssize_t n = read(c, req + got, len - got);

			if (n <= 0)
				_exit(1);
			got += (size_t)n;
		}
		if (mode == 3 && op == 0) { /* new portal: :3999 exists already */
			if (memmem(req + TGTC_REQ_HDR, got - TGTC_REQ_HDR, ":3999,", 6))
				rsp[0] = 17;
			(void)!write(c, rsp, sizeof(rsp));
		} else if (mode == 3 && op == 2) { /* the portals, with the NUL tgtd sends */
			static const char text[] = "Portal: 192.0.2.3:3261,1\n";

			rsp[1] = (uint32_t)(TGTC_RSP_HDR + sizeof(text));
			(void)!write(c, rsp, sizeof(rsp));
			(void)!write(c, text, sizeof(text));
		} else if (mode == 1 && op == 2) { /* the targets: the answer cut short */
			rsp[1] = TGTC_RSP_HDR + 100;
			(void)!write(c, rsp, sizeof(rsp));
			(void)!write(c, "Target 1: iqn", 13);
		} else if (mode == 7) { /* the accounts: no answer, the connection held open */
			pause();
		}
		close(c);
	}
}

static void server_start(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char base[160];
	int ls;

	ut_tmpdir_make(dir, sizeof(dir), "tgtsock");
	snprintf(base, sizeof(base), "%s/socket", dir);
	ck_assert_int_eq(setenv("TGT_IPC_SOCKET", base, 1), 0);
	ck_assert_int_lt(snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.7", base), (int)sizeof(sa.sun_path));
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(ls, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(ls, 8), 0);
	server = fork();
	ck_assert_int_ge(server, 0);
	if (server == 0)
		serve(ls);
	close(ls);
}

static void server_stop(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = -1;
	}
	ut_tmpdir_remove(dir);
}

static const char owner;

START_TEST(test_socket_answers)
{
	struct result r = {0};

	server_start();
	/* A portal added: success, no output. */
	ck_assert_int_eq(tgtc_run(7, &owner, done_cb, &r, "--lld", "iscsi", "--op", "new", "--mode", "portal",
	                          "--param", "portal=192.0.2.3:3261", (char *)NULL),
	                 0);
	wait_done(&r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.len, 0);
	/* tgtd refuses (a portal that exists): -EIO as from tgtadm's exit status. */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(tgtc_run(7, &owner, done_cb, &r, "--lld", "iscsi", "--op", "new", "--mode", "portal",
	                          "--param", "portal=192.0.2.3:3999", (char *)NULL),
	                 0);
	wait_done(&r);
	ck_assert_int_eq(r.rc, -EIO);
	/* A listing: tgtadm's stdout, without tgtd's NUL. */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(
	    tgtc_run(7, &owner, done_cb, &r, "--lld", "iscsi", "--op", "show", "--mode", "portal", (char *)NULL), 0);
	wait_done(&r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.out, "Portal: 192.0.2.3:3261,1\n");
	/* The answer cut short: -EIO, never a partial listing taken for the whole. */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(
	    tgtc_run(7, &owner, done_cb, &r, "--lld", "iscsi", "--op", "show", "--mode", "target", (char *)NULL), 0);
	wait_done(&r);
	ck_assert_int_eq(r.rc, -EIO);
	ck_assert_int_eq(r.done, 1);
	/* No answer: the owner cancels, the callback runs once with -ECANCELED. */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(
	    tgtc_run(7, &owner, done_cb, &r, "--lld", "iscsi", "--op", "show", "--mode", "account", (char *)NULL), 0);
	for (int i = 0; i < 20; i++)
		loop_once();
	ck_assert_int_eq(r.done, 0);
	tgtc_cancel(&owner);
	ck_assert_int_eq(r.done, 1);
	ck_assert_int_eq(r.rc, -ECANCELED);
	server_stop();
}
END_TEST

/* No socket for that control port: the same request runs as a tgtadm child (a stand-in on PATH that prints its
 * arguments). */
START_TEST(test_fallback_child)
{
	struct result r = {0};
	char path[256], bin[200], *old = getenv("PATH");
	FILE *f;

	server_start();
	snprintf(bin, sizeof(bin), "%s/tgtadm", dir);
	f = fopen(bin, "w");
	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\necho \"child $*\"\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(bin, 0755), 0);
	snprintf(path, sizeof(path), "%s:%s", dir, old ? old : "/usr/bin:/bin");
	ck_assert_int_eq(setenv("PATH", path, 1), 0);
	ck_assert_int_eq(
	    tgtc_run(8, &owner, done_cb, &r, "--lld", "iscsi", "--op", "show", "--mode", "portal", (char *)NULL), 0);
	wait_done(&r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.out, "child -C 8 --lld iscsi --op show --mode portal\n");
	/* A verb the socket does not speak goes to the child even when the socket is there. */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(tgtc_run(7, &owner, done_cb, &r, "--lld", "iscsi", "--op", "show", "--mode", "target", "--tid",
	                          "1", (char *)NULL),
	                 0);
	wait_done(&r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.out, "child -C 7 --lld iscsi --op show --mode target --tid 1\n");
	server_stop();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tgtsock");
	TCase *tc = tcase_create("socket");
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_socket_answers);
	tcase_add_test(tc, test_fallback_child);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
