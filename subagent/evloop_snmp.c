/* evloop_snmp.c: evloop.h on top of net-snmp's loop: one epoll fd in its fd event manager, plus snmp_alarm. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"

/* net-snmp's register_readfd() holds at most 32 fds (NUM_EXTERNAL_FDS), far
 * fewer than a portal's connections.  So every engine fd lives in one epoll
 * set, and only the epoll fd is registered with net-snmp: the same loop
 * (select in agent_check_and_process or snmpd's own) still drives it all. */
struct sa_watch {
	cm_fd_cb rcb, wcb;
	void *rarg, *warg;
	uint32_t gen; /* bumped when the fd's watch is dropped, to ignore stale events */
};

static int sa_ep = -1;
static struct sa_watch *sa_watches;
static int sa_nwatches;

static uint32_t sa_events(const struct sa_watch *w)
{
	return (w->rcb ? EPOLLIN : 0) | (w->wcb ? EPOLLOUT : 0);
}

static void sa_ep_dispatch(int epfd, void *arg)
{
	struct epoll_event evs[64];
	int n = epoll_wait(sa_ep, evs, 64, 0);

	for (int i = 0; i < n; i++) {
		int fd = (int)(evs[i].data.u64 & 0xffffffffu);
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32), ev = evs[i].events;
		struct sa_watch *w;

		/* A callback earlier in this batch may have closed and reused fds. */
		if (fd >= sa_nwatches || sa_watches[fd].gen != gen)
			continue;
		w = &sa_watches[fd];
		if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && w->rcb)
			w->rcb(fd, w->rarg);
		w = &sa_watches[fd]; /* the array may have grown */
		if (sa_watches[fd].gen == gen && (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && w->wcb)
			w->wcb(fd, w->warg);
	}
}

static int sa_ep_init(void)
{
	if (sa_ep >= 0)
		return 0;
	sa_ep = epoll_create1(EPOLL_CLOEXEC);
	if (sa_ep < 0)
		return -errno;
	if (register_readfd(sa_ep, sa_ep_dispatch, NULL) != FD_REGISTERED_OK) {
		close(sa_ep);
		sa_ep = -1;
		return -EMFILE;
	}
	return 0;
}

static int sa_watch_grow(int fd)
{
	int n = sa_nwatches ? sa_nwatches : 64;
	struct sa_watch *nw;

	if (fd < sa_nwatches)
		return 0;
	while (n <= fd)
		n *= 2;
	nw = realloc(sa_watches, (size_t)n * sizeof(*nw));
	if (!nw)
		return -ENOMEM;
	memset(nw + sa_nwatches, 0, (size_t)(n - sa_nwatches) * sizeof(*nw));
	sa_watches = nw;
	sa_nwatches = n;
	return 0;
}

/* Applies a changed callback pair of fd to the epoll set. */
static int sa_watch_update(int fd, uint32_t before)
{
	struct sa_watch *w = &sa_watches[fd];
	struct epoll_event ev = {.events = sa_events(w)};
	int op;

	ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)w->gen << 32);
	if (!before && ev.events)
		op = EPOLL_CTL_ADD;
	else if (before && !ev.events)
		op = EPOLL_CTL_DEL;
	else if (before != ev.events)
		op = EPOLL_CTL_MOD;
	else
		return 0;
	/* An fd closed without an unwatch left epoll by itself: add it anew. */
	if (epoll_ctl(sa_ep, op, fd, &ev) < 0 &&
	    !(op == EPOLL_CTL_MOD && errno == ENOENT && epoll_ctl(sa_ep, EPOLL_CTL_ADD, fd, &ev) == 0) &&
	    op != EPOLL_CTL_DEL)
		return -errno;
	if (op == EPOLL_CTL_DEL)
		w->gen++;
	return 0;
}

static int sa_watch(int fd, int write, cm_fd_cb cb, void *arg)
{
	uint32_t before;
	int rc;

	if (fd < 0 || !cb)
		return -EINVAL;
	if ((rc = sa_ep_init()) < 0 || (rc = sa_watch_grow(fd)) < 0)
		return rc;
	before = sa_events(&sa_watches[fd]);
	if (write) {
		sa_watches[fd].wcb = cb;
		sa_watches[fd].warg = arg;
	} else {
		sa_watches[fd].rcb = cb;
		sa_watches[fd].rarg = arg;
	}
	rc = sa_watch_update(fd, before);
	if (rc < 0) {
		if (write)
			sa_watches[fd].wcb = NULL;
		else
			sa_watches[fd].rcb = NULL;
	}
	return rc;
}

static void sa_unwatch(int fd, int write)
{
	uint32_t before;

	if (fd < 0 || fd >= sa_nwatches || sa_ep < 0)
		return;
	before = sa_events(&sa_watches[fd]);
	if (write)
		sa_watches[fd].wcb = NULL;
	else
		sa_watches[fd].rcb = NULL;
	sa_watch_update(fd, before);
}

int cm_ev_watch_read(int fd, cm_fd_cb cb, void *arg)
{
	return sa_watch(fd, 0, cb, arg);
}

int cm_ev_watch_write(int fd, cm_fd_cb cb, void *arg)
{
	return sa_watch(fd, 1, cb, arg);
}

void cm_ev_unwatch_read(int fd)
{
	sa_unwatch(fd, 0);
}

void cm_ev_unwatch_write(int fd)
{
	sa_unwatch(fd, 1);
}

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	return snmp_alarm_register_hr(tv, repeat ? SA_REPEAT : 0, (SNMPAlarmCallback *)cb, arg);
}

void cm_ev_cancel(unsigned int id)
{
	if (id)
		snmp_alarm_unregister(id);
}
