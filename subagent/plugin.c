/* plugin.c: the dlmod entry points, so snmpd serves the same objects natively. */
#include <config.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <stdlib.h>
#include <string.h>

#include "handlers/handlers.h"
#include "subagent/core.h"
#include "common/log.h"
#include "subagent/logsink_snmp.h"
#include "traps/notify.h"

#define SA_DEFAULT_CONFIG SYSCONFDIR "/sanagent/sanagent.conf"

void init_sanagent(void);
void deinit_sanagent(void);

static char *sa_plugin_conf;
static int sa_plugin_started;
static unsigned int sa_plugin_alarm;

/* "sanagentConfig FILE" in snmpd.conf, after the dlmod line. */
static void sa_plugin_conf_token(const char *token, char *line)
{
	free(sa_plugin_conf);
	sa_plugin_conf = strdup(line);
}

static void sa_plugin_start(void)
{
	const char *path = sa_plugin_conf ? sa_plugin_conf : getenv("SANAGENT_CONFIG");
	struct sa_config *cfg = NULL;
	char err[512];

	if (!path)
		path = SA_DEFAULT_CONFIG;
	sa_plugin_started = 1;
	if (sa_config_load(path, &cfg, err, sizeof(err)) < 0) {
		/* snmpd keeps serving everything else; the operator fixes the file and sends SIGHUP. */
		cm_log(CM_LOG_ERR, "config", "%s; sanagent plug-in not started", err);
		sa_plugin_started = 0;
		return;
	}
	if (sa_core_start(cfg) < 0) {
		sa_core_stop();
		return;
	}
	sa_notify_agent_start();
}

/* The plug-in is loaded while snmpd still parses its config: start once
 * parsing is over (so sanagentConfig and the trap sinks are known), and
 * treat every later config read (snmpd's SIGHUP) as a reload. */
static int sa_plugin_post_config(int major, int minor, void *server, void *client)
{
	if (!sa_plugin_started)
		sa_plugin_start();
	else if (sa_core.cfg)
		sa_core_reload();
	return SNMPERR_SUCCESS;
}

static void sa_plugin_alarm_cb(unsigned int reg, void *arg)
{
	sa_plugin_alarm = 0;
	if (!sa_plugin_started)
		sa_plugin_start();
}

void init_sanagent(void)
{
	sa_logsink_snmp_install();
	register_app_config_handler("sanagentConfig", sa_plugin_conf_token, NULL, "FILE");
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_POST_READ_CONFIG, sa_plugin_post_config, NULL);
	sa_plugin_alarm = snmp_alarm_register(0, 0, sa_plugin_alarm_cb, NULL);
}

void deinit_sanagent(void)
{
	if (sa_plugin_alarm)
		snmp_alarm_unregister(sa_plugin_alarm);
	snmp_unregister_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_POST_READ_CONFIG, sa_plugin_post_config, NULL, 0);
	unregister_app_config_handler("sanagentConfig");
	sa_core_stop();
	sa_core_unregister();
	free(sa_plugin_conf);
	sa_plugin_conf = NULL;
	sa_plugin_started = 0;
}
