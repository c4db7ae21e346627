/* agentScalars.c: the sanAgentInfo scalars (version, start time, config file) and h_all_shutdown(). */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/handlers.h"
#include "common/log.h"

const struct h_agent_ops *h_agent;

void h_agent_ops_register(const struct h_agent_ops *ops)
{
	h_agent = ops;
}

static const oid info_oid[] = {SA_OID_INFO};
static netsnmp_handler_registration *info_reg;

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

static int info_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                        netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	netsnmp_request_info *r;
	u_char dt[H_DATE_AND_TIME_LEN];
	const char *s;

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR; /* registered read-only: SETs never get here */

	for (r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;

		if (r->processed)
			continue;
		/* The helpers have checked vb is <group>.<subid>.0; reginfo's
		 * rootoid is theirs to rewrite, so read the subid from vb. */
		switch (vb->name[OID_LENGTH(info_oid)]) {
		case H_INFO_VERSION:
			snmp_set_var_typed_value(vb, ASN_OCTET_STR, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
			break;
		case H_INFO_START_TIME:
			h_date_and_time(h_agent->start_time(), dt);
			snmp_set_var_typed_value(vb, ASN_OCTET_STR, dt, sizeof(dt));
			break;
		case H_INFO_CONFIG_FILE:
			s = h_agent_config_file();
			snmp_set_var_typed_value(vb, ASN_OCTET_STR, s, strlen(s));
			break;
		default: netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT); break;
		}
	}
	return SNMP_ERR_NOERROR;
}

int h_agent_scalars_init(void)
{
	netsnmp_handler_registration *reg;
	int rc;

	if (info_reg)
		return 0;
	reg = netsnmp_create_handler_registration("sanAgentInfo", info_handler, info_oid, OID_LENGTH(info_oid),
	                                          HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	/* netsnmp frees reg itself when registration fails. */
	rc = netsnmp_register_scalar_group(reg, H_INFO_VERSION, H_INFO_CONFIG_FILE);
	if (rc != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register sanAgentInfo (%d)", rc);
		return -EEXIST;
	}
	info_reg = reg;
	return 0;
}

void h_agent_scalars_shutdown(void)
{
	if (info_reg) {
		netsnmp_unregister_handler(info_reg);
		info_reg = NULL;
	}
	free(cfg_src);
	free(cfg_abs);
	cfg_src = cfg_abs = NULL;
}

void h_all_shutdown(void)
{
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
