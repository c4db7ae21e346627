/* snmp_loop.h: the loop of a test client of the agent's SNMP client: net-snmp sessions and alarms, as the agent's
 * loop runs them, until *done is set.  Include it in one file of a test program. */
#ifndef SA_TEST_SNMP_LOOP_H
#define SA_TEST_SNMP_LOOP_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <sys/select.h>

static void snmp_loop_until(const int *done)
{
	while (!*done) {
		int fds = 0, block = 0;
		fd_set r;
		struct timeval tv = {.tv_sec = 0, .tv_usec = 50000};

		FD_ZERO(&r);
		snmp_select_info(&fds, &r, &tv, &block);
		/* At most 50 ms: the alarms (the client's watchdogs) run between two waits. */
		if (tv.tv_sec > 0 || tv.tv_usec > 50000) {
			tv.tv_sec = 0;
			tv.tv_usec = 50000;
		}
		if (select(fds, &r, NULL, NULL, &tv) > 0)
			snmp_read(&r);
		else
			snmp_timeout();
		run_alarms();
	}
}

#endif
