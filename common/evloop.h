/* evloop.h: the one event loop (fds and timers) seen by engines without net-snmp headers. */
#ifndef SA_EVLOOP_H
#define SA_EVLOOP_H

/* Backed by net-snmp's fd event manager and snmp_alarm (evloop_snmp.c), so
 * the same engine code runs inside sanagentd and inside snmpd as a dlmod. */
typedef void (*cm_fd_cb)(int fd, void *arg);
typedef void (*cm_timer_cb)(unsigned int id, void *arg);

int cm_ev_watch_read(int fd, cm_fd_cb cb, void *arg);
int cm_ev_watch_write(int fd, cm_fd_cb cb, void *arg);
void cm_ev_unwatch_read(int fd);
void cm_ev_unwatch_write(int fd);

/* Returns a non-zero timer id, or 0 on failure.  A repeating timer fires
 * every ms milliseconds until cancelled. */
unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg);
void cm_ev_cancel(unsigned int id);

#endif
