/* evloop_snmp.c: evloop.h on top of net-snmp's fd event manager and snmp_alarm. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "subagent/evloop.h"

int sa_ev_watch_read(int fd, sa_fd_cb cb, void *arg)
{
	return register_readfd(fd, cb, arg) == FD_REGISTERED_OK ? 0 : -1;
}

int sa_ev_watch_write(int fd, sa_fd_cb cb, void *arg)
{
	return register_writefd(fd, cb, arg) == FD_REGISTERED_OK ? 0 : -1;
}

void sa_ev_unwatch_read(int fd)
{
	unregister_readfd(fd);
}

void sa_ev_unwatch_write(int fd)
{
	unregister_writefd(fd);
}

unsigned int sa_ev_timer(unsigned int ms, int repeat, sa_timer_cb cb, void *arg)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	return snmp_alarm_register_hr(tv, repeat ? SA_REPEAT : 0, (SNMPAlarmCallback *)cb, arg);
}

void sa_ev_cancel(unsigned int id)
{
	if (id)
		snmp_alarm_unregister(id);
}
