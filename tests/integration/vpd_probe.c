/* vpd_probe.c: runs iscsi/vpd.c's asynchronous probe of one target from a poll() loop that implements the agent's
 * loop interface (common/evloop.h), the way the agent runs it, and prints what it found.
 *
 *   vpd_probe PORTAL TARGET INITIATOR LUN...
 *
 * Prints "job rc=N" then one line per LUN: "lun N status S type T vendor V product P designator HEX size Z";
 * "ticks N" says how often the loop turned (the probe never blocks it).  Exit 0 when done was called once. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/evloop.h"
#include "iscsi/vpd.h"

#define MAXFD 64
#define MAXTIMERS 16

static struct {
	cm_fd_cb rcb, wcb;
	void *rarg, *warg;
} fds[MAXFD];

static struct {
	unsigned int id, ms;
	int repeat;
	cm_timer_cb cb;
	void *arg;
	long long due;
} timers[MAXTIMERS];
static unsigned int next_id = 1;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cm_ev_watch_read(int fd, cm_fd_cb cb, void *arg)
{
	if (fd < 0 || fd >= MAXFD)
		return -EINVAL;
	fds[fd].rcb = cb;
	fds[fd].rarg = arg;
	return 0;
}

int cm_ev_watch_write(int fd, cm_fd_cb cb, void *arg)
{
	if (fd < 0 || fd >= MAXFD)
		return -EINVAL;
	fds[fd].wcb = cb;
	fds[fd].warg = arg;
	return 0;
}

void cm_ev_unwatch_read(int fd)
{
	if (fd >= 0 && fd < MAXFD)
		fds[fd].rcb = NULL;
}

void cm_ev_unwatch_write(int fd)
{
	if (fd >= 0 && fd < MAXFD)
		fds[fd].wcb = NULL;
}

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	for (int i = 0; i < MAXTIMERS; i++)
		if (!timers[i].id) {
			timers[i].id = next_id++;
			timers[i].ms = ms;
			timers[i].repeat = repeat;
			timers[i].cb = cb;
			timers[i].arg = arg;
			timers[i].due = now_ms() + ms;
			return timers[i].id;
		}
	return 0;
}

void cm_ev_cancel(unsigned int id)
{
	for (int i = 0; i < MAXTIMERS; i++)
		if (timers[i].id == id)
			timers[i].id = 0;
}

static int finished, calls;

static void hexout(const uint8_t *b, size_t n)
{
	if (!n)
		printf("-");
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

static void done(void *arg, int rc, const struct vpd_lun_info *in, size_t n)
{
	(void)arg;
	calls++;
	finished = 1;
	printf("job rc=%d\n", rc);
	for (size_t i = 0; i < n; i++) {
		printf("lun %u status %d type %d vendor '%s' product '%s' designator ", (unsigned int)in[i].lun,
		       in[i].status, in[i].device_type, in[i].vendor, in[i].product);
		hexout(in[i].designator, in[i].designator_len);
		printf(" dtype %d size %llu block %u\n", in[i].designator_type, (unsigned long long)in[i].size,
		       (unsigned int)in[i].block_size);
	}
}

int main(int argc, char **argv)
{
	uint32_t luns[32];
	size_t n = 0;
	struct vpd_request req;
	struct vpd_job *job;
	unsigned long ticks = 0;
	long long end;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: vpd_probe PORTAL TARGET INITIATOR LUN...\n");
		return 2;
	}
	for (int i = 4; i < argc && n < 32; i++)
		luns[n++] = (uint32_t)strtoul(argv[i], NULL, 10);
	req = (struct vpd_request){
	    .portal = argv[1], .target = argv[2], .initiator = argv[3], .luns = luns, .nluns = n, .timeout_ms = 5000};
	if ((rc = vpd_probe(&req, done, NULL, &job)) < 0) {
		printf("start rc=%d\n", rc);
		return 0;
	}
	end = now_ms() + 20000;
	while (!finished && now_ms() < end) {
		struct pollfd p[MAXFD];
		int np = 0, wait = 50;

		for (int fd = 0; fd < MAXFD; fd++)
			if (fds[fd].rcb || fds[fd].wcb)
				p[np++] = (struct pollfd){
				    .fd = fd,
				    .events = (short)((fds[fd].rcb ? POLLIN : 0) | (fds[fd].wcb ? POLLOUT : 0))};
		poll(p, (nfds_t)np, wait);
		ticks++;
		for (int i = 0; i < np && !finished; i++) {
			int fd = p[i].fd;

			if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && fds[fd].rcb)
				fds[fd].rcb(fd, fds[fd].rarg);
			else if ((p[i].revents & POLLOUT) && fds[fd].wcb)
				fds[fd].wcb(fd, fds[fd].warg);
		}
		for (int i = 0; i < MAXTIMERS && !finished; i++)
			if (timers[i].id && now_ms() >= timers[i].due) {
				unsigned int id = timers[i].id;

				if (timers[i].repeat)
					timers[i].due = now_ms() + timers[i].ms;
				else
					timers[i].id = 0;
				timers[i].cb(id, timers[i].arg);
			}
	}
	printf("ticks %lu pending %u calls %d\n", ticks, vpd_pending(), calls);
	return finished && calls == 1 && vpd_pending() == 0 ? 0 : 1;
}
