/* log.c: formats tagged log lines and hands them to the installed sink. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

static void cm_log_stderr(int prio, const char *line)
{
	(void)prio;
	fprintf(stderr, "%s\n", line);
}

static cm_log_sink cm_sink = cm_log_stderr;

void cm_log_set_sink(cm_log_sink sink)
{
	cm_sink = sink ? sink : cm_log_stderr;
}

void cm_log(int prio, const char *tag, const char *fmt, ...)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "[%s] ", tag);
	va_list ap;

	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	cm_sink(prio, line);
}
