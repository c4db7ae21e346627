/* log.h: tagged logging shared by every module, with a pluggable sink. */
#ifndef CM_LOG_H
#define CM_LOG_H

/* Same numbers as syslog priorities so the net-snmp sink can pass them on. */
enum { CM_LOG_ERR = 3, CM_LOG_WARNING = 4, CM_LOG_NOTICE = 5, CM_LOG_INFO = 6, CM_LOG_DEBUG = 7 };

/* A sink receives one formatted line "[tag] message" without newline.
 * Engines must not see net-snmp, so the glue installs a sink that calls
 * snmp_log(); the default (unit tests, tools) writes to stderr. */
typedef void (*cm_log_sink)(int prio, const char *line);

void cm_log_set_sink(cm_log_sink sink);
void cm_log(int prio, const char *tag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
