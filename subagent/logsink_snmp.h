/* logsink_snmp.h: routes cm_log() lines into net-snmp's logging (stderr or syslog). */
#ifndef SA_LOGSINK_SNMP_H
#define SA_LOGSINK_SNMP_H

void sa_logsink_snmp_install(void);

#endif
