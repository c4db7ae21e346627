/* log.h: tagged logging shared by every module, with a pluggable sink. */
#ifndef SA_LOG_H
#define SA_LOG_H

/* Same numbers as syslog priorities so the net-snmp sink can pass them on. */
enum { SA_LOG_ERR = 3, SA_LOG_WARNING = 4, SA_LOG_NOTICE = 5, SA_LOG_INFO = 6, SA_LOG_DEBUG = 7 };

/* A sink receives one formatted line "[tag] message" without newline.
 * Engines must not see net-snmp, so the glue installs a sink that calls
 * snmp_log(); the default (unit tests, tools) writes to stderr. */
typedef void (*sa_log_sink)(int prio, const char *line);

void sa_log_set_sink(sa_log_sink sink);
void sa_log(int prio, const char *tag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
