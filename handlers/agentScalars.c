/* agentScalars.c: the sanAgentInfo scalars (version, start time, config file) and h_all_shutdown(). */
#include <config.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/handlers.h"
#include "handlers/scalars.h"

const struct h_agent_ops *h_agent;

void h_agent_ops_register(const struct h_agent_ops *ops)
{
	h_agent = ops;
}

static const oid info_oid[] = {SA_OID_INFO};

/* realpath() touches the file system, so it runs only when the configured
 * path changes, never per request. */
static char *cfg_src;
static char *cfg_abs;

const char *h_agent_config_file(void)
{
	const char *src = h_agent->config_path();
	char buf[PATH_MAX];
	char *abs;

	if (!src)
		return "";
	if (cfg_src && strcmp(cfg_src, src) == 0)
		return cfg_abs;
	abs = strdup(realpath(src, buf) ? buf : src);
	if (!abs)
		return src; /* out of memory: the raw path is still right */
	free(cfg_src);
	free(cfg_abs);
	cfg_src = strdup(src);
	cfg_abs = abs;
	if (!cfg_src) {
		/* Without the key the cache would be stale; drop it. */
		free(cfg_abs);
		cfg_abs = NULL;
		return src;
	}
	return cfg_abs;
}

void h_date_and_time(time_t t, u_char out[H_DATE_AND_TIME_LEN])
{
	struct tm tm;
	long off;

	if (!localtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	off = tm.tm_gmtoff;
	out[0] = (u_char)((tm.tm_year + 1900) >> 8);
	out[1] = (u_char)((tm.tm_year + 1900) & 0xff);
	out[2] = (u_char)(tm.tm_mon + 1);
	out[3] = (u_char)tm.tm_mday;
	out[4] = (u_char)tm.tm_hour;
	out[5] = (u_char)tm.tm_min;
	/* A leap second (60) is legal in DateAndTime, so no clamping. */
	out[6] = (u_char)tm.tm_sec;
	out[7] = 0; /* deci-seconds: time_t has none */
	out[8] = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	out[9] = (u_char)(off / 3600);
	out[10] = (u_char)((off % 3600) / 60);
}

static const struct h_column info_objs[] = {
    H_SCALAR_RO(H_INFO_VERSION),
    H_SCALAR_RO(H_INFO_START_TIME),
    H_SCALAR_RO(H_INFO_CONFIG_FILE),
};

static int info_get(unsigned int sub, netsnmp_variable_list *vb)
{
	u_char dt[H_DATE_AND_TIME_LEN];

	switch (sub) {
	case H_INFO_VERSION: h_set_str(vb, PACKAGE_VERSION, sizeof(PACKAGE_VERSION)); break;
	case H_INFO_START_TIME:
		h_date_and_time(h_agent->start_time(), dt);
		h_set_octets(vb, dt, sizeof(dt));
		break;
	case H_INFO_CONFIG_FILE: h_set_str(vb, h_agent_config_file(), SIZE_MAX); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops info_ops = {.get = info_get};
static struct h_scalar_group info = {
    .name = "sanAgentInfo",
    .root = info_oid,
    .root_len = OID_LENGTH(info_oid),
    .objs = info_objs,
    .nobjs = sizeof(info_objs) / sizeof(info_objs[0]),
    .ops = &info_ops,
};

int h_agent_scalars_init(void)
{
	return h_scalar_register(&info);
}

void h_agent_scalars_shutdown(void)
{
	h_scalar_unregister(&info);
	free(cfg_src);
	free(cfg_abs);
	cfg_src = cfg_abs = NULL;
}

void h_all_shutdown(void)
{
	h_iscsi_shutdown();
	h_clu_shutdown();
	h_redisc_shutdown();
	h_stor_shutdown();
	h_session_shutdown();
	h_login_shutdown();
	h_disc_shutdown();
	h_path_shutdown();
	h_redir_shutdown();
	h_trap_counters_shutdown();
	h_engine_table_shutdown();
	h_agent_scalars_shutdown();
}
