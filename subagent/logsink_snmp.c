/* logsink_snmp.c: cm_log() sink that writes through snmp_log(), so one log serves both modes. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "common/log.h"
#include "subagent/logsink_snmp.h"

static void sa_logsink_snmp(int prio, const char *line)
{
	snmp_log(prio, "sanagent %s\n", line);
}

void sa_logsink_snmp_install(void)
{
	cm_log_set_sink(sa_logsink_snmp);
}
