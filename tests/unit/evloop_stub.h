/* evloop_stub.h: an event loop that refuses every watch, for unit tests of code that references sa_ev_* but whose
 * tested parts (parsers, models) never run it. Include it in one file of a test program.
 * A test that keeps timers of its own (to fire them itself) defines EVLOOP_STUB_NO_TIMERS first: it gets the fd
 * watches only and writes cm_ev_timer and cm_ev_cancel itself. */
#ifndef SA_TEST_EVLOOP_STUB_H
#define SA_TEST_EVLOOP_STUB_H

#include <errno.h>

#include "common/evloop.h"

/* What cm_ev_watch_read and cm_ev_watch_write return: -ENOSYS (refused) unless the test says watches succeed. */
#ifndef EVLOOP_STUB_WATCH_RC
#define EVLOOP_STUB_WATCH_RC (-ENOSYS)
#endif

int cm_ev_watch_read(int fd, cm_fd_cb cb, void *arg)
{
	(void)fd;
	(void)cb;
	(void)arg;
	return EVLOOP_STUB_WATCH_RC;
}
int cm_ev_watch_write(int fd, cm_fd_cb cb, void *arg)
{
	(void)fd;
	(void)cb;
	(void)arg;
	return EVLOOP_STUB_WATCH_RC;
}
void cm_ev_unwatch_read(int fd)
{
	(void)fd;
}
void cm_ev_unwatch_write(int fd)
{
	(void)fd;
}

#ifndef EVLOOP_STUB_NO_TIMERS
/* What cm_ev_timer returns: 0 (no timer) unless the test says that timers exist but never fire. */
#ifndef EVLOOP_STUB_TIMER_ID
#define EVLOOP_STUB_TIMER_ID 0
#endif

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	(void)ms;
	(void)repeat;
	(void)cb;
	(void)arg;
	return EVLOOP_STUB_TIMER_ID;
}
void cm_ev_cancel(unsigned int id)
{
	(void)id;
}
#endif

#endif
